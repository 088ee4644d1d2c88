//! ## What it detects
//! A container was killed for using more memory than it was given: its
//! `reason` (or the task's `stoppedReason`) says «OutOfMemoryError:
//! Container killed due to memory usage» in any spelling (Fargate writes it
//! in lower case, PV 1.4 may truncate it), usually with exit code 137. An
//! essential container that exits 137 while nothing asked the task to stop
//! is reported too, with less confidence, because a SIGKILL nobody requested
//! is almost always the kernel's out-of-memory killer.
//!
//! ## Why it matters
//! The container's hard limit (`memory` in the container definition) or the
//! task's memory was exceeded, and the kernel killed the process without
//! warning: no stack trace, often no log line at all. Replacements die the
//! same way under the same load.
//!
//! ## Example
//! ```text
//! stopCode      = EssentialContainerExited
//! container web: exitCode = 137, reason = "OutOfMemoryError: Container killed due to memory usage"
//! task memory = 512 MiB; container web: memory (hard limit) = 256 MiB
//! ```
//!
//! ## How to fix
//! Give the container more memory (raise `memory` on the container, or the
//! task's `memory` on Fargate, in a valid CPU/memory combination), or make
//! the application use less: cap the runtime's heap below the limit (JVM
//! `-XX:MaxRAMPercentage=75`, Node `--max-old-space-size`), fix leaks.
//! Container Insights' `MemoryUtilized` shows how close tasks run to the limit.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/out-of-memory.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html
//! - https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html

use crate::context::Ctx;
use crate::logs::excerpt::log_hint;
use crate::task::failed_essential_container;
use crate::stops::StopCode;
use crate::codes::Cause;
use crate::evidence::{Container, Evidence};
use crate::logs::{line_kind, LineKind};
use crate::report::{Finding, Strength, Verdict};
use crate::stops::{self, StopKind};

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    if !ev.is_stopped() {
        return Verdict::Skipped("the task is not stopped".into());
    }
    // 1. A container (or the task) says it was killed for memory.
    let by_reason = ev
        .task
        .containers
        .iter()
        .find(|c| ctx.stops.container_is(&c.name, StopKind::OutOfMemory));
    if let Some(c) = by_reason {
        let text = c.reason.clone().unwrap_or_default();
        return finding(ev, c, Strength::Direct, format!("container `{}` reason = \"{text}\"", c.name)).into_verdict();
    }
    if let Some(t) = ctx.stops.task().filter(|t| t.class.is(StopKind::OutOfMemory)) {
        let t = &t.text;
        let c = failed_essential_container(ev)
            .or_else(|| ev.task.containers.iter().find(|c| c.exit_code == Some(137)));
        return match c {
            Some(c) => finding(ev, c, Strength::Direct, format!("stoppedReason = \"{t}\"")).into_verdict(),
            None => Verdict::Inconclusive(format!(
                "stoppedReason = \"{t}\" but no container reported an exit code, so the container is unknown"
            )),
        };
    }
    // 2. An essential container got SIGKILL (137) with nothing to explain it.
    let Some(c) = failed_essential_container(ev).filter(|c| c.exit_code == Some(137)) else {
        return Verdict::Pass("no container reason mentions memory and no essential container was killed with 137".into());
    };
    if StopCode::of(ev) == StopCode::TaskFailedToStart {
        return Verdict::Pass(format!(
            "container `{}` was killed (137) while the task failed to start: a teardown, not memory",
            c.name
        ));
    }
    let mut f = finding(
        ev,
        c,
        Strength::Corroborating,
        format!("container `{}` exitCode = 137 (SIGKILL) and no container reason", c.name),
    );
    f.title = format!(
        "Container `{}` was killed with SIGKILL (137) and no reason: most likely out of memory",
        c.name
    );
    match stops::stop_request(ev) {
        Some(request) => {
            f = f
                .against(format!("the task was being stopped ({request}): a SIGKILL after a stop request is a stopTimeout, not memory (app-sigterm-timeout)"));
            f.strength = Strength::Circumstantial;
            f.title = format!(
                "Container `{}` was killed with SIGKILL (137): out of memory is possible, but the stop was requested",
                c.name
            );
        }
        None => {
            f = f.evidence(format!(
                "nothing asked the task to stop (stopCode = {}): a SIGKILL nobody requested is the kernel's out-of-memory killer",
                ev.task.stop_code.as_deref().unwrap_or("unset")
            ));
        }
    }
    f.into_verdict()
}

