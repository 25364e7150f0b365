//! Helpers for the attack suite (`tests/attacks.rs`, `tests/zz_secrets.rs`): the
//! exposed objects read from the Postgres catalogue, raw requests through the gateway
//! with any token, forged tokens, the calls both CSMs' dealerships get, and the
//! ledger that turns what the tests asserted into `docs/security-attacks.md`.

use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Map, Value};
use sqlx::Row;
use tokio::sync::OnceCell;

use crate::{env, eventually, post_event};

pub const NORTH_EMAIL: &str = "csm.north@demo.test";
pub const SOUTH_EMAIL: &str = "csm.south@demo.test";
pub const NORTH_ID: &str = "a0000000-0000-4000-8000-000000000003";
pub const SOUTH_ID: &str = "a0000000-0000-4000-8000-000000000004";
/// csm.north's dealerships.
pub const NORTH_DEALERSHIPS: [&str; 2] = ["toyota-braintree", "honda-quincy"];
/// Dealerships csm.north must never see: csm.south's two and the unassigned one.
pub const FOREIGN_DEALERSHIPS: [&str; 3] = ["ford-weymouth", "nissan-plymouth", "kia-hingham"];
pub const NORTH_DEALERSHIP: &str = "toyota-braintree";
pub const SOUTH_DEALERSHIP: &str = "ford-weymouth";

// ---------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub type_name: String,
    /// Identity or generated: a client cannot write it.
    pub generated: bool,
    /// Whether `authenticated` may select it (column privileges hide some, such as
    /// `calls.customer_phone`).
    pub readable: bool,
}

/// A table or view (or materialized view, foreign table) in `public` or `reporting`.
#[derive(Clone, Debug)]
pub struct Relation {
    pub schema: String,
    pub name: String,
    pub kind: String,
    pub columns: Vec<Column>,
}

