//! The agent version comparison: the rows `rpc/agent_version_comparison` returns
//! (per Retell agent and version), grouped by agent, and the sentence that says
//! whether an agent's newest version does worse than the one before it. Pure and
//! host-tested; the health page's panel only lays these out.

use serde::Deserialize;

use crate::model::format::percent;

/// One agent version over the period, as aggregated by Postgres.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VersionRow {
    pub agent_id: String,
    /// `None`: calls whose sender did not say which version took them.
    pub agent_version: Option<u32>,
    pub calls: i64,
    /// Calls with a verdict: the shares are of these.
    pub analyzed: i64,
    pub bad: i64,
    pub upset: i64,
    pub handoff_failed: i64,
    /// 0 to 1; `None` when no call is analyzed.
    pub bad_share: Option<f64>,
    pub upset_share: Option<f64>,
    pub first_seen_at: String,
    pub last_seen_at: String,
}

/// Whether the newest version's bad share is above, below or equal to the
/// previous version's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Worse,
    Better,
    Same,
}

impl Trend {
    pub fn class(self) -> &'static str {
        match self {
            Trend::Worse => "worse",
            Trend::Better => "better",
            Trend::Same => "same",
        }
    }
}

/// One agent's versions, newest first (an unknown version last).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentVersions {
    pub agent_id: String,
    pub rows: Vec<VersionRow>,
}

impl AgentVersions {
    /// The newest and the one before it, among the versions with an analyzed call.
    fn newest_two(&self) -> (Option<&VersionRow>, Option<&VersionRow>) {
        let mut known = self
            .rows
            .iter()
            .filter(|r| r.agent_version.is_some() && r.bad_share.is_some());
        (known.next(), known.next())
    }

    /// The newest version's bad share against the previous one's; `None` without
    /// two versions to compare.
    pub fn trend(&self) -> Option<Trend> {
        let (Some(new), Some(old)) = self.newest_two() else {
            return None;
        };
        let (a, b) = (new.bad_share?, old.bad_share?);
        // Compared as the whole percentages the sentence shows.
        let (a, b) = ((a * 100.0).round(), (b * 100.0).round());
        Some(if a > b {
            Trend::Worse
        } else if a < b {
            Trend::Better
        } else {
            Trend::Same
        })
    }

    /// "Version 7 of agent_x: 31% bad vs 18% for version 6 (n=42 vs 120 analyzed calls)."
    pub fn sentence(&self) -> String {
        let agent = &self.agent_id;
        match self.newest_two() {
            (Some(new), Some(old)) => format!(
                "Version {} of {agent}: {} bad vs {} for version {} (n={} vs {} analyzed calls).",
                version_of(new),
                percent(new.bad_share.unwrap_or_default()),
                percent(old.bad_share.unwrap_or_default()),
                version_of(old),
                new.analyzed,
                old.analyzed,
            ),
            (Some(only), None) => format!(
                "Only version {} of {agent} has analyzed calls in this period: {} bad (n={}).",
                version_of(only),
                percent(only.bad_share.unwrap_or_default()),
                only.analyzed,
            ),
            (None, _) => format!("{agent}: no analyzed call of a known version in this period."),
        }
    }
}

