//! One rule per file, each with its phrase lists beside it. A rule that finds a
//! problem returns a [`Finding`](super::Finding) (a contract flag and a
//! penalty); one that only doubts the call returns a [`Doubt`](super::Doubt).

pub(crate) mod abandoned;
pub(crate) mod booking;
pub(crate) mod commitments;
pub(crate) mod handoff;
pub(crate) mod injection;
pub(crate) mod readback;
pub(crate) mod resolution;
pub(crate) mod upset;
pub(crate) mod voicemail;
