//! The state that lives in the URL, one module per screen family, and its
//! translation into PostgREST queries; plus the one query-string codec and the
//! place a list keeps in this tab. Pure apart from `place` (sessionStorage).

pub mod call_list;
pub mod place;
pub mod querystring;
pub mod queue_view;
pub mod team_view;