impl Relation {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
    /// The columns `authenticated` may not select.
    pub fn hidden_columns(&self) -> Vec<&str> {
        self.columns
            .iter()
            .filter(|c| !c.readable)
            .map(|c| c.name.as_str())
            .collect()
    }
    /// `query` reading only the columns `authenticated` may select: a `select=*`
    /// (or no select) becomes the list of those, when some are hidden.
    pub fn readable_query(&self, query: &str) -> String {
        if self.hidden_columns().is_empty() {
            return query.to_string();
        }
        let list: Vec<&str> = self
            .columns
            .iter()
            .filter(|c| c.readable)
            .map(|c| c.name.as_str())
            .collect();
        let select = format!("select={}", list.join(","));
        if query.contains("select=*") {
            query.replace("select=*", &select)
        } else if query.contains("select=") {
            query.to_string()
        } else if query.is_empty() {
            select
        } else {
            format!("{query}&{select}")
        }
    }
    pub fn kind_name(&self) -> &'static str {
        match self.kind.as_str() {
            "r" | "p" => "table",
            "v" => "view",
            "m" => "materialized view",
            "f" => "foreign table",
            _ => "relation",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Arg {
    /// Empty for an unnamed parameter.
    pub name: String,
    pub type_name: String,
    /// For an enum parameter: its first label.
    pub enum_label: Option<String>,
}

/// A function or procedure in `public`, `private` or `reporting`.
#[derive(Clone, Debug)]
pub struct Function {
    pub schema: String,
    pub name: String,
    /// `name(type, ...)`, as `regprocedure` prints it.
    pub signature: String,
    pub args: Vec<Arg>,
    pub returns: String,
    pub authenticated_may_execute: bool,
    pub anon_may_execute: bool,
}

pub struct Catalogue {
    pub relations: Vec<Relation>,
    pub functions: Vec<Function>,
    /// (schema, name) of the tables and views in `private` and `auth`, which
    /// PostgREST must not serve.
    pub hidden_relations: Vec<(String, String)>,
}

/// Reads the exposed objects from the running stack's database (`DATABASE_URL`), so
/// that a table, view or function added later is attacked without editing the suite.
pub async fn catalogue() -> Catalogue {
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&env("DATABASE_URL"))
        .await
        .expect("the stack's database accepts a connection");
    let rows = sqlx::query(
        "select n.nspname::text as schema, c.relname::text as name, c.relkind::text as kind,
                array(select a.attname::text from pg_attribute a
                       where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                       order by a.attnum) as column_names,
                array(select format_type(a.atttypid, a.atttypmod) from pg_attribute a
                       where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                       order by a.attnum) as column_types,
                array(select a.attidentity <> '' or a.attgenerated <> '' from pg_attribute a
                       where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                       order by a.attnum) as column_generated,
                array(select has_column_privilege('authenticated', c.oid, a.attnum, 'SELECT')
                        from pg_attribute a
                       where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                       order by a.attnum) as column_readable
           from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
          where n.nspname in ('public', 'reporting')
            and c.relkind in ('r', 'p', 'v', 'm', 'f')
          order by 1, 2",
    )
    .fetch_all(&mut db)
    .await
    .expect("the catalogue lists the relations");
    let relations = rows
        .iter()
        .map(|row| {
            let names: Vec<String> = row.get("column_names");
            let types: Vec<String> = row.get("column_types");
            let generated: Vec<bool> = row.get("column_generated");
            let readable: Vec<bool> = row.get("column_readable");
            Relation {
                schema: row.get("schema"),
                name: row.get("name"),
                kind: row.get("kind"),
                columns: names
                    .into_iter()
                    .zip(types)
                    .zip(generated)
                    .zip(readable)
                    .map(|(((name, type_name), generated), readable)| Column {
                        name,
                        type_name,
                        generated,
                        readable,
                    })
                    .collect(),
            }
        })
        .collect();

    // Input parameters only: proargnames also holds OUT / TABLE columns, whose mode
    // is 'o' / 't'; without proargmodes every parameter is an input.
    let rows = sqlx::query(
        "select n.nspname::text as schema, p.proname::text as name,
                p.oid::regprocedure::text as signature,
                format_type(p.prorettype, null) as returns,
                array(select coalesce(p.proargnames[i], '')
                        from generate_series(1, coalesce(array_length(p.proargnames, 1), 0)) i
                       where p.proargmodes is null or p.proargmodes[i] in ('i', 'b', 'v')
                       order by i) as arg_names,
                array(select format_type(t.oid, null)
                        from unnest(p.proargtypes::oid[]) with ordinality t (oid, i)
                       order by t.i) as arg_types,
                array(select coalesce((select e.enumlabel::text from pg_enum e
                                        where e.enumtypid = t.oid
                                        order by e.enumsortorder limit 1), '')
                        from unnest(p.proargtypes::oid[]) with ordinality t (oid, i)
                       order by t.i) as arg_enum_labels,
                has_function_privilege('authenticated', p.oid, 'execute') as authenticated_may_execute,
                has_function_privilege('anon', p.oid, 'execute') as anon_may_execute
           from pg_proc p
           join pg_namespace n on n.oid = p.pronamespace
          where n.nspname in ('public', 'private', 'reporting')
            and p.prokind in ('f', 'p')
          order by 1, 2, 3",
    )
    .fetch_all(&mut db)
    .await
    .expect("the catalogue lists the functions");
    let functions = rows
        .iter()
        .map(|row| {
            let names: Vec<String> = row.get("arg_names");
            let types: Vec<String> = row.get("arg_types");
            let labels: Vec<String> = row.get("arg_enum_labels");
            let args = types
                .into_iter()
                .zip(labels)
                .enumerate()
                .map(|(i, (type_name, label))| Arg {
                    name: names.get(i).cloned().unwrap_or_default(),
                    type_name,
                    enum_label: (!label.is_empty()).then_some(label),
                })
                .collect();
            Function {
                schema: row.get("schema"),
                name: row.get("name"),
                signature: row.get("signature"),
                args,
                returns: row.get("returns"),
                authenticated_may_execute: row.get("authenticated_may_execute"),
                anon_may_execute: row.get("anon_may_execute"),
            }
        })
        .collect();
    let hidden_relations = sqlx::query(
        "select n.nspname::text as schema, c.relname::text as name
           from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
          where n.nspname in ('private', 'auth')
            and c.relkind in ('r', 'p', 'v', 'm', 'f')
          order by 1, 2",
    )
    .fetch_all(&mut db)
    .await
    .expect("the catalogue lists the private relations")
    .iter()
    .map(|row| (row.get("schema"), row.get("name")))
    .collect();
    Catalogue {
        relations,
        functions,
        hidden_relations,
    }
}

impl Catalogue {
    pub fn function(&self, schema: &str, name: &str) -> Option<&Function> {
        self.functions
            .iter()
            .find(|f| f.schema == schema && f.name == name)
    }
}

/// Arguments for `function` that all point at csm.south's side (her dealership,
/// her call, her user id, a wide time window), by parameter name and type, and a
/// stable description of them for the ledger. Unnamed parameters cannot be passed
/// by name through PostgREST and are left out.
pub fn foreign_args(function: &Function, seed: &Seed) -> (Value, String) {
    let now = chrono::Utc::now();
    let mut body = Map::new();
    let mut shown = Vec::new();
    for arg in &function.args {
        if arg.name.is_empty() {
            shown.push(format!("(unnamed {})", arg.type_name));
            continue;
        }
        let name = arg.name.to_lowercase();
        let (value, display) = match arg.type_name.as_str() {
            "text" | "character varying" | "character" | "name" | "citext" => {
                if name.contains("call") {
                    (json!(seed.south_call), "<south call>".to_string())
                } else {
                    (json!(SOUTH_DEALERSHIP), SOUTH_DEALERSHIP.to_string())
                }
            }
            "uuid" => (json!(SOUTH_ID), "csm.south's id".to_string()),
            "timestamp with time zone" | "timestamp without time zone" | "date" => {
                if name.contains("from") || name.contains("start") || name.contains("since") {
                    (
                        json!((now - chrono::Duration::days(30)).to_rfc3339()),
                        "30 days ago".to_string(),
                    )
                } else {
                    (
                        json!((now + chrono::Duration::days(1)).to_rfc3339()),
                        "tomorrow".to_string(),
                    )
                }
            }
            "integer" | "bigint" | "smallint" | "numeric" | "real" | "double precision" => {
                (json!(24), "24".to_string())
            }
            "boolean" => (json!(true), "true".to_string()),
            "json" | "jsonb" => (
                json!({
                    "user_id": SOUTH_ID,
                    "dealership_id": SOUTH_DEALERSHIP,
                    "call_id": seed.south_call,
                    "claims": {"sub": SOUTH_ID, "role": "authenticated"}
                }),
                "{user_id, dealership_id, call_id, claims} of csm.south".to_string(),
            ),
            "text[]" => (json!([SOUTH_DEALERSHIP]), format!("{{{SOUTH_DEALERSHIP}}}")),
            "uuid[]" => (json!([SOUTH_ID]), "{csm.south's id}".to_string()),
            "review_status" => (json!("resolved"), "resolved".to_string()),
            _ => match &arg.enum_label {
                Some(label) => (json!(label), label.clone()),
                None => (Value::Null, "null".to_string()),
            },
        };
        body.insert(arg.name.clone(), value);
        shown.push(format!("{}: {display}", arg.name));
    }
    (Value::Object(body), shown.join(", "))
}

// ---------------------------------------------------------------------------
// Requests through the gateway
// ---------------------------------------------------------------------------

/// Who a request claims to be: the `apikey` header is always the anon key (what any
/// browser has); `Bearer` adds `Authorization: Bearer <token>`; `Service` uses the
/// service role key for both (test set-up and verification only).
#[derive(Clone, Copy)]
pub enum As<'a> {
    Anon,
    Bearer(&'a str),
    Service,
}

#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub content_range: Option<String>,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn rows(&self) -> &[Value] {
        self.body.as_array().map(Vec::as_slice).unwrap_or(&[])
    }
    pub fn is_array(&self) -> bool {
        self.body.is_array()
    }
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body["message"]
            .as_str()
            .or_else(|| self.body["msg"].as_str())
            .unwrap_or("")
    }
    /// The status and what came back, in one line for the ledger and for messages.
    pub fn summary(&self) -> String {
        if let Some(rows) = self.body.as_array() {
            return match rows.len() {
                0 => format!("{} `[]`", self.status),
                1 => format!("{}, 1 row", self.status),
                n => format!("{}, {n} rows", self.status),
            };
        }
        if !self.message().is_empty() {
            let code = self.body["error_code"]
                .as_str()
                .map(str::to_string)
                .or_else(|| match &self.body["code"] {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                });
            return match code {
                Some(code) => format!("{} `{code}` \"{}\"", self.status, self.message()),
                None => format!("{} \"{}\"", self.status, self.message()),
            };
        }
        if let Some(object) = self.body.as_object() {
            let keys: Vec<&str> = object.keys().map(String::as_str).collect();
            return format!("{}, an object ({})", self.status, keys.join(", "));
        }
        if self.text.is_empty() {
            return format!("{}, empty body", self.status);
        }
        let mut text: String = self.text.chars().take(80).collect();
        if text.len() < self.text.len() {
            text.push_str("...");
        }
        format!("{} `{}`", self.status, text.replace('`', "'"))
    }
}

