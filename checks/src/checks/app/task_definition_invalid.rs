//! ## What it detects
//! Mistakes in a task definition that ECS reports only when it is
//! registered, deployed or started, judged before any of those happen
//! (`ecs-doctor preflight`):
//! - a container's `memory` or `memoryReservation` above the task's memory,
//!   or containers that together reserve more than the task has;
//! - `dependsOn` naming a container the task definition does not have, a
//!   cycle of dependencies, `HEALTHY` on a container without a
//!   `healthCheck`, or `COMPLETE` / `SUCCESS` on an essential container;
//! - a service load balancer whose `containerName` is not in the task
//!   definition, or whose `containerPort` that container does not map;
//! - a Fargate task definition whose network mode is not `awsvpc`.
//!
//! An essential container behind the load balancer without a container
//! `healthCheck` is noted, not found: ECS then relies on the target group's
//! health check, which is a sound set-up.
//!
//! ## Why it matters
//! Each one fails late: `RegisterTaskDefinition` or `UpdateService` refuses
//! it in the pipeline's last step, or the task never starts (a dependency
//! that cannot become `HEALTHY` times out, a load balancer cannot register a
//! port no container listens on). A preflight names it while it is still a
//! line in a JSON file.
//!
//! ## Example
//! ```text
//! container worker: memoryReservation 1024 MiB > task memory 512 MiB
//! container web: dependsOn envoy HEALTHY, but envoy has no healthCheck
//! service web: load balancer targets web:8080; web maps 3000 only
//! ```
//!
//! ## How to fix
//! Raise the task's `memory` or lower the container's; give the dependency
//! a `healthCheck` or use `START`; make a `COMPLETE`/`SUCCESS` dependency
//! non-essential; map the load balancer's port in `portMappings` (or point
//! the service at the port the container maps). Then register the revision.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-load-balancing.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::{ContainerDefinition, TaskDefinition};
use crate::report::{Finding, Strength, Verdict};
use crate::task::unknown_task_definition;

/// One mistake: what is wrong, and how to fix it.
struct Mistake {
    fact: String,
    fix: String,
}

fn mistake(fact: String, fix: String) -> Mistake {
    Mistake { fact, fix }
}

/// The task's memory in MiB (`"512"`, or `"1 GB"` as the console writes it).
fn task_memory(td: &TaskDefinition) -> Option<i32> {
    let m = td.memory.as_deref()?.trim().to_ascii_lowercase();
    if let Some(gb) = m.strip_suffix("gb") {
        return gb.trim().parse::<f64>().ok().map(|g| (g * 1024.0) as i32);
    }
    m.parse().ok()
}

fn memory(td: &TaskDefinition, out: &mut Vec<Mistake>) {
    let Some(task) = task_memory(td) else { return };
    let mut reserved = 0;
    for c in &td.containers {
        for (field, value) in [("memory", c.memory), ("memoryReservation", c.memory_reservation)] {
            if let Some(v) = value.filter(|v| *v > task) {
                out.push(mistake(
                    format!("container {}: {field} {v} MiB is more than the task's memory {task} MiB", c.name),
                    format!("Lower {field} of {} to at most {task}, or raise the task's memory.", c.name),
                ));
            }
        }
        reserved += c.memory_reservation.or(c.memory).unwrap_or(0);
    }
    if reserved > task && td.containers.iter().all(|c| c.memory.unwrap_or(0) <= task && c.memory_reservation.unwrap_or(0) <= task) {
        out.push(mistake(
            format!("the containers reserve {reserved} MiB together, more than the task's memory {task} MiB"),
            format!("Raise the task's memory to at least {reserved} MiB, or lower the containers' reservations."),
        ));
    }
}

/// A cycle of `dependsOn`, as the container names around it.
fn cycle(td: &TaskDefinition) -> Option<Vec<String>> {
    fn visit<'a>(td: &'a TaskDefinition, name: &'a str, path: &mut Vec<&'a str>) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| *n == name) {
            let mut ring: Vec<String> = path[start..].iter().map(|n| n.to_string()).collect();
            ring.push(name.to_string());
            return Some(ring);
        }
        let c = td.container(name)?;
        path.push(name);
        for d in &c.depends_on {
            if let Some(ring) = visit(td, &d.container_name, path) {
                return Some(ring);
            }
        }
        path.pop();
        None
    }
    td.containers.iter().find_map(|c| visit(td, &c.name, &mut Vec::new()))
}

