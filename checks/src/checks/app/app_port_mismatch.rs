//! ## What it detects
//! The application announces in its log that it listens on a port that is
//! not any `containerPort` of its container («Listening on port 3000» with
//! `containerPort = 8080`), or a health check probes a port the container
//! does not expose: the container `healthCheck` command (`curl -f
//! http://localhost:8080/health` while the app listens on 3000) or the
//! target group's explicit health-check port. The report gives both numbers.
//!
//! ## Why it matters
//! Traffic and health checks go to `containerPort`. If nothing listens there,
//! every load balancer health check fails (the task is replaced again and
//! again with «Task failed ELB health checks») or the container health check
//! fails, while the app itself looks healthy in its own log.
//!
//! ## Example
//! ```text
//! log: Server listening on http://0.0.0.0:3000
//! task definition, container web: portMappings containerPort = 8080
//! stoppedReason = Task failed ELB health checks in (target-group …/web/…)
//! ```
//!
//! ## How to fix
//! Make the two agree: configure the app to listen on `containerPort` (many
//! frameworks read `PORT`; set it in the container's `environment`), or
//! change `containerPort` (and the service's `loadBalancers[].containerPort`
//! and the target group) to the port the app uses. Point health checks at
//! the same port.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_portmappings
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html
//! - https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html

use crate::context::Ctx;
use crate::codes::Cause;
use crate::evidence::{ContainerDefinition, Evidence, HealthCheck};
use crate::report::{Finding, HealthChecks, Strength, Verdict};
use crate::stops::StopKind;
use crate::logs::announced;
use regex::Regex;

/// The port a container health-check command probes, with the command text.
pub(crate) fn probe_port(hc: &HealthCheck) -> Option<(i32, String)> {
    let cmd = hc.command_line();
    let url = Regex::new(r"(?i)\b(?P<scheme>https?)://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(?P<port>\d{1,5}))?")
        .expect("valid url regex");
    if let Some(c) = url.captures(&cmd) {
        let port = match c.name("port") {
            Some(p) => p.as_str().parse().ok()?,
            None if c["scheme"].eq_ignore_ascii_case("https") => 443,
            None => 80,
        };
        return Some((port, cmd));
    }
    let nc = Regex::new(r"\b(?:nc|netcat)\b[^|;&]*?\s(?:localhost|127\.0\.0\.1)\s+(?P<port>\d{1,5})\b").expect("valid nc regex");
    let port = nc.captures(&cmd)?["port"].parse().ok()?;
    Some((port, cmd))
}

fn container_ports(def: &ContainerDefinition) -> Vec<i32> {
    def.port_mappings.iter().filter_map(|p| p.container_port).collect()
}

fn list(ports: &[i32]) -> String {
    ports.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
}

/// The containers traffic goes to: the service's load-balanced containers,
/// else every container with a port mapping.
fn exposed(ev: &Evidence) -> Vec<&ContainerDefinition> {
    let Some(td) = ev.task_def() else { return Vec::new() };
    let lb: Vec<&str> = ev
        .service
        .value()
        .map(|s| s.load_balancers.iter().filter_map(|l| l.container_name.as_deref()).collect())
        .unwrap_or_default();
    td.containers
        .iter()
        .filter(|d| !d.port_mappings.is_empty())
        .filter(|d| lb.is_empty() || lb.contains(&d.name.as_str()))
        .collect()
}