/// Sends `method path` (relative to `SUPABASE_URL`, e.g. `/rest/v1/calls?...`)
/// through the gateway, with extra headers and an optional JSON body.
pub async fn send(
    method: Method,
    path: &str,
    who: As<'_>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let (apikey, bearer) = match who {
        As::Anon => (env("SUPABASE_ANON_KEY"), None),
        As::Bearer(token) => (env("SUPABASE_ANON_KEY"), Some(token.to_string())),
        As::Service => {
            let key = env("SUPABASE_SERVICE_ROLE_KEY");
            (key.clone(), Some(key))
        }
    };
    let mut request = client()
        .request(method, format!("{}{path}", env("SUPABASE_URL")))
        .header("apikey", apikey);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("the gateway answers");
    let status = response.status().as_u16();
    let content_range = response
        .headers()
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        content_range,
        body,
        text,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// The PostgREST path of a relation: `/rest/v1/<name>?<query>`. Its schema is chosen
/// by the profile header ([`read_profile`], [`write_profile`]).
pub fn rest_path(relation: &Relation, query: &str) -> String {
    format!("/rest/v1/{}?{query}", relation.name)
}

/// `Accept-Profile` for a read of `schema` (none for `public`, the default).
pub fn read_profile(schema: &str) -> Vec<(&'static str, String)> {
    if schema == "public" {
        vec![]
    } else {
        vec![("accept-profile", schema.to_string())]
    }
}

