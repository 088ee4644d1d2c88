//! ## What it detects
//! An essential container exited with a non-zero code that no more specific
//! cause explains (not out-of-memory, not a command that could not run, not
//! a SIGTERM/SIGKILL during a stop), so ECS stopped the whole task with
//! `stopCode = EssentialContainerExited`.
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
//! log: Error: connect ECONNREFUSED 10.0.3.25:5432
//! ```
//!
//! ## How to fix
//! Read the quoted log line and the lines before it: exit code 1 is the
//! application's own failure (an unhandled exception, a dependency it could
//! not reach, bad configuration). Fix the application or its configuration,
//! register a new task definition revision and redeploy. Reproduce locally
//! with the same image and environment (`docker run`), or use
//! `aws ecs execute-command` on a running copy.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resolve-stopped-errors.html

use crate::classify::{failed_essential_container, StopCode};
use crate::codes::Cause;
use crate::evidence::Evidence;
use crate::logs::decisive_line;
use crate::report::{Finding, Strength, Verdict};

/// Exit codes that other checks explain more precisely.
fn explained_elsewhere(code: i32) -> bool {
    matches!(code, 0 | 126 | 127 | 137 | 143)
}

pub(crate) fn check(ev: &Evidence) -> Verdict {
    let stop = StopCode::of(ev);
    if !matches!(stop, StopCode::EssentialContainerExited | StopCode::None | StopCode::Other(_)) {
        return Verdict::Skipped(format!("stopCode is {}, not an essential container exit", ev.task.stop_code.as_deref().unwrap_or("unset")));
    }
    let Some(container) = failed_essential_container(ev) else {
        return if ev.task.containers.iter().all(|c| c.exit_code.is_none()) {
            Verdict::Inconclusive("no container reported an exit code".into())
        } else {
            Verdict::Pass("no essential container exited with an error".into())
        };
    };
    let code = container.exit_code.unwrap_or_default();
    if explained_elsewhere(code) {
        return Verdict::Pass(format!("essential container {} exited {code}, explained by a more specific check", container.name));
    }
    if container.reason.as_deref().is_some_and(|r| crate::classify::contains_any(r, &["outofmemory", "out of memory"])) {
        return Verdict::Pass(format!("container {} was killed for memory, not an application error", container.name));
    }
    let meaning = match code {
        1 => "application error (unhandled exception, startup failure or bad configuration)",
        2 => "misuse of a shell builtin or invalid arguments",
        134 => "SIGABRT: abort() called, assertion failure or corrupted heap",
        139 => "SIGSEGV: segmentation fault in native code",
        c if c > 128 && c < 160 => "killed by a signal",
        _ => "the application reported failure",
    };
    let strength = if stop == StopCode::EssentialContainerExited { Strength::Direct } else { Strength::Corroborating };
    let mut finding = Finding::new(
        Cause::AppExitError,
        strength,
        format!("Essential container `{}` exited with code {code}: {meaning}", container.name),
    );
    if let Some(sc) = &ev.task.stop_code {
        finding = finding.evidence(format!("stopCode = {sc}; stoppedReason = \"{}\"", ev.task.stopped_reason.as_deref().unwrap_or("")));
    }
    finding = finding.evidence(format!("container `{}` exitCode = {code}", container.name));
    let lines = ev.log_lines(&container.name);
    match decisive_line(lines) {
        Some(line) => {
            finding = finding.evidence(format!("last error in its log: \"{}\"", line.message.trim()));
        }
        None => {
            let log = ev.logs.iter().find(|l| l.container == container.name);
            let note = match log.map(|l| (&l.driver, l.lines.gap_reason())) {
                Some((_, Some(reason))) => format!("its log lines could not be read: {reason}"),
                Some((_, None)) if lines.is_empty() => "its log stream is empty".to_string(),
                Some(_) => format!("its last {} log lines show no error message", lines.len()),
                // Logs are only looked up through the task definition: without it,
                // whether the container logs anywhere is unknown, not "no".
                None => match ev.task_definition.gap_reason() {
                    Some(reason) if ev.task_definition.value().is_none() => {
                        format!("its log lines were not read: the task definition is unknown ({reason})")
                    }
                    _ => "it has no log configuration".to_string(),
                },
            };
            finding = finding.evidence(note);
        }
    }
    let log_hint = ev
        .logs
        .iter()
        .find(|l| l.container == container.name)
        .and_then(|l| Some(format!("aws logs tail {} --log-stream-names {} --since 1h", l.group.as_ref()?, l.stream.as_ref()?)))
        .unwrap_or_else(|| "the container's log destination".to_string());
    finding
        .fix(format!("Read the lines before the error in {log_hint} and fix the application or its configuration."))
        .fix("Register a new task definition revision with the fix and redeploy the service.")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Container, ContainerLogs, Fact, LogLine, TaskDefinition};

    fn exited_with_1() -> Evidence {
        let mut ev = Evidence::default();
        ev.task.stop_code = Some("EssentialContainerExited".into());
        ev.task.stopped_reason = Some("Essential container in task exited".into());
        ev.task.containers = vec![Container { name: "web".into(), exit_code: Some(1), ..Default::default() }];
        ev.task_definition = Fact::gathered(TaskDefinition::default());
        ev
    }

    fn evidence_of(v: Verdict) -> String {
        match v {
            Verdict::Found(f) => f.evidence.join("\n"),
            other => panic!("expected a finding, got {other:?}"),
        }
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
        assert!(evidence_of(check(&ev)).contains("ECONNREFUSED 10.0.3.25:5432"));
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
        let evidence = evidence_of(check(&ev));
        assert!(evidence.contains("its log lines could not be read: logs:GetLogEvents was denied"), "{evidence}");
    }

    #[test]
    fn an_unknown_task_definition_is_not_called_no_log_configuration() {
        let mut ev = exited_with_1();
        ev.task_definition = Fact::Denied { action: "ecs:DescribeTaskDefinition".into(), error: "AccessDeniedException".into() };
        let evidence = evidence_of(check(&ev));
        assert!(!evidence.contains("it has no log configuration"), "{evidence}");
        assert!(evidence.contains("ecs:DescribeTaskDefinition was denied"), "{evidence}");
        // With the task definition known and no log configuration, it says so.
        assert!(evidence_of(check(&exited_with_1())).contains("it has no log configuration"));
    }

    #[test]
    fn passes_when_the_essential_container_exited_cleanly() {
        let mut ev = exited_with_1();
        ev.task.containers[0].exit_code = Some(0);
        assert!(matches!(check(&ev), Verdict::Pass(_)));
    }
}
