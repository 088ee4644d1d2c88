//! ## What it detects
//! A container exited 137 (SIGKILL) after something asked the task to stop
//! (a user's `StopTask`, a deployment or scale-in, a Spot interruption,
//! maintenance, a failed health check) and nothing says it ran out of
//! memory: ECS sent SIGTERM, waited `stopTimeout` (30 s by default, at most
//! 120 s on Fargate) and then killed it.
//!
//! ## Why it matters
//! The process ignored SIGTERM or took too long to drain. In-flight requests
//! and jobs are cut off at every deployment and scale-in, connections are
//! not closed cleanly, and every stop takes the full `stopTimeout`, which
//! slows deployments down. The usual reason is that the app is not PID 1: a
//! shell-form `CMD` (`/bin/sh -c`) or an entry-point script that does not
//! `exec` swallows the signal.
//!
//! ## Example
//! ```text
//! stopCode      = ServiceSchedulerInitiated
//! stoppedReason = Scaling activity initiated by (deployment ecs-svc/1234567890123456789)
//! container web: exitCode = 137, no reason
//! container web: stopTimeout not set (30 s default); stoppingAt → stoppedAt = 31 s
//! ```
//!
//! ## How to fix
//! Make the app handle SIGTERM and exit within the timeout: use the exec
//! form of `CMD`/`ENTRYPOINT` (`["node", "server.js"]`), `exec` the server
//! in entry-point scripts, or enable an init process (`"initProcessEnabled":
//! true` in `linuxParameters`, or `tini`). If draining really takes longer,
//! raise `stopTimeout` (up to 120 s on Fargate).
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_timeout
//! - https://aws.amazon.com/blogs/containers/graceful-shutdowns-with-ecs/

use crate::context::Ctx;
use crate::logs::excerpt::log_hint;
use crate::codes::Cause;
use crate::evidence::Container;
use crate::report::{Finding, Strength, Verdict};
use crate::stops::{self, StopKind};