/// `Content-Profile` for a write to `schema` (none for `public`).
pub fn write_profile(schema: &str) -> Vec<(&'static str, String)> {
    if schema == "public" {
        vec![]
    } else {
        vec![("content-profile", schema.to_string())]
    }
}

/// Borrows owned header pairs as the `&[(&str, &str)]` that [`send`] takes.
pub fn headers<'a>(
    owned: &'a [(&'static str, String)],
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    owned
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain(extra.iter().copied())
        .collect()
}

/// True when PostgREST refused the schema itself (it is not in `db-schemas`).
pub fn schema_not_exposed(answer: &Answer) -> bool {
    answer.status == 406 && answer.code() == "PGRST106"
}

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

/// A real access token from the auth endpoint.
pub async fn token_of(email: &str) -> String {
    crate::sign_in(email).await
}

/// The (unverified) claims of a JWT.
pub fn claims_of(token: &str) -> Map<String, Value> {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .expect("the payload is base64url");
    serde_json::from_slice(&bytes).expect("the payload is a JSON object")
}

/// HS256 over `claims` with `secret`.
pub fn sign(claims: &Map<String, Value>, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("jsonwebtoken signs")
}

/// `token` with its payload replaced by `claims` and the original signature kept.
pub fn with_claims(token: &str, claims: &Map<String, Value>) -> String {
    let mut parts = token.split('.');
    let header = parts.next().expect("a header");
    let signature = parts.nth(1).expect("a signature");
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    format!("{header}.{payload}.{signature}")
}

/// An unsigned token: `{"alg":"none"}`, the claims, and an empty signature.
pub fn unsigned(claims: &Map<String, Value>) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    format!("{header}.{payload}.")
}

// ---------------------------------------------------------------------------
// The rows both sides get
// ---------------------------------------------------------------------------

const UPSET: &str = "Agent: Thanks for calling, how can I help?\nUser: This is the third time I call, I want to talk to a manager. This is ridiculous.\nAgent: Let me transfer you.\nAgent: I'm sorry, nobody is available right now.";

/// One flagged call in csm.north's dealership and one in csm.south's, each with its
/// event, analysis job, analysis, open review and review event, plus a processing
/// error and a number reveal each; so every table and view has a row of either side.
#[derive(Clone, Debug)]
pub struct Seed {
    pub north_call: String,
    pub south_call: String,
    /// A word only the south call's transcript contains.
    pub south_word: String,
    /// The south caller's name: foreign data no answer to csm.north may contain.
    pub south_customer: String,
}

