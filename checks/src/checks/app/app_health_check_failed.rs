//! ## What it detects
//! The container health check defined in the task definition failed: the
//! service scheduler stopped the task with «Task failed container health
//! checks», a container reports `healthStatus = UNHEALTHY`, or a container
//! that `dependsOn` another one with condition `HEALTHY` never started
//! because that one never became healthy within its `startTimeout`. The
//! report quotes the command, interval, timeout, retries and startPeriod,
//! and points at the usual culprits: a probe tool (`curl`, `wget`) the image
//! does not ship, no `startPeriod` for a slow starter, or a probe aimed at
//! the wrong port.
//!
//! ## Why it matters
//! ECS runs the command inside the container. If it exits non-zero
//! `retries` times in a row (after `startPeriod`), the container is
//! UNHEALTHY and a service replaces the task, even when the app is fine. A
//! missing `curl` in a slim or distroless image fails every probe.
//!
//! ## Example
//! ```text
//! stopCode      = ServiceSchedulerInitiated
//! stoppedReason = Task failed container health checks
//! container web: healthStatus = UNHEALTHY
//! healthCheck: ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"], interval 30s, timeout 5s, retries 3, no startPeriod
//! image: node:20-slim (slim images do not include curl)
//! ```
//!
//! ## How to fix
//! Run the command yourself in a running copy of the container (`aws ecs
//! execute-command … --command "curl -f http://localhost:8080/health"`).
//! Install the probe tool in the image or use one it has (a `wget` on
//! Alpine, a small health-check binary or `node -e …` in distroless
//! images), give slow starters a `startPeriod` (up to 300 s), and probe the
//! port the app listens on.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
//! - https://repost.aws/knowledge-center/ecs-task-container-health-check-failures
//! - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html

use crate::context::Ctx;
use crate::logs::excerpt::log_hint;
use crate::codes::Cause;
use crate::evidence::{ContainerDefinition, Evidence, HealthCheck};
use crate::report::{Finding, Strength, Verdict};
use crate::stops::{self, StopKind};
use crate::task::dependency_failure;

/// The health check's settings, with ECS's defaults filled in and marked.
pub(crate) fn describe_health_check(hc: &HealthCheck) -> String {
    let part = |name: &str, v: Option<i32>, default: &str| match v {
        Some(v) => format!("{name} {v}{}", if name == "retries" { "" } else { "s" }),
        None => format!("{name} {default} (default)"),
    };
    format!(
        "healthCheck.command = {:?}; {}, {}, {}, {}",
        hc.command,
        part("interval", hc.interval, "30s"),
        part("timeout", hc.timeout, "5s"),
        part("retries", hc.retries, "3"),
        match hc.start_period {
            Some(s) if s > 0 => format!("startPeriod {s}s"),
            _ => "no startPeriod".to_string(),
        }
    )
}

/// The probe program of a health-check command (`curl`, `wget`, …).
fn probe_tool(hc: &HealthCheck) -> Option<String> {
    let body = hc.command_line();
    let first = body.split_whitespace().next()?;
    Some(first.rsplit('/').next().unwrap_or(first).to_string())
}

