//! ## What it detects
//! An essential container exited with a non-zero code that no more specific
//! cause explains (not out-of-memory, not a command that could not run, not
//! a SIGTERM/SIGKILL during a requested stop), so ECS stopped the whole task
//! with `stopCode = EssentialContainerExited`. In a task with several
//! containers it names the essential container that failed first: sidecars
//! stopped with 137/143 afterwards are listed as context. It also explains a
//! task that never started because a `dependsOn` condition was not met (an
//! init container that exited non-zero, or did not finish within
//! `startTimeout`).
//!
//! A container with a restart policy (`restartPolicy`) is restarted in place
//! and its task keeps running, unless its exit code is one of
//! `ignoredExitCodes` or it exits less than `restartAttemptPeriod` seconds
//! (300 by default) after its last start or restart. When such a container
//! still ended the task, the finding says which of these the facts show: an
//! ignored code, a task that ran less than the period in all (never
//! restarted), or a longer one that may have restarted before, with the
//! failing log line counted when the stream holds it more than once (every
//! run of the container writes to the same stream). The same reading is
//! added to `app-exit-zero` and `app-out-of-memory`.
//!
//! ## Why it matters
//! When an essential container exits, ECS stops every other container of the
//! task. A service then starts a replacement that usually fails the same way,
//! and the deployment circuit breaker may roll back. The stop reason only says
//! «Essential container in task exited»: the cause is in the exit code and in
//! the container's last log lines, which this check quotes.
//!
//! ## Example
//! ```text
//! stopCode      = EssentialContainerExited
//! stoppedReason = Essential container in task exited
//! container web: exitCode = 1
//! container envoy: exitCode = 143 (stopped after web exited)
//! log: Error: connect ECONNREFUSED 10.0.3.25:5432
//! ```
//!
//! ## How to fix
//! Read the quoted log line and the lines before it: exit code 1 is the
//! application's own failure (an unhandled exception, a dependency it could
//! not reach, bad configuration); 134 is an `abort()`, 139 a segmentation
//! fault in native code. Fix the application or its configuration, register
//! a new task definition revision and redeploy. Reproduce locally with the
//! same image and environment (`docker run`), or use `aws ecs
//! execute-command` on a running copy.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resolve-stopped-errors.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-restart-policy.html

use crate::context::Ctx;
use crate::logs::excerpt::{decisive, log_evidence, log_hint};
use crate::task::failed_essential_container;
use crate::task::is_essential;
use crate::stops::StopCode;
use crate::codes::Cause;
use crate::evidence::{Container, Evidence};
use crate::logs::{line_kind, LineKind};
use crate::report::{Finding, Strength, Verdict};
use crate::stops::{self, StopKind};
use crate::task::dependency_failure;

/// What an exit code means, for the title.
pub(crate) fn exit_meaning(code: i32) -> &'static str {
    match code {
        1 => "application error (unhandled exception, startup failure or bad configuration)",
        2 => "a Go panic, or invalid command-line arguments",
        126 => "the command could not be invoked (not executable)",
        127 => "the command was not found",
        134 => "SIGABRT: abort() called, assertion failure or corrupted heap",
        137 => "SIGKILL: killed (out of memory, or not stopped in time)",
        139 => "SIGSEGV: segmentation fault in native code",
        143 => "SIGTERM: terminated",
        c if c > 128 && c < 160 => "killed by a signal",
        _ => "the application reported failure",
    }
}

/// How the other containers ended, as context lines.
pub(crate) fn sibling_context(ev: &Evidence, culprit: &str) -> Vec<String> {
    ev.task
        .containers
        .iter()
        .filter(|c| c.name != culprit)
        .filter_map(|c| {
            let code = c.exit_code?;
            let role = if is_essential(ev, c) { "essential" } else { "non-essential" };
            let note = match code {
                137 | 143 => format!("stopped by ECS after `{culprit}` exited (teardown), not the cause"),
                0 => "exited cleanly".to_string(),
                _ => "also failed".to_string(),
            };
            Some(format!("{role} container `{}` exitCode = {code}: {note}", c.name))
        })
        .collect()
}