fn dependencies(td: &TaskDefinition, out: &mut Vec<Mistake>) {
    for c in &td.containers {
        for d in &c.depends_on {
            let condition = d.condition.to_ascii_uppercase();
            let Some(target) = td.container(&d.container_name) else {
                out.push(mistake(
                    format!("container {}: dependsOn {} {condition}, but the task definition has no container {}", c.name, d.container_name, d.container_name),
                    format!("Fix the name in {}'s dependsOn, or add container {}.", c.name, d.container_name),
                ));
                continue;
            };
            if condition == "HEALTHY" && target.health_check.is_none() {
                out.push(mistake(
                    format!("container {}: dependsOn {} HEALTHY, but {} has no healthCheck, so it never becomes healthy", c.name, target.name, target.name),
                    format!("Give {} a healthCheck, or depend on it with START.", target.name),
                ));
            }
            if matches!(condition.as_str(), "COMPLETE" | "SUCCESS") && target.essential {
                out.push(mistake(
                    format!("container {}: dependsOn {} {condition}, but {} is essential: when it exits, the task stops", c.name, target.name, target.name),
                    format!("Set \"essential\": false on {} (it is expected to exit).", target.name),
                ));
            }
        }
    }
    if let Some(ring) = cycle(td) {
        out.push(mistake(
            format!("dependsOn forms a cycle: {}", ring.join(" → ")),
            "Remove one dependency of the cycle: ECS cannot start any container of it.".to_string(),
        ));
    }
}

fn maps(c: &ContainerDefinition, port: i32) -> bool {
    c.port_mappings.iter().any(|p| p.container_port == Some(port))
}

