//! ## What it detects
//! The load balancer failed a task's health checks while the app was still
//! starting. From the app's own log, ecs-doctor takes how long it needed to
//! start listening (from the task's start, or its first log line, to the
//! «listening / started» line) and compares it with what the load balancer
//! allows a new task: the service's `healthCheckGracePeriodSeconds`, then
//! the target group's `HealthCheckIntervalSeconds × UnhealthyThresholdCount`
//! of failed checks.
//!
//! ## Why it matters
//! A JVM, a Rails app or a model server that needs two minutes to start,
//! behind a service with no grace period and a 30 s × 2 health check, is
//! killed after one minute, every time, and never gets to serve. The app is
//! healthy; only its start is slower than the deployment allows. Deployments
//! roll back, the circuit breaker trips, and the logs show a normal start
//! cut off mid-way.
//!
//! ## Example
//! ```text
//! stoppedReason = Task failed ELB health checks in (target-group …:targetgroup/web/…)
//! service web: healthCheckGracePeriodSeconds = 0
//! target group web: every 30s, unhealthy after 2 → 60s allowed
//! web: first line 10:00:01, "Started Application in 104.2 seconds" at 10:01:45 → 104s
//! ```
//!
//! ## How to fix
//! Give the service a grace period longer than the start-up:
//! `aws ecs update-service --cluster C --service S
//! --health-check-grace-period-seconds 150`; or loosen the target group's
//! checks (`--health-check-interval-seconds`, `--unhealthy-threshold-count`);
//! or make the app start faster (lazy initialisation, a smaller heap scan,
//! more CPU).
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html#ECS-CreateService-request-healthCheckGracePeriodSeconds
//! - https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::lb::{allowance, slow_start, symptoms, wiring, Allowance};
use crate::report::{Finding, HealthChecks, Strength, Verdict};

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let s = symptoms(ctx);
    if s.reason.is_none() && s.task_events.is_empty() && s.unhealthy_target.is_none() {
        return match ev.service.value() {
            Some(svc) if svc.load_balancers.is_empty() => {
                Verdict::Skipped("the service has no load balancer".into())
            }
            None => Verdict::Skipped(
                "the task does not belong to a service behind a load balancer".into(),
            ),
            Some(_) => Verdict::Pass("the load balancer did not fail this task".into()),
        };
    }
    let w = wiring(ev, &s);
    let Some(service) = ev.service.value() else {
        return Verdict::Inconclusive(format!(
            "the service's grace period is unknown: {}",
            ev.service.gap_reason().unwrap_or_default()
        ));
    };
    let Some(tg_fact) = w.tg.map(|t| &t.target_group) else {
        return Verdict::Inconclusive("the target group that failed the task was not collected".into());
    };
    if let Some(gap) = tg_fact.gap_reason() {
        return Verdict::Inconclusive(format!("the target group's health-check settings are unknown: {gap}"));
    }
    let Some(container) = w.container.as_deref() else {
        return Verdict::Inconclusive("the service's load balancer names no container".into());
    };
    let Some(slow) = slow_start(ev, &w) else {
        if let Some(gap) = ev.log_gap(container) {
            return Verdict::Inconclusive(format!("`{container}`'s log could not be read ({gap})"));
        }
        return cut_off_while_starting(ctx, &s, &w, container).unwrap_or_else(|| {
            Verdict::Inconclusive(format!(
                "`{container}`'s log does not show when it started listening"
            ))
        });
    };
    if !slow.too_slow() {
        return Verdict::Pass(format!(
            "`{container}` was listening after {}s, within the {}s allowed (grace {}s + {}s × {})",
            slow.startup_secs,
            slow.allowed(),
            slow.allowance.grace,
            slow.allowance.interval,
            slow.allowance.threshold
        ));
    }
    let tg_name = tg_fact.value().map(|t| t.name.clone()).unwrap_or_default();
    let strength = if s.reason.is_some() || !s.task_events.is_empty() {
        Strength::Direct
    } else {
        Strength::Corroborating
    };
    let mut f = Finding::new(
        Cause::HealthCheckGraceTooShort,
        strength,
        format!(
            "`{container}` needs about {}s to start, but the load balancer fails it after {}s",
            slow.startup_secs,
            slow.allowed()
        ),
    )
    .health_checks(HealthChecks::CountedTooEarly);
    if let Some(t) = &s.reason {
        f = f.evidence(format!(
            "stopCode = {}; {}",
            ev.task.stop_code.as_deref().unwrap_or("unset"),
            t.quote()
        ));
    } else if let Some(e) = s.task_events.first() {
        f = f.evidence(format!("service event: \"{e}\""));
    }
    f = f
        .evidence(format!(
            "service `{}`: healthCheckGracePeriodSeconds = {}",
            service.name, slow.allowance.grace
        ))
        .evidence(format!(
            "target group `{tg_name}`: every {}s, unhealthy after {} failures → {}s of failed checks",
            slow.allowance.interval,
            slow.allowance.threshold,
            slow.allowance.interval * slow.allowance.threshold
        ));
    if let Some(line) = crate::logs::announced(ev.log_lines(container)) {
        f = f.evidence(format!(
            "`{container}` announced it was listening {}s after it started: \"{}\"",
            slow.startup_secs, line.line
        ));
    }
    let cluster = crate::task::cluster_name(ev);
    let cluster = if cluster.is_empty() { "CLUSTER" } else { cluster };
    // Round up to the next half minute, with one interval to spare.
    let grace = ((slow.startup_secs + slow.allowance.interval + 29) / 30) * 30;
    f.fix(format!(
        "Give the app time to start: `aws ecs update-service --cluster {cluster} --service {} --health-check-grace-period-seconds {grace}`.",
        service.name
    ))
    .fix("Or make the app start faster (lazy initialisation, more CPU), or loosen the target group's interval and unhealthy threshold.")
    .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html")
    .into_verdict()
}

