//! Deterministic ranking of findings into candidates.
//!
//! Direct evidence (stop code plus a matching reason) beats corroborating
//! evidence (route table, policy), which beats circumstance. Each fact that
//! contradicts a candidate lowers it; extra supporting facts raise it a little.
//! A cause that makes the health checks fail forever outranks one that says
//! they counted too early (`subordinate_timing`).

use crate::codes::Cause;
use crate::report::{Candidate, Finding, HealthChecks, Strength};

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

/// The health-check rule, applied once for every check: while a cause that
/// makes the health checks fail forever stands (a wrong port, a loopback
/// bind, a wrong status code, probes dropped by a security group), a cause
/// that says they counted too early (a grace period shorter than the
/// start-up) cannot be what to fix first — a longer wait never helps. Such
/// a finding drops to circumstantial, says which cause must be fixed first,
/// and ranks below every cause that fails the checks forever. Returns the
/// lowest confidence of those causes, which the timing findings stay under.
fn subordinate_timing(findings: &mut [Finding]) -> Option<f64> {
    let blockers: Vec<(Cause, String, f64)> = findings
        .iter()
        .filter(|f| f.health_checks == HealthChecks::FailForever && !f.code.is_benign())
        .map(|f| (f.code, f.title.clone(), confidence(f)))
        .collect();
    if blockers.is_empty() {
        return None;
    }
    let mut codes: Vec<&str> = Vec::new();
    for (code, _, _) in &blockers {
        if !codes.contains(&code.as_str()) {
            codes.push(code.as_str());
        }
    }
    let codes = codes.join(" and ");
    for f in findings
        .iter_mut()
        .filter(|f| f.health_checks == HealthChecks::CountedTooEarly)
    {
        f.strength = Strength::Circumstantial;
        f.title = format!("{} — this matters only once {codes} is fixed", f.title);
        if let Some(first) = f.fix.first_mut() {
            *first = format!(
                "Only once {codes} is fixed, if the app is still cut off while it starts: {first}"
            );
        }
        for (code, title, _) in &blockers {
            f.against.push(format!(
                "the health checks fail whatever the timing while {code} stands ({title}): a longer grace period cannot help until it is fixed"
            ));
        }
    }
    blockers.iter().map(|(_, _, c)| *c).reduce(f64::min)
}

