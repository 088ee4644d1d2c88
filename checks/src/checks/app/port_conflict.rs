//! ## What it detects
//! Two containers of one task bind the same port, or a container's host port
//! is already taken on its EC2 host: a container's log says `EADDRINUSE` or
//! `address already in use`, or Docker's text in a container reason says
//! `Bind for 0.0.0.0:80 failed: port is already allocated`. The task
//! definition then names the two containers: in `awsvpc` mode (every
//! Fargate task) all containers share one network namespace, so two
//! containers with the same `containerPort` collide; in `bridge` and `host`
//! mode the same `hostPort` collides on the host.
//!
//! ## Why it matters
//! The container that binds second exits at start-up; if it is essential,
//! the whole task stops, and a service replaces it with one that fails the
//! same way. Sidecars that listen on a common default port (an admin or
//! metrics port such as 8080 or 9090) are the usual culprits.
//!
//! ## Example
//! ```text
//! log (container metrics): Error: listen EADDRINUSE: address already in use :::8080
//! task definition (awsvpc): container web containerPort = 8080, container metrics containerPort = 8080
//! ```
//!
//! ## How to fix
//! Move one of the two containers to a free port: change the port its
//! process listens on and its `containerPort` (and `hostPort`) in the task
//! definition, then register a new revision and deploy it. Move the one
//! that is not behind the load balancer. On EC2 in `bridge` mode, a
//! dynamic host port (`hostPort: 0`) lets ECS pick a free one.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_portmappings
//! - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::{Evidence, TaskDefinition};
use crate::logs::{line_kind, port_in_use, LineKind};
use crate::report::{Finding, Strength, Verdict};
use crate::stops::{Detail, Source};

const DOC: &str = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_portmappings";

/// How the task's containers share ports.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `awsvpc` (and Fargate): one network namespace, so `containerPort` collides.
    Shared,
    /// `bridge` or `host` on EC2: the host's ports, so `hostPort` collides.
    Host,
}

impl Mode {
    fn of(td: &TaskDefinition) -> (Mode, String) {
        let mode = td.network_mode.clone().unwrap_or_else(|| "awsvpc".into());
        let kind = if mode.eq_ignore_ascii_case("bridge") || mode.eq_ignore_ascii_case("host") {
            Mode::Host
        } else {
            Mode::Shared
        };
        (kind, mode)
    }

    fn field(self) -> &'static str {
        match self {
            Mode::Shared => "containerPort",
            Mode::Host => "hostPort",
        }
    }

    fn why(self, mode: &str) -> String {
        match self {
            Mode::Shared => format!("networkMode {mode}: every container of the task shares one network namespace, so two cannot listen on one port"),
            Mode::Host => format!("networkMode {mode}: the host port is bound on the container instance, once"),
        }
    }
}

/// Every port two or more containers bind, with the containers, in task definition order.
fn shared_ports(td: &TaskDefinition, mode: Mode) -> Vec<(i32, Vec<String>)> {
    let mut ports: Vec<(i32, Vec<String>)> = Vec::new();
    for def in &td.containers {
        for m in &def.port_mappings {
            let port = match mode {
                Mode::Shared => m.container_port,
                Mode::Host if td.network_mode.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("host")) => {
                    m.host_port.or(m.container_port)
                }
                Mode::Host => m.host_port.filter(|p| *p != 0),
            };
            let Some(port) = port else { continue };
            match ports.iter_mut().find(|(p, _)| *p == port) {
                Some((_, names)) if !names.contains(&def.name) => names.push(def.name.clone()),
                Some(_) => {}
                None => ports.push((port, vec![def.name.clone()])),
            }
        }
    }
    ports.retain(|(_, names)| names.len() > 1);
    ports
}

/// The containers the service's load balancers send traffic to.
fn load_balanced(ev: &Evidence) -> Vec<String> {
    ev.service
        .value()
        .map(|s| s.load_balancers.iter().filter_map(|l| l.container_name.clone()).collect())
        .unwrap_or_default()
}

/// The lowest port above `port` that no container of the task maps.
fn free_port(td: &TaskDefinition, port: i32) -> i32 {
    let used: Vec<i32> = td
        .containers
        .iter()
        .flat_map(|d| d.port_mappings.iter().flat_map(|m| [m.container_port, m.host_port]))
        .flatten()
        .collect();
    (port + 1..=65535).find(|p| !used.contains(p)).unwrap_or(port)
}

/// What says a port was taken: a log line (with the port it names) or a container reason.
struct Symptom {
    container: String,
    port: Option<i32>,
    quote: String,
}