/// Why the image may lack the probe tool, judged from its name.
fn tool_risk(tool: &str, image: &str) -> Option<String> {
    let img = image.to_ascii_lowercase();
    let base = img.rsplit('/').next().unwrap_or(&img);
    match tool {
        "curl" | "wget" => {
            if img.contains("distroless") || base.starts_with("scratch") {
                Some(format!("image `{image}` is distroless/scratch: it has no shell, no `curl` and no `wget`"))
            } else if tool == "curl" && (base.contains("alpine") || base.contains("busybox")) {
                Some(format!("image `{image}` is Alpine/BusyBox based: it has `wget` but not `curl` unless installed"))
            } else if base.contains("slim") || base.contains("minimal") {
                Some(format!("image `{image}` is a slim image: these usually ship without `{tool}`"))
            } else {
                Some(format!("the probe needs `{tool}` inside image `{image}`: images built FROM slim, Alpine or distroless bases often lack it"))
            }
        }
        _ => None,
    }
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let reason = ctx.stops.find(StopKind::ContainerHealth).cloned();
    let Some(td) = ev.task_def() else {
        let why = format!(
            "the task definition is unknown ({}), so the health check's settings cannot be read",
            ev.task_definition.gap_reason().unwrap_or_default()
        );
        return match &reason {
            Some(r) => without_settings(ev, r, why).into_verdict(),
            None => Verdict::Inconclusive(why),
        };
    };
    let dep = dependency_failure(ev).filter(|d| d.condition == "HEALTHY");
    let unhealthy: Vec<&str> = ev
        .task
        .containers
        .iter()
        .filter(|c| c.health_status.as_deref().is_some_and(|h| h.eq_ignore_ascii_case("UNHEALTHY")))
        .map(|c| c.name.as_str())
        .collect();
    if reason.is_none() && dep.is_none() && unhealthy.is_empty() {
        let with_checks = td.containers.iter().filter(|d| d.health_check.is_some()).count();
        return if with_checks == 0 {
            Verdict::Skipped("no container defines a health check".into())
        } else {
            Verdict::Pass(format!(
                "no container is UNHEALTHY and the stop reason is not a health check ({with_checks} container(s) define one)"
            ))
        };
    }
    // The container whose check failed: the dependency, an UNHEALTHY one, else one with a check.
    let def: Option<&ContainerDefinition> = dep
        .as_ref()
        .and_then(|d| td.container(&d.dependency.name))
        .or_else(|| unhealthy.iter().find_map(|n| td.container(n)))
        .or_else(|| td.containers.iter().find(|d| d.health_check.is_some() && d.essential))
        .or_else(|| td.containers.iter().find(|d| d.health_check.is_some()));
    let Some(def) = def else {
        let why = "no container of this task definition revision defines a healthCheck".to_string();
        return match &reason {
            Some(r) => without_settings(ev, r, why.clone()).against(why).into_verdict(),
            None => Verdict::Inconclusive(why),
        };
    };
    let Some(hc) = &def.health_check else {
        return Verdict::Inconclusive(format!("container `{}` is UNHEALTHY but defines no health check", def.name));
    };
    let strength = if reason.is_some() || dep.is_some() { Strength::Direct } else { Strength::Corroborating };
    let title = match &dep {
        Some(d) => format!(
            "Container `{}` never started: `{}` did not become healthy within its startTimeout",
            d.dependent, def.name
        ),
        None => format!("Container `{}` failed its health check", def.name),
    };
    let mut f = Finding::new(Cause::AppHealthCheckFailed, strength, title);
    if let Some(r) = &reason {
        f = f.evidence(format!(
            "stopCode = {}; {}",
            ev.task.stop_code.as_deref().unwrap_or("unset"),
            r.quote()
        ));
    }
    if let Some(d) = &dep {
        f = f.evidence(d.describe());
    }
    if let Some(c) = ev.task.containers.iter().find(|c| c.name == def.name) {
        f = f.evidence(format!(
            "container `{}` healthStatus = {}",
            def.name,
            c.health_status.as_deref().unwrap_or("UNKNOWN")
        ));
    }
    f = f.evidence(describe_health_check(hc));
    let interval = hc.interval.unwrap_or(30);
    let retries = hc.retries.unwrap_or(3);
    let start = hc.start_period.unwrap_or(0);
    f = f.evidence(format!(
        "so ECS marks it UNHEALTHY about {}s after start if the app never answers ({}startPeriod + interval × retries)",
        start + interval * retries,
        if start > 0 { "" } else { "no " }
    ));
    let tool = probe_tool(hc);
    if let Some(risk) = tool.as_deref().and_then(|t| tool_risk(t, &def.image)) {
        f = f.evidence(risk);
    }
    let listen = crate::logs::announced(ev.log_lines(&def.name));
    let probe = super::app_port_mismatch::probe_port(hc);
    match (&listen, &probe) {
        (Some(l), Some((p, _))) if l.port != *p => {
            f = f.evidence(format!(
                "the probe targets port {p} but the app announced port {}: \"{}\"",
                l.port, l.line
            ));
        }
        (Some(l), _) => {
            f = f.evidence(format!("the app did start listening: \"{}\"", l.line));
        }
        (None, _) => match crate::logs::excerpt::decisive(ev, &def.name) {
            Some(line) => {
                f = f.evidence(format!(
                    "its log shows no \"listening\" line, and why it never got ready: \"{}\"",
                    line.message.trim()
                ));
            }
            None => {
                f = f.evidence(format!(
                    "its log shows no \"listening\" line: the app may not have been ready ({})",
                    crate::logs::excerpt::log_evidence(ev, &def.name)
                ));
                let t = &ev.task.timestamps;
                if let (Some(a), Some(b)) = (t.started_at.as_deref(), t.stopping_at.as_deref()) {
                    if let Some(ran) = crate::task::seconds_between(a, b).filter(|r| *r > 0) {
                        if ran > start + interval * retries {
                            f = f.evidence(format!(
                                "the container ran {ran}s before ECS stopped it, longer than the {}s the health check allows, without announcing it was ready: a slow start",
                                start + interval * retries
                            ));
                        }
                    }
                }
            }
        },
    }
    let cmd_text = hc.command_line();
    let cluster = crate::task::cluster_name(ev);
    f = f.fix(format!(
        "Run the probe yourself in a running copy: `aws ecs execute-command --cluster {cluster} --task <task-id> --container {} --interactive --command \"{}\"`.",
        def.name,
        cmd_text.replace('"', "\\\"")
    ));
    if let Some(t) = tool.as_deref().filter(|t| *t == "curl" || *t == "wget") {
        f = f.fix(format!(
            "Make sure the image has `{t}` (e.g. `RUN apt-get update && apt-get install -y --no-install-recommends {t}` or `RUN apk add --no-cache {t}`), or probe with a tool the image has."
        ));
    }
    if start < 60 {
        f = f.fix(format!(
            "Give the app time to start: set `\"startPeriod\": 60` (up to 300) in container `{}`'s healthCheck.",
            def.name
        ));
    }
    if let (Some(l), Some((p, _))) = (&listen, &probe) {
        if l.port != *p {
            f = f.fix(format!("Probe the port the app listens on ({}), not {p}.", l.port));
        }
    }
    if let Some(d) = &dep {
        f = f.fix(format!(
            "Or raise `startTimeout` on `{}` so `{}` waits long enough for it to become healthy.",
            def.name, d.dependent
        ));
    }
    f.fix(format!("The app's own output is in {}.", log_hint(ev, &def.name)))
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html")
        .into_verdict()
}

