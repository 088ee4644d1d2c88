//! ## What it detects
//! A running task that was started without ECS Exec: `DescribeTasks`
//! reports `enableExecuteCommand: false`. For a service's task it also
//! reads the service's own `enableExecuteCommand`, which decides the tasks
//! its next deployment starts, not the ones already running.
//!
//! ## Why it matters
//! ECS only starts the ECS Exec agent in a task launched with the flag
//! set; `aws ecs execute-command` against any other task fails with
//! `InvalidParameterException: The execute command failed because execute
//! command was not enabled when the task was run`. Turning the flag on for a
//! service changes nothing for its running tasks, which is why "I enabled
//! it and it still fails" is the most common ECS Exec question.
//!
//! ## Example
//! ```text
//! DescribeTasks:    enableExecuteCommand = false
//! DescribeServices: enableExecuteCommand = true (set after this task started)
//! ```
//!
//! ## How to fix
//! For a service: `aws ecs update-service --cluster C --service S
//! --enable-execute-command --force-new-deployment`, then exec into one of
//! the new tasks. For a standalone task: run it again with
//! `aws ecs run-task … --enable-execute-command`.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec-run.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::Fact;
use crate::report::{Finding, Strength, Verdict};
use crate::task::cluster_name;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let service = ev.service.value();
    let service_line = match (&ev.service, service.and_then(|s| s.enable_execute_command)) {
        (_, Some(true)) => Some("the service has enableExecuteCommand = true, so the tasks it starts from now on have ECS Exec".to_string()),
        (_, Some(false)) => Some("the service has enableExecuteCommand = false, so its next tasks will not have ECS Exec either".to_string()),
        (Fact::NotApplicable { .. }, None) => None,
        (other, None) => Some(format!(
            "the service's setting is unknown: {}",
            other.gap_reason().unwrap_or_default()
        )),
    };
    match ev.task.enable_execute_command {
        Some(true) => {
            let mut detail = "enableExecuteCommand is true on the task".to_string();
            if let Some(line) = service_line {
                detail.push_str(&format!("; {line}"));
            }
            Verdict::Pass(detail)
        }
        None => Verdict::Inconclusive("DescribeTasks did not say whether ECS Exec was enabled on the task".into()),
        Some(false) => {
            let mut f = Finding::new(
                Cause::ExecNotEnabled,
                Strength::Direct,
                format!("ECS Exec was not enabled when task {} started", ev.task.id),
            )
            .evidence("DescribeTasks: enableExecuteCommand = false; ECS starts the exec agent only in tasks launched with it");
            if let Some(line) = &service_line {
                f = f.evidence(line.clone());
            }
            let cluster = cluster_name(ev);
            f = match service {
                Some(s) if s.enable_execute_command == Some(true) => f.fix(format!(
                    "Start new tasks: aws ecs update-service --region {} --cluster {cluster} --service {} --force-new-deployment, then exec into one of them (the running ones keep the setting they started with).",
                    ev.region, s.name
                )),
                Some(s) => f.fix(format!(
                    "aws ecs update-service --region {} --cluster {cluster} --service {} --enable-execute-command --force-new-deployment, then exec into one of the new tasks.",
                    ev.region, s.name
                )),
                None => match ev.service_name() {
                    Some(name) => f.fix(format!(
                        "aws ecs update-service --region {} --cluster {cluster} --service {name} --enable-execute-command --force-new-deployment, then exec into one of the new tasks.",
                        ev.region
                    )),
                    None => f.fix("Run the task again with enableExecuteCommand: aws ecs run-task … --enable-execute-command.".to_string()),
                },
            };
            f.doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec-run.html")
                .into_verdict()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::exec::*;
    use crate::testkit::found;
    crate::check_under_test!();

    #[test]
    fn a_ready_task_passes() {
        assert!(matches!(check(&ready()), Verdict::Pass(_)));
    }

    #[test]
    fn a_task_started_without_it_is_found_and_the_service_fix_forces_a_deployment() {
        let mut ev = ready();
        ev.task.enable_execute_command = Some(false);
        ev.service.value_mut().unwrap().enable_execute_command = Some(false);
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.fix[0].contains("--service web --enable-execute-command --force-new-deployment"), "{:?}", f.fix);
    }

    #[test]
    fn a_service_enabled_after_the_task_started_says_so_and_needs_new_tasks_only() {
        let mut ev = ready();
        ev.task.enable_execute_command = Some(false);
        ev.service.value_mut().unwrap().enable_execute_command = Some(true);
        let f = found(check(&ev));
        assert!(f.evidence.iter().any(|e| e.contains("tasks it starts from now on")), "{:?}", f.evidence);
        assert!(!f.fix[0].contains("--enable-execute-command"), "{:?}", f.fix);
    }

    #[test]
    fn an_unreported_flag_is_inconclusive() {
        let mut ev = ready();
        ev.task.enable_execute_command = None;
        assert!(matches!(check(&ev), Verdict::Inconclusive(_)));
    }
}
