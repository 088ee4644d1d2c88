//! Task scale-in protection during a deployment: the older tasks an app
//! has protected (`ecs:GetTaskProtection`) are not replaced until it clears
//! the protection or the protection expires, so a deployment can look
//! stuck. The binary reads the service's running tasks and their
//! protection only while [`deployment_waits`] says a deployment waits on
//! older tasks; [`apply`] adds what it found to a service or deployment
//! report, [`apply_to_part`] to a service's share of a cluster sweep. Pure, like the rest of the sweep.

use super::events::EventKind;
use super::{short_time, ClusterPart, ServiceIssue};
use crate::evidence::{Fact, Service, TaskProtection};
use crate::report::Conclusion;

/// The read this file judges, as the gaps name it.
pub const READ: &str = "ecs:GetTaskProtection";

/// Does a deployment of the service wait on older tasks: its PRIMARY
/// deployment still in progress, an older deployment still running tasks,
/// or more tasks running than desired?
pub fn deployment_waits(service: &Service) -> bool {
    let rolling = service.deployments.iter().any(|d| {
        d.status.as_deref() == Some("PRIMARY") && d.rollout_state.as_deref() == Some("IN_PROGRESS")
    });
    let older = service
        .deployments
        .iter()
        .any(|d| d.status.as_deref() == Some("ACTIVE") && d.running_count.unwrap_or(1) > 0);
    rolling || older || service.running_count > service.desired_count
}

/// Is a running task's task definition older than the one the service
/// deploys (its PRIMARY deployment's, else its own)? A service whose task
/// definition is unknown has no older tasks to name.
pub fn is_old(service: &Service, task_definition: &str) -> bool {
    service
        .deployments
        .iter()
        .find(|d| d.status.as_deref() == Some("PRIMARY"))
        .and_then(|d| d.task_definition.as_deref())
        .or(service.task_definition.as_deref())
        .is_some_and(|current| current != task_definition)
}

fn id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The issue the protected older tasks make, when there are any.
pub fn protected_issue(cluster: &str, tasks: &[TaskProtection]) -> Option<ServiceIssue> {
    let protected: Vec<&TaskProtection> = tasks.iter().filter(|t| t.protection_enabled).collect();
    if protected.is_empty() {
        return None;
    }
    let evidence = protected
        .iter()
        .map(|t| {
            format!(
                "GetTaskProtection: task {} ({}) is protected from scale-in {}",
                id(&t.task_arn),
                t.task_definition
                    .as_deref()
                    .map(id)
                    .unwrap_or("an older revision"),
                t.expiration_date
                    .as_deref()
                    .map(|at| format!("until {}", short_time(at)))
                    .unwrap_or_else(|| "with no expiration date".into())
            )
        })
        .collect();
    let latest = protected
        .iter()
        .filter_map(|t| t.expiration_date.clone())
        .max();
    let ids: Vec<&str> = protected.iter().map(|t| id(&t.task_arn)).collect();
    let n = protected.len();
    let fix = vec![
        match &latest {
            Some(at) => format!(
                "Wait: the scheduler replaces each task once its protection expires (the last at {}) or its app clears it; nothing needs doing if the work it protects should finish",
                short_time(at)
            ),
            None => "Wait for the app to clear its protection when its work is done".to_string(),
        },
        "The app protects a task through the ECS agent's task protection endpoint while it works: if it renews the protection without end, fix the app so it clears it when its work is done".to_string(),
        format!(
            "Only once you have decided the work may be cut off: aws ecs update-task-protection --cluster {cluster} --tasks {} --no-protection-enabled (the scheduler then stops the task whatever it is doing: a job or session in progress is lost unless the app finishes or checkpoints it on SIGTERM)",
            ids.join(" ")
        ),
    ];
    Some(ServiceIssue {
        kind: EventKind::TasksProtected,
        title: format!(
            "{n} older task{} protected from scale-in, so the deployment cannot replace {}",
            if n == 1 { " is" } else { "s are" },
            if n == 1 { "it" } else { "them" },
        ),
        count: n,
        latest_at: latest,
        evidence,
        fix,
        cause: None,
        resource: None,
        read: Some(READ.to_string()),
    })
}