/// A fix line for the kind of the decisive log line.
fn fix_for_line(kind: LineKind, message: &str) -> Option<String> {
    let addr = regex::Regex::new(r"(\d{1,3}(?:\.\d{1,3}){3}|[A-Za-z0-9.-]+\.[A-Za-z]{2,}):(\d{2,5})")
        .expect("valid address regex")
        .captures(message)
        .map(|c| format!("{}:{}", &c[1], &c[2]));
    Some(match kind {
        LineKind::ConnectionRefused | LineKind::Timeout => match addr {
            Some(a) => format!(
                "The app could not reach a dependency at {a}: check that it is running, that its security group admits this task's security group on that port, and that the app waits and retries at start-up instead of exiting."
            ),
            None => "The app could not reach a dependency: check that it is running and reachable from the task's subnets and security groups, and let the app retry at start-up.".to_string(),
        },
        LineKind::PermissionDenied => "The process was refused access: check the image's USER and file modes, `readonlyRootFilesystem`, and (for AWS calls) the task role's permissions.".to_string(),
        LineKind::MissingFile => "A file the app needs is missing: check that the image contains it (`docker run --rm --entrypoint ls IMAGE -l PATH`) or that a volume mounts it.".to_string(),
        LineKind::AddressInUse => "Two processes bind the same port: in an awsvpc task every container shares one network namespace, so two containers cannot listen on the same port.".to_string(),
        LineKind::OutOfMemory => "The runtime ran out of heap: raise the runtime's heap limit (e.g. `-Xmx`, `--max-old-space-size`) or the container's `memory`.".to_string(),
        _ => return None,
    })
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    if !ev.is_stopped() {
        return Verdict::Skipped("the task is not stopped".into());
    }
    let stop = StopCode::of(ev);
    if let Some(dep) = dependency_failure(ev) {
        if dep.condition != "HEALTHY" {
            return dependency_finding(ev, &dep).into_verdict();
        }
    }
    if let Some(request) = stops::stop_request(ev) {
        return Verdict::Skipped(format!("the task was asked to stop ({request}), not ended by its own exit"));
    }
    if !matches!(
        stop,
        StopCode::EssentialContainerExited | StopCode::None | StopCode::Other(_) | StopCode::InfrastructureHealth
    ) {
        return Verdict::Skipped(format!(
            "stopCode is {}, not an essential container exit",
            ev.task.stop_code.as_deref().unwrap_or("unset")
        ));
    }
    let Some(container) = failed_essential_container(ev) else {
        return if ev.task.containers.iter().all(|c| c.exit_code.is_none()) {
            Verdict::Inconclusive("no container reported an exit code".into())
        } else {
            Verdict::Pass("no essential container exited with an error".into())
        };
    };
    if let Some(role) = crate::task::sidecar_role(ev, &container.name) {
        return Verdict::Pass(format!(
            "the essential container that ended the task, `{}`, is the {role}, not the app (see sidecar-failed)",
            container.name
        ));
    }
    let code = container.exit_code.unwrap_or_default();
    match code {
        0 => return Verdict::Pass(format!("essential container `{}` exited 0 (see app-exit-zero)", container.name)),
        126 | 127 => {
            return Verdict::Pass(format!(
                "essential container `{}` exited {code}: its command could not run (see app-command-not-found)",
                container.name
            ))
        }
        137 => {
            return Verdict::Pass(format!(
                "essential container `{}` was killed with SIGKILL (137) without a stop request (see app-out-of-memory)",
                container.name
            ))
        }
        _ => {}
    }
    if code == 143 && stop != StopCode::EssentialContainerExited {
        return Verdict::Pass(format!(
            "essential container `{}` exited 143 (SIGTERM) during a stop whose cause the stop code gives (stopCode = {})",
            container.name,
            ev.task.stop_code.as_deref().unwrap_or("unset")
        ));
    }
    if stops::container_reason_is(container, StopKind::OutOfMemory) {
        return Verdict::Pass(format!("container `{}` was killed for memory, not an application error", container.name));
    }
    exit_finding(ev, container, stop).into_verdict()
}

