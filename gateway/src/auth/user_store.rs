//! `auth.users` / `auth.identities`: lookups and the user JSON GoTrue returns.
//!
//! Lookups use GoTrue's conditions exactly (`instance_id` is the nil UUID, `aud`
//! matches, SSO users excluded), so a user row that real Supabase Auth would not
//! find is not found here either.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

/// The columns of `auth.users` the subset needs.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: Uuid,
    pub aud: Option<String>,
    pub role: Option<String>,
    pub email: Option<String>,
    pub encrypted_password: Option<String>,
    pub email_confirmed_at: Option<DateTime<Utc>>,
    pub invited_at: Option<DateTime<Utc>>,
    pub phone: Option<String>,
    pub phone_confirmed_at: Option<DateTime<Utc>>,
    pub confirmation_sent_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub recovery_sent_at: Option<DateTime<Utc>>,
    pub email_change: Option<String>,
    pub email_change_sent_at: Option<DateTime<Utc>>,
    pub phone_change: Option<String>,
    pub phone_change_sent_at: Option<DateTime<Utc>>,
    pub reauthentication_sent_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub raw_app_meta_data: Option<Value>,
    pub raw_user_meta_data: Option<Value>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub banned_until: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub is_anonymous: bool,
}

impl UserRecord {
    pub fn is_banned(&self, now: DateTime<Utc>) -> bool {
        self.banned_until.is_some_and(|until| now < until)
    }

    pub fn has_password(&self) -> bool {
        self.encrypted_password
            .as_deref()
            .is_some_and(|p| !p.is_empty())
    }

    /// GoTrue reads NULL metadata as an empty object.
    pub fn app_metadata(&self) -> Value {
        object_or_empty(self.raw_app_meta_data.clone())
    }

    pub fn user_metadata(&self) -> Value {
        object_or_empty(self.raw_user_meta_data.clone())
    }
}

fn object_or_empty(value: Option<Value>) -> Value {
    match value {
        Some(Value::Null) | None => Value::Object(Default::default()),
        Some(v) => v,
    }
}

#[tracing::instrument(skip_all)]
pub async fn find_user_by_email(
    db: impl PgExecutor<'_>,
    email: &str,
    aud: &str,
) -> Result<Option<UserRecord>, sqlx::Error> {
    sqlx::query_as!(
        UserRecord,
        r#"
        select id, aud, role, email, encrypted_password, email_confirmed_at, invited_at,
               phone, phone_confirmed_at, confirmation_sent_at, confirmed_at, recovery_sent_at,
               email_change, email_change_sent_at, phone_change, phone_change_sent_at,
               reauthentication_sent_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data,
               created_at, updated_at, banned_until, deleted_at, is_anonymous
        from auth.users
        where instance_id = '00000000-0000-0000-0000-000000000000'
          and lower(email) = lower($1)
          and aud = $2
          and is_sso_user = false
        limit 1
        "#,
        email,
        aud,
    )
    .fetch_optional(db)
    .await
}

/// Whether a user with this email exists but is invisible to GoTrue's lookup
/// (instance_id or aud not what GoTrue expects); only used to log a hint.
#[tracing::instrument(skip_all)]
pub async fn email_exists_outside_gotrue_lookup(
    db: impl PgExecutor<'_>,
    email: &str,
) -> Result<bool, sqlx::Error> {
    let exists = sqlx::query_scalar!(
        r#"select exists (select 1 from auth.users where lower(email) = lower($1)) as "exists!""#,
        email,
    )
    .fetch_one(db)
    .await?;
    Ok(exists)
}