/// Add what the older tasks' protection says to a report: the issue (beside
/// an event that already says so), a headline that names it when nothing
/// worse leads, and an undecided verdict when a deployment waits and the
/// protection could not be read (its gap says which call).
pub fn apply(
    cluster: &str,
    protection: &Fact<Vec<TaskProtection>>,
    issues: &mut Vec<ServiceIssue>,
    headline: &mut String,
    verdict: &mut Conclusion,
) {
    match protection {
        Fact::Gathered { value } => {
            let Some(issue) = protected_issue(cluster, value) else {
                return;
            };
            if *verdict != Conclusion::Failure {
                headline.push_str(&format!("; {}", issue.title));
            }
            merge(issues, issue);
        }
        Fact::NotApplicable { .. } => {}
        Fact::Absent { .. } | Fact::Denied { .. } | Fact::Failed { .. } => {
            if *verdict == Conclusion::NoFailure {
                *verdict = Conclusion::Inconclusive;
            }
            if *verdict != Conclusion::Failure {
                headline.push_str(
                    "; whether older tasks are protected from scale-in could not be read (see the gaps)",
                );
            }
        }
    }
}

/// The protected tasks beside the event that already says so, or as an
/// issue of their own.
fn merge(issues: &mut Vec<ServiceIssue>, issue: ServiceIssue) {
    match issues
        .iter_mut()
        .find(|i| i.kind == EventKind::TasksProtected)
    {
        Some(event) => {
            event.evidence.extend(issue.evidence);
            event.fix = issue.fix;
        }
        None => issues.push(issue),
    }
}

