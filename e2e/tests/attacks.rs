//! The attack suite: what a signed-in CSM, a forger and an anonymous caller get when
//! they go after data that is not theirs, through the real stack (the gateway on
//! `SUPABASE_URL`, the real PostgREST, Postgres with its row-level security).
//!
//! The tables, views and functions are enumerated from the Postgres catalogue at test
//! time (`e2e::attack::catalogue`), so a new one is attacked without a change here:
//! every relation in `public` and `reporting` gets the generic read and write rules
//! (a relation that has no `dealership_id` column and no rule in [`tenant`] fails the
//! suite, loudly), every function gets called with the other dealership's ids, and a
//! few known functions get precise assertions on top.
//!
//! Each check first proves that the attempt aims at something real (the service role
//! key sees the victim's row; the attacker can read her own), so that "nothing came
//! back" can only mean "refused". The answers are recorded in a ledger that becomes
//! `docs/security-attacks.md` (see `e2e::attack::Ledger`).
//!
//! Nothing here should change any data; the only writes are the seeded calls.

use std::collections::BTreeSet;

use e2e::attack::{
    catalogue, claims_of, foreign_args, headers, read_profile, rest_path, schema_not_exposed, seed,
    send, sign, token_of, unsigned, with_claims, write_profile, Answer, As, Catalogue, Ledger,
    Relation, Seed, FOREIGN_DEALERSHIPS, NORTH_DEALERSHIP, NORTH_DEALERSHIPS, NORTH_EMAIL,
    NORTH_ID, SOUTH_DEALERSHIP, SOUTH_EMAIL, SOUTH_ID,
};
use e2e::env;
use reqwest::Method;
use serde_json::{json, Map, Value};

/// How a relation's rows belong to a tenant: the column, csm.north's value and
/// csm.south's, and the values csm.north must never see in it.
struct Tenant {
    column: String,
    own: String,
    foreign: String,
    never: Vec<String>,
    /// Narrows both sides to the seeded calls when the relation has `call_id`.
    narrow: Option<(String, String)>,
}

impl Tenant {
    fn own_filter(&self) -> String {
        let mut f = format!("{}=eq.{}", self.column, self.own);
        if let Some((north, _)) = &self.narrow {
            f.push_str(&format!("&call_id=eq.{north}"));
        }
        f
    }
    fn foreign_filter(&self) -> String {
        let mut f = format!("{}=eq.{}", self.column, self.foreign);
        if let Some((_, south)) = &self.narrow {
            f.push_str(&format!("&call_id=eq.{south}"));
        }
        f
    }
}

/// Relations that hold no tenant's data: settings every signed-in user may read and
/// nobody writes through the API. The tenant tests skip them;
/// `shared_settings_are_readable_by_a_csm_and_no_write_through_the_api_changes_them`
/// attacks them instead. A new entry needs a probe there.
const SHARED: &[(&str, &str)] = &[("public", "app_settings")];

fn is_shared(relation: &Relation) -> bool {
    SHARED
        .iter()
        .any(|(schema, name)| relation.schema == *schema && relation.name == *name)
}

/// The tenant rule of a relation. Generic: its `dealership_id` column. Two tables are
/// keyed otherwise. Anything else has no rule yet: fail, so that whoever adds it
/// decides how the suite attacks it.
fn tenant(relation: &Relation, seed: &Seed) -> Tenant {
    let narrow = relation
        .column("call_id")
        .map(|_| (seed.north_call.clone(), seed.south_call.clone()));
    match (relation.schema.as_str(), relation.name.as_str()) {
        ("public", "dealerships") => Tenant {
            column: "id".into(),
            own: NORTH_DEALERSHIP.into(),
            foreign: SOUTH_DEALERSHIP.into(),
            never: FOREIGN_DEALERSHIPS.iter().map(|d| d.to_string()).collect(),
            narrow: None,
        },
        ("public", "profiles") => Tenant {
            column: "user_id".into(),
            own: NORTH_ID.into(),
            foreign: SOUTH_ID.into(),
            never: vec![SOUTH_ID.into()],
            narrow: None,
        },
        _ if relation.column("dealership_id").is_some() => Tenant {
            column: "dealership_id".into(),
            own: NORTH_DEALERSHIP.into(),
            foreign: SOUTH_DEALERSHIP.into(),
            never: FOREIGN_DEALERSHIPS.iter().map(|d| d.to_string()).collect(),
            narrow,
        },
        _ => panic!(
            "{} {} has no dealership_id column and no tenant rule: add one to tenant() in \
             e2e/tests/attacks.rs so the attack suite can prove it is isolated",
            relation.kind_name(),
            relation.qualified()
        ),
    }
}

/// Reads `relation` (only the columns `authenticated` may select: see
/// [`hidden_columns_are_refused`] for the others).
async fn get(relation: &Relation, query: &str, who: As<'_>, extra: &[(&str, &str)]) -> Answer {
    let profile = read_profile(&relation.schema);
    send(
        Method::GET,
        &rest_path(relation, &relation.readable_query(query)),
        who,
        &headers(&profile, extra),
        None,
    )
    .await
}

/// The relations PostgREST serves to csm.north: `public` always; another schema only
/// if it is exposed (today `reporting` is not: PostgREST answers 406 PGRST106).
async fn exposed<'c>(
    catalogue: &'c Catalogue,
    north: &str,
    mut not_exposed: impl FnMut(&Relation, &Answer),
) -> Vec<&'c Relation> {
    let mut out = Vec::new();
    for relation in &catalogue.relations {
        let probe = get(relation, "limit=1", As::Bearer(north), &[]).await;
        if schema_not_exposed(&probe) {
            assert_ne!(
                relation.schema, "public",
                "public must be exposed: {}",
                probe.text
            );
            not_exposed(relation, &probe);
            continue;
        }
        out.push(relation);
    }
    assert!(
        out.iter().any(|r| r.name == "calls"),
        "the enumeration finds public.calls"
    );
    out
}

fn count_of(answer: &Answer) -> Option<u64> {
    answer
        .content_range
        .as_deref()?
        .rsplit('/')
        .next()?
        .parse()
        .ok()
}

fn contains_any(text: &str, needles: &[String]) -> Option<String> {
    needles.iter().find(|n| text.contains(n.as_str())).cloned()
}