impl Seed {
    /// Strings that are csm.south's data: none may reach csm.north.
    pub fn foreign_markers(&self) -> Vec<String> {
        let mut markers = vec![
            self.south_call.clone(),
            self.south_word.clone(),
            self.south_customer.clone(),
            SOUTH_ID.to_string(),
            "Sam South".to_string(),
            "Ford of Weymouth".to_string(),
            "Nissan of Plymouth".to_string(),
            "Kia of Hingham".to_string(),
        ];
        markers.extend(FOREIGN_DEALERSHIPS.iter().map(|d| d.to_string()));
        markers
    }
    /// Foreign data that no answer may contain even when it echoes the arguments
    /// (which hold the foreign dealership, call and user ids).
    pub fn foreign_data_not_in_arguments(&self) -> Vec<String> {
        vec![
            self.south_word.clone(),
            self.south_customer.clone(),
            "Sam South".to_string(),
            "Ford of Weymouth".to_string(),
            "Nissan of Plymouth".to_string(),
            "Kia of Hingham".to_string(),
        ]
    }
    /// Replaces this run's ids in `text` with stable names, for the ledger.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.north_call, "<north call>")
            .replace(&self.south_call, "<south call>")
            .replace(&self.south_word, "<south word>")
            .replace(&self.south_customer, "<south customer>")
            .replace(NORTH_ID, "<north>")
            .replace(SOUTH_ID, "<south>")
    }
}

static SEED: OnceCell<Seed> = OnceCell::const_new();

/// Posts the two calls through the signed webhook (once per test process), waits
/// for the worker, and adds a processing error for each with the service key.
pub async fn seed() -> Seed {
    SEED.get_or_init(make_seed).await.clone()
}

async fn make_seed() -> Seed {
    let run = std::process::id();
    let seed = Seed {
        north_call: format!("attack_{run}_north"),
        south_call: format!("attack_{run}_south"),
        south_word: format!("zanzibarsouth{run}"),
        south_customer: format!("Sienna Southcaller {run}"),
    };
    let calls = [
        (
            NORTH_DEALERSHIP,
            &seed.north_call,
            format!("zanzibarnorth{run}"),
            format!("Nadia Northcaller {run}"),
        ),
        (
            SOUTH_DEALERSHIP,
            &seed.south_call,
            seed.south_word.clone(),
            seed.south_customer.clone(),
        ),
    ];
    for (dealership, call_id, word, customer) in &calls {
        let (status, body) = post_event(&json!({
            "event_id": format!("evt_{call_id}"),
            "dealership_id": dealership,
            "call_id": call_id,
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "transcript": format!("{UPSET}\nUser: My code word is {word}."),
            "customer": {"phone": "+16175550199", "name": customer}
        }))
        .await;
        assert_eq!(status, 200, "the webhook accepts {call_id}: {body}");
    }
    let ids = format!("{},{}", seed.north_call, seed.south_call);
    eventually(
        "both seeded calls judged, flagged and their jobs finished",
        Duration::from_secs(120),
        || {
            let ids = ids.clone();
            async move {
                let calls = send(
                    Method::GET,
                    &format!("/rest/v1/calls?call_id=in.({ids})&select=verdict,review_status"),
                    As::Service,
                    &[],
                    None,
                )
                .await;
                let judged = calls.rows().len() == 2
                    && calls.rows().iter().all(|c| c["review_status"] == "open");
                let pending = send(
                    Method::GET,
                    &format!("/rest/v1/analysis_jobs?call_id=in.({ids})&status=in.(queued,running)&select=id"),
                    As::Service,
                    &[],
                    None,
                )
                .await;
                (judged && pending.status == 200 && pending.rows().is_empty()).then_some(())
            }
        },
    )
    .await;
    for (dealership, call_id, _, _) in &calls {
        let answer = send(
            Method::POST,
            "/rest/v1/processing_errors",
            As::Service,
            &[],
            Some(&json!({
                "stage": "attack-suite",
                "event_id": format!("evt_{call_id}"),
                "call_id": call_id,
                "dealership_id": dealership,
                "error": "seeded by the e2e attack suite",
            })),
        )
        .await;
        assert_eq!(
            answer.status, 201,
            "the service key seeds a processing error: {}",
            answer.text
        );
    }
    for (user_id, (dealership, call_id, _, _)) in [NORTH_ID, SOUTH_ID].into_iter().zip(&calls) {
        let answer = send(
            Method::POST,
            "/rest/v1/phone_reveals",
            As::Service,
            &[],
            Some(&json!({ "user_id": user_id, "dealership_id": dealership, "call_id": call_id })),
        )
        .await;
        assert_eq!(
            answer.status, 201,
            "the service key seeds a number reveal: {}",
            answer.text
        );
    }
    seed
}

// ---------------------------------------------------------------------------
// The ledger: what the tests asserted, as docs/security-attacks.md
// ---------------------------------------------------------------------------

