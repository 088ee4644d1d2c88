//! ## What it detects
//! An essential container of a **service** exited with code 0, so ECS
//! stopped the task (`stopCode = EssentialContainerExited`) although nothing
//! failed. A service expects its containers to run forever; a process that
//! returns 0 is a one-off job, a server that daemonized itself (forked into
//! the background and let PID 1 exit), or a command that did nothing
//! (`sh -c` with no foreground process, an entry point that only prints help).
//!
//! A standalone task (RunTask, a scheduled job) that exits 0 has simply
//! finished: the check passes it.
//!
//! ## Why it matters
//! The service scheduler replaces the task, which exits 0 again: the service
//! never reaches its desired count and the deployment may never stabilise,
//! yet every log looks clean.
//!
//! ## Example
//! ```text
//! stopCode      = EssentialContainerExited
//! stoppedReason = Essential container in task exited
//! container web: exitCode = 0
//! log (last line): nginx: daemon started
//! ```
//!
//! ## How to fix
//! Run the server in the foreground as PID 1 (`nginx -g 'daemon off;'`,
//! `apachectl -D FOREGROUND`, `exec gunicorn …` in the entry-point script).
//! If the work is a job, run it with `aws ecs run-task` or an EventBridge
//! schedule instead of a service.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/scheduled_tasks.html
//! - https://docs.docker.com/engine/containers/multi-service_container/

use crate::context::Ctx;
use crate::logs::excerpt::{log_hint, logs_of};
use crate::task::failed_essential_container;
use crate::stops::StopCode;
use crate::codes::Cause;
use crate::report::{Finding, Strength, Verdict};

/// Log fragments of a process that put itself in the background.
const DAEMON_HINTS: &[&str] = &["daemon", "detach", "background", "forking", "daemoniz"];

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    if !ev.is_stopped() {
        return Verdict::Skipped("the task is not stopped".into());
    }
    if !matches!(StopCode::of(ev), StopCode::EssentialContainerExited | StopCode::None) {
        return Verdict::Skipped(format!(
            "stopCode is {}, not an essential container exit",
            ev.task.stop_code.as_deref().unwrap_or("unset")
        ));
    }
    let Some(container) = failed_essential_container(ev) else {
        return Verdict::Inconclusive("no essential container reported an exit code".into());
    };
    if let Some(role) = crate::task::sidecar_role(ev, &container.name) {
        return Verdict::Pass(format!(
            "the essential container that ended the task, `{}`, is the {role}, not the app (see sidecar-failed)",
            container.name
        ));
    }
    if container.exit_code != Some(0) {
        return Verdict::Pass(format!(
            "essential container `{}` exited {}, not 0",
            container.name,
            container.exit_code.unwrap_or_default()
        ));
    }
    let Some(service) = ev.service_name() else {
        return Verdict::Pass(format!(
            "standalone task (group {}): container `{}` finished its work and exited 0",
            ev.task.group.as_deref().unwrap_or("unset"),
            container.name
        ));
    };
    let strength = if StopCode::of(ev) == StopCode::EssentialContainerExited {
        Strength::Direct
    } else {
        Strength::Corroborating
    };
    let mut f = Finding::new(
        Cause::AppExitZero,
        strength,
        format!(
            "Essential container `{}` of service `{service}` exited 0: its main process ended without an error",
            container.name
        ),
    )
    .evidence(format!(
        "stopCode = {}; stoppedReason = \"{}\"",
        ev.task.stop_code.as_deref().unwrap_or("unset"),
        ev.task.stopped_reason.as_deref().unwrap_or("")
    ))
    .evidence(format!("container `{}` exitCode = 0", container.name))
    .evidence(format!("the task belongs to service `{service}` (group {})", ev.task.group.as_deref().unwrap_or("")));
    if let Some(def) = ev.task_def().and_then(|td| td.container(&container.name)) {
        let cmd: Vec<&str> = def.entry_point.iter().chain(def.command.iter()).map(String::as_str).collect();
        if !cmd.is_empty() {
            f = f.evidence(format!("entryPoint + command = {:?}", cmd));
        }
    }
    let lines = ev.log_lines(&container.name);
    let daemon = lines
        .iter()
        .rev()
        .find(|l| crate::text::contains_any(&l.message, DAEMON_HINTS));
    match (daemon, lines.last()) {
        (Some(l), _) => {
            f = f.evidence(format!(
                "the log suggests the process went to the background: \"{}\"",
                l.message.trim()
            ))
        }
        (None, Some(l)) => f = f.evidence(format!("last log line: \"{}\"", l.message.trim())),
        (None, None) => {
            let why = logs_of(ev, &container.name)
                .and_then(|l| l.lines.gap_reason())
                .unwrap_or_else(|| "the log stream is empty".to_string());
            f = f.evidence(format!("no log lines: {why}"));
        }
    }
    if let Some(svc) = ev.service.value() {
        let restarts = svc
            .events
            .iter()
            .filter(|e| crate::text::contains_any(&e.message, &["has started", "has stopped"]))
            .count();
        if restarts >= 4 {
            f = f.evidence(format!(
                "the service's last {} events include {restarts} task starts/stops: it keeps replacing the task",
                svc.events.len()
            ));
        }
    }
    let f = f.fix("Run the server in the foreground as PID 1: e.g. `nginx -g 'daemon off;'`, `apachectl -D FOREGROUND`, and `exec <server>` as the last line of an entry-point script.")
        .fix(format!(
            "Check what the process printed before it returned: {}.",
            log_hint(ev, &container.name)
        ))
        .fix("If this container is a one-off job, run it as a standalone task (`aws ecs run-task`) or an EventBridge scheduled task instead of a service; if it is a helper, set `\"essential\": false`.");
    crate::restart::annotate(f, ev, container)
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    
    crate::check_under_test!();
    use crate::testkit::{exited, running, stopped, EvidenceExt};


    #[test]
    fn a_service_container_that_exits_0_is_found() {
        let ev = exited().exit("web", Some(0), None).log("web", &["starting nginx", "nginx: daemon started"]);
        let Verdict::Found(f) = check(&ev) else { panic!("{:?}", check(&ev)) };
        assert_eq!(f.code, Cause::AppExitZero);
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.evidence.iter().any(|e| e.contains("went to the background: \"nginx: daemon started\"")));
    }

    #[test]
    fn exit_0_wins_over_sidecars_torn_down() {
        let ev = exited().sidecar("envoy", true).exit("envoy", Some(143), None).exit("web", Some(0), None);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.title.contains("`web`"));
    }

    #[test]
    fn a_standalone_job_that_exits_0_passes() {
        let ev = exited().standalone().exit("web", Some(0), None);
        assert!(matches!(check(&ev), Verdict::Pass(d) if d.contains("finished its work")));
    }

    #[test]
    fn errors_and_other_stops_are_not_exit_zero() {
        assert!(matches!(check(&exited().exit("web", Some(1), None)), Verdict::Pass(_)));
        let dep = stopped("ServiceSchedulerInitiated", "Scaling activity initiated by (deployment ecs-svc/1)")
            .exit("web", Some(0), None);
        assert!(matches!(check(&dep), Verdict::Skipped(_)));
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
    }
}