fn finding(ev: &Evidence, c: &Container, strength: Strength, decisive: String) -> Finding {
    let def = ev.task_def().and_then(|td| td.container(&c.name));
    let limit = def.and_then(|d| d.memory);
    let task_mem = ev.task.memory.clone().or_else(|| ev.task_def().and_then(|td| td.memory.clone()));
    let what = match (limit, &task_mem) {
        (Some(l), _) => format!("its {l} MiB hard limit"),
        (None, Some(t)) => format!("the task's {t} MiB"),
        (None, None) => "its memory".to_string(),
    };
    let mut f = Finding::new(
        Cause::AppOutOfMemory,
        strength,
        format!("Container `{}` was killed for using more than {what}", c.name),
    )
    .evidence(decisive);
    if let Some(code) = c.exit_code.filter(|_| !f.evidence.iter().any(|e| e.contains("exitCode"))) {
        f = f.evidence(format!("container `{}` exitCode = {code}", c.name));
    }
    let mut sizes = Vec::new();
    if let Some(t) = &task_mem {
        sizes.push(format!("task memory = {t} MiB"));
    }
    if let Some(l) = limit {
        sizes.push(format!("container `{}` memory (hard limit) = {l} MiB", c.name));
    }
    if let Some(r) = def.and_then(|d| d.memory_reservation) {
        sizes.push(format!("memoryReservation (soft limit) = {r} MiB"));
    }
    if !sizes.is_empty() {
        f = f.evidence(sizes.join("; "));
    }
    if let Some(l) = ev
        .log_lines(&c.name)
        .iter()
        .rev()
        .find(|l| line_kind(&l.message) == Some(LineKind::OutOfMemory))
    {
        f = f.evidence(format!("its log shows memory pressure: \"{}\"", l.message.trim()));
    }
    for line in super::app_exit_error::sibling_context(ev, &c.name) {
        f = f.evidence(line);
    }
    let fix = match (limit, &task_mem) {
        (Some(l), _) => format!(
            "Raise container `{}`'s `memory` (now {l} MiB), e.g. to {} MiB, keeping the sum of the containers within the task's memory.",
            c.name,
            l * 2
        ),
        (None, Some(t)) => match t.parse::<i64>() {
            Ok(m) => format!(
                "Raise the task's `memory` (now {m} MiB), e.g. to {} MiB, with a CPU value that allows it (Fargate CPU/memory combinations).",
                m * 2
            ),
            Err(_) => format!("Raise the task's `memory` (now {t})."),
        },
        (None, None) => "Raise the container's or the task's `memory`.".to_string(),
    };
    let mut f = f
        .fix(fix)
        .fix("Cap the runtime's heap below the limit (JVM `-XX:MaxRAMPercentage=75`, Node `--max-old-space-size=<MiB>`) and look for leaks; Container Insights' `MemoryUtilized` shows the trend.")
        .fix(format!("Check what the app was doing just before: {}.", log_hint(ev, &c.name)))
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/out-of-memory.html");
    f = crate::restart::annotate(f, ev, c);
    if StopCode::of(ev) == StopCode::EssentialContainerExited && !crate::task::is_essential(ev, c) {
        f = f.against(format!("container `{}` is not essential, so its death alone did not stop the task", c.name));
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::testkit::{exited, running, stopped, EvidenceExt};


    #[test]
    fn every_spelling_of_the_oom_reason_is_direct() {
        for reason in [
            "OutOfMemoryError: Container killed due to memory usage",
            "OutOfMemoryError: container killed due to memory usage",
            "OUTOFMEMORYERROR: CONTAINER KILLED",
            "OutOfMemoryErr",
            "Container killed due to memory usa",
        ] {
            let ev = exited().exit("web", Some(137), Some(reason)).def("web", |d| d.memory = Some(256));
            let Verdict::Found(f) = check(&ev) else { panic!("{reason}") };
            assert_eq!(f.strength, Strength::Direct, "{reason}");
            assert!(f.title.contains("256 MiB hard limit"), "{}", f.title);
            assert!(f.fix[0].contains("512 MiB"), "{}", f.fix[0]);
        }
    }

    #[test]
    fn the_task_memory_is_used_without_a_container_limit() {
        let mut ev = exited().exit("web", Some(137), Some("OutOfMemoryError: Container killed due to memory usage"));
        ev.task.memory = Some("512".into());
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.title.contains("the task's 512 MiB"));
        assert!(f.fix[0].contains("1024 MiB"));
    }

    #[test]
    fn a_sidecar_oom_is_found_even_when_the_app_was_torn_down() {
        let ev = exited()
            .sidecar("agent", true)
            .exit("web", Some(143), None)
            .exit("agent", Some(137), Some("OutOfMemoryError: container killed due to memory usage"));
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.title.contains("`agent`"));
    }

    #[test]
    fn a_bare_137_without_stop_request_is_corroborating() {
        let ev = exited().exit("web", Some(137), None);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.against.is_empty());
    }

    #[test]
    fn a_137_during_a_requested_stop_is_spoken_against() {
        let ev = stopped("ServiceSchedulerInitiated", "Scaling activity initiated by (deployment ecs-svc/1)")
            .exit("web", Some(137), None);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.against.len(), 1);
        assert_eq!(f.strength, Strength::Circumstantial);
    }

    #[test]
    fn a_sidecar_killed_after_the_app_crashed_is_not_oom() {
        let ev = exited().sidecar("envoy", true).exit("envoy", Some(137), None).exit("web", Some(1), None);
        assert!(matches!(check(&ev), Verdict::Pass(_)));
    }

    #[test]
    fn a_dependency_killed_when_the_task_gave_up_is_not_oom() {
        let ev = stopped("TaskFailedToStart", "Task failed to start")
            .sidecar("proxy", true)
            .exit("proxy", Some(137), None);
        assert!(matches!(check(&ev), Verdict::Pass(_)));
    }

    #[test]
    fn healthy_and_clean_tasks_pass() {
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
        assert!(matches!(check(&exited().exit("web", Some(0), None)), Verdict::Pass(_)));
    }
}