fn symptoms(ctx: &Ctx) -> Vec<Symptom> {
    let ev = ctx.ev;
    let mut out: Vec<Symptom> = Vec::new();
    if let Some(t) = ctx.stops.stating(Detail::PortAllocated) {
        let container = match &t.source {
            Source::Container(name) => name.clone(),
            Source::Task | Source::EbsAttachment(_) => String::new(),
        };
        out.push(Symptom { container, port: None, quote: t.quote() });
    }
    for logs in &ev.logs {
        let line = ev
            .log_lines(&logs.container)
            .iter()
            .rev()
            .find(|l| line_kind(&l.message) == Some(LineKind::AddressInUse))
            .map(|l| (port_in_use(&l.message), l.message.trim().to_string()));
        // A line that names no port (Java's `BindException: Address already
        // in use`) is still a taken port.
        if let Some((port, line)) = line {
            out.push(Symptom {
                container: logs.container.clone(),
                port,
                quote: format!("container `{}` log line: \"{line}\"", logs.container),
            });
        }
    }
    out
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    // Without the task definition, neither the ports nor the logs (read
    // from its log configuration) are known.
    let Some(td) = ev.task_def() else {
        return crate::task::unknown_task_definition(ev);
    };
    let found = symptoms(ctx);
    let (mode, mode_name) = Mode::of(td);
    let shared = shared_ports(td, mode);
    let lb = load_balanced(ev);
    if let Some(s) = found.first() {
        // The port in question: the one the line names, else the one the
        // complaining container shares with another.
        let conflict = shared.iter().find(|(port, names)| {
            s.port.map_or(names.contains(&s.container), |p| p == *port)
        });
        // The task never started, or this container's failure ended it.
        let ended = crate::stops::StopCode::of(ev) == crate::stops::StopCode::TaskFailedToStart
            || crate::task::ended_the_task(ev, &s.container);
        let strength = if ended { Strength::Direct } else { Strength::Corroborating };
        let who = if s.container.is_empty() { "A container".to_string() } else { format!("Container `{}`", s.container) };
        let Some((port, names)) = conflict else {
            let port = s.port.map(|p| format!("port {p}")).unwrap_or_else(|| "its port".into());
            let mut f = Finding::new(
                Cause::PortConflict,
                Strength::Corroborating,
                format!("{who} could not bind {port}: something else holds it"),
            )
            .evidence(s.quote.clone())
            .evidence(mode.why(&mode_name))
            .evidence(format!("no two containers of {} declare the same {}", td.label(), mode.field()));
            f = match mode {
                Mode::Shared => f.fix(format!(
                    "Find which process of the task listens on {port}: a container that binds it without declaring it in portMappings (a sidecar's admin or metrics port), or a second process in the same container. Move one of them to a free port."
                )),
                Mode::Host => f.fix(format!(
                    "Another task or process on the container instance holds {port}: give the container a dynamic host port (`hostPort: 0` in bridge mode), or keep one such task per instance (placement constraint `distinctInstance`)."
                )),
            };
            return f.doc(DOC).into_verdict();
        };
        // Move the one that failed, unless the load balancer sends to it.
        let mover = if !s.container.is_empty() && names.contains(&s.container) && !lb.contains(&s.container) {
            s.container.clone()
        } else {
            names.iter().find(|n| !lb.contains(n)).unwrap_or(&names[names.len() - 1]).clone()
        };
        let to = free_port(td, *port);
        let list = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" and ");
        let mut f = Finding::new(
            Cause::PortConflict,
            strength,
            format!("Containers {list} of the task both bind port {port}"),
        )
        .evidence(s.quote.clone())
        .evidence(format!(
            "task definition {}: {} = {port} in {list}",
            td.label(),
            mode.field()
        ))
        .evidence(mode.why(&mode_name));
        if lb.iter().any(|n| names.contains(n)) {
            f = f.evidence(format!(
                "the service's load balancer sends to {}",
                lb.iter().filter(|n| names.contains(n)).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ));
        }
        f = f.fix(format!(
            "Move container `{mover}` to port {to}: make its process listen on {to} and set its {} to {to} in the task definition, then register the revision and deploy it.",
            match mode {
                Mode::Shared => "containerPort (and hostPort)",
                Mode::Host => "hostPort",
            }
        ));
        if mode == Mode::Host && td.network_mode.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("bridge")) {
            f = f.fix(format!("Or give `{mover}` a dynamic host port (`hostPort: 0`), so ECS picks a free one."));
        }
        return f.doc(DOC).into_verdict();
    }
    let Some((port, names)) = shared.first() else {
        // A port taken by something the task definition does not declare is
        // seen only in the logs: unread logs decide nothing.
        if let Some((name, why)) = crate::task::failed_with_an_error(ev)
            .and_then(|c| ev.log_gap(&c.name).map(|why| (c.name.clone(), why)))
        {
            return Verdict::Inconclusive(format!(
                "no two containers declare the same port, and the log of `{name}`, which failed, could not be read to see whether a port was in use ({why})"
            ));
        }
        return Verdict::Skipped("no two containers bind the same port, and no log line or stop text says a port is in use".into());
    };
    let list = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" and ");
    let failed = crate::task::failed_with_an_error(ev);
    let Some(failed) = failed else {
        return Verdict::Skipped(format!(
            "containers {list} both declare port {port}, but no container failed"
        ));
    };
    let unread: Vec<String> = names
        .iter()
        .filter_map(|n| ev.log_gap(n).map(|why| format!("`{n}`: {why}")))
        .collect();
    if !unread.is_empty() {
        return Verdict::Inconclusive(format!(
            "containers {list} both declare port {port}, but their logs could not be read, so whether one failed to bind is unknown ({})",
            unread.join("; ")
        ));
    }
    let mover = names.iter().find(|n| !lb.contains(n)).unwrap_or(&names[names.len() - 1]);
    let to = free_port(td, *port);
    Finding::new(
        Cause::PortConflict,
        Strength::Circumstantial,
        format!("Containers {list} of the task both declare port {port}"),
    )
    .evidence(format!("task definition {}: {} = {port} in {list}", td.label(), mode.field()))
    .evidence(mode.why(&mode_name))
    .evidence(format!(
        "container `{}` exitCode = {}, but no log line says a port was in use",
        failed.name,
        failed.exit_code.unwrap_or_default()
    ))
    .fix(format!(
        "Move container `{mover}` to port {to}: make its process listen on {to} and set its {} to {to}, then register the revision and deploy it.",
        mode.field()
    ))
    .doc(DOC)
    .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::evidence::{Fact, PortMapping, ServiceLoadBalancer};
    use crate::testkit::{exited, found, running, stopped, EvidenceExt};

    // https://github.com/caprover/caprover/issues/560
    const NODE: &str = "Error: listen EADDRINUSE: address already in use :::80";
    // https://github.com/bropat/hassio-eufy-security-ws/issues/9
    const NODE_V4: &str = "Error: listen EADDRINUSE: address already in use 0.0.0.0:3000";
    // https://github.com/bitrixdock/bitrixdock/issues/228
    const DOCKER: &str = "Error response from daemon: driver failed programming external connectivity on endpoint web_server (3e506b7472216f49c47051b740ff26a7e6e97402148dfc4a4d8e183ae1e50e83): Bind for 0.0.0.0:80 failed: port is already allocated";

    fn port(p: i32) -> PortMapping {
        PortMapping { container_port: Some(p), host_port: Some(p), protocol: Some("tcp".into()) }
    }

    /// `web` (behind the load balancer) and `proxy` both on `p`; `proxy` logs `line`.
    fn two_on(p: i32, line: &str) -> Evidence {
        exited()
            .sidecar("proxy", true)
            .exit("proxy", Some(1), None)
            .exit("web", Some(143), None)
            .def("web", |d| d.port_mappings = vec![port(p)])
            .def("proxy", |d| d.port_mappings = vec![port(p)])
            .log("proxy", &[line])
            .svc(|s| {
                s.load_balancers.push(ServiceLoadBalancer {
                    container_name: Some("web".into()),
                    container_port: Some(p),
                    ..Default::default()
                })
            })
    }

    #[test]
    fn two_containers_on_one_port_in_awsvpc_name_the_one_to_move() {
        let f = found(check(&two_on(80, NODE)));
        assert_eq!(f.strength, Strength::Direct);
        assert_eq!(f.title, "Containers `web` and `proxy` of the task both bind port 80");
        assert!(f.evidence.iter().any(|e| e.contains("one network namespace")));
        assert!(f.fix[0].starts_with("Move container `proxy` to port 81"), "{}", f.fix[0]);
    }

    #[test]
    fn the_load_balanced_container_stays_put() {
        // `web` itself complains, but the load balancer sends to it: move `proxy`.
        let ev = two_on(3000, "ok").log("web", &[NODE_V4]).log("proxy", &["listening"]);
        let f = found(check(&ev));
        assert!(f.fix[0].starts_with("Move container `proxy` to port 3001"), "{}", f.fix[0]);
    }

    #[test]
    fn dockers_text_in_a_container_reason_on_a_bridge_host() {
        let ev = stopped("TaskFailedToStart", "Essential container in task exited")
            .exit("web", None, Some(DOCKER))
            .sidecar("admin", false)
            .def("web", |d| d.port_mappings = vec![port(80)])
            .def("admin", |d| d.port_mappings = vec![port(80)]);
        let mut ev = ev;
        if let Some(td) = ev.task_definition.value_mut() {
            td.network_mode = Some("bridge".into());
        }
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.evidence.iter().any(|e| e.contains("hostPort = 80")), "{:?}", f.evidence);
        assert!(f.fix.iter().any(|x| x.contains("`hostPort: 0`")));
    }

    #[test]
    fn a_port_held_by_something_undeclared_is_still_named() {
        let ev = exited().exit("web", Some(1), None).log("web", &[NODE]);
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.title.contains("could not bind port 80"), "{}", f.title);
    }

    #[test]
    fn silence_skips_and_a_declared_clash_with_unread_logs_is_inconclusive() {
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
        let mut ev = two_on(8080, "x");
        for l in &mut ev.logs {
            l.lines = Fact::Denied { action: "logs:GetLogEvents".into(), error: "AccessDeniedException".into() };
        }
        assert!(matches!(check(&ev), Verdict::Inconclusive(d) if d.contains("logs:GetLogEvents")));
        let quiet = two_on(8080, "listening on 0.0.0.0:9000");
        assert_eq!(found(check(&quiet)).strength, Strength::Circumstantial);
    }
}
