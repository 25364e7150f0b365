//! `auth.sessions` and `auth.refresh_tokens`, written the way GoTrue writes them
//! (legacy 12-character refresh tokens chained by `parent`, one session per sign-in).

use chrono::{DateTime, NaiveDateTime, Utc};
use rand::distributions::Uniform;
use rand::Rng;
use sqlx::PgExecutor;
use uuid::Uuid;

/// GoTrue's `crypto.SecureAlphanumeric(12)`: lowercase letters and digits.
pub fn new_refresh_token() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    let pick = Uniform::from(0..ALPHABET.len());
    (0..12)
        .map(|_| ALPHABET[rng.sample(pick)] as char)
        .collect()
}

/// GoTrue's format check for legacy refresh tokens (`^[a-z0-9]{12}$`).
pub fn is_legacy_refresh_token(token: &str) -> bool {
    token.len() == 12
        && token
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: Option<DateTime<Utc>>,
    pub not_after: Option<DateTime<Utc>>,
    pub aal: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RefreshTokenRecord {
    pub id: i64,
    pub token: Option<String>,
    pub user_id: Option<String>,
    pub revoked: Option<bool>,
    pub updated_at: Option<DateTime<Utc>>,
    pub parent: Option<String>,
    pub session_id: Option<Uuid>,
}

#[tracing::instrument(skip_all)]
pub async fn insert_session(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    now: DateTime<Utc>,
    user_agent: Option<&str>,
    ip: Option<&str>,
) -> Result<SessionRecord, sqlx::Error> {
    sqlx::query_as!(
        SessionRecord,
        r#"
        insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
        values ($1, $2, $3, $3, 'aal1', $4, $5::text::inet)
        returning id, user_id, created_at, not_after, aal
        "#,
        Uuid::new_v4(),
        user_id,
        now,
        user_agent,
        ip,
    )
    .fetch_one(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn insert_refresh_token(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    session_id: Uuid,
    parent: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    let token = new_refresh_token();
    sqlx::query!(
        r#"
        insert into auth.refresh_tokens
          (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
        values ('00000000-0000-0000-0000-000000000000', $1, $2, false, $3, $3, $4, $5)
        "#,
        token,
        user_id.to_string(),
        now,
        parent,
        session_id,
    )
    .execute(db)
    .await?;
    Ok(token)
}

#[tracing::instrument(skip_all)]
pub async fn find_refresh_token(
    db: impl PgExecutor<'_>,
    token: &str,
) -> Result<Option<RefreshTokenRecord>, sqlx::Error> {
    sqlx::query_as!(
        RefreshTokenRecord,
        r#"
        select id, token, user_id, revoked, updated_at, parent, session_id
        from auth.refresh_tokens
        where token = $1
        limit 1
        "#,
        token,
    )
    .fetch_optional(db)
    .await
}

/// Locks the token row; `None` when it is gone or another refresh holds the lock
/// (GoTrue's `FOR UPDATE SKIP LOCKED`, then a retry after a short pause).
#[tracing::instrument(skip_all)]
pub async fn lock_refresh_token(
    db: impl PgExecutor<'_>,
    token: &str,
) -> Result<Option<RefreshTokenRecord>, sqlx::Error> {
    sqlx::query_as!(
        RefreshTokenRecord,
        r#"
        select id, token, user_id, revoked, updated_at, parent, session_id
        from auth.refresh_tokens
        where token = $1
        limit 1
        for update skip locked
        "#,
        token,
    )
    .fetch_optional(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn find_session(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<SessionRecord>, sqlx::Error> {
    sqlx::query_as!(
        SessionRecord,
        "select id, user_id, created_at, not_after, aal from auth.sessions where id = $1",
        id,
    )
    .fetch_optional(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn lock_session(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<SessionRecord>, sqlx::Error> {
    sqlx::query_as!(
        SessionRecord,
        r#"
        select id, user_id, created_at, not_after, aal
        from auth.sessions
        where id = $1
        for update skip locked
        "#,
        id,
    )
    .fetch_optional(db)
    .await
}

/// The session's newest unrevoked token and its parent.
#[tracing::instrument(skip_all)]
pub async fn find_active_refresh_token(
    db: impl PgExecutor<'_>,
    session_id: Uuid,
) -> Result<Option<RefreshTokenRecord>, sqlx::Error> {
    sqlx::query_as!(
        RefreshTokenRecord,
        r#"
        select id, token, user_id, revoked, updated_at, parent, session_id
        from auth.refresh_tokens
        where session_id = $1 and revoked is false
        order by id desc
        limit 1
        "#,
        session_id,
    )
    .fetch_optional(db)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn revoke_refresh_token(
    db: impl PgExecutor<'_>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update auth.refresh_tokens set revoked = true, updated_at = $2 where id = $1",
        id,
        now,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// GoTrue's answer to a stolen token: every token of the session is revoked.
#[tracing::instrument(skip_all)]
pub async fn revoke_session_tokens(
    db: impl PgExecutor<'_>,
    session_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"
        update auth.refresh_tokens set revoked = true, updated_at = now()
        where session_id = $1 and revoked = false
        "#,
        session_id,
    )
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn delete_refresh_token(db: impl PgExecutor<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("delete from auth.refresh_tokens where id = $1", id)
        .execute(db)
        .await?;
    Ok(())
}

/// `refreshed_at` is `timestamp without time zone` in GoTrue's schema and holds UTC.
#[tracing::instrument(skip_all)]
pub async fn update_session_refresh_info(
    db: impl PgExecutor<'_>,
    id: Uuid,
    now: DateTime<Utc>,
    user_agent: Option<&str>,
    ip: Option<&str>,
) -> Result<(), sqlx::Error> {
    let refreshed_at: NaiveDateTime = now.naive_utc();
    sqlx::query!(
        r#"
        update auth.sessions
        set refreshed_at = $2, user_agent = $3, ip = $4::text::inet, updated_at = $5
        where id = $1
        "#,
        id,
        refreshed_at,
        user_agent,
        ip,
        now,
    )
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn delete_session(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("delete from auth.sessions where id = $1", id)
        .execute(db)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn delete_user_sessions(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!("delete from auth.sessions where user_id = $1", user_id)
        .execute(db)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn delete_other_sessions(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    keep: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "delete from auth.sessions where id <> $1 and user_id = $2",
        keep,
        user_id,
    )
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_refresh_tokens_have_gotrues_legacy_format() {
        for _ in 0..100 {
            let token = new_refresh_token();
            assert!(is_legacy_refresh_token(&token), "{token}");
        }
    }

    #[test]
    fn tokens_with_other_characters_or_lengths_are_not_legacy_tokens() {
        assert!(!is_legacy_refresh_token("ABCDEFGHIJKL"));
        assert!(!is_legacy_refresh_token("abc"));
        assert!(!is_legacy_refresh_token("abcdefghijklm"));
    }
}