/// Turn findings into candidates sorted best first.
///
/// Ties are broken by failures before benign stops, then by a cause that
/// fails the health checks forever before one that says they counted too
/// early, then by the catalogue order of the codes, so the same evidence
/// always gives the same report.
pub fn rank(mut findings: Vec<Finding>) -> Vec<Candidate> {
    let ceiling = subordinate_timing(&mut findings);
    let mut candidates: Vec<(HealthChecks, Candidate)> = findings
        .into_iter()
        .map(|f| {
            let mut confidence = confidence(&f);
            if let (HealthChecks::CountedTooEarly, Some(ceiling)) = (f.health_checks, ceiling) {
                confidence = confidence
                    .min(((ceiling - 0.01) * 100.0).round() / 100.0)
                    .max(0.05);
            }
            let candidate = Candidate {
                confidence,
                family: f.code.family(),
                benign: f.code.is_benign(),
                code: f.code,
                title: f.title,
                evidence: f.evidence,
                against: f.against,
                fix: f.fix,
                docs: f.docs,
            };
            (f.health_checks, candidate)
        })
        .collect();
    let order = |h: &HealthChecks| match h {
        HealthChecks::FailForever => 0,
        HealthChecks::Unrelated => 1,
        HealthChecks::CountedTooEarly => 2,
    };
    candidates.sort_by(|(ha, a), (hb, b)| {
        b.confidence
            .partial_cmp(&a.confidence)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.benign.cmp(&b.benign))
            .then(order(ha).cmp(&order(hb)))
            .then(a.code.cmp(&b.code))
    });
    candidates.into_iter().map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_cause_that_fails_the_checks_forever_outranks_one_that_says_they_counted_too_early() {
        let mut grace = Finding::new(
            Cause::HealthCheckGraceTooShort,
            Strength::Direct,
            "slow start",
        )
        .health_checks(HealthChecks::CountedTooEarly);
        for _ in 0..5 {
            grace = grace.evidence("support");
        }
        let weak_blocker = Finding::new(Cause::AppPortMismatch, Strength::Circumstantial, "port")
            .against("something against it")
            .health_checks(HealthChecks::FailForever);
        let ranked = rank(vec![grace.clone(), weak_blocker]);
        assert_eq!(ranked[0].code, Cause::AppPortMismatch);
        assert_eq!(
            ranked[1].title,
            "slow start — this matters only once app-port-mismatch is fixed"
        );
        assert!(ranked[1].confidence <= ranked[0].confidence);
        // Alone, the slow start keeps its strength and its title.
        let alone = rank(vec![grace]);
        assert_eq!(alone[0].title, "slow start");
        assert!(alone[0].confidence > 0.85);
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

/// The health-check rule, from evidence through every check and the ranking.
#[cfg(test)]
mod health_checks {
    use crate::evidence::{Evidence, Fact, LogLine, SecurityGroupRule};
    use crate::testkit::lb::{from_lb, lb_task, reason};
    use crate::{diagnose, Cause};

    /// The load balancer's task (sends to `web` on 8080, grace 0, checks
    /// every 30 s × 2): the app starts at 11:57:00 and logs `listening`
    /// 104 s later, longer than the 60 s the load balancer allows; the
    /// probes `timeout` (else the target answered 404, as `lb_task` says).
    fn slow(listening: &str, timeout: bool, ingress: Vec<SecurityGroupRule>) -> Evidence {
        let mut ev = lb_task(&reason(), ingress);
        ev.task.timestamps.started_at = Some("2026-01-01T11:57:00Z".into());
        if timeout {
            // ELB's reason code and description for a probe that got no answer
            // (Application Load Balancers guide, "Health checks for your target groups",
            // target health reason codes).
            if let Fact::Gathered { value } = &mut ev.load_balancing[0].target_health {
                value[0].reason = Some("Target.Timeout".into());
                value[0].description = Some("Request timed out".into());
            }
        }
        for l in ev.logs.iter_mut().filter(|l| l.container == "web") {
            l.lines = Fact::gathered(vec![
                LogLine {
                    timestamp: Some("2026-01-01T11:57:01Z".into()),
                    message: "Starting BillingApplication v4.2.0 using Java 21.0.5".into(),
                },
                LogLine {
                    timestamp: Some("2026-01-01T11:58:44Z".into()),
                    message: listening.into(),
                },
            ]);
        }
        ev
    }

    /// Spring Boot's line once Tomcat listens (TomcatWebServer.start, Spring Boot 3).
    fn tomcat(port: u16) -> String {
        format!("Tomcat started on port {port} (http) with context path '/'")
    }

    fn codes(ev: &Evidence) -> Vec<Cause> {
        diagnose(ev, "test")
            .candidates
            .iter()
            .map(|c| c.code)
            .collect()
    }

    fn grace(ev: &Evidence) -> crate::report::Candidate {
        diagnose(ev, "test")
            .candidates
            .into_iter()
            .find(|c| c.code == Cause::HealthCheckGraceTooShort)
            .expect("the slow start is still reported")
    }

    #[test]
    fn a_slow_start_alone_leads() {
        let ev = slow(&tomcat(8080), true, from_lb());
        assert_eq!(
            codes(&ev)[0],
            Cause::HealthCheckGraceTooShort,
            "{:?}",
            codes(&ev)
        );
        assert!(!grace(&ev).title.contains("only once"));
    }

    #[test]
    fn the_wrong_port_outranks_the_slow_start() {
        let ev = slow(&tomcat(3000), true, from_lb());
        let order = codes(&ev);
        assert_eq!(order[0], Cause::AppPortMismatch, "{order:?}");
        let g = grace(&ev);
        assert!(
            g.title
                .ends_with("— this matters only once app-port-mismatch is fixed"),
            "{}",
            g.title
        );
        let top = &diagnose(&ev, "test").candidates[0];
        assert!(
            g.confidence < top.confidence,
            "{} vs {}",
            g.confidence,
            top.confidence
        );
        assert!(
            g.against
                .iter()
                .any(|a| a.contains("a longer grace period cannot help")),
            "{:?}",
            g.against
        );
    }

    #[test]
    fn a_loopback_bind_outranks_the_slow_start() {
        // Werkzeug's development server announcing a loopback bind (werkzeug/serving.py).
        let ev = slow(" * Running on http://127.0.0.1:8080", true, from_lb());
        let order = codes(&ev);
        assert_eq!(order[0], Cause::AppBoundToLocalhost, "{order:?}");
        assert!(grace(&ev)
            .title
            .contains("only once app-bound-to-localhost is fixed"));
    }

    #[test]
    fn a_wrong_status_code_outranks_the_slow_start() {
        // lb_task's target: Target.ResponseCodeMismatch, "Health checks failed with these codes: [404]".
        let ev = slow(&tomcat(8080), false, from_lb());
        let order = codes(&ev);
        assert_eq!(order[0], Cause::LbHealthCheckFailed, "{order:?}");
        let g = grace(&ev);
        assert!(
            g.title
                .contains("only once lb-health-check-failed is fixed"),
            "{}",
            g.title
        );
    }

    #[test]
    fn a_security_group_that_drops_the_probes_outranks_the_slow_start() {
        let other = vec![SecurityGroupRule {
            protocol: "tcp".into(),
            from_port: Some(8080),
            to_port: Some(8080),
            group_ids: vec!["sg-bastion".into()],
            ..Default::default()
        }];
        let ev = slow(&tomcat(8080), true, other);
        let report = diagnose(&ev, "test");
        let top = &report.candidates[0];
        assert_eq!(top.code, Cause::LbHealthCheckFailed, "{:?}", codes(&ev));
        assert!(top.fix[0].contains("--source-group sg-lb"), "{:?}", top.fix);
        assert!(grace(&ev)
            .title
            .contains("only once lb-health-check-failed is fixed"));
    }
}
