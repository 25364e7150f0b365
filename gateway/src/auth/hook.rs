//! The custom access token hook, called the way GoTrue's Postgres hook dispatcher
//! calls it: inside the token transaction, as `supabase_auth_admin`, with a 2 s
//! statement timeout, passing `{metadata, user_id, claims, authentication_method}`
//! and using the returned `claims`, which must still satisfy GoTrue's minimum claim
//! schema.

use chrono::Utc;
use serde_json::{json, Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use super::claims::AuthenticationMethod;
use super::error::AuthError;
use crate::settings::HookFunction;
use axum::http::StatusCode;

/// Runs the hook and returns the claims to sign.
#[tracing::instrument(skip_all, fields(method = method.as_str()))]
pub async fn customize_access_token(
    conn: &mut PgConnection,
    hook: &HookFunction,
    user_id: Uuid,
    claims: Map<String, Value>,
    method: AuthenticationMethod,
) -> Result<Map<String, Value>, AuthError> {
    let input = json!({
        "metadata": {
            "uuid": Uuid::new_v4(),
            "time": Utc::now(),
            "name": "customize-access-token",
        },
        "user_id": user_id,
        "claims": claims,
        "authentication_method": method.as_str(),
    });

    let output = call(conn, hook, &input).await.map_err(|e| {
        // GoTrue turns a failing hook call into this generic 500.
        AuthError::internal("error generating jwt token", e)
    })?;
    claims_from_output(output)
}

async fn call(
    conn: &mut PgConnection,
    hook: &HookFunction,
    input: &Value,
) -> Result<Option<Value>, sqlx::Error> {
    // The hook must work with the privileges it has on real Supabase, where GoTrue
    // connects as supabase_auth_admin (search_path `auth`): so the same here.
    sqlx::query!("set local role supabase_auth_admin")
        .execute(&mut *conn)
        .await?;
    sqlx::query!("set local search_path = auth")
        .execute(&mut *conn)
        .await?;
    sqlx::query!("set local statement_timeout = 2000")
        .execute(&mut *conn)
        .await?;
    // The function name is configuration (AUTH_HOOK_CUSTOM_ACCESS_TOKEN), so this one
    // statement cannot be a checked `query!`; the name was validated as two plain
    // identifiers and is quoted, exactly as GoTrue builds `select "schema"."fn"(?)`.
    let sql = format!("select {}($1::jsonb)", hook.quoted());
    let output: Option<Value> = sqlx::query_scalar(&sql)
        .bind(input)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query!("set local statement_timeout to default")
        .execute(&mut *conn)
        .await?;
    Ok(output)
}

/// GoTrue's output handling: an `{"error": {"http_code", "message"}}` object is the
/// hook's way to refuse; otherwise `claims` must be present, an object, and valid.
fn claims_from_output(output: Option<Value>) -> Result<Map<String, Value>, AuthError> {
    let output = output.unwrap_or(Value::Null);
    if let Some(error) = output.get("error").and_then(Value::as_object) {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !message.is_empty() {
            let status = error
                .get("http_code")
                .and_then(Value::as_u64)
                .and_then(|code| u16::try_from(code).ok())
                .and_then(|code| StatusCode::from_u16(code).ok())
                .filter(|code| *code != StatusCode::OK)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Err(AuthError::uncoded(status, message));
        }
    }
    let claims = match output {
        Value::Null => Value::Null,
        Value::Object(mut object) => match object.remove("claims") {
            Some(claims) => claims,
            None => {
                return Err(AuthError::uncoded(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "output claims field is missing",
                ))
            }
        },
        _ => {
            return Err(AuthError::uncoded(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error unmarshaling JSON output.",
            ))
        }
    };
    let claims = match claims {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        _ => {
            return Err(AuthError::uncoded(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error unmarshaling JSON output.",
            ))
        }
    };
    let problems = schema_problems(&claims);
    if problems.is_empty() {
        Ok(claims)
    } else {
        let list: String = problems.iter().map(|p| format!("- {p}\n")).collect();
        Err(AuthError::uncoded(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("output claims do not conform to the expected schema: \n{list}"),
        ))
    }
}

/// GoTrue's `MinimumViableTokenSchema`, checked by hand.
const REQUIRED: [&str; 10] = [
    "aud",
    "exp",
    "iat",
    "sub",
    "email",
    "phone",
    "role",
    "aal",
    "session_id",
    "is_anonymous",
];

#[derive(Clone, Copy)]
enum Kind {
    String,
    Integer,
    Object,
    Array,
    StringOrArray,
}

const TYPED: [(&str, Kind); 15] = [
    ("aud", Kind::StringOrArray),
    ("exp", Kind::Integer),
    ("jti", Kind::String),
    ("iat", Kind::Integer),
    ("iss", Kind::String),
    ("nbf", Kind::Integer),
    ("sub", Kind::String),
    ("email", Kind::String),
    ("phone", Kind::String),
    ("app_metadata", Kind::Object),
    ("user_metadata", Kind::Object),
    ("role", Kind::String),
    ("aal", Kind::String),
    ("amr", Kind::Array),
    ("session_id", Kind::String),
];

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if is_integer(n) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
}