fn exit_finding(ev: &Evidence, container: &Container, stop: StopCode) -> Finding {
    let code = container.exit_code.unwrap_or_default();
    let strength = match (stop, code) {
        (_, 143) => Strength::Corroborating,
        (StopCode::EssentialContainerExited, _) => Strength::Direct,
        _ => Strength::Corroborating,
    };
    let title = if code == 143 {
        format!(
            "Essential container `{}` was terminated by SIGTERM (143) although nothing asked the task to stop",
            container.name
        )
    } else {
        format!("Essential container `{}` exited with code {code}: {}", container.name, exit_meaning(code))
    };
    let mut f = Finding::new(Cause::AppExitError, strength, title);
    if let Some(sc) = &ev.task.stop_code {
        f = f.evidence(format!(
            "stopCode = {sc}; stoppedReason = \"{}\"",
            ev.task.stopped_reason.as_deref().unwrap_or("")
        ));
    }
    f = f.evidence(format!("container `{}` exitCode = {code}", container.name));
    if let Some(reason) = container.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        f = f.evidence(format!("container `{}` reason = \"{reason}\"", container.name));
    }
    f = f.evidence(log_evidence(ev, &container.name));
    for line in sibling_context(ev, &container.name) {
        f = f.evidence(line);
    }
    // A more specific cause explains the exit: say so, and rank below it.
    let missing = super::app_missing_config::missing_settings(ev, &container.name);
    if let Some(m) = missing.first() {
        f = f.against(format!(
            "a more specific cause explains this exit: the log says `{}` is missing (app-missing-config)",
            m.name
        ));
    }
    let lines = ev.log_lines(&container.name);
    if let Some(l) = lines.iter().find(|l| line_kind(&l.message) == Some(LineKind::ExecFormat)) {
        f = f.against(format!(
            "a more specific cause explains this exit: \"{}\" means the image was built for another CPU architecture (image-platform-mismatch)",
            l.message.trim()
        ));
    } else if let Some(foreign) = crate::checks::image::image_platform_mismatch::foreign_image(ev, &container.name) {
        f = f.against(format!(
            "a more specific cause explains this exit: {foreign} (image-platform-mismatch)"
        ));
    }
    if let Some(l) = lines
        .iter()
        .find(|l| crate::logs::as_stop_text(&l.message).is(StopKind::DiskFull))
    {
        f = f.against(format!(
            "a more specific cause explains this exit: \"{}\" means the task's disk filled up (ephemeral-storage-exhausted)",
            l.message.trim()
        ));
    }
    if let Some(l) = lines.iter().rev().find(|l| crate::iam::access::denied_call(&l.message).is_some()) {
        f = f.against(format!(
            "a more specific cause explains this exit: \"{}\" is an AWS call the app was refused (task-role-permissions)",
            l.message.trim()
        ));
    }
    if let Some(l) = lines.iter().rev().find(|l| crate::logs::port_in_use(&l.message).is_some()) {
        f = f.against(format!(
            "a more specific cause explains this exit: \"{}\" means the port was taken (port-conflict)",
            l.message.trim()
        ));
    }
    let read_only = ev
        .task_def()
        .and_then(|td| td.container(&container.name))
        .is_some_and(|d| d.readonly_root_filesystem == Some(true));
    if let Some(l) = lines
        .iter()
        .rev()
        .find(|l| read_only && line_kind(&l.message) == Some(LineKind::ReadOnlyFilesystem))
    {
        f = f.against(format!(
            "a more specific cause explains this exit: \"{}\" is a write the read-only root file system refused (read-only-filesystem)",
            l.message.trim()
        ));
    }
    if let Some(line) = decisive(ev, &container.name) {
        if let Some(fix) = line_kind(&line.message).and_then(|k| fix_for_line(k, &line.message)) {
            f = f.fix(fix);
        }
    }
    f = match code {
        134 => f.fix("SIGABRT comes from native code or the runtime aborting: look for an assertion or `abort` message just before the exit, and check native libraries built for another libc (musl on Alpine vs glibc)."),
        139 => f.fix("SIGSEGV is a crash in native code: check native modules and the base image (musl vs glibc), and run the same image locally with the same CPU architecture."),
        143 => f.fix("Nothing in ECS asked this container to stop: look for a supervisor, script or health watchdog inside the container that sends SIGTERM to the main process."),
        _ => f,
    };
    let f = f.fix(format!(
        "Read the lines before the error in {} and fix the application or its configuration.",
        log_hint(ev, &container.name)
    ));
    crate::restart::annotate(f, ev, container)
        .fix("Register a new task definition revision with the fix and redeploy the service.")
    .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html")
}