fn version_of(row: &VersionRow) -> String {
    row.agent_version
        .map(|v| v.to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The rows grouped by agent, in the order Postgres sent them (agent, then
/// version newest first); each group's versions re-sorted the same way so the
/// sentence never depends on the order.
pub fn by_agent(rows: &[VersionRow]) -> Vec<AgentVersions> {
    let mut groups: Vec<AgentVersions> = Vec::new();
    for row in rows {
        match groups.iter_mut().find(|g| g.agent_id == row.agent_id) {
            Some(g) => g.rows.push(row.clone()),
            None => groups.push(AgentVersions {
                agent_id: row.agent_id.clone(),
                rows: vec![row.clone()],
            }),
        }
    }
    for g in &mut groups {
        // Newest first; None (unknown) sorts last.
        g.rows
            .sort_by(|a, b| match (a.agent_version, b.agent_version) {
                (Some(x), Some(y)) => y.cmp(&x),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(agent: &str, version: Option<u32>, analyzed: i64, bad: i64) -> VersionRow {
        VersionRow {
            agent_id: agent.into(),
            agent_version: version,
            calls: analyzed + 1,
            analyzed,
            bad,
            upset: 0,
            handoff_failed: 0,
            bad_share: (analyzed > 0).then(|| bad as f64 / analyzed as f64),
            upset_share: (analyzed > 0).then_some(0.0),
            first_seen_at: "2026-12-01T10:00:00+00:00".into(),
            last_seen_at: "2026-12-02T10:00:00+00:00".into(),
        }
    }

    #[test]
    fn the_newest_version_is_compared_with_the_one_before_in_a_plain_sentence() {
        let groups = by_agent(&[
            row("agent_x", Some(6), 100, 18),
            row("agent_x", None, 5, 5),
            row("agent_x", Some(7), 42, 13),
            row("agent_y", Some(2), 10, 1),
        ]);
        assert_eq!(groups.len(), 2);
        let x = &groups[0];
        assert_eq!(
            x.rows.iter().map(|r| r.agent_version).collect::<Vec<_>>(),
            vec![Some(7), Some(6), None],
            "newest first, unknown last"
        );
        assert_eq!(
            x.sentence(),
            "Version 7 of agent_x: 31% bad vs 18% for version 6 (n=42 vs 100 analyzed calls)."
        );
        assert_eq!(x.trend(), Some(Trend::Worse));
        assert_eq!(
            groups[1].sentence(),
            "Only version 2 of agent_y has analyzed calls in this period: 10% bad (n=10)."
        );
        assert_eq!(groups[1].trend(), None);
    }

    #[test]
    fn a_better_or_equal_newest_version_says_so_and_unanalyzed_versions_are_skipped() {
        let better = &by_agent(&[row("a", Some(3), 10, 1), row("a", Some(2), 10, 5)])[0];
        assert_eq!(better.trend(), Some(Trend::Better));
        let same = &by_agent(&[row("a", Some(3), 10, 2), row("a", Some(2), 20, 4)])[0];
        assert_eq!(same.trend(), Some(Trend::Same));
        // Version 9 has no analyzed call yet: 8 is compared with 7.
        let skip = &by_agent(&[
            row("a", Some(9), 0, 0),
            row("a", Some(8), 4, 2),
            row("a", Some(7), 4, 1),
        ])[0];
        assert_eq!(
            skip.sentence(),
            "Version 8 of a: 50% bad vs 25% for version 7 (n=4 vs 4 analyzed calls)."
        );
        let unknown_only = &by_agent(&[row("a", None, 3, 1)])[0];
        assert_eq!(
            unknown_only.sentence(),
            "a: no analyzed call of a known version in this period."
        );
    }

    #[test]
    fn the_rpcs_json_reads_as_rows() {
        let rows: Vec<VersionRow> = serde_json::from_str(
            r#"[{"agent_id":"agent_x","agent_version":7,"calls":3,"analyzed":3,"bad":2,"upset":1,
                "handoff_failed":1,"bad_share":0.6667,"upset_share":0.3333,
                "first_seen_at":"2026-12-01T10:00:00+00:00","last_seen_at":"2026-12-02T10:00:00+00:00"},
               {"agent_id":"agent_x","agent_version":null,"calls":1,"analyzed":0,"bad":0,"upset":0,
                "handoff_failed":0,"bad_share":null,"upset_share":null,
                "first_seen_at":"2026-12-01T10:00:00+00:00","last_seen_at":"2026-12-01T10:00:00+00:00"}]"#,
        )
        .unwrap();
        assert_eq!(rows[0].agent_version, Some(7));
        assert_eq!(rows[1].agent_version, None);
        assert_eq!(rows[1].bad_share, None);
    }
}
