//! ## What it detects
//! A task in which no container runs the ECS Exec agent: the task is not
//! `RUNNING`, its Fargate platform version predates ECS Exec (1.4.0), or
//! `DescribeTasks` reports the `ExecuteCommandAgent` managed agent of every
//! container as not `RUNNING` (or not at all). It names each container's
//! agent status and reason, and containers with `readonlyRootFilesystem`,
//! where the agent cannot create its files.
//!
//! ## Why it matters
//! `execute-command` opens its session through the agent inside the chosen
//! container; without it the call fails with `TargetNotConnectedException:
//! The execute command failed due to an internal error`. The agent starts
//! shortly after the container; a task just started needs a moment, one
//! whose agent stopped needs a new task.
//!
//! ## Example
//! ```text
//! DescribeTasks: containers[web].managedAgents[ExecuteCommandAgent].lastStatus = STOPPED
//!                reason = "Failed to start: open /var/lib/amazon/ssm: read-only file system"
//! task definition: container web has readonlyRootFilesystem = true
//! ```
//!
//! ## How to fix
//! Exec into a container whose agent is `RUNNING` (`--container`). For a
//! read-only root file system, set `readonlyRootFilesystem` to false (ECS
//! Exec does not support it). On Fargate, use platform version 1.4.0 or
//! later (`LATEST`). Then start a new task: the agent does not restart in a
//! running one.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
//! - https://github.com/aws-containers/amazon-ecs-exec-checker

use crate::codes::Cause;
use crate::context::Ctx;
use crate::exec::{agent_status, ready_containers, task_running, AGENT};
use crate::report::{Finding, Strength, Verdict};
use crate::task::on_fargate;

/// `1.3.0` → (1, 3, 0); `LATEST` and anything unparsable → None.
fn version(v: &str) -> Option<(u32, u32, u32)> {
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next().flatten().unwrap_or(0)))
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    if !task_running(ev) {
        return Finding::new(
            Cause::ExecAgentNotRunning,
            Strength::Direct,
            format!("Task {} is {}: ECS Exec reaches running tasks only", ev.task.id, ev.task.last_status),
        )
        .evidence(format!("DescribeTasks: lastStatus = {}", ev.task.last_status))
        .fix(format!("`ecs-doctor task {}` says why it stopped; exec into a running task of the same service instead.", ev.task.arn))
        .into_verdict();
    }
    if ev.task.enable_execute_command == Some(false) {
        return Verdict::Skipped("ECS Exec is not enabled on the task (exec-not-enabled), so no agent runs".into());
    }
    if on_fargate(ev) == Some(true) {
        if let Some(pv) = ev.task.platform_version.as_deref() {
            if version(pv).is_some_and(|v| v < (1, 4, 0)) {
                return Finding::new(
                    Cause::ExecAgentNotRunning,
                    Strength::Direct,
                    format!("Fargate platform version {pv} does not support ECS Exec (1.4.0 or later does)"),
                )
                .evidence(format!("DescribeTasks: platformVersion = {pv}"))
                .fix("Run the service or task on platform version LATEST (or 1.4.0 or later) with --enable-execute-command, and exec into a new task.")
                .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-linux-fargate.html")
                .into_verdict();
            }
        }
    }
    let ready = ready_containers(ev);
    if !ready.is_empty() {
        let names: Vec<&str> = ready.iter().map(|c| c.name.as_str()).collect();
        return Verdict::Pass(format!("the {AGENT} is RUNNING in container{} {}", if names.len() == 1 { "" } else { "s" }, names.join(", ")));
    }
    let mut evidence = Vec::new();
    let mut reported = false;
    let mut stopped = false;
    for c in &ev.task.containers {
        match agent_status(c) {
            Some(status) => {
                reported = true;
                stopped |= status.eq_ignore_ascii_case("STOPPED");
                let agent = c.managed_agents.iter().find(|a| a.name == AGENT);
                let reason = agent
                    .and_then(|a| a.reason.as_deref())
                    .map(|r| format!(", reason \"{r}\""))
                    .unwrap_or_default();
                evidence.push(format!("container {}: {AGENT} lastStatus = {status}{reason}", c.name));
            }
            None => evidence.push(format!("container {}: no {AGENT} among its managed agents", c.name)),
        }
    }
    let readonly: Vec<&str> = ev
        .task_def()
        .map(|td| {
            td.containers
                .iter()
                .filter(|c| c.readonly_root_filesystem == Some(true))
                .map(|c| c.name.as_str())
                .collect()
        })
        .unwrap_or_default();
    for name in &readonly {
        evidence.push(format!("container {name} has readonlyRootFilesystem = true: the agent cannot create its files there"));
    }
    let strength = if stopped || !readonly.is_empty() { Strength::Direct } else { Strength::Corroborating };
    let title = if stopped {
        format!("The ECS Exec agent stopped in every container of task {}", ev.task.id)
    } else if reported {
        format!("The ECS Exec agent is not running yet in any container of task {}", ev.task.id)
    } else {
        format!("No container of task {} reports the ECS Exec agent", ev.task.id)
    };
    let mut f = Finding::new(Cause::ExecAgentNotRunning, strength, title);
    f.evidence = evidence;
    if !readonly.is_empty() {
        f = f.fix(format!(
            "Set readonlyRootFilesystem to false for {} (ECS Exec does not support a read-only root file system), register the revision and deploy it.",
            readonly.join(", ")
        ));
    }
    if reported && !stopped {
        f = f.fix("The agent starts shortly after the container: wait a minute and run this again.");
    }
    f.fix("Start a new task with ECS Exec enabled: the agent does not restart inside a running task.")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::exec::*;
    use crate::testkit::found;
    crate::check_under_test!();

    #[test]
    fn a_running_agent_passes() {
        match check(&ready()) {
            Verdict::Pass(d) => assert!(d.contains("container web"), "{d}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_stopped_agent_in_a_read_only_container_names_both() {
        let mut ev = ready();
        set_agent(&mut ev, "STOPPED", Some("read-only file system"));
        ev.task_definition.value_mut().unwrap().containers[0].readonly_root_filesystem = Some(true);
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("stopped in every container"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("reason \"read-only file system\"")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("readonlyRootFilesystem to false for web"), "{:?}", f.fix);
    }

    #[test]
    fn a_pending_agent_says_to_wait() {
        let mut ev = ready();
        set_agent(&mut ev, "PENDING", None);
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.fix.iter().any(|x| x.contains("wait a minute")), "{:?}", f.fix);
    }

    #[test]
    fn an_old_fargate_platform_cannot_run_it() {
        let mut ev = ready();
        ev.task.platform_version = Some("1.3.0".into());
        assert!(found(check(&ev)).title.contains("1.3.0"));
        ev.task.platform_version = Some("LATEST".into());
        assert!(matches!(check(&ev), Verdict::Pass(_)));
    }

    #[test]
    fn a_stopped_task_is_found() {
        let mut ev = ready();
        ev.task.last_status = "STOPPED".into();
        assert!(found(check(&ev)).title.contains("running tasks only"));
    }

    #[test]
    fn a_task_without_exec_is_left_to_exec_not_enabled() {
        let mut ev = ready();
        ev.task.enable_execute_command = Some(false);
        assert!(matches!(check(&ev), Verdict::Skipped(_)));
    }
}