#[tokio::test]
async fn a_csm_reads_no_row_of_another_dealership_from_any_exposed_table_or_view() {
    let seed = seed().await;
    let catalogue = catalogue().await;
    let north = token_of(NORTH_EMAIL).await;
    let mut ledger = Ledger::new(
        "20-reads",
        "csm.north reads each relation four ways. Before that, the service role key must \
         see the other dealership's row (else the suite fails: seed it) and csm.north her \
         own. A relation of a schema PostgREST does not serve is listed with that answer.",
        &[
            "relation",
            "service key, the other's rows",
            "csm.north, her own rows",
            "csm.north, the other's rows",
            "count (`Prefer: count=exact`)",
            "unfiltered (`select=*`)",
        ],
    );
    let mut hidden = Vec::new();
    let relations = exposed(&catalogue, &north, |relation, probe| {
        hidden.push((relation.qualified(), probe.summary()));
    })
    .await;
    for (name, answer) in hidden {
        ledger.row(&[
            format!("`{name}`"),
            "-".into(),
            format!("not exposed: {answer}"),
            "-".into(),
            "-".into(),
            "-".into(),
        ]);
    }
    for relation in relations.into_iter().filter(|r| !is_shared(r)) {
        let name = relation.qualified();
        let t = tenant(relation, &seed);
        let service = get(relation, &t.foreign_filter(), As::Service, &[]).await;
        assert!(
            service.status == 200 && !service.rows().is_empty(),
            "precondition: the service key sees a row of the other dealership in {name} ({}): {}",
            seed.redact(&t.foreign_filter()),
            service.text
        );
        let own = get(relation, &t.own_filter(), As::Bearer(&north), &[]).await;
        assert!(
            own.status == 200 && !own.rows().is_empty(),
            "precondition: csm.north reads her own row of {name}: {}",
            own.text
        );
        let foreign = get(relation, &t.foreign_filter(), As::Bearer(&north), &[]).await;
        assert_eq!(
            (foreign.status, foreign.rows().len(), foreign.is_array()),
            (200, 0, true),
            "csm.north reads none of the other dealership's rows of {name}: {}",
            foreign.text
        );
        let counted = get(
            relation,
            &t.foreign_filter(),
            As::Bearer(&north),
            &[("prefer", "count=exact")],
        )
        .await;
        assert_eq!(
            (counted.status, count_of(&counted)),
            (200, Some(0)),
            "the exact count of the other's rows of {name} is 0 for csm.north: {:?}",
            counted.content_range
        );
        let all = get(relation, "select=*", As::Bearer(&north), &[]).await;
        assert_eq!(all.status, 200, "{name}: {}", all.text);
        let leaked: Vec<&Value> = all
            .rows()
            .iter()
            .filter(|row| match &row[&t.column] {
                Value::String(v) => t.never.contains(v),
                Value::Null => true,
                _ => false,
            })
            .collect();
        assert!(
            leaked.is_empty(),
            "csm.north's unfiltered read of {name} holds rows of other dealerships: {leaked:?}"
        );
        assert!(
            !all.rows().is_empty(),
            "the unfiltered read of {name} has her own rows"
        );
        ledger.row(&[
            format!("`{name}` ({})", relation.kind_name()),
            format!(
                "`{}`: {}",
                seed.redact(&t.foreign_filter()),
                service.summary()
            ),
            format!("`{}`: {}", seed.redact(&t.own_filter()), own.summary()),
            foreign.summary(),
            format!(
                "{}, `Content-Range: {}`",
                counted.status,
                counted.content_range.clone().unwrap_or_default()
            ),
            format!("{}, none of another dealership", all.status),
        ]);
        hidden_columns_are_refused(relation, &t, &north).await;
    }
    ledger.finish();
}

/// The columns `authenticated` must not select (migration 20261218000100). Pinned
/// here, so a later grant that exposes one fails the suite instead of shrinking
/// what it checks.
const HIDDEN_COLUMNS: &[(&str, &[&str])] = &[
    ("public.calls", &["customer_phone"]),
    (
        "public.events",
        &["raw_body", "raw_payload", "customer_phone"],
    ),
];

/// A column `authenticated` may not select (the customer's number, raw payloads)
/// is refused outright, alone or through `select=*`, even on csm.north's own rows.
async fn hidden_columns_are_refused(relation: &Relation, t: &Tenant, north: &str) {
    if let Some((_, pinned)) = HIDDEN_COLUMNS
        .iter()
        .find(|(n, _)| *n == relation.qualified())
    {
        for column in *pinned {
            assert!(
                relation.hidden_columns().contains(column),
                "{}.{column} must not be readable by authenticated",
                relation.qualified()
            );
        }
    }
    let profile = read_profile(&relation.schema);
    for query in std::iter::once("select=*".to_string()).chain(
        relation
            .hidden_columns()
            .into_iter()
            .map(|c| format!("select={c}")),
    ) {
        if relation.hidden_columns().is_empty() {
            break;
        }
        let path = rest_path(relation, &format!("{}&{query}", t.own_filter()));
        let answer = send(
            Method::GET,
            &path,
            As::Bearer(north),
            &headers(&profile, &[]),
            None,
        )
        .await;
        assert_eq!(
            (answer.status, answer.code()),
            (403, "42501"),
            "csm.north's `{query}` on {} is refused: {}",
            relation.qualified(),
            answer.text
        );
    }
}

/// A write was refused: 401/403; or, for a view Postgres cannot update (a join),
/// its `55000` "cannot update/insert into/delete from view", which Postgres raises
/// before it checks privileges and PostgREST answers with 500; or, for a view
/// column Postgres computes, `0A000` "cannot insert into column" (400), raised
/// before the privileges as well.
fn refused(relation: &Relation, answer: &Answer) -> bool {
    matches!(answer.status, 401 | 403)
        || (relation.kind == "v"
            && ((answer.status == 500 && answer.code() == "55000")
                || (answer.status == 400 && answer.code() == "0A000")))
}

/// PATCH and DELETE must be refused, or touch nothing (2xx with `[]`).
fn refused_or_empty(relation: &Relation, answer: &Answer) -> bool {
    refused(relation, answer)
        || ((200..300).contains(&answer.status) && answer.is_array() && answer.rows().is_empty())
}

/// A copy of `row` that a client could send: without identity or generated columns.
fn writable(relation: &Relation, row: &Value) -> Map<String, Value> {
    let mut out = row.as_object().cloned().unwrap_or_default();
    for column in &relation.columns {
        if column.generated {
            out.remove(&column.name);
        }
    }
    out
}