fn load_balancers(ctx: &Ctx, td: &TaskDefinition, out: &mut Vec<Mistake>) {
    let Some(service) = ctx.ev.service.value() else { return };
    for lb in &service.load_balancers {
        let (Some(name), Some(port)) = (&lb.container_name, lb.container_port) else { continue };
        match td.container(name) {
            None => out.push(mistake(
                format!("service {}: its load balancer targets container {name}, which the task definition does not have", service.name),
                format!("Name the container {name} in the task definition, or update the service's load balancer to a container it has ({}).",
                    td.containers.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")),
            )),
            Some(c) if !maps(c, port) => {
                let mapped: Vec<String> = c.port_mappings.iter().filter_map(|p| p.container_port).map(|p| p.to_string()).collect();
                out.push(mistake(
                    format!(
                        "service {}: its load balancer targets {name}:{port}, but {name} maps {}",
                        service.name,
                        if mapped.is_empty() { "no port".to_string() } else { format!("port {}", mapped.join(", ")) }
                    ),
                    format!("Add {{\"containerPort\": {port}}} to {name}'s portMappings (and make the app listen on it), or point the service's load balancer at a mapped port."),
                ));
            }
            Some(_) => {}
        }
    }
}

/// Essential containers behind the service's load balancer without a
/// container health check. Not a mistake -- ECS then judges them by the
/// target group's health check alone -- so it is said, not found.
fn unguarded(ctx: &Ctx, td: &TaskDefinition) -> Vec<String> {
    let Some(service) = ctx.ev.service.value() else { return Vec::new() };
    let mut out: Vec<String> = Vec::new();
    for lb in &service.load_balancers {
        let Some(c) = lb.container_name.as_deref().and_then(|n| td.container(n)) else { continue };
        let line = format!(
            "container {} behind the load balancer is essential and has no healthCheck: only the target group's health check judges it",
            c.name
        );
        if c.essential && c.health_check.is_none() && !out.contains(&line) {
            out.push(line);
        }
    }
    out
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let mut found = Vec::new();
    memory(td, &mut found);
    dependencies(td, &mut found);
    load_balancers(ctx, td, &mut found);
    let fargate = td.requires_compatibilities.iter().any(|c| c.eq_ignore_ascii_case("FARGATE"));
    if fargate && td.network_mode.as_deref().is_some_and(|m| m != "awsvpc") {
        found.push(mistake(
            format!("networkMode is {}, and Fargate runs awsvpc only", td.network_mode.as_deref().unwrap_or_default()),
            "Set \"networkMode\": \"awsvpc\".".to_string(),
        ));
    }
    let notes = unguarded(ctx, td);
    let Some(first) = found.first() else {
        let mut detail = format!(
            "memory, dependsOn{} and network mode are consistent",
            if ev.service.value().is_some_and(|s| !s.load_balancers.is_empty()) { ", the load balancer's container and port" } else { "" }
        );
        for note in &notes {
            detail.push_str(&format!("; note: {note}"));
        }
        return Verdict::Pass(detail);
    };
    let title = match found.len() {
        1 => format!("Task definition {}: {}", td.family, first.fact),
        n => format!("Task definition {} has {n} mistakes, first: {}", td.family, first.fact),
    };
    let mut f = Finding::new(Cause::TaskDefinitionInvalid, Strength::Direct, title);
    for m in &found {
        f = f.evidence(m.fact.clone()).fix(m.fix.clone());
    }
    for note in notes {
        f = f.evidence(format!("note: {note}"));
    }
    f.doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{ContainerDependency, HealthCheck, ServiceLoadBalancer};
    use crate::testkit::preflight::*;
    use crate::testkit::{container_def, found};
    crate::check_under_test!();

    #[test]
    fn a_sound_task_definition_passes() {
        assert!(matches!(check(&clean()), Verdict::Pass(_)));
    }

    #[test]
    fn memory_above_the_task_is_named_per_container_and_together() {
        let mut ev = clean();
        let td = ev.task_definition.value_mut().unwrap();
        td.containers[0].memory_reservation = Some(1024);
        let f = found(check(&ev));
        assert!(f.title.contains("memoryReservation 1024 MiB is more than the task's memory 512 MiB"), "{}", f.title);

        let mut ev = clean();
        let td = ev.task_definition.value_mut().unwrap();
        td.containers[0].memory_reservation = Some(400);
        let mut sidecar = container_def("envoy");
        sidecar.memory_reservation = Some(256);
        td.containers.push(sidecar);
        assert!(found(check(&ev)).title.contains("reserve 656 MiB together"));
    }

    #[test]
    fn dependencies_that_cannot_be_met() {
        let mut ev = clean();
        let td = ev.task_definition.value_mut().unwrap();
        let mut envoy = container_def("envoy");
        envoy.essential = true;
        td.containers.push(envoy);
        td.containers[0].depends_on = vec![
            ContainerDependency { container_name: "envoy".into(), condition: "HEALTHY".into() },
            ContainerDependency { container_name: "migrate".into(), condition: "SUCCESS".into() },
        ];
        let f = found(check(&ev));
        let evidence = f.evidence.join("\n");
        assert!(evidence.contains("envoy has no healthCheck"), "{evidence}");
        assert!(evidence.contains("no container migrate"), "{evidence}");

        let mut ev = clean();
        let td = ev.task_definition.value_mut().unwrap();
        let mut a = container_def("a");
        a.health_check = Some(HealthCheck::default());
        a.depends_on = vec![ContainerDependency { container_name: "web".into(), condition: "START".into() }];
        td.containers[0].depends_on = vec![ContainerDependency { container_name: "a".into(), condition: "COMPLETE".into() }];
        td.containers.push(a);
        let evidence = found(check(&ev)).evidence.join("\n");
        assert!(evidence.contains("cycle: web → a → web"), "{evidence}");
        assert!(evidence.contains("but a is essential"), "{evidence}");
    }

    #[test]
    fn a_load_balancer_port_the_container_does_not_map() {
        let mut ev = clean();
        ev.service.value_mut().unwrap().load_balancers = vec![ServiceLoadBalancer {
            container_name: Some("web".into()),
            container_port: Some(3000),
            ..Default::default()
        }];
        let f = found(check(&ev));
        assert!(f.title.contains("targets web:3000, but web maps port 8080"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.starts_with("note: container web behind the load balancer")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("{\"containerPort\": 3000}"), "{:?}", f.fix);
    }
}