fn dependency_finding(ev: &Evidence, dep: &crate::task::DependencyFailure<'_>) -> Finding {
    let title = format!(
        "Container `{}` never started: its dependency `{}` did not reach {} ({})",
        dep.dependent, dep.dependency.name, dep.condition, dep.outcome
    );
    let failed_exit = matches!(dep.dependency.exit_code, Some(c) if c != 0 && !crate::task::is_teardown_exit(c));
    let strength = if failed_exit { Strength::Direct } else { Strength::Corroborating };
    let mut f = Finding::new(Cause::AppExitError, strength, title).evidence(format!(
        "stopCode = {}; stoppedReason = \"{}\"",
        ev.task.stop_code.as_deref().unwrap_or("unset"),
        ev.task.stopped_reason.as_deref().unwrap_or("")
    ));
    f = f.evidence(dep.describe());
    f = f.evidence(format!("`{}`: {}", dep.dependency.name, log_evidence(ev, &dep.dependency.name)));
    f = if failed_exit {
        f.fix(format!(
            "Fix `{}` first: it must exit 0 for condition {}. Read its log in {}.",
            dep.dependency.name,
            dep.condition,
            log_hint(ev, &dep.dependency.name)
        ))
    } else {
        f.fix(format!(
            "Make `{}` finish sooner, or raise its `startTimeout` (in container `{}`'s definition) so `{}` waits long enough.",
            dep.dependency.name, dep.dependency.name, dep.dependent
        ))
    };
    f.fix("If the dependency is optional, change the condition (START instead of COMPLETE/SUCCESS) or remove it from `dependsOn`.")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    
    use crate::testkit::found;

    crate::check_under_test!();
    use crate::evidence::ContainerDependency;
    use crate::testkit::{exited, running, stopped, EvidenceExt};



    #[test]
    fn exit_1_quotes_the_log_line_and_suggests_the_dependency_fix() {
        let ev = exited().exit("web", Some(1), None).log(
            "web",
            &["server starting", "Error: connect ECONNREFUSED 10.0.3.25:5432", "    at TCPConnectWrap.afterConnect (node:net:1555:16)"],
        );
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("exited with code 1"));
        assert!(f.evidence.iter().any(|e| e == "last error in its log: \"Error: connect ECONNREFUSED 10.0.3.25:5432\""));
        assert!(f.fix[0].contains("10.0.3.25:5432"), "{}", f.fix[0]);
        assert!(f.against.is_empty());
    }

    #[test]
    fn sidecars_torn_down_are_context_not_the_cause() {
        let ev = exited()
            .sidecar("envoy", true)
            .exit("envoy", Some(137), None)
            .exit("web", Some(1), None);
        let f = found(check(&ev));
        assert!(f.title.contains("`web`"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("`envoy` exitCode = 137: stopped by ECS after `web` exited")));
    }

    #[test]
    fn the_first_container_to_fail_is_the_cause() {
        // Both failed; the worker's log stops first.
        let ev = exited()
            .sidecar("worker", true)
            .exit("web", Some(1), None)
            .exit("worker", Some(2), None)
            .log("web", &["a", "b", "c", "Error: lost worker"])
            .log("worker", &["Error: bad flag"]);
        assert!(found(check(&ev)).title.contains("`worker`"));
    }

    #[test]
    fn native_crashes_are_named() {
        let f = found(check(&exited().exit("web", Some(139), None)));
        assert!(f.title.contains("SIGSEGV"));
        let f = found(check(&exited().exit("web", Some(134), None)));
        assert!(f.title.contains("SIGABRT"));
    }

    #[test]
    fn a_missing_setting_speaks_against_the_generic_cause() {
        let ev = exited()
            .exit("web", Some(1), None)
            .log("web", &["Error: Missing required environment variable: DATABASE_URL"]);
        let f = found(check(&ev));
        assert_eq!(f.against.len(), 1);
        assert!(f.against[0].contains("app-missing-config"));
    }

    #[test]
    fn other_exit_codes_are_left_to_their_checks() {
        for code in [0, 126, 127, 137] {
            let ev = exited().exit("web", Some(code), None);
            assert!(matches!(check(&ev), Verdict::Pass(_)), "{code}");
        }
        let oom = exited().exit("web", Some(1), Some("OutOfMemoryError: Container killed due to memory usage"));
        assert!(matches!(check(&oom), Verdict::Pass(_)));
    }

    #[test]
    fn requested_stops_and_healthy_tasks_are_skipped() {
        let ev = stopped("UserInitiated", "Task stopped by user").exit("web", Some(1), None);
        assert!(matches!(check(&ev), Verdict::Skipped(_)));
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
        let none = exited();
        assert!(matches!(check(&none), Verdict::Inconclusive(_)));
    }

    #[test]
    fn a_failed_init_container_explains_a_task_that_never_started() {
        let ev = stopped("TaskFailedToStart", "Task failed to start")
            .sidecar("migrate", false)
            .exit("migrate", Some(1), None)
            .log("migrate", &["ERROR: relation \"users\" already exists"])
            .def("web", |d| {
                d.depends_on.push(ContainerDependency { container_name: "migrate".into(), condition: "SUCCESS".into() })
            });
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("`web` never started: its dependency `migrate` did not reach SUCCESS"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("relation")));
    }

    #[test]
    fn exit_143_without_a_stop_request_is_odd_but_reported() {
        let f = found(check(&exited().exit("web", Some(143), None)));
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.title.contains("SIGTERM"));
        let future = stopped("WorkloadRebalancing", "moved").exit("web", Some(143), None);
        assert!(matches!(check(&future), Verdict::Pass(_)));
    }
}