#[tokio::test]
async fn a_csm_can_neither_change_nor_delete_nor_insert_rows_of_another_dealership_in_any_table_or_view(
) {
    let seed = seed().await;
    let catalogue = catalogue().await;
    let north = token_of(NORTH_EMAIL).await;
    let mut ledger = Ledger::new(
        "30-writes",
        "csm.north sends each write at the other dealership's rows (all with \
         `Prefer: return=representation`). A PATCH or DELETE passes if it is refused \
         or matches nothing (`[]`); a POST must be refused. Refused means 401/403 from \
         the privileges, or, for a view that joins tables, Postgres' `55000` \"cannot \
         update view\", which Postgres raises before it checks privileges and PostgREST \
         answers with 500 (refused, but a 5xx), or `0A000` \"cannot insert into column\" \
         of a view column that is computed (400), raised before privileges too. Afterwards the service role key must read \
         the other's rows exactly as before, find no copy, and count as many rows of \
         that dealership as before.",
        &[
            "relation",
            "PATCH the other's rows to her dealership",
            "DELETE the other's rows",
            "POST a copy with a new key",
            "POST upsert (`resolution=merge-duplicates`)",
            "afterwards (service key)",
        ],
    );
    let run = std::process::id();
    let mut hidden = Vec::new();
    let relations = exposed(&catalogue, &north, |relation, _| {
        hidden.push(relation.clone())
    })
    .await;
    for relation in hidden {
        // Not served for reading; writing through Content-Profile is refused the same way.
        let profile = write_profile(&relation.schema);
        let patch = send(
            Method::PATCH,
            &rest_path(&relation, "dealership_id=eq.ford-weymouth"),
            As::Bearer(&north),
            &headers(&profile, &[]),
            Some(&json!({"dealership_id": NORTH_DEALERSHIP})),
        )
        .await;
        assert!(
            schema_not_exposed(&patch),
            "{}: a write through Content-Profile is refused like the read: {}",
            relation.qualified(),
            patch.text
        );
        ledger.row(&[
            format!("`{}`", relation.qualified()),
            format!("not exposed: {}", patch.summary()),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ]);
    }
    for relation in relations.into_iter().filter(|r| !is_shared(r)) {
        let name = relation.qualified();
        let t = tenant(relation, &seed);
        let before = get(relation, &t.foreign_filter(), As::Service, &[]).await;
        assert!(
            before.status == 200 && !before.rows().is_empty(),
            "precondition: the service key sees the other's row of {name}: {}",
            before.text
        );
        let tenant_all = format!("{}=eq.{}", t.column, t.foreign);
        let count = |answer: &Answer| count_of(answer).expect("an exact count");
        let count_before = count(
            &get(
                relation,
                &format!("{tenant_all}&limit=0"),
                As::Service,
                &[("prefer", "count=exact")],
            )
            .await,
        );
        let profile = write_profile(&relation.schema);
        let representation = [("prefer", "return=representation")];
        let write_headers = headers(&profile, &representation);

        let patch = send(
            Method::PATCH,
            &rest_path(relation, &t.foreign_filter()),
            As::Bearer(&north),
            &write_headers,
            Some(&Value::Object(Map::from_iter([(
                t.column.clone(),
                json!(t.own),
            )]))),
        )
        .await;
        assert!(
            refused_or_empty(relation, &patch),
            "PATCH of the other's rows of {name} is refused: {}",
            patch.text
        );
        let delete = send(
            Method::DELETE,
            &rest_path(relation, &t.foreign_filter()),
            As::Bearer(&north),
            &write_headers,
            None,
        )
        .await;
        assert!(
            refused_or_empty(relation, &delete),
            "DELETE of the other's rows of {name} is refused: {}",
            delete.text
        );

        // A copy of the victim's row under a new key (a new call, event or id).
        let original = writable(relation, &before.rows()[0]);
        let mut copy = original.clone();
        // Every text key column gets the new value: a permitted insert would succeed
        // (or trip a foreign key), never collide with the original.
        let keys: Vec<&str> = ["call_id", "event_id", "id"]
            .into_iter()
            .filter(|c| {
                relation
                    .column(c)
                    .is_some_and(|c| c.type_name == "text" && !c.generated)
                    && (*c != t.column || *c == "id")
            })
            .collect();
        let marker = keys.first().copied();
        let marker_value = format!("attack_{run}_copy");
        for column in &keys {
            copy.insert(column.to_string(), json!(marker_value));
        }
        let post = send(
            Method::POST,
            &rest_path(relation, ""),
            As::Bearer(&north),
            &write_headers,
            Some(&Value::Object(copy)),
        )
        .await;
        assert!(
            refused(relation, &post),
            "POST of a row into the other dealership's {name} is refused: {} {}",
            post.status,
            post.text
        );

        // An upsert of the victim's own row with one text column changed.
        let changed = relation
            .columns
            .iter()
            .find(|c| {
                c.type_name == "text"
                    && !c.generated
                    && !["id", "call_id", "event_id", "dealership_id", "user_id"]
                        .contains(&c.name.as_str())
                    && c.name != t.column
            })
            .map(|c| c.name.clone());
        let upsert = match &changed {
            Some(column) => {
                let mut row = original.clone();
                row.insert(column.clone(), json!("changed by the attack suite"));
                let upsert_headers = headers(
                    &profile,
                    &[(
                        "prefer",
                        "resolution=merge-duplicates,return=representation",
                    )],
                );
                let answer = send(
                    Method::POST,
                    &rest_path(relation, ""),
                    As::Bearer(&north),
                    &upsert_headers,
                    Some(&Value::Object(row)),
                )
                .await;
                assert!(
                    refused(relation, &answer),
                    "an upsert over the other's row of {name} is refused: {} {}",
                    answer.status,
                    answer.text
                );
                format!("`{column}` changed: {}", answer.summary())
            }
            None => "no text column to change".to_string(),
        };

        let after = get(relation, &t.foreign_filter(), As::Service, &[]).await;
        assert_eq!(
            after.body, before.body,
            "the other dealership's rows of {name} are unchanged"
        );
        let count_after = count(
            &get(
                relation,
                &format!("{tenant_all}&limit=0"),
                As::Service,
                &[("prefer", "count=exact")],
            )
            .await,
        );
        assert_eq!(
            count_after, count_before,
            "no row of the other dealership was added to or removed from {name}"
        );
        if let Some(column) = marker {
            let copies = get(
                relation,
                &format!("{column}=eq.{marker_value}"),
                As::Service,
                &[],
            )
            .await;
            assert_eq!(copies.body, json!([]), "no copy was inserted into {name}");
        }
        ledger.row(&[
            format!("`{name}` ({})", relation.kind_name()),
            format!(
                "`{}` with `{{\"{}\": \"{}\"}}`: {}",
                seed.redact(&t.foreign_filter()),
                t.column,
                seed.redact(&t.own),
                patch.summary()
            ),
            delete.summary(),
            if keys.is_empty() {
                format!("as is: {}", post.summary())
            } else {
                format!("new `{}`: {}", keys.join("`, `"), post.summary())
            },
            upsert,
            "unchanged, no copy, same count".to_string(),
        ]);
    }
    ledger.finish();
}

/// (what, method, path under /rest/v1, extra headers, body).
type Attempt<'a> = (
    &'a str,
    Method,
    String,
    &'a [(&'a str, &'a str)],
    Option<Value>,
);