/// No "listening" line at all: the app may have been stopped before it got
/// there. Said (as an inference) when the app ran longer than the load
/// balancer allows, logged no error, and its log runs up to the stop.
fn cut_off_while_starting(
    ctx: &Ctx,
    s: &crate::lb::Symptoms,
    w: &crate::lb::Wiring,
    container: &str,
) -> Option<Verdict> {
    let ev = ctx.ev;
    let service = ev.service.value()?;
    let tg = w.tg?.target_group.value()?;
    let Allowance {
        grace,
        interval,
        threshold,
    } = allowance(ev, w)?;
    let lines = ev.log_lines(container);
    let first = lines.first()?;
    let started = ev
        .task
        .timestamps
        .started_at
        .as_deref()
        .or(first.timestamp.as_deref())?;
    let stopping = ev
        .task
        .timestamps
        .stopping_at
        .as_deref()
        .or(ev.task.timestamps.stopped_at.as_deref())?;
    let ran = crate::task::seconds_between(started, stopping)?;
    let allowed = grace + interval * threshold;
    if ran < allowed || crate::logs::decisive_line(lines).is_some() {
        return None;
    }
    // The log must run up to the stop: a log that fell silent long before
    // says nothing about a start still under way.
    let last = lines.last()?;
    let silent = crate::task::seconds_between(last.timestamp.as_deref()?, stopping)?;
    if silent > interval * threshold {
        return None;
    }
    let mut f = Finding::new(
        Cause::HealthCheckGraceTooShort,
        Strength::Corroborating,
        format!(
            "`{container}` was still starting after {ran}s when it was stopped; the load balancer allows {allowed}s"
        ),
    )
    .health_checks(HealthChecks::CountedTooEarly);
    if let Some(t) = &s.reason {
        f = f.evidence(t.quote());
    }
    f = f
        .evidence(format!(
            "service `{}`: healthCheckGracePeriodSeconds = {grace}; target group `{}`: every {interval}s, unhealthy after {threshold} failures",
            service.name, tg.name
        ))
        .evidence(format!(
            "`{container}` never logged that it was listening, and logged no error; its last line: \"{}\"",
            last.message.trim()
        ));
    let cluster = crate::task::cluster_name(ev);
    let cluster = if cluster.is_empty() { "CLUSTER" } else { cluster };
    Some(
        f.fix(format!(
            "Measure the start-up (first log line to the line saying it listens) and give the service that much: `aws ecs update-service --cluster {cluster} --service {} --health-check-grace-period-seconds <start-up + {interval}>`.",
            service.name
        ))
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html")
        .into_verdict(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::evidence::{Evidence, LogLine};
    use crate::testkit::lb::{from_lb, lb_task, reason};
    use crate::testkit::{found, stopped, EvidenceExt};

    /// The load balancer's task, its app logging from 11:57:00 and announcing
    /// it listens `after` seconds later.
    fn starting(after: u32) -> Evidence {
        let mut ev = lb_task(&reason(), from_lb()).log("web", &["…"]);
        ev.task.timestamps.started_at = Some("2026-01-01T11:57:00Z".into());
        let at = |s: u32| Some(format!("2026-01-01T11:{:02}:{:02}Z", 57 + s / 60, s % 60));
        for l in ev.logs.iter_mut().filter(|l| l.container == "web") {
            l.lines = crate::evidence::Fact::gathered(vec![
                LogLine { timestamp: at(1), message: "Starting Application using Java 21".into() },
                LogLine { timestamp: at(after), message: format!("Tomcat started on port 8080 (http) after {after}s") },
            ]);
        }
        ev
    }

    #[test]
    fn a_start_longer_than_grace_plus_checks_is_found() {
        let f = found(check(&starting(104)));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("about 104s") && f.title.contains("after 60s"), "{}", f.title);
        assert!(f.fix[0].contains("--health-check-grace-period-seconds 150"), "{:?}", f.fix);
    }

    #[test]
    fn a_start_within_the_allowance_passes() {
        assert!(matches!(check(&starting(40)), Verdict::Pass(_)), "{:?}", check(&starting(40)));
    }

    #[test]
    fn no_listening_line_is_inconclusive_when_the_checks_failed() {
        let mut ev = starting(104);
        for l in ev.logs.iter_mut() {
            l.lines = crate::evidence::Fact::gathered(vec![LogLine { timestamp: None, message: "Starting".into() }]);
        }
        assert!(matches!(check(&ev), Verdict::Inconclusive(_)), "{:?}", check(&ev));
    }

    #[test]
    fn an_app_stopped_before_it_said_it_listens_is_an_inference() {
        let mut ev = starting(104);
        ev.task.timestamps.stopping_at = Some("2026-01-01T11:58:35Z".into());
        for l in ev.logs.iter_mut() {
            l.lines = crate::evidence::Fact::gathered(vec![
                LogLine { timestamp: Some("2026-01-01T11:57:01Z".into()), message: "Starting Application using Java 21".into() },
                LogLine { timestamp: Some("2026-01-01T11:58:20Z".into()), message: "Initializing Spring embedded WebApplicationContext".into() },
            ]);
        }
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.title.contains("still starting after 95s"), "{}", f.title);
    }

    #[test]
    fn other_stops_skip() {
        assert!(matches!(check(&stopped("UserInitiated", "Task stopped by user")), Verdict::Pass(_) | Verdict::Skipped(_)));
    }
}