/// Log fragments of an app that received the signal and started shutting down.
const SIGTERM_SEEN: &[&str] = &["sigterm", "shutting down", "graceful shutdown", "received signal", "terminating", "draining"];

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    if !ev.is_stopped() {
        return Verdict::Skipped("the task is not stopped".into());
    }
    let Some(request) = stops::stop_request(ev) else {
        return Verdict::Skipped(format!(
            "nothing asked the task to stop (stopCode = {}): 137 then means memory or teardown, not a stop timeout",
            ev.task.stop_code.as_deref().unwrap_or("unset")
        ));
    };
    let killed: Vec<&Container> = ev.task.containers.iter().filter(|c| c.exit_code == Some(137)).collect();
    let Some(c) = killed.first().copied() else {
        let codes: Vec<String> = ev
            .task
            .containers
            .iter()
            .filter_map(|c| c.exit_code.map(|e| format!("`{}` {e}", c.name)))
            .collect();
        return Verdict::Pass(if codes.is_empty() {
            "no container reported an exit code".to_string()
        } else {
            format!("every container stopped within stopTimeout ({})", codes.join(", "))
        });
    };
    let def = ev.task_def().and_then(|td| td.container(&c.name));
    let timeout = def.and_then(|d| d.stop_timeout);
    let timeout_text = match timeout {
        Some(t) => format!("stopTimeout = {t}s"),
        None => "stopTimeout not set (30s default)".to_string(),
    };
    let mut f = Finding::new(
        Cause::AppSigtermTimeout,
        Strength::Direct,
        format!(
            "Container `{}` did not exit within {}s of SIGTERM and was killed (137)",
            c.name,
            timeout.unwrap_or(30)
        ),
    )
    .evidence(request)
    .evidence(format!("container `{}` exitCode = 137 (SIGKILL){}", c.name, if c.reason.is_none() { ", no reason" } else { "" }))
    .evidence(format!("container `{}`: {timeout_text}", c.name));
    for other in killed.iter().skip(1) {
        f = f.evidence(format!("container `{}` exitCode = 137 too", other.name));
    }
    if let (Some(a), Some(b)) = (
        ev.task.timestamps.stopping_at.as_deref(),
        ev.task.timestamps.execution_stopped_at.as_deref().or(ev.task.timestamps.stopped_at.as_deref()),
    ) {
        if let Some(secs) = crate::task::seconds_between(a, b) {
            f = f.evidence(format!("stoppingAt → stopped = {secs}s"));
        }
    }
    // Contradicting facts: memory, or a stop caused by a health check.
    if let Some(oom) = ctx.stops.container(&c.name).filter(|t| t.class.is(StopKind::OutOfMemory)) {
        f = f.against(format!("container `{}` reason = \"{}\": it was killed for memory (app-out-of-memory)", c.name, oom.text));
    }
    if ctx.stops.task_is(StopKind::ElbHealth) || ctx.stops.task_is(StopKind::ContainerHealth) {
        f = f.against("the task was stopped because it failed health checks: the forced kill follows from that stop, it is not why the task stopped");
    }
    let lines = ev.log_lines(&c.name);
    match lines.iter().rev().find(|l| crate::text::contains_any(&l.message, SIGTERM_SEEN)) {
        Some(l) => {
            f = f.evidence(format!(
                "the app saw the signal but did not finish in time: \"{}\"",
                l.message.trim()
            ))
        }
        None if !lines.is_empty() => {
            f = f.evidence("its log shows no sign of receiving SIGTERM (no shutdown message)")
        }
        None => {}
    }
    if let Some(d) = def {
        let cmd: Vec<&str> = d.entry_point.iter().chain(d.command.iter()).map(String::as_str).collect();
        if cmd.first().is_some_and(|c| *c == "sh" || *c == "/bin/sh" || *c == "bash" || *c == "/bin/bash") {
            f = f.evidence(format!(
                "entryPoint + command = {cmd:?}: a shell is PID 1 and does not forward SIGTERM to the app"
            ));
        }
    }
    let launch = ev.task.launch_type.as_deref().unwrap_or("");
    let max = if launch.eq_ignore_ascii_case("FARGATE") || ev.task.capacity_provider_name.as_deref().is_some_and(|c| c.starts_with("FARGATE")) {
        "; Fargate allows at most 120s"
    } else {
        ""
    };
    f.fix("Make the app exit on SIGTERM: use the exec form (`CMD [\"node\", \"server.js\"]`), `exec` the server as the last line of entry-point scripts, or set `\"linuxParameters\": {\"initProcessEnabled\": true}` so an init forwards signals.")
        .fix(format!(
            "If draining legitimately takes longer, raise container `{}`'s `stopTimeout` (now {}{max}).",
            c.name,
            timeout.map(|t| format!("{t}s")).unwrap_or_else(|| "30s by default".into())
        ))
        .fix(format!("See what it was doing when the stop came: {}.", log_hint(ev, &c.name)))
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::evidence::Evidence;
    crate::check_under_test!();
    use crate::testkit::{running, stopped, EvidenceExt};

    fn deployment() -> Evidence {
        stopped("ServiceSchedulerInitiated", "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)")
    }

    #[test]
    fn a_137_after_a_deployment_stop_cites_stop_timeout() {
        let mut ev = deployment().exit("web", Some(137), None).log("web", &["GET / 200", "GET / 200"]);
        ev.task.timestamps.stopping_at = Some("2026-01-01T12:00:00Z".into());
        ev.task.timestamps.execution_stopped_at = Some("2026-01-01T12:00:31Z".into());
        let Verdict::Found(f) = check(&ev) else { panic!("{:?}", check(&ev)) };
        assert_eq!(f.strength, Strength::Direct);
        assert_eq!(f.title, "Container `web` did not exit within 30s of SIGTERM and was killed (137)");
        assert!(f.evidence.iter().any(|e| e == "container `web`: stopTimeout not set (30s default)"));
        assert!(f.evidence.iter().any(|e| e == "stoppingAt → stopped = 31s"));
        assert!(f.evidence.iter().any(|e| e.contains("no sign of receiving SIGTERM")));
        assert!(f.fix[1].contains("(now 30s by default; Fargate allows at most 120s)"), "{}", f.fix[1]);
        assert!(f.against.is_empty());
    }

    #[test]
    fn a_shell_as_pid_1_is_pointed_out() {
        let ev = stopped("UserInitiated", "Task stopped by user")
            .exit("web", Some(137), None)
            .def("web", |d| {
                d.entry_point = vec!["sh".into(), "-c".into()];
                d.command = vec!["node server.js".into()];
                d.stop_timeout = Some(10);
            });
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.title.contains("within 10s"));
        assert!(f.evidence.iter().any(|e| e.contains("a shell is PID 1")));
    }

    #[test]
    fn oom_and_health_check_stops_speak_against() {
        let oom = deployment().exit("web", Some(137), Some("OutOfMemoryError: container killed due to memory usage"));
        let Verdict::Found(f) = check(&oom) else { panic!() };
        assert_eq!(f.against.len(), 1);
        let elb = stopped("ServiceSchedulerInitiated", "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/1)")
            .exit("web", Some(137), None);
        let Verdict::Found(f) = check(&elb) else { panic!() };
        assert_eq!(f.against.len(), 1);
    }

    #[test]
    fn a_sidecar_killed_after_the_app_crashed_is_not_a_stop_timeout() {
        let ev = stopped("EssentialContainerExited", "Essential container in task exited")
            .sidecar("envoy", true)
            .exit("web", Some(1), None)
            .exit("envoy", Some(137), None);
        assert!(matches!(check(&ev), Verdict::Skipped(_)));
    }

    #[test]
    fn clean_stops_pass() {
        assert!(matches!(check(&deployment().exit("web", Some(143), None)), Verdict::Pass(_)));
        assert!(matches!(check(&deployment().exit("web", Some(0), None)), Verdict::Pass(_)));
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
    }
}