fn schema_problems(claims: &Map<String, Value>) -> Vec<String> {
    let mut problems: Vec<String> = REQUIRED
        .iter()
        .filter(|name| !claims.contains_key(**name))
        .map(|name| format!("(root): {name} is required"))
        .collect();
    for (name, kind) in TYPED {
        let Some(value) = claims.get(name) else {
            continue;
        };
        let given = json_type(value);
        let (ok, expected) = match kind {
            Kind::String => (given == "string", "string"),
            Kind::Integer => (given == "integer", "integer"),
            Kind::Object => (given == "object", "object"),
            Kind::Array => (given == "array", "array"),
            Kind::StringOrArray => (given == "string" || given == "array", "string/array"),
        };
        if !ok {
            problems.push(format!(
                "{name}: Invalid type. Expected: {expected}, given: {given}"
            ));
        }
    }
    if let Some(Value::Array(items)) = claims.get("amr") {
        for (i, item) in items.iter().enumerate() {
            if !(item.is_string() || item.is_object()) {
                problems.push(format!(
                    "amr.{i}: Must validate at least one schema (anyOf)"
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Value {
        json!({
            "aud": "authenticated", "exp": 2, "iat": 1, "sub": "u", "email": "", "phone": "",
            "role": "authenticated", "aal": "aal1", "session_id": "s", "is_anonymous": false,
            "amr": [{"method": "password", "timestamp": 1}], "app_metadata": {}, "user_metadata": {}
        })
    }

    #[test]
    fn returned_claims_are_used_when_they_satisfy_the_schema() {
        let mut claims = valid();
        claims["user_role"] = json!("manager");
        let out = claims_from_output(Some(json!({ "claims": claims }))).unwrap();
        assert_eq!(out["user_role"], "manager");
    }

    #[test]
    fn claims_missing_a_required_claim_are_refused_with_a_500() {
        let mut claims = valid();
        claims.as_object_mut().unwrap().remove("session_id");
        let err = claims_from_output(Some(json!({ "claims": claims }))).unwrap_err();
        assert_eq!(err.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            err.message.contains("(root): session_id is required"),
            "{}",
            err.message
        );
    }

    #[test]
    fn claims_with_a_wrong_type_are_refused() {
        let mut claims = valid();
        claims["exp"] = json!("tomorrow");
        let err = claims_from_output(Some(json!({ "claims": claims }))).unwrap_err();
        assert!(err
            .message
            .contains("exp: Invalid type. Expected: integer, given: string"));
    }

    #[test]
    fn an_output_without_claims_is_refused() {
        let err = claims_from_output(Some(json!({ "nope": 1 }))).unwrap_err();
        assert_eq!(err.message, "output claims field is missing");
    }

    #[test]
    fn a_hook_error_object_becomes_an_error_with_its_http_code() {
        let err = claims_from_output(Some(json!({
            "error": { "http_code": 403, "message": "not today" }
        })))
        .unwrap_err();
        assert_eq!(err.status, StatusCode::FORBIDDEN);
        assert_eq!(err.message, "not today");
        assert!(err.code.is_none());
    }
}