/// Sections of the document, in order: (id, title).
pub const SECTIONS: &[(&str, &str)] = &[
    ("10-tokens", "Forged and borrowed tokens"),
    ("20-reads", "Cross-tenant reads, every table and view"),
    ("30-writes", "Cross-tenant writes, every table and view"),
    ("40-people", "Roles and assignments"),
    (
        "50-rpc-known",
        "Known functions on another dealership's call",
    ),
    (
        "60-rpc-generic",
        "Every function csm.north may execute, with another dealership's ids",
    ),
    (
        "70-hidden",
        "The auth hook, private and reporting functions, other schemas",
    ),
    ("80-anon", "Anon key only"),
    ("90-secrets", "Secrets in the dashboard and the logs"),
];

/// Rows of one section, written when its test has passed.
pub struct Ledger {
    id: &'static str,
    intro: String,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

static WRITING: LazyLock<Mutex<()>> = LazyLock::new(|| Mutex::new(()));

impl Ledger {
    pub fn new(id: &'static str, intro: &str, columns: &[&str]) -> Self {
        assert!(
            SECTIONS.iter().any(|(s, _)| *s == id),
            "unknown section {id}"
        );
        Ledger {
            id,
            intro: intro.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) {
        assert_eq!(cells.len(), self.columns.len(), "ledger row width");
        self.rows
            .push(cells.iter().map(|c| c.as_ref().to_string()).collect());
    }

    /// Writes this section into the run's folder and assembles the document:
    /// always into `$E2E_ARTIFACTS/security-attacks.md`, and into the file named by
    /// `SECURITY_ATTACKS_DOC` (relative to the workspace) once every section of the
    /// document was written in this run.
    pub fn finish(self) {
        let mut text = format!("{}\n\n", self.intro.trim());
        text.push_str(&format!("| {} |\n", self.columns.join(" | ")));
        text.push_str(&format!("|{}\n", " --- |".repeat(self.columns.len())));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            text.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        let _turn = WRITING.lock().unwrap_or_else(|e| e.into_inner());
        let dir = sections_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{}.md", self.id)), text).unwrap();
        let (doc, complete) = assemble(&dir);
        if let Ok(artifacts) = std::env::var("E2E_ARTIFACTS") {
            let _ = std::fs::create_dir_all(&artifacts);
            let _ = std::fs::write(Path::new(&artifacts).join("security-attacks.md"), &doc);
        }
        if let Ok(target) = std::env::var("SECURITY_ATTACKS_DOC") {
            if complete {
                let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("..")
                    .join(target);
                std::fs::write(&path, &doc)
                    .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            }
        }
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Per run: the stack's throwaway folder (the parent of its log folder).
fn sections_dir() -> PathBuf {
    let logs = PathBuf::from(env("STACK_LOGS_DIR"));
    logs.parent()
        .map(Path::to_path_buf)
        .unwrap_or(logs)
        .join("security-attacks")
}

fn assemble(dir: &Path) -> (String, bool) {
    let mut complete = true;
    let mut doc = String::from(
        "# Attacks through the real stack, and their answers\n\n\
         <!-- Generated by the e2e attack suite (e2e/tests/attacks.rs, e2e/tests/zz_secrets.rs); do not edit by hand.\n     \
         Regenerate: SECURITY_ATTACKS_DOC=docs/security-attacks.md cargo xtask test --only e2e -->\n\n\
         Every row is a request the suite sends during `cargo xtask test` and the answer it\n\
         asserted: real tokens from `POST /auth/v1/token?grant_type=password`, through the\n\
         gateway (`SUPABASE_URL`, `apikey` = the anon key unless said otherwise) to the real\n\
         PostgREST and Postgres. The tables, views and functions are read from the\n\
         catalogue when the suite runs (schemas `public` and `reporting`; functions in\n\
         `public`, `private` and `reporting`), so a new one appears here, attacked, without\n\
         a change to the suite. The attacker is csm.north (toyota-braintree, honda-quincy);\n\
         the victim is csm.south (ford-weymouth, nissan-plymouth). `<south call>` is a\n\
         flagged call of ford-weymouth posted through the signed webhook for the run (with\n\
         its event, job, analysis, review, review event and a processing error),\n\
         `<north call>` its twin in toyota-braintree. \"Unchanged\" is checked with the\n\
         service role key after the attempt.\n",
    );
    for (id, title) in SECTIONS {
        doc.push_str(&format!("\n## {title}\n\n"));
        match std::fs::read_to_string(dir.join(format!("{id}.md"))) {
            Ok(text) => doc.push_str(&text),
            Err(_) => {
                complete = false;
                doc.push_str("_Not run in this run._\n");
            }
        }
    }
    (doc, complete)
}
