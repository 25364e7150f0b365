//! Why a body could not become an event: a contract violation (422
//! `contract_violation`) or a time out of range (422 `timestamp_out_of_range`).

use chrono::{DateTime, Duration, TimeZone, Utc};

/// Earliest time an event may carry (2020-01-01T00:00:00Z): nothing this system
/// monitors happened before, so an earlier time is a sender bug (often seconds
/// sent where milliseconds belong).
pub const EARLIEST_EVENT_MS: i64 = 1_577_836_800_000;
/// How far after its receipt an event may be dated. Generous for clock skew and
/// time-zone mistakes; anything later would win every "newer" comparison and
/// freeze the call, so it is refused.
pub const MAX_FUTURE: Duration = Duration::hours(24);

/// A contract violation, answered with 422. `field` is a JSON path such as
/// `customer.phone` or `call.transcript_object[2]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: expected {expected}{got}")]
pub struct ContractError {
    pub field: String,
    pub expected: String,
    /// What was found instead, pre-formatted as ", got ..." (or empty).
    pub got: String,
}

/// A well-formed time outside what the service accepts (before 2020, or more than
/// [`MAX_FUTURE`] after the event was received), answered with 422
/// `timestamp_out_of_range`. Such an event is never stored: a time far in the
/// future would win every "newer" comparison and freeze the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {value} is outside the accepted range {earliest} to {latest}")]
pub struct TimestampOutOfRange {
    /// JSON path of the offending field, e.g. `timestamp` or `call.end_timestamp`.
    pub field: String,
    pub value: String,
    pub earliest: String,
    /// [`MAX_FUTURE`] after the receive time.
    pub latest: String,
}

/// Why a body could not become an [`Event`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    #[error(transparent)]
    Contract(#[from] ContractError),
    #[error(transparent)]
    TimestampOutOfRange(#[from] TimestampOutOfRange),
}

impl NormalizeError {
    /// JSON path of the offending field.
    pub fn field(&self) -> &str {
        match self {
            NormalizeError::Contract(e) => &e.field,
            NormalizeError::TimestampOutOfRange(e) => &e.field,
        }
    }
}

/// Refuses a time before 2020 or more than [`MAX_FUTURE`] after `received_at`.
pub(super) fn check_time_range(
    field: String,
    value: DateTime<Utc>,
    received_at: DateTime<Utc>,
) -> Result<(), TimestampOutOfRange> {
    let earliest = Utc
        .timestamp_millis_opt(EARLIEST_EVENT_MS)
        .single()
        .expect("a valid instant");
    let latest = received_at + MAX_FUTURE;
    if value < earliest || value > latest {
        let show = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        return Err(TimestampOutOfRange {
            field,
            value: value.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            earliest: show(earliest),
            latest: show(latest),
        });
    }
    Ok(())
}
