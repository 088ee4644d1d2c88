//! Deterministic ranking of findings into candidates.
//!
//! Direct evidence (stop code plus a matching reason) beats corroborating
//! evidence (route table, policy), which beats circumstance. Each fact that
//! contradicts a candidate lowers it; extra supporting facts raise it a little.

use crate::report::{Candidate, Finding, Strength};

const BASE: [(Strength, f64); 3] = [
    (Strength::Direct, 0.85),
    (Strength::Corroborating, 0.65),
    (Strength::Circumstantial, 0.35),
];

/// The confidence of one finding, in [0.05, 0.99].
pub fn confidence(finding: &Finding) -> f64 {
    let base = BASE
        .iter()
        .find(|(s, _)| *s == finding.strength)
        .map(|(_, b)| *b)
        .unwrap_or(0.35);
    // Each supporting line past the first adds a little, up to +0.10.
    let support = (finding.evidence.len().saturating_sub(1) as f64 * 0.03).min(0.10);
    let contradiction = finding.against.len() as f64 * 0.25;
    let value = base + support - contradiction;
    (value.clamp(0.05, 0.99) * 100.0).round() / 100.0
}

/// Turn findings into candidates sorted best first.
///
/// Ties are broken by failures before benign stops, then by the catalogue
/// order of the codes, so the same evidence always gives the same report.
pub fn rank(findings: Vec<Finding>) -> Vec<Candidate> {
    let mut candidates: Vec<Candidate> = findings
        .into_iter()
        .map(|f| Candidate {
            confidence: confidence(&f),
            family: f.code.family(),
            benign: f.code.is_benign(),
            code: f.code,
            title: f.title,
            evidence: f.evidence,
            against: f.against,
            fix: f.fix,
            docs: f.docs,
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.confidence
            .partial_cmp(&a.confidence)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.benign.cmp(&b.benign))
            .then(a.code.cmp(&b.code))
    });
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Cause;

    #[test]
    fn direct_beats_corroborating_beats_circumstance() {
        let ranked = rank(vec![
            Finding::new(Cause::NoEgressRoute, Strength::Circumstantial, "c"),
            Finding::new(Cause::ImageNotFound, Strength::Direct, "a"),
            Finding::new(Cause::NoPublicIp, Strength::Corroborating, "b"),
        ]);
        let codes: Vec<_> = ranked.iter().map(|c| c.code).collect();
        assert_eq!(
            codes,
            vec![
                Cause::ImageNotFound,
                Cause::NoPublicIp,
                Cause::NoEgressRoute
            ]
        );
    }

    #[test]
    fn contradiction_lowers_a_candidate_below_an_uncontradicted_one() {
        let ranked = rank(vec![
            Finding::new(Cause::AppOutOfMemory, Strength::Direct, "a").against("deployment stop"),
            Finding::new(Cause::AppSigtermTimeout, Strength::Corroborating, "b"),
        ]);
        assert_eq!(ranked[0].code, Cause::AppSigtermTimeout);
        assert!(ranked[1].confidence < ranked[0].confidence);
    }

    #[test]
    fn confidence_stays_in_unit_interval() {
        let mut f = Finding::new(Cause::Unknown, Strength::Circumstantial, "x");
        for _ in 0..10 {
            f = f.against("no");
        }
        assert_eq!(confidence(&f), 0.05);
        let mut g = Finding::new(Cause::AppExitError, Strength::Direct, "x");
        for _ in 0..20 {
            g = g.evidence("yes");
        }
        assert!(confidence(&g) <= 0.99 && confidence(&g) > 0.9);
    }

    #[test]
    fn ties_put_failures_before_benign_stops() {
        let ranked = rank(vec![
            Finding::new(Cause::StoppedByDeployment, Strength::Direct, "benign"),
            Finding::new(Cause::AppSigtermTimeout, Strength::Direct, "fail"),
        ]);
        assert_eq!(ranked[0].code, Cause::AppSigtermTimeout);
        assert!(ranked[1].benign);
    }
}