#[tracing::instrument(skip_all)]
pub async fn find_user_by_id(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<UserRecord>, sqlx::Error> {
    sqlx::query_as!(
        UserRecord,
        r#"
        select id, aud, role, email, encrypted_password, email_confirmed_at, invited_at,
               phone, phone_confirmed_at, confirmation_sent_at, confirmed_at, recovery_sent_at,
               email_change, email_change_sent_at, phone_change, phone_change_sent_at,
               reauthentication_sent_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data,
               created_at, updated_at, banned_until, deleted_at, is_anonymous
        from auth.users
        where instance_id = '00000000-0000-0000-0000-000000000000'
          and id = $1
        "#,
        id,
    )
    .fetch_optional(db)
    .await
}

/// Records a sign-in (GoTrue does this whenever it creates a session).
#[tracing::instrument(skip_all)]
pub async fn update_last_sign_in_at(
    db: impl PgExecutor<'_>,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update auth.users set last_sign_in_at = $2, updated_at = $2 where id = $1",
        id,
        at,
    )
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct IdentityRecord {
    pub id: Uuid,
    pub provider_id: String,
    pub user_id: Uuid,
    pub identity_data: Value,
    pub provider: String,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub email: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn list_identities(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Vec<IdentityRecord>, sqlx::Error> {
    sqlx::query_as!(
        IdentityRecord,
        r#"
        select id, provider_id, user_id, identity_data, provider, last_sign_in_at,
               created_at, updated_at, email
        from auth.identities
        where user_id = $1
        order by created_at, id
        "#,
        user_id,
    )
    .fetch_all(db)
    .await
}

/// Go's `time.Time` JSON: RFC 3339 in UTC with trailing zero digits trimmed.
fn go_time(at: &DateTime<Utc>) -> String {
    let full = at.to_rfc3339_opts(SecondsFormat::Nanos, true);
    let (head, _) = full.split_once('Z').unwrap_or((&full, ""));
    let trimmed = match head.split_once('.') {
        Some((secs, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                secs.to_owned()
            } else {
                format!("{secs}.{frac}")
            }
        }
        None => head.to_owned(),
    };
    format!("{trimmed}Z")
}

/// A NULL timestamp where GoTrue's model has a non-pointer `time.Time`
/// serializes as Go's zero time.
fn go_time_or_zero(at: &Option<DateTime<Utc>>) -> String {
    at.as_ref()
        .map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), go_time)
}

fn go_time_opt(at: &Option<DateTime<Utc>>) -> Option<String> {
    at.as_ref().map(go_time)
}

/// GoTrue's `models.User` JSON (fields with `omitempty` are skipped when empty).
#[derive(Debug, Clone, Serialize)]
pub struct UserJson {
    id: Uuid,
    aud: String,
    role: String,
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_confirmed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invited_at: Option<String>,
    phone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_confirmed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmation_sent_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_sent_at: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    new_email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_change_sent_at: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    new_phone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_change_sent_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reauthentication_sent_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_sign_in_at: Option<String>,
    app_metadata: Value,
    user_metadata: Value,
    identities: Vec<IdentityJson>,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    banned_until: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_at: Option<String>,
    is_anonymous: bool,
}

impl UserJson {
    pub fn new(user: &UserRecord, identities: &[IdentityRecord]) -> Self {
        Self {
            id: user.id,
            aud: user.aud.clone().unwrap_or_default(),
            role: user.role.clone().unwrap_or_default(),
            email: user.email.clone().unwrap_or_default(),
            email_confirmed_at: go_time_opt(&user.email_confirmed_at),
            invited_at: go_time_opt(&user.invited_at),
            phone: user.phone.clone().unwrap_or_default(),
            phone_confirmed_at: go_time_opt(&user.phone_confirmed_at),
            confirmation_sent_at: go_time_opt(&user.confirmation_sent_at),
            confirmed_at: go_time_opt(&user.confirmed_at),
            recovery_sent_at: go_time_opt(&user.recovery_sent_at),
            new_email: user.email_change.clone().unwrap_or_default(),
            email_change_sent_at: go_time_opt(&user.email_change_sent_at),
            new_phone: user.phone_change.clone().unwrap_or_default(),
            phone_change_sent_at: go_time_opt(&user.phone_change_sent_at),
            reauthentication_sent_at: go_time_opt(&user.reauthentication_sent_at),
            last_sign_in_at: go_time_opt(&user.last_sign_in_at),
            app_metadata: user.app_metadata(),
            user_metadata: user.user_metadata(),
            identities: identities.iter().map(IdentityJson::new).collect(),
            created_at: go_time_or_zero(&user.created_at),
            updated_at: go_time_or_zero(&user.updated_at),
            banned_until: go_time_opt(&user.banned_until),
            deleted_at: go_time_opt(&user.deleted_at),
            is_anonymous: user.is_anonymous,
        }
    }
}

/// GoTrue's `models.Identity` JSON. Its `id` is the provider's id and the row id is
/// `identity_id`, kept that way by GoTrue for old clients.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityJson {
    identity_id: Uuid,
    id: String,
    user_id: Uuid,
    #[serde(skip_serializing_if = "is_empty_object")]
    identity_data: Value,
    provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_sign_in_at: Option<String>,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    email: String,
}

fn is_empty_object(value: &Value) -> bool {
    value.as_object().is_some_and(|o| o.is_empty()) || value.is_null()
}

impl IdentityJson {
    fn new(identity: &IdentityRecord) -> Self {
        Self {
            identity_id: identity.id,
            id: identity.provider_id.clone(),
            user_id: identity.user_id,
            identity_data: identity.identity_data.clone(),
            provider: identity.provider.clone(),
            last_sign_in_at: go_time_opt(&identity.last_sign_in_at),
            created_at: go_time_or_zero(&identity.created_at),
            updated_at: go_time_or_zero(&identity.updated_at),
            email: identity.email.clone().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::go_time;
    use chrono::{TimeZone, Utc};

    #[test]
    fn times_are_written_like_go_with_trailing_zeros_trimmed() {
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 10, 20, 30).unwrap();
        assert_eq!(go_time(&at), "2024-05-01T10:20:30Z");
        let at = at + chrono::Duration::microseconds(532_370);
        assert_eq!(go_time(&at), "2024-05-01T10:20:30.53237Z");
    }
}