#[cfg(test)]
mod log_evidence_tests {
    use super::*;
    use crate::testkit::found;

    crate::check_under_test!();
    use crate::evidence::{Container, ContainerLogs, Fact, LogLine, TaskDefinition};

    fn exited_with_1() -> Evidence {
        let mut ev = Evidence::default();
        ev.task.last_status = "STOPPED".into();
        ev.task.stop_code = Some("EssentialContainerExited".into());
        ev.task.stopped_reason = Some("Essential container in task exited".into());
        ev.task.containers = vec![Container { name: "web".into(), exit_code: Some(1), ..Default::default() }];
        ev.task_definition = Fact::gathered(TaskDefinition::default());
        ev
    }


    #[test]
    fn quotes_the_decisive_log_line() {
        let mut ev = exited_with_1();
        ev.logs = vec![ContainerLogs {
            container: "web".into(),
            driver: "awslogs".into(),
            lines: Fact::gathered(vec![LogLine { timestamp: None, message: "Error: connect ECONNREFUSED 10.0.3.25:5432".into() }]),
            ..Default::default()
        }];
        assert!(found(check(&ev)).evidence.join("\n").contains("ECONNREFUSED 10.0.3.25:5432"));
    }

    #[test]
    fn denied_log_lines_are_named_not_hidden() {
        let mut ev = exited_with_1();
        ev.logs = vec![ContainerLogs {
            container: "web".into(),
            driver: "awslogs".into(),
            lines: Fact::Denied { action: "logs:GetLogEvents".into(), error: "AccessDeniedException".into() },
            ..Default::default()
        }];
        let evidence = found(check(&ev)).evidence.join("\n");
        assert!(evidence.contains("its log lines could not be read: logs:GetLogEvents was denied"), "{evidence}");
    }

    #[test]
    fn an_unknown_task_definition_is_not_called_no_log_configuration() {
        let mut ev = exited_with_1();
        ev.task_definition = Fact::Denied { action: "ecs:DescribeTaskDefinition".into(), error: "AccessDeniedException".into() };
        let evidence = found(check(&ev)).evidence.join("\n");
        assert!(!evidence.contains("it has no log configuration"), "{evidence}");
        assert!(evidence.contains("ecs:DescribeTaskDefinition was denied"), "{evidence}");
        // With the task definition known and no log configuration, it says so.
        assert!(found(check(&exited_with_1())).evidence.join("\n").contains("it has no log configuration"));
    }

    #[test]
    fn passes_when_the_essential_container_exited_cleanly() {
        let mut ev = exited_with_1();
        ev.task.containers[0].exit_code = Some(0);
        assert!(matches!(check(&ev), Verdict::Pass(_)));
    }
}