/// What the older tasks' protection says, for one service's share of a
/// cluster sweep: as for `service`, the protected tasks as an issue, and a
/// read that was refused while a deployment waits leaves the service
/// undecided (its gap says which call).
pub fn apply_to_part(
    cluster: &str,
    protection: &Fact<Vec<TaskProtection>>,
    part: &mut ClusterPart,
) {
    match protection {
        Fact::Gathered { value } => {
            if let Some(issue) = protected_issue(cluster, value) {
                merge(&mut part.issues, issue);
            }
        }
        Fact::NotApplicable { .. } => {}
        Fact::Absent { .. } | Fact::Denied { .. } | Fact::Failed { .. } => {
            part.undecided.get_or_insert_with(|| {
                "a deployment waits on older tasks, and whether they are protected from scale-in could not be read (see the gaps)".to_string()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Deployment;

    fn service() -> Service {
        Service {
            name: "web".into(),
            desired_count: 2,
            running_count: 3,
            task_definition: Some(
                "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2".into(),
            ),
            deployments: vec![Deployment {
                id: "ecs-svc/2".into(),
                status: Some("PRIMARY".into()),
                rollout_state: Some("IN_PROGRESS".into()),
                ..Deployment::default()
            }],
            ..Service::default()
        }
    }

    fn task(id: &str, protected: bool) -> TaskProtection {
        TaskProtection {
            task_arn: format!("arn:aws:ecs:us-east-1:123456789012:task/prod/{id}"),
            task_definition: Some(
                "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1".into(),
            ),
            protection_enabled: protected,
            expiration_date: protected.then(|| "2026-12-07T23:40:00Z".into()),
        }
    }

    #[test]
    fn a_deployment_waits_while_in_progress_or_over_its_count() {
        let mut s = service();
        assert!(deployment_waits(&s));
        s.deployments[0].rollout_state = Some("COMPLETED".into());
        assert!(deployment_waits(&s), "3 running, 2 desired");
        s.running_count = 2;
        assert!(!deployment_waits(&s));
        assert!(is_old(
            &s,
            "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
        ));
        assert!(!is_old(
            &s,
            "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2"
        ));
        s.task_definition = None;
        assert!(!is_old(
            &s,
            "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
        ));
        // The PRIMARY deployment's revision is the one deployed.
        s.deployments[0].task_definition =
            Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:2".into());
        assert!(is_old(
            &s,
            "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
        ));
    }

    #[test]
    fn protected_tasks_are_named_with_their_expiration_and_a_careful_fix() {
        let issue = protected_issue("prod", &[task("aaa", true), task("bbb", false)]).unwrap();
        assert_eq!(issue.kind, EventKind::TasksProtected);
        assert_eq!(issue.count, 1);
        assert_eq!(issue.counted(), "1 task");
        assert_eq!(issue.evidence, ["GetTaskProtection: task aaa (web:1) is protected from scale-in until 2026-12-07 23:40 UTC"]);
        assert!(issue.fix[0].starts_with("Wait"), "{:?}", issue.fix);
        let unprotect = &issue.fix[2];
        assert!(
            unprotect.starts_with("Only once you have decided"),
            "{unprotect}"
        );
        assert!(
            unprotect.contains("--cluster prod --tasks aaa --no-protection-enabled"),
            "{unprotect}"
        );
        assert!(unprotect.contains("is lost"), "{unprotect}");
        assert!(protected_issue("prod", &[task("bbb", false)]).is_none());
    }

    #[test]
    fn the_report_gets_the_issue_and_a_refused_read_leaves_it_undecided() {
        let mut issues = Vec::new();
        let mut headline = "No task stopped since 10:00; 3 of 2 tasks running".to_string();
        let mut verdict = Conclusion::NoFailure;
        apply(
            "prod",
            &Fact::gathered(vec![task("aaa", true)]),
            &mut issues,
            &mut headline,
            &mut verdict,
        );
        assert_eq!(issues.len(), 1);
        assert_eq!(verdict, Conclusion::NoFailure);
        assert!(
            headline.ends_with(
                "; 1 older task is protected from scale-in, so the deployment cannot replace it"
            ),
            "{headline}"
        );

        let mut issues = Vec::new();
        let mut headline = String::from("h");
        let mut verdict = Conclusion::NoFailure;
        let refused: Fact<Vec<TaskProtection>> = Fact::Denied {
            action: READ.into(),
            error: "AccessDeniedException".into(),
        };
        apply("prod", &refused, &mut issues, &mut headline, &mut verdict);
        assert!(issues.is_empty());
        assert_eq!(
            verdict,
            Conclusion::Inconclusive,
            "a refused read is never a pass"
        );
        assert!(headline.contains("could not be read"));

        let mut verdict = Conclusion::NoFailure;
        apply(
            "prod",
            &Fact::not_applicable("no deployment waits"),
            &mut issues,
            &mut headline,
            &mut verdict,
        );
        assert_eq!(verdict, Conclusion::NoFailure);
    }

    #[test]
    fn an_event_that_says_so_gets_the_tasks_named() {
        let mut issues = vec![ServiceIssue {
            kind: EventKind::TasksProtected,
            title: EventKind::TasksProtected.title().into(),
            count: 2,
            latest_at: None,
            evidence: vec!["event".into()],
            fix: Vec::new(),
            cause: None,
            resource: None,
            read: None,
        }];
        let mut headline = String::new();
        let mut verdict = Conclusion::Failure;
        apply(
            "prod",
            &Fact::gathered(vec![task("aaa", true)]),
            &mut issues,
            &mut headline,
            &mut verdict,
        );
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].evidence.len(), 2);
        assert!(headline.is_empty(), "a failure's headline stays");
    }

    #[test]
    fn a_cluster_names_the_protected_tasks_without_calling_them_a_failure() {
        let part = |issues: Vec<ServiceIssue>| ClusterPart {
            name: "web".into(),
            source: super::super::Source::Service,
            groups: Vec::new(),
            issues,
            stopped: 0,
            undecided: None,
        };
        let mut waiting = part(Vec::new());
        apply_to_part(
            "prod",
            &Fact::gathered(vec![task("aaa", true)]),
            &mut waiting,
        );
        let mut refused = part(Vec::new());
        let denied: Fact<Vec<TaskProtection>> = Fact::Denied {
            action: READ.into(),
            error: "AccessDeniedException".into(),
        };
        apply_to_part("prod", &denied, &mut refused);
        assert!(refused.issues.is_empty());
        assert!(refused
            .undecided
            .as_deref()
            .unwrap()
            .contains("could not be read"));
        let window = super::super::Window {
            since: "2026-12-07T22:00:00Z".into(),
            limit: 100,
            stopped_tasks: 0,
            diagnosed: 0,
        };
        let report = super::super::summarize_cluster(
            "prod",
            "us-east-1",
            window.clone(),
            vec![waiting],
            Vec::new(),
            "test",
        );
        // As in the service's own report: named, not a failure.
        assert_eq!(report.verdict, Conclusion::NoFailure);
        assert_eq!(report.rows.len(), 1);
        assert_eq!(report.rows[0].cause, "event:tasks-protected");
        assert_eq!(report.rows[0].verdict, Conclusion::NoFailure);
        let report = super::super::summarize_cluster(
            "prod",
            "us-east-1",
            window,
            vec![refused],
            Vec::new(),
            "test",
        );
        assert_eq!(
            report.verdict,
            Conclusion::Inconclusive,
            "a refused read is never a pass"
        );
    }
}
