//! ## What it detects
//! An app that must be reached from outside its container — a load
//! balancer sends to it, or its container declares `portMappings` — while
//! its own log says it listens on a loopback address only: `127.0.0.1`,
//! `localhost` or `::1` («Listening on http://127.0.0.1:3000», «Uvicorn
//! running on http://127.0.0.1:8000»). The address comes from the one
//! listen-line parser ecs-doctor uses everywhere.
//!
//! ## Why it matters
//! Loopback is reachable only from inside the task's network namespace. The
//! container runs, its own health check (a `curl localhost` inside the
//! task) may even pass, but the load balancer's probes are refused, the
//! service replaces the task every few minutes, and every other setting
//! looks right. Development defaults (Flask, Vite, Next.js, Rails, many
//! frameworks) bind loopback unless told otherwise.
//!
//! ## Example
//! ```text
//! stoppedReason = Task failed ELB health checks in (target-group …:targetgroup/web/…)
//! container web (behind target group web on port 3000) logged:
//!   "Server listening on http://127.0.0.1:3000"
//! ```
//!
//! ## How to fix
//! Make the app bind all interfaces: `0.0.0.0` (or `::`) — e.g.
//! `HOST=0.0.0.0`, `flask run --host 0.0.0.0`, `uvicorn --host 0.0.0.0`,
//! `next start -H 0.0.0.0`, `rails s -b 0.0.0.0`, `server.address=0.0.0.0` —
//! then register a new task definition revision and redeploy.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::lb::{symptoms, wiring};
use crate::logs::{announced, Listen};
use crate::report::{Finding, HealthChecks, Strength, Verdict};

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return Verdict::Inconclusive(format!(
            "the task definition is unknown ({}), so which containers must be reached is too",
            ev.task_definition.gap_reason().unwrap_or_default()
        ));
    };
    let s = symptoms(ctx);
    let lb_failed = s.reason.is_some() || !s.task_events.is_empty() || s.unhealthy_target.is_some();
    let w = wiring(ev, &s);
    // The containers something outside must reach: the load balancer's, and
    // any that declares a port.
    let reached: Vec<(&str, String)> = td
        .containers
        .iter()
        .filter_map(|c| {
            if w.container.as_deref() == Some(c.name.as_str()) {
                let port = w.port.map(|p| format!(" on port {p}")).unwrap_or_default();
                Some((c.name.as_str(), format!("the load balancer sends to it{port}")))
            } else if !c.port_mappings.is_empty() {
                let ports: Vec<String> = c
                    .port_mappings
                    .iter()
                    .filter_map(|p| p.container_port.map(|x| x.to_string()))
                    .collect();
                Some((c.name.as_str(), format!("it declares portMappings {}", ports.join(", "))))
            } else {
                None
            }
        })
        .collect();
    if reached.is_empty() {
        return Verdict::Skipped(
            "no container must be reached from outside (no load balancer, no portMappings)".into(),
        );
    }
    let mut unseen = Vec::new();
    let mut wildcard = Vec::new();
    for (name, why) in &reached {
        match announced(ev.log_lines(name)) {
            Some(l) if l.is_loopback() => {
                return finding(ctx, s.reason.as_ref(), name, why, &l, lb_failed)
            }
            Some(l) => wildcard.push(format!(
                "`{name}` listens on {}:{}",
                l.host.as_deref().unwrap_or("all interfaces"),
                l.port
            )),
            None => match ev.log_gap(name) {
                Some(gap) => unseen.push(format!("`{name}`: its log could not be read ({gap})")),
                None => unseen.push(format!("`{name}`: its log does not say which address it binds")),
            },
        }
    }
    if !wildcard.is_empty() && unseen.is_empty() {
        return Verdict::Pass(wildcard.join("; "));
    }
    // Nothing failed to reach the app: an address the log does not show
    // explains nothing.
    if lb_failed {
        Verdict::Inconclusive(unseen.join("; "))
    } else {
        let mut seen = wildcard;
        seen.extend(unseen);
        Verdict::Pass(format!("nothing failed to reach the app ({})", seen.join("; ")))
    }
}

fn finding(
    ctx: &Ctx,
    elb_text: Option<&crate::stops::StopText>,
    name: &str,
    why: &str,
    l: &Listen,
    lb_failed: bool,
) -> Verdict {
    let ev = ctx.ev;
    let host = l.host.clone().unwrap_or_default();
    let strength = if lb_failed {
        Strength::Direct
    } else {
        Strength::Corroborating
    };
    let mut f = Finding::new(
        Cause::AppBoundToLocalhost,
        strength,
        format!(
            "Container `{name}` listens on {host}:{} only, so nothing outside the container can reach it",
            l.port
        ),
    )
    .evidence(format!("`{name}` logged: \"{}\"", l.line))
    .evidence(format!("`{name}` must be reached: {why}"))
    .health_checks(HealthChecks::FailForever);
    if let Some(t) = elb_text {
        f = f.evidence(format!(
            "stopCode = {}; {}",
            ev.task.stop_code.as_deref().unwrap_or("unset"),
            t.quote()
        ));
    }
    f.fix(format!(
        "Make the app bind 0.0.0.0 (all interfaces) instead of {host}: e.g. HOST=0.0.0.0, `--host 0.0.0.0`, `-b 0.0.0.0` or `server.address=0.0.0.0`, whichever the framework reads."
    ))
    .fix("Register a new task definition revision and redeploy; the log line should then read 0.0.0.0 (or ::).")
    .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html")
    .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::evidence::PortMapping;
    use crate::testkit::{found, running, EvidenceExt};

    fn with_port(lines: &[&str]) -> crate::evidence::Evidence {
        let mut ev = running().log("web", lines);
        ev.task_definition.value_mut().expect("kit td").containers[0].port_mappings = vec![PortMapping {
            container_port: Some(3000),
            ..Default::default()
        }];
        ev
    }

    #[test]
    fn a_loopback_bind_on_a_declared_port_is_found() {
        let ev = with_port(&["Server listening on http://127.0.0.1:3000"]);
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.title.contains("127.0.0.1:3000"), "{}", f.title);
        assert!(f.fix[0].contains("0.0.0.0"), "{:?}", f.fix);
    }

    #[test]
    fn ipv6_loopback_and_localhost_count_too() {
        for line in ["Uvicorn running on http://[::1]:3000", "Listening at http://localhost:3000"] {
            assert!(matches!(check(&with_port(&[line])), Verdict::Found(_)), "{line}");
        }
    }

    #[test]
    fn all_interfaces_pass() {
        let ev = with_port(&["Listening on http://0.0.0.0:3000"]);
        assert!(matches!(check(&ev), Verdict::Pass(_)), "{:?}", check(&ev));
    }

    #[test]
    fn a_container_nobody_reaches_skips() {
        let mut ev = running().log("web", &["listening on 127.0.0.1:9000"]);
        ev.task_definition.value_mut().expect("kit td").containers[0].port_mappings.clear();
        assert!(matches!(check(&ev), Verdict::Skipped(_)));
    }
}