async fn service_rows(path: &str) -> Value {
    let answer = send(
        Method::GET,
        &format!("/rest/v1/{path}"),
        As::Service,
        &[],
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{path}: {}", answer.text);
    answer.body
}

#[tokio::test]
async fn a_csm_cannot_change_anyones_role_or_dealership_assignments() {
    let north = token_of(NORTH_EMAIL).await;
    let mut ledger = Ledger::new(
        "40-people",
        "csm.north tries to promote herself, change csm.south, and take or remove \
         dealership assignments. Each answer must be a refusal, and the service key must \
         read the same profiles and assignments afterwards.",
        &["attempt", "request", "answer"],
    );
    let profiles_before = service_rows(&format!(
        "profiles?user_id=in.({NORTH_ID},{SOUTH_ID})&order=user_id"
    ))
    .await;
    let assignments_before = service_rows(&format!(
        "user_dealerships?user_id=in.({NORTH_ID},{SOUTH_ID})&order=user_id,dealership_id"
    ))
    .await;
    assert_eq!(
        profiles_before
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["role"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["csm", "csm"],
        "precondition: both are CSMs"
    );
    assert_eq!(
        assignments_before.as_array().unwrap().len(),
        4,
        "precondition: two dealerships each"
    );
    let representation = [("prefer", "return=representation")];
    let upsert = [(
        "prefer",
        "resolution=merge-duplicates,return=representation",
    )];
    let attempts: Vec<Attempt> = vec![
        (
            "make herself admin",
            Method::PATCH,
            format!("profiles?user_id=eq.{NORTH_ID}"),
            &representation,
            Some(json!({"role": "admin"})),
        ),
        (
            "make herself manager of csm.south",
            Method::PATCH,
            format!("profiles?user_id=eq.{SOUTH_ID}"),
            &representation,
            Some(json!({"manager_id": NORTH_ID})),
        ),
        (
            "demote csm.south's role",
            Method::PATCH,
            format!("profiles?user_id=eq.{SOUTH_ID}"),
            &representation,
            Some(json!({"role": "manager"})),
        ),
        (
            "upsert her own profile as admin",
            Method::POST,
            "profiles".to_string(),
            &upsert,
            Some(json!({"user_id": NORTH_ID, "full_name": "Nora North", "role": "admin"})),
        ),
        (
            "assign herself to csm.south's dealership",
            Method::POST,
            "user_dealerships".to_string(),
            &representation,
            Some(json!({"user_id": NORTH_ID, "dealership_id": SOUTH_DEALERSHIP})),
        ),
        (
            "move her assignment to csm.south's dealership",
            Method::PATCH,
            format!("user_dealerships?user_id=eq.{NORTH_ID}&dealership_id=eq.{NORTH_DEALERSHIP}"),
            &representation,
            Some(json!({"dealership_id": SOUTH_DEALERSHIP})),
        ),
        (
            "remove csm.south's assignments",
            Method::DELETE,
            format!("user_dealerships?user_id=eq.{SOUTH_ID}"),
            &representation,
            None,
        ),
        (
            "take csm.south's assignment over",
            Method::PATCH,
            format!("user_dealerships?user_id=eq.{SOUTH_ID}"),
            &representation,
            Some(json!({"user_id": NORTH_ID})),
        ),
    ];
    for (what, method, path, extra, body) in attempts {
        let shown = format!(
            "{method} /rest/v1/{}{}",
            path.replace(NORTH_ID, "<north>")
                .replace(SOUTH_ID, "<south>"),
            body.as_ref()
                .map(|b| format!(
                    " `{}`",
                    b.to_string()
                        .replace(NORTH_ID, "<north>")
                        .replace(SOUTH_ID, "<south>")
                ))
                .unwrap_or_default()
        );
        let answer = send(
            method,
            &format!("/rest/v1/{path}"),
            As::Bearer(&north),
            extra,
            body.as_ref(),
        )
        .await;
        assert_eq!(
            (answer.status, answer.code()),
            (403, "42501"),
            "{what} is refused: {}",
            answer.text
        );
        ledger.row(&[what.to_string(), shown, answer.summary()]);
    }
    assert_eq!(
        service_rows(&format!(
            "profiles?user_id=in.({NORTH_ID},{SOUTH_ID})&order=user_id"
        ))
        .await,
        profiles_before,
        "the profiles are unchanged"
    );
    assert_eq!(
        service_rows(&format!(
            "user_dealerships?user_id=in.({NORTH_ID},{SOUTH_ID})&order=user_id,dealership_id"
        ))
        .await,
        assignments_before,
        "the assignments are unchanged"
    );
    // A fresh token carries the same role, and she still sees only her dealerships.
    let fresh = token_of(NORTH_EMAIL).await;
    assert_eq!(claims_of(&fresh)["user_role"], "csm");
    let seen = send(
        Method::GET,
        "/rest/v1/dealerships?select=id&order=id",
        As::Bearer(&fresh),
        &[],
        None,
    )
    .await;
    assert_eq!(
        seen.body,
        json!([{"id": "honda-quincy"}, {"id": "toyota-braintree"}])
    );
    ledger.row(&[
        "afterwards".to_string(),
        "service key reads both profiles and all assignments; csm.north signs in again".to_string(),
        "unchanged; new token `user_role: csm`; `dealerships` still honda-quincy, toyota-braintree"
            .to_string(),
    ]);
    ledger.finish();
}

async fn rpc_as(token: &str, function: &str, args: &Value) -> Answer {
    send(
        Method::POST,
        &format!("/rest/v1/rpc/{function}"),
        As::Bearer(token),
        &[],
        Some(args),
    )
    .await
}

#[tokio::test]
async fn a_csm_is_refused_every_review_and_reanalysis_function_on_another_dealerships_call() {
    let seed = seed().await;
    let catalogue = catalogue().await;
    let north = token_of(NORTH_EMAIL).await;
    let south_call = seed.south_call.clone();
    for name in ["review_call", "assign_review", "request_reanalysis"] {
        let f = catalogue
            .function("public", name)
            .unwrap_or_else(|| panic!("public.{name} exists (rename it here too)"));
        assert!(f.authenticated_may_execute, "{name} is callable by users");
    }
    let mut ledger = Ledger::new(
        "50-rpc-known",
        "The functions that change a review or queue work, called by csm.north on the \
         other dealership's call, and the read functions of the dashboard and the team \
         overview asked about the other dealership. For the read functions, csm.south \
         (or csm.north about her own dealership) asks the same first, to prove the \
         answer would show the data. The review, its events and the call's jobs are \
         compared before and after with the service key.",
        &["call by csm.north", "answer", "check"],
    );
    let snapshot = || async {
        (
            service_rows(&format!("call_reviews?call_id=eq.{}", seed.south_call)).await,
            service_rows(&format!(
                "review_events?call_id=eq.{}&order=id",
                seed.south_call
            ))
            .await,
            service_rows(&format!(
                "analysis_jobs?call_id=eq.{}&order=id",
                seed.south_call
            ))
            .await,
        )
    };
    let before = snapshot().await;
    assert_eq!(
        before.0[0]["status"], "open",
        "precondition: an open review"
    );
    assert_eq!(
        before.0[0]["assignee_id"],
        Value::Null,
        "precondition: unassigned"
    );
    let refusals = [
        (
            "review_call",
            json!({"p_dealership_id": SOUTH_DEALERSHIP, "p_call_id": south_call, "p_to_status": "resolved", "p_notes": "not mine"}),
            "`review_call(ford-weymouth, <south call>, resolved, notes)`",
        ),
        (
            "review_call",
            json!({"p_dealership_id": SOUTH_DEALERSHIP, "p_call_id": south_call, "p_to_status": "reviewed"}),
            "`review_call(ford-weymouth, <south call>, reviewed)`",
        ),
        (
            "review_call",
            json!({"p_dealership_id": SOUTH_DEALERSHIP, "p_call_id": "no-such-call", "p_to_status": "reviewed"}),
            "`review_call(ford-weymouth, no-such-call, reviewed)`: same answer as for a real call",
        ),
        (
            "assign_review",
            json!({"p_dealership_id": SOUTH_DEALERSHIP, "p_call_id": south_call, "p_assignee_id": NORTH_ID}),
            "`assign_review(ford-weymouth, <south call>, <north>)`",
        ),
        (
            "assign_review",
            json!({"p_dealership_id": SOUTH_DEALERSHIP, "p_call_id": south_call, "p_assignee_id": SOUTH_ID}),
            "`assign_review(ford-weymouth, <south call>, <south>)`",
        ),
        (
            "assign_review",
            json!({"p_dealership_id": SOUTH_DEALERSHIP, "p_call_id": south_call, "p_assignee_id": null}),
            "`assign_review(ford-weymouth, <south call>, null)`",
        ),
        (
            "request_reanalysis",
            json!({"p_dealership_id": SOUTH_DEALERSHIP, "p_call_id": south_call}),
            "`request_reanalysis(ford-weymouth, <south call>)`",
        ),
    ];
    for (function, args, shown) in refusals {
        let answer = rpc_as(&north, function, &args).await;
        assert_eq!(
            (answer.status, answer.code(), answer.message()),
            (
                403,
                "42501",
                "you are not assigned to dealership ford-weymouth"
            ),
            "{shown} is refused: {}",
            answer.text
        );
        ledger.row(&[
            shown.to_string(),
            seed.redact(&answer.summary()),
            "refused; review, events and jobs unchanged".to_string(),
        ]);
    }
    assert_eq!(
        snapshot().await,
        before,
        "the review, its history and the jobs are unchanged"
    );
    known_reads(&mut ledger, &seed, &north).await;
    ledger.finish();
}

/// The read functions of the dashboard and the team overview, asked about the other
/// dealership; csm.south asks the same first to prove there is something to see.
async fn known_reads(ledger: &mut Ledger, seed: &Seed, north: &str) {
    let south = token_of(SOUTH_EMAIL).await;
    let window = json!({
        "from": (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339(),
        "to": (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339(),
    });

    // dealership_health about the other dealership.
    let args = json!({"p_dealership_id": SOUTH_DEALERSHIP, "p_hours": 24});
    let proof = rpc_as(&south, "dealership_health", &args).await;
    assert_eq!(proof.status, 200, "{}", proof.text);
    assert!(
        proof.body["current"]["calls"].as_i64() >= Some(1)
            && proof.body["waiting_for_review"].as_i64() >= Some(1),
        "precondition: csm.south's health of ford-weymouth counts the call: {}",
        proof.body
    );
    let answer = rpc_as(north, "dealership_health", &args).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let b = &answer.body;
    let trend_calls: i64 = b["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            ["good", "needs_review", "bad", "unanalyzed"]
                .iter()
                .map(|k| t[k].as_i64().unwrap())
                .sum::<i64>()
        })
        .sum();
    assert_eq!(
        (
            &b["current"]["calls"],
            &b["previous"]["calls"],
            &b["waiting_for_review"],
            &b["top_flags"],
            trend_calls
        ),
        (&json!(0), &json!(0), &json!(0), &json!([]), 0),
        "csm.north's health of ford-weymouth is empty: {b}"
    );
    ledger.row(&[
            "`dealership_health(ford-weymouth, 24)`".to_string(),
            format!(
                "200, `current.calls` 0, `waiting_for_review` 0, no flags, empty trend (csm.south: {} calls, {} waiting)",
                proof.body["current"]["calls"], proof.body["waiting_for_review"]
            ),
            "nothing of the other dealership".to_string(),
        ]);
    // ...and about "all mine": only her own dealerships add up.
    let all = rpc_as(
        north,
        "dealership_health",
        &json!({"p_dealership_id": null, "p_hours": 24}),
    )
    .await;
    let mut own_sum = 0;
    for d in NORTH_DEALERSHIPS {
        let one = rpc_as(
            north,
            "dealership_health",
            &json!({"p_dealership_id": d, "p_hours": 24}),
        )
        .await;
        own_sum += one.body["current"]["calls"].as_i64().unwrap();
    }
    assert!(own_sum >= 1, "precondition: her own dealerships have calls");
    assert_eq!(
        all.body["current"]["calls"].as_i64(),
        Some(own_sum),
        "dealership_health over all her dealerships counts only hers: {}",
        all.body
    );
    ledger.row(&[
        "`dealership_health(null, 24)`".to_string(),
        "200, `current.calls` = the sum over toyota-braintree and honda-quincy".to_string(),
        "no other dealership counted".to_string(),
    ]);

    // team_csm_stats narrowed to the other dealership.
    let args = json!({"p_from": window["from"], "p_to": window["to"], "p_dealership_id": SOUTH_DEALERSHIP});
    let proof = rpc_as(&south, "team_csm_stats", &args).await;
    assert!(
        proof
            .rows()
            .iter()
            .any(|r| r["user_id"].is_null() && r["backlog"].as_i64() >= Some(1)),
        "precondition: csm.south's team stats of ford-weymouth show unassigned work: {}",
        proof.text
    );
    let answer = rpc_as(north, "team_csm_stats", &args).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(
        !answer.rows().is_empty()
            && answer
                .rows()
                .iter()
                .all(|r| r["user_id"] == NORTH_ID && r["backlog"] == 0 && r["reviews_done"] == 0),
        "csm.north's team stats of ford-weymouth hold only her own empty row: {}",
        answer.text
    );
    ledger.row(&[
            "`team_csm_stats(30 days ago, tomorrow, ford-weymouth)`".to_string(),
            format!("{}: her own row, backlog 0, no Unassigned row (csm.south: an Unassigned row with backlog ≥ 1)", answer.summary()),
            "no one else's work or backlog".to_string(),
        ]);

    // team_dealership_stats narrowed to csm.south's dealerships.
    let args = json!({"p_from": window["from"], "p_to": window["to"], "p_csm": SOUTH_ID});
    let proof = rpc_as(&south, "team_dealership_stats", &args).await;
    assert!(
        proof
            .rows()
            .iter()
            .any(|r| r["dealership_id"] == SOUTH_DEALERSHIP && r["unresolved"].as_i64() >= Some(1)),
        "precondition: csm.south sees ford-weymouth's stats: {}",
        proof.text
    );
    let answer = rpc_as(north, "team_dealership_stats", &args).await;
    assert_eq!(
        (answer.status, answer.body.clone()),
        (200, json!([])),
        "csm.north gets no stats of csm.south's dealerships"
    );
    let mine = rpc_as(
        north,
        "team_dealership_stats",
        &json!({"p_from": window["from"], "p_to": window["to"], "p_csm": null}),
    )
    .await;
    let ids: BTreeSet<&str> = mine
        .rows()
        .iter()
        .map(|r| r["dealership_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        NORTH_DEALERSHIPS.into_iter().collect(),
        "csm.north's own stats list only her dealerships"
    );
    ledger.row(&[
            "`team_dealership_stats(30 days ago, tomorrow, <south>)`".to_string(),
            format!("{} (csm.south: ford-weymouth with unresolved ≥ 1); with `p_csm` null: only her two dealerships", answer.summary()),
            "nothing of the other dealership".to_string(),
        ]);

    // team_daily_flow narrowed to the other dealership and CSM.
    let args = json!({"p_from": window["from"], "p_to": window["to"], "p_csm": SOUTH_ID, "p_dealership_id": SOUTH_DEALERSHIP});
    let flagged = |a: &Answer| {
        a.rows()
            .iter()
            .map(|r| r["flagged"].as_i64().unwrap() + r["resolved"].as_i64().unwrap())
            .sum::<i64>()
    };
    let proof = rpc_as(&south, "team_daily_flow", &args).await;
    assert!(
        flagged(&proof) >= 1,
        "precondition: csm.south's flow counts the flagged call: {}",
        proof.text
    );
    let answer = rpc_as(north, "team_daily_flow", &args).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(!answer.rows().is_empty(), "one row per day");
    assert_eq!(
        flagged(&answer),
        0,
        "csm.north's flow of ford-weymouth is all zeros: {}",
        answer.text
    );
    ledger.row(&[
        "`team_daily_flow(30 days ago, tomorrow, <south>, ford-weymouth)`".to_string(),
        "200, one row per day, every `flagged` and `resolved` 0 (csm.south: ≥ 1 flagged)"
            .to_string(),
        "nothing of the other dealership".to_string(),
    ]);

    // The search, with a word only the other's call has, through the stored column
    // the dashboard searches (the computed field transcript_search is gone: column
    // privileges on calls refuse whole-row functions).
    let path = format!(
        "/rest/v1/calls?transcript_tsv=wfts(english).{}&select=call_id",
        seed.south_word
    );
    let proof = send(Method::GET, &path, As::Bearer(&south), &[], None).await;
    assert_eq!(
        proof.body,
        json!([{"call_id": seed.south_call}]),
        "precondition: csm.south finds her call through transcript_tsv"
    );
    let answer = send(Method::GET, &path, As::Bearer(north), &[], None).await;
    assert_eq!(
        (answer.status, answer.body.clone()),
        (200, json!([])),
        "csm.north's search on transcript_tsv finds nothing of the other's"
    );
    ledger.row(&[
        "`GET calls?transcript_tsv=wfts(english).<south word>` (the stored column the dashboard searches)".to_string(),
        format!("{} (csm.south: her call)", answer.summary()),
        "nothing of the other dealership".to_string(),
    ]);
}

/// Functions with precise assertions above; every other one gets only the generic rule.
const KNOWN_FUNCTIONS: &[&str] = &[
    "review_call",
    "assign_review",
    "request_reanalysis",
    "dealership_health",
    "team_csm_stats",
    "team_dealership_stats",
    "team_daily_flow",
    "custom_access_token_hook",
];

#[tokio::test]
async fn no_function_a_csm_may_call_returns_another_dealerships_data_or_a_server_error() {
    let seed = seed().await;
    let catalogue = catalogue().await;
    let north = token_of(NORTH_EMAIL).await;
    for name in KNOWN_FUNCTIONS {
        assert!(
            catalogue.function("public", name).is_some(),
            "public.{name} is in the catalogue: a renamed function needs its rules renamed"
        );
    }
    let callable: Vec<_> = catalogue
        .functions
        .iter()
        .filter(|f| f.schema == "public" && f.authenticated_may_execute)
        .collect();
    assert!(
        callable.iter().any(|f| f.name == "review_call"),
        "the enumeration finds review_call"
    );
    let mut ledger = Ledger::new(
        "60-rpc-generic",
        "Every function in `public` that `authenticated` may execute (from the catalogue), \
         called by csm.north with arguments chosen by parameter name and type to point at \
         the other side: ford-weymouth, `<south call>`, csm.south's id, the last 30 days. \
         Rule: never a 5xx; a 2xx answer holds none of csm.south's ids, names, dealerships \
         or transcript; an error holds none of her names or transcript. Functions marked \
         \"known\" are also asserted precisely in the section above.",
        &["function", "arguments", "answer", "rule"],
    );
    for f in callable {
        let (args, shown) = foreign_args(f, &seed);
        let answer = rpc_as(&north, &f.name, &args).await;
        assert!(
            answer.status < 500,
            "{} answers a client error, not a server error: {} {}",
            f.signature,
            answer.status,
            answer.text
        );
        let markers = if (200..300).contains(&answer.status) {
            seed.foreign_markers()
        } else {
            seed.foreign_data_not_in_arguments()
        };
        if let Some(found) = contains_any(&answer.text, &markers) {
            panic!(
                "{} called by csm.north with csm.south's ids answers her data ({found}): {}",
                f.signature, answer.text
            );
        }
        let known = if KNOWN_FUNCTIONS.contains(&f.name.as_str()) {
            "known"
        } else {
            "generic only"
        };
        ledger.row(&[
            format!("`{}` → {}", f.signature, f.returns),
            shown,
            seed.redact(&answer.summary()),
            format!("no 5xx, no foreign data ({known})"),
        ]);
    }
    ledger.finish();
}

#[tokio::test]
async fn neither_the_auth_hook_nor_private_or_reporting_functions_nor_other_schemas_are_reachable_through_the_api(
) {
    let seed = seed().await;
    let catalogue = catalogue().await;
    let north = token_of(NORTH_EMAIL).await;
    let mut ledger = Ledger::new(
        "70-hidden",
        "The access token hook is in `public` but executable only by `supabase_auth_admin`. \
         Functions in `private` and `reporting` and the tables of `private` and `auth` are \
         enumerated from the catalogue and asked for three ways: by name in the default \
         schema, and with `Content-Profile` (POST) or `Accept-Profile` (GET) naming their \
         schema. Each must be refused with no data.",
        &["request", "as", "answer"],
    );
    let hook = catalogue
        .function("public", "custom_access_token_hook")
        .expect("the auth hook exists");
    assert!(!hook.authenticated_may_execute && !hook.anon_may_execute);
    let event = json!({"event": {"user_id": NORTH_ID, "claims": {"sub": NORTH_ID, "role": "authenticated"}, "authentication_method": "password"}});
    let answer = rpc_as(&north, "custom_access_token_hook", &event).await;
    assert_eq!(
        (answer.status, answer.code()),
        (403, "42501"),
        "csm.north cannot call the auth hook: {}",
        answer.text
    );
    assert!(!answer.text.contains("user_role"), "{}", answer.text);
    ledger.row(&[
        "POST /rpc/custom_access_token_hook `{event: {user_id: <north>, claims}}`".to_string(),
        "csm.north".to_string(),
        answer.summary(),
    ]);
    let answer = send(
        Method::POST,
        "/rest/v1/rpc/custom_access_token_hook",
        As::Anon,
        &[],
        Some(&event),
    )
    .await;
    assert_eq!(
        (answer.status, answer.code()),
        (401, "42501"),
        "anon cannot call the auth hook: {}",
        answer.text
    );
    ledger.row(&[
        "POST /rpc/custom_access_token_hook (same)".to_string(),
        "anon".to_string(),
        answer.summary(),
    ]);

    let hidden: Vec<_> = catalogue
        .functions
        .iter()
        .filter(|f| f.schema != "public")
        .collect();
    assert!(
        hidden
            .iter()
            .any(|f| f.schema == "private" && f.name == "visible_dealership_ids_for"),
        "the enumeration finds private.visible_dealership_ids_for"
    );
    let public_names: BTreeSet<&str> = catalogue
        .functions
        .iter()
        .filter(|f| f.schema == "public")
        .map(|f| f.name.as_str())
        .collect();
    let markers = seed.foreign_data_not_in_arguments();
    for f in hidden {
        let (args, _) = foreign_args(f, &seed);
        let mut attempts = Vec::new();
        if !public_names.contains(f.name.as_str()) {
            attempts.push((
                format!("POST /rpc/{} (no profile header)", f.name),
                send(
                    Method::POST,
                    &format!("/rest/v1/rpc/{}", f.name),
                    As::Bearer(&north),
                    &[],
                    Some(&args),
                )
                .await,
                404,
            ));
        }
        attempts.push((
            format!("POST /rpc/{} `Content-Profile: {}`", f.name, f.schema),
            send(
                Method::POST,
                &format!("/rest/v1/rpc/{}", f.name),
                As::Bearer(&north),
                &[("content-profile", f.schema.as_str())],
                Some(&args),
            )
            .await,
            406,
        ));
        attempts.push((
            format!("GET /rpc/{} `Accept-Profile: {}`", f.name, f.schema),
            send(
                Method::GET,
                &format!("/rest/v1/rpc/{}", f.name),
                As::Bearer(&north),
                &[("accept-profile", f.schema.as_str())],
                None,
            )
            .await,
            406,
        ));
        for (shown, answer, expected) in attempts {
            assert_eq!(
                answer.status, expected,
                "{shown} ({}) is refused: {}",
                f.signature, answer.text
            );
            if let Some(found) = contains_any(&answer.text, &markers) {
                panic!("{shown} answers foreign data ({found}): {}", answer.text);
            }
            ledger.row(&[
                format!("{shown} (`{}`)", f.signature),
                "csm.north".to_string(),
                seed.redact(&answer.summary()),
            ]);
        }
    }
    assert!(
        catalogue
            .hidden_relations
            .iter()
            .any(|(s, n)| s == "auth" && n == "users"),
        "the enumeration finds auth.users"
    );
    for (schema, name) in &catalogue.hidden_relations {
        let answer = send(
            Method::GET,
            &format!("/rest/v1/{name}?select=*"),
            As::Bearer(&north),
            &[("accept-profile", schema.as_str())],
            None,
        )
        .await;
        assert_eq!(
            (answer.status, answer.code()),
            (406, "PGRST106"),
            "{schema}.{name} is not served: {}",
            answer.text
        );
        ledger.row(&[
            format!("GET /{name} `Accept-Profile: {schema}`"),
            "csm.north".to_string(),
            answer.summary(),
        ]);
    }
    ledger.finish();
}

#[tokio::test]
async fn forged_expired_tampered_and_borrowed_tokens_are_refused_and_read_nothing() {
    let seed = seed().await;
    let north = token_of(NORTH_EMAIL).await;
    let secret = env("SUPABASE_JWT_SECRET");
    let anon_key = env("SUPABASE_ANON_KEY");
    let wrong = "not-the-project-secret-but-long-enough-for-hs256";
    let probe = format!(
        "/rest/v1/calls?call_id=in.({},{})&select=call_id,dealership_id",
        seed.north_call, seed.south_call
    );
    // The real token reads her call, so a refusal below is the token's fault.
    let real = send(Method::GET, &probe, As::Bearer(&north), &[], None).await;
    assert_eq!(
        real.body,
        json!([{"call_id": seed.north_call, "dealership_id": NORTH_DEALERSHIP}]),
        "precondition: the real token reads her own call"
    );
    let claims = claims_of(&north);
    let now = chrono::Utc::now().timestamp();
    let mut expired = claims.clone();
    expired.insert("iat".into(), json!(now - 7200));
    expired.insert("exp".into(), json!(now - 3600));
    let mut as_south = claims.clone();
    as_south.insert("sub".into(), json!(SOUTH_ID));
    as_south.insert("email".into(), json!(SOUTH_EMAIL));
    let mut as_admin = claims.clone();
    as_admin.insert("user_role".into(), json!("admin"));
    let mut service_claims = Map::new();
    service_claims.insert("iss".into(), json!("supabase-demo"));
    service_claims.insert("role".into(), json!("service_role"));
    service_claims.insert("exp".into(), json!(now + 3600));
    let without_signature = {
        let mut parts: Vec<&str> = north.split('.').collect();
        parts[2] = "";
        parts.join(".")
    };
    let forged: Vec<(&str, String)> = vec![
        (
            "csm.north's claims signed with a wrong secret",
            sign(&claims, wrong),
        ),
        (
            "csm.north's claims signed with the anon key as the secret",
            sign(&claims, &anon_key),
        ),
        (
            "`alg: none`, csm.north's claims, no signature",
            unsigned(&claims),
        ),
        (
            "`alg: none`, `role: service_role`",
            unsigned(&service_claims),
        ),
        ("csm.north's token without its signature", without_signature),
        (
            "expired: csm.north's claims, `exp` 1 h ago, signed with the real secret",
            sign(&expired, &secret),
        ),
        (
            "csm.north's token with `sub` changed to csm.south, signature kept",
            with_claims(&north, &as_south),
        ),
        (
            "csm.north's token with `user_role: admin` added, signature kept",
            with_claims(&north, &as_admin),
        ),
        (
            "`role: service_role` signed with a wrong secret",
            sign(&service_claims, wrong),
        ),
        ("not a JWT at all", "not-a-jwt".to_string()),
    ];
    let mut ledger = Ledger::new(
        "10-tokens",
        "Each token is sent as `Authorization: Bearer` with the anon key as `apikey`. \
         Probes: `GET /rest/v1/calls` for the two seeded calls (the real csm.north token \
         reads her own), `POST /rest/v1/rpc/dealership_health`, and the auth endpoint's \
         `GET /auth/v1/user`. Every forged token must get 401 from PostgREST with no rows.",
        &[
            "token",
            "GET /rest/v1/calls",
            "POST /rpc/dealership_health",
            "GET /auth/v1/user",
        ],
    );
    ledger.row(&[
        "the real csm.north token (baseline)".to_string(),
        real.summary() + " (her own call)",
        "-".into(),
        "-".into(),
    ]);
    for (what, token) in &forged {
        let read = send(Method::GET, &probe, As::Bearer(token), &[], None).await;
        assert_eq!(
            read.status, 401,
            "{what}: the read is refused: {}",
            read.text
        );
        assert!(!read.is_array(), "{what}: no rows: {}", read.text);
        let rpc = rpc_as(token, "dealership_health", &json!({"p_hours": 24})).await;
        assert_eq!(
            rpc.status, 401,
            "{what}: the function is refused: {}",
            rpc.text
        );
        let user = send(Method::GET, "/auth/v1/user", As::Bearer(token), &[], None).await;
        assert!(
            matches!(user.status, 401 | 403) && user.body["id"].is_null(),
            "{what}: the auth endpoint names no user: {}",
            user.text
        );
        ledger.row(&[
            what.to_string(),
            read.summary(),
            rpc.summary(),
            user.summary(),
        ]);
    }

    // The anon key as if it were a user's token: it is anon, and anon reads nothing.
    let read = send(Method::GET, &probe, As::Bearer(&anon_key), &[], None).await;
    assert_eq!(
        (read.status, read.body.clone()),
        (200, json!([])),
        "anon key as a user token reads no call"
    );
    let queue = send(
        Method::GET,
        "/rest/v1/review_queue?select=call_id",
        As::Bearer(&anon_key),
        &[],
        None,
    )
    .await;
    assert_eq!(
        queue.status, 401,
        "anon may not read the queue view: {}",
        queue.text
    );
    let rpc = rpc_as(&anon_key, "dealership_health", &json!({"p_hours": 24})).await;
    assert_eq!(
        rpc.status, 401,
        "anon may not call dealership_health: {}",
        rpc.text
    );
    let user = send(
        Method::GET,
        "/auth/v1/user",
        As::Bearer(&anon_key),
        &[],
        None,
    )
    .await;
    assert!(
        matches!(user.status, 401 | 403) && user.body["id"].is_null(),
        "{}",
        user.text
    );
    ledger.row(&[
        "the anon key as a user token".to_string(),
        format!("{} (`review_queue`: {})", read.summary(), queue.summary()),
        rpc.summary(),
        user.summary(),
    ]);

    // A validly signed token (as if minted elsewhere) claiming admin gets csm.north's
    // rows only: roles come from profiles, never from the token.
    let mut signed_admin = as_admin.clone();
    signed_admin.insert(
        "app_metadata".into(),
        json!({"provider": "email", "role": "admin"}),
    );
    let token = sign(&signed_admin, &secret);
    let admin = token_of("admin@demo.test").await;
    let everything = send(
        Method::GET,
        "/rest/v1/dealerships?select=id",
        As::Bearer(&admin),
        &[],
        None,
    )
    .await;
    assert_eq!(
        everything.rows().len(),
        5,
        "precondition: a real admin sees every dealership"
    );
    let seen = send(
        Method::GET,
        "/rest/v1/dealerships?select=id&order=id",
        As::Bearer(&token),
        &[],
        None,
    )
    .await;
    assert_eq!(
        seen.body,
        json!([{"id": "honda-quincy"}, {"id": "toyota-braintree"}]),
        "a signed admin claim grants nothing beyond her profile"
    );
    let read = send(Method::GET, &probe, As::Bearer(&token), &[], None).await;
    assert_eq!(read.body, real.body, "still only her own call");
    ledger.row(&[
        "csm.north's claims plus `user_role: admin` and `app_metadata.role: admin`, validly signed with the real secret".to_string(),
        format!("{} (her own call only); `dealerships`: her 2 (a real admin: 5)", read.summary()),
        "-".into(),
        "-".into(),
    ]);
    // A validly signed token for a user without a profile reads nothing.
    let mut stranger = claims.clone();
    stranger.insert("sub".into(), json!("a0000000-0000-4000-8000-0000000000ff"));
    let token = sign(&stranger, &secret);
    let read = send(Method::GET, &probe, As::Bearer(&token), &[], None).await;
    assert_eq!(
        (read.status, read.body.clone()),
        (200, json!([])),
        "no profile, no rows"
    );
    let dealerships = send(
        Method::GET,
        "/rest/v1/dealerships?select=id",
        As::Bearer(&token),
        &[],
        None,
    )
    .await;
    assert_eq!(dealerships.body, json!([]), "no profile, no dealerships");
    ledger.row(&[
        "validly signed token for a user id that has no profile".to_string(),
        format!(
            "{}; `dealerships`: {}",
            read.summary(),
            dealerships.summary()
        ),
        "-".into(),
        "-".into(),
    ]);

    // The gateway's own key check, in front of all of it.
    let client = reqwest::Client::new();
    for (what, apikey) in [
        ("no `apikey`", None),
        ("a made-up `apikey`", Some("made-up")),
    ] {
        let mut request = client
            .get(format!("{}{probe}", env("SUPABASE_URL")))
            .bearer_auth(&north);
        if let Some(key) = apikey {
            request = request.header("apikey", key);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 401, "{what}: the gateway refuses: {body}");
        assert!(!body.is_array());
        ledger.row(&[
            format!("the real csm.north token with {what}"),
            format!(
                "{status} \"{}\" (the gateway)",
                body["message"].as_str().unwrap_or("")
            ),
            "-".into(),
            "-".into(),
        ]);
    }
    ledger.finish();
}

#[tokio::test]
async fn with_only_the_anon_key_every_table_and_view_reads_nothing_and_every_function_is_refused() {
    let seed = seed().await;
    let catalogue = catalogue().await;
    let north = token_of(NORTH_EMAIL).await;
    let mut ledger = Ledger::new(
        "80-anon",
        "Only `apikey: <anon key>` and no `Authorization` (the gateway then sends the anon \
         key as the bearer, as Kong does). Every relation in `public` and `reporting`, with \
         the service key's row count as proof there is something to read; every function in \
         `public` with the generic arguments. A function csm.north can reach by name must \
         answer anon 401; one PostgREST cannot resolve with those arguments answers 404 to \
         both.",
        &[
            "object",
            "service key (proof)",
            "anon",
            "csm.north (same call)",
        ],
    );
    for relation in &catalogue.relations {
        let name = relation.qualified();
        let answer = get(relation, "select=*", As::Anon, &[]).await;
        if schema_not_exposed(&answer) {
            assert_ne!(relation.schema, "public");
            ledger.row(&[
                format!("`{name}`"),
                "-".into(),
                answer.summary(),
                "-".into(),
            ]);
            continue;
        }
        let proof = get(relation, "limit=1", As::Service, &[]).await;
        assert!(
            !proof.rows().is_empty(),
            "precondition: {name} has rows to protect: {}",
            proof.text
        );
        assert!(
            (answer.status == 200 && answer.is_array() && answer.rows().is_empty())
                || matches!(answer.status, 401 | 403),
            "anon reads nothing of {name}: {}",
            answer.text
        );
        ledger.row(&[
            format!("`{name}` ({})", relation.kind_name()),
            "has rows".to_string(),
            answer.summary(),
            "-".into(),
        ]);
    }
    for f in catalogue.functions.iter().filter(|f| f.schema == "public") {
        let (args, _) = foreign_args(f, &seed);
        let path = format!("/rest/v1/rpc/{}", f.name);
        let anon = send(Method::POST, &path, As::Anon, &[], Some(&args)).await;
        let user = rpc_as(&north, &f.name, &args).await;
        assert!(
            !(200..300).contains(&anon.status) && anon.status < 500 && !anon.is_array(),
            "anon is refused {}: {}",
            f.signature,
            anon.text
        );
        if user.status == 404 {
            assert_eq!(anon.status, 404, "{}: {}", f.signature, anon.text);
        } else {
            assert_eq!(
                (anon.status, anon.code()),
                (401, "42501"),
                "anon may not execute {}: {}",
                f.signature,
                anon.text
            );
        }
        ledger.row(&[
            format!("`{}`", f.signature),
            "-".into(),
            seed.redact(&anon.summary()),
            seed.redact(&user.summary()),
        ]);
    }
    ledger.finish();
}

#[tokio::test]
async fn shared_settings_are_readable_by_a_csm_and_no_write_through_the_api_changes_them() {
    let catalogue = catalogue().await;
    for (schema, name) in SHARED {
        assert!(
            catalogue
                .relations
                .iter()
                .any(|r| r.schema == *schema && r.name == *name),
            "{schema}.{name} is still in the catalogue (else drop it from SHARED)"
        );
    }
    let north = token_of(NORTH_EMAIL).await;
    let path = "/rest/v1/app_settings?select=*";
    let before = service_rows("app_settings?select=*").await;
    let read = send(Method::GET, path, As::Bearer(&north), &[], None).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.body, before, "a CSM reads the settings as they are");
    let anon = send(Method::GET, path, As::Anon, &[], None).await;
    assert!(
        anon.rows().is_empty(),
        "anon reads no settings: {} {}",
        anon.status,
        anon.text
    );
    let writes = [
        (
            Method::PATCH,
            "/rest/v1/app_settings?id=eq.true",
            Some(json!({"reanalysis_daily_limit": 10000, "reanalysis_cooldown_minutes": 0})),
        ),
        (Method::DELETE, "/rest/v1/app_settings?id=eq.true", None),
        (
            Method::POST,
            "/rest/v1/app_settings",
            Some(json!({"id": true, "reanalysis_daily_limit": 10000})),
        ),
    ];
    for (method, path, body) in writes {
        let answer = send(method.clone(), path, As::Bearer(&north), &[], body.as_ref()).await;
        assert!(
            matches!(answer.status, 401 | 403),
            "{method} {path} by a CSM is refused: {} {}",
            answer.status,
            answer.text
        );
    }
    assert_eq!(
        service_rows("app_settings?select=*").await,
        before,
        "the settings are unchanged after the attempts"
    );
}