/// The stop reason names a failed container health check, but the check's
/// settings are not at hand: report it from the reason alone.
fn without_settings(ev: &Evidence, reason: &stops::StopText, why: String) -> Finding {
    Finding::new(Cause::AppHealthCheckFailed, Strength::Direct, "A container failed its health check")
        .evidence(format!("stopCode = {}; {}", ev.task.stop_code.as_deref().unwrap_or("unset"), reason.quote()))
        .evidence(why)
        .fix("Read the container's `healthCheck` in the task definition (`aws ecs describe-task-definition`): check the probe tool exists in the image, the port it probes, and `startPeriod`.")
        .fix("Run the probe yourself in a running copy with `aws ecs execute-command`.")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::evidence::ContainerDependency;
    use crate::testkit::{running, stopped, EvidenceExt};

    fn curl_check() -> HealthCheck {
        HealthCheck {
            command: vec!["CMD-SHELL".into(), "curl -f http://localhost:8080/health || exit 1".into()],
            interval: Some(10),
            retries: Some(3),
            ..Default::default()
        }
    }

    #[test]
    fn a_failed_container_health_check_quotes_the_settings_and_the_tool() {
        let mut ev = stopped("ServiceSchedulerInitiated", "Task failed container health checks")
            .exit("web", Some(143), None)
            .def("web", |d| {
                d.health_check = Some(curl_check());
                d.image = "node:20-slim".into();
            })
            .log("web", &["Listening on port 8080"]);
        ev.task.containers[0].health_status = Some("UNHEALTHY".into());
        let Verdict::Found(f) = check(&ev) else { panic!("{:?}", check(&ev)) };
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.evidence.iter().any(|e| e.contains("interval 10s, timeout 5s (default), retries 3, no startPeriod")), "{:?}", f.evidence);
        assert!(f.evidence.iter().any(|e| e.contains("slim image")));
        assert!(f.evidence.iter().any(|e| e.contains("about 30s after start")));
        assert!(!f.evidence.iter().any(|e| e.contains("a slow start")), "the app did announce it listens");
        assert!(f.fix.iter().any(|x| x.contains("\"startPeriod\": 60")));
    }

    #[test]
    fn a_slow_starter_is_told_apart() {
        let mut ev = stopped("ServiceSchedulerInitiated", "Task failed container health checks")
            .def("web", |d| d.health_check = Some(curl_check()))
            .log("web", &["warming cache"]);
        ev.task.timestamps.started_at = Some("2026-01-01T11:59:00Z".into());
        ev.task.timestamps.stopping_at = Some("2026-01-01T11:59:41Z".into());
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.evidence.iter().any(|e| e.contains("ran 41s before ECS stopped it, longer than the 30s")), "{:?}", f.evidence);
    }

    #[test]
    fn a_truncated_reason_is_enough() {
        let ev = stopped("ServiceSchedulerInitiated", "Task failed container health ch").def("web", |d| d.health_check = Some(curl_check()));
        assert!(matches!(check(&ev), Verdict::Found(f) if f.strength == Strength::Direct));
    }

    #[test]
    fn an_unhealthy_dependency_explains_a_task_that_never_started() {
        let ev = stopped("TaskFailedToStart", "Task failed to start")
            .sidecar("proxy", true)
            .exit("proxy", Some(137), None)
            .def("proxy", |d| {
                d.health_check = Some(curl_check());
                d.start_timeout = Some(30);
            })
            .def("web", |d| d.depends_on.push(ContainerDependency { container_name: "proxy".into(), condition: "HEALTHY".into() }));
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.title.contains("`web` never started: `proxy` did not become healthy"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("startTimeout is 30s")));
    }

    #[test]
    fn an_unhealthy_running_task_is_corroborating() {
        let mut ev = running().def("web", |d| {
            d.health_check = Some(curl_check());
            d.image = "gcr.io/distroless/nodejs20".into();
        });
        ev.task.containers[0].health_status = Some("UNHEALTHY".into());
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.evidence.iter().any(|e| e.contains("distroless")));
    }

    #[test]
    fn the_reason_alone_is_reported_when_the_settings_are_missing() {
        let mut ev = stopped("ServiceSchedulerInitiated", "Task failed container health checks");
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.against.len(), 1, "the revision defines no health check");
        ev.task_definition = crate::evidence::Fact::Denied { action: "ecs:DescribeTaskDefinition".into(), error: "AccessDenied".into() };
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.evidence[1].contains("ecs:DescribeTaskDefinition was denied"));
    }

    #[test]
    fn healthy_tasks_pass_and_tasks_without_checks_skip() {
        let ev = running().def("web", |d| d.health_check = Some(curl_check()));
        assert!(matches!(check(&ev), Verdict::Pass(_)));
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
    }
}