/// One disagreement between two ports.
struct Mismatch {
    title: String,
    evidence: Vec<String>,
    fixes: Vec<String>,
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    if ev.task_def().is_none() {
        return Verdict::Inconclusive(format!(
            "the task definition is unknown ({})",
            ev.task_definition.gap_reason().unwrap_or_default()
        ));
    }
    let defs = exposed(ev);
    if defs.is_empty() {
        return Verdict::Skipped("no container maps a port".into());
    }
    let mut passes = Vec::new();
    let mut unknown = Vec::new();
    for def in defs {
        let ports = container_ports(def);
        let listen = announced(ev.log_lines(&def.name));
        let mut found: Vec<Mismatch> = Vec::new();
        match &listen {
            Some(l) if !ports.contains(&l.port) => {
                let env_port = def
                    .environment
                    .iter()
                    .find(|e| e.name.eq_ignore_ascii_case("PORT"))
                    .map(|e| e.value.clone());
                let mut evidence = vec![
                    format!("log line: \"{}\"", l.line),
                    format!("task definition, container `{}`: containerPort = {}", def.name, list(&ports)),
                ];
                let mut fixes = vec![format!(
                    "Make the app listen on {} (many frameworks read `PORT`: add `{{\"name\": \"PORT\", \"value\": \"{}\"}}` to container `{}`'s `environment`).",
                    ports[0], ports[0], def.name
                )];
                if let Some(v) = env_port {
                    evidence.push(format!("environment PORT = {v}: the app does not use it"));
                    fixes[0] = format!(
                        "Make the app read `PORT` (= {v}) or listen on {} directly: it ignores the variable and uses {}.",
                        ports[0], l.port
                    );
                }
                fixes.push(format!(
                    "Or set `containerPort` to {} in the task definition (and the service's `loadBalancers[].containerPort` and the target group's port to match), then redeploy.",
                    l.port
                ));
                found.push(Mismatch {
                    title: format!(
                        "Container `{}` listens on port {} but its containerPort is {}",
                        def.name,
                        l.port,
                        list(&ports)
                    ),
                    evidence,
                    fixes,
                });
            }
            Some(l) => passes.push(format!("`{}` announced port {} = containerPort", def.name, l.port)),
            None => {}
        }
        let app_port = listen.as_ref().map(|l| l.port).or(ports.first().copied());
        if let Some((probe, cmd)) = def.health_check.as_ref().and_then(probe_port) {
            let listening_on = listen.as_ref().map(|l| l.port);
            if !ports.contains(&probe) && listening_on != Some(probe) {
                found.push(Mismatch {
                    title: format!(
                        "Container `{}`'s health check probes port {probe} but the app listens on {}",
                        def.name,
                        app_port.map(|p| p.to_string()).unwrap_or_else(|| list(&ports))
                    ),
                    evidence: vec![
                        format!("healthCheck.command = \"{cmd}\" probes port {probe}"),
                        format!("containerPort = {}", list(&ports)),
                    ],
                    fixes: vec![format!(
                        "Point the health check at port {}: e.g. `[\"CMD-SHELL\", \"curl -f http://localhost:{}/ || exit 1\"]`.",
                        app_port.unwrap_or(probe),
                        app_port.unwrap_or(probe)
                    )],
                });
            }
        }
        for tg in &ev.load_balancing {
            let Some(t) = tg.target_group.value() else { continue };
            let Some(hc_port) = t.health_check_port.as_deref().and_then(|p| p.parse::<i32>().ok()) else { continue };
            let lb_port = ev
                .service
                .value()
                .and_then(|s| s.load_balancers.iter().find(|l| l.target_group_arn.as_deref() == Some(tg.arn.as_str())))
                .and_then(|l| l.container_port);
            let traffic = lb_port.or(app_port);
            if Some(hc_port) != traffic && !ports.contains(&hc_port) {
                found.push(Mismatch {
                    title: format!(
                        "Target group `{}` health-checks port {hc_port} but the container port is {}",
                        t.name,
                        traffic.map(|p| p.to_string()).unwrap_or_else(|| list(&ports))
                    ),
                    evidence: vec![
                        format!("target group `{}`: HealthCheckPort = {hc_port}", t.name),
                        format!("containerPort = {}", list(&ports)),
                    ],
                    fixes: vec![format!(
                        "Health-check the traffic port: `aws elbv2 modify-target-group --target-group-arn {} --health-check-port traffic-port`.",
                        tg.arn
                    )],
                });
            }
        }
        if let Some(first) = found.first() {
            let symptom = ctx.stops.find(StopKind::ElbHealth).cloned()
                .or_else(|| ctx.stops.find(StopKind::ContainerHealth).cloned());
            let strength = if symptom.is_some() { Strength::Direct } else { Strength::Corroborating };
            let mut f = Finding::new(Cause::AppPortMismatch, strength, first.title.clone())
                .health_checks(HealthChecks::FailForever);
            for m in &found {
                for e in &m.evidence {
                    f = f.evidence(e.clone());
                }
            }
            if let Some(s) = symptom {
                f = f.evidence(format!("and the health checks failed: {}", s.quote()));
            }
            for m in &found {
                for x in &m.fixes {
                    f = f.fix(x.clone());
                }
            }
            return f
                .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_portmappings")
                .into_verdict();
        }
        if listen.is_none() {
            unknown.push(def.name.clone());
        }
    }
    if !passes.is_empty() {
        return Verdict::Pass(passes.join("; "));
    }
    let about_ports = ev.task.last_status.eq_ignore_ascii_case("RUNNING")
        || ctx.stops.find(StopKind::ElbHealth).cloned().is_some()
        || ctx.stops.find(StopKind::ContainerHealth).cloned().is_some();
    if !about_ports {
        return Verdict::Skipped(format!(
            "the stop is not about reaching the app, and the log of {} announces no listening port",
            unknown.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    let unread: Vec<String> = unknown
        .iter()
        .filter_map(|n| ev.log_gap(n).map(|why| format!("`{n}`: {why}")))
        .collect();
    if !unread.is_empty() {
        return Verdict::Inconclusive(format!(
            "the log could not be read, so the port the app listens on is unknown ({})",
            unread.join("; ")
        ));
    }
    Verdict::Skipped(format!(
        "the log of {} announces no listening port, so there is nothing to compare with containerPort",
        unknown.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::evidence::LogLine;

    crate::check_under_test!();
    use crate::evidence::{EnvVar, Fact, ServiceLoadBalancer, TargetGroup, TargetGroupEvidence};
    use crate::testkit::{running, stopped, EvidenceExt};

    fn lines(v: &[&str]) -> Vec<LogLine> {
        v.iter().map(|m| LogLine { timestamp: None, message: m.to_string() }).collect()
    }

    #[test]
    fn announcements_of_many_frameworks_are_read() {
        let cases: &[(&str, i32, Option<&str>)] = &[
            ("Server listening on http://0.0.0.0:3000", 3000, Some("0.0.0.0")),
            ("Listening on port 3000", 3000, None),
            ("listening on :8080", 8080, None),
            ("Tomcat started on port(s): 8081 (http) with context path ''", 8081, None),
            ("INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)", 8000, Some("0.0.0.0")),
            ("Now listening on: http://[::]:5000", 5000, Some("[::]")),
            (" * Running on http://127.0.0.1:5000", 5000, Some("127.0.0.1")),
            ("[2026-01-01 12:00:00 +0000] [1] [INFO] Listening at: http://0.0.0.0:8000 (1)", 8000, Some("0.0.0.0")),
            ("http server started on [::]:9090", 9090, Some("[::]")),
            ("App available on port 4000", 4000, None),
        ];
        for (line, port, host) in cases {
            let l = announced(&lines(&[line])).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(l.port, *port, "{line}");
            assert_eq!(l.host.as_deref(), *host, "{line}");
        }
    }

    #[test]
    fn other_services_ports_are_not_ours() {
        assert!(announced(&lines(&[
            "connecting to postgres running on db.internal:5432",
            "Error: connect ECONNREFUSED 10.0.3.25:5432",
            "GET /health 200 3ms",
            "Server started at 12:30:45",
        ]))
        .is_none());
    }

    #[test]
    fn probe_ports_are_read_from_health_checks() {
        let hc = |c: &str| HealthCheck { command: vec!["CMD-SHELL".into(), c.into()], ..Default::default() };
        assert_eq!(probe_port(&hc("curl -f http://localhost:8080/health || exit 1")).unwrap().0, 8080);
        assert_eq!(probe_port(&hc("wget -qO- http://127.0.0.1/health")).unwrap().0, 80);
        assert_eq!(probe_port(&hc("nc -z localhost 9000")).unwrap().0, 9000);
        assert!(probe_port(&hc("pg_isready")).is_none());
    }

    #[test]
    fn the_app_listening_elsewhere_gives_both_numbers() {
        let ev = stopped("ServiceSchedulerInitiated", "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1)")
            .log("web", &["> node server.js", "Server listening on http://0.0.0.0:3000"]);
        let Verdict::Found(f) = check(&ev) else { panic!("{:?}", check(&ev)) };
        assert_eq!(f.code, Cause::AppPortMismatch);
        assert_eq!(f.strength, Strength::Direct);
        assert_eq!(f.title, "Container `web` listens on port 3000 but its containerPort is 8080");
        assert!(f.fix[0].contains("listen on 8080"));
        assert!(f.fix[1].contains("`containerPort` to 3000"));
    }

    #[test]
    fn an_ignored_port_variable_is_named() {
        let ev = running()
            .log("web", &["Listening on port 3000"])
            .def("web", |d| d.environment.push(EnvVar { name: "PORT".into(), value: "8080".into() }));
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.evidence.iter().any(|e| e == "environment PORT = 8080: the app does not use it"));
    }

    #[test]
    fn a_health_check_on_another_port_is_found() {
        let ev = stopped("ServiceSchedulerInitiated", "Task failed container health checks")
            .log("web", &["listening on 0.0.0.0:8080"])
            .def("web", |d| {
                d.health_check = Some(HealthCheck {
                    command: vec!["CMD-SHELL".into(), "curl -f http://localhost:3000/health || exit 1".into()],
                    ..Default::default()
                })
            });
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.title.contains("probes port 3000 but the app listens on 8080"), "{}", f.title);
    }

    #[test]
    fn a_target_group_checking_another_port_is_found() {
        let arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1";
        let mut ev = running().log("web", &["listening on port 8080"]).svc(|s| {
            s.load_balancers.push(ServiceLoadBalancer {
                target_group_arn: Some(arn.into()),
                container_name: Some("web".into()),
                container_port: Some(8080),
                ..Default::default()
            })
        });
        ev.load_balancing.push(TargetGroupEvidence {
            arn: arn.into(),
            target_group: Fact::gathered(TargetGroup { name: "web".into(), health_check_port: Some("9000".into()), ..Default::default() }),
            ..Default::default()
        });
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.title.contains("health-checks port 9000 but the container port is 8080"), "{}", f.title);
        assert!(f.fix[0].contains("--health-check-port traffic-port"));
    }

    #[test]
    fn matching_ports_pass_silence_skips_and_an_unread_log_is_inconclusive() {
        assert!(matches!(check(&running().log("web", &["listening on port 8080"])), Verdict::Pass(_)));
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
        let mut unread = running();
        unread.logs[0].lines = Fact::Failed { action: "logs:GetLogEvents".into(), error: "ThrottlingException".into() };
        assert!(matches!(check(&unread), Verdict::Inconclusive(d) if d.contains("logs:GetLogEvents")));
        let crashed = stopped("EssentialContainerExited", "Essential container in task exited").log("web", &["boom"]);
        assert!(matches!(check(&crashed), Verdict::Skipped(_)));
        let no_ports = running().def("web", |d| d.port_mappings.clear());
        assert!(matches!(check(&no_ports), Verdict::Skipped(_)));
    }
}
