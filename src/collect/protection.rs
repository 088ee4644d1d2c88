//! The scale-in protection of a service's running tasks of an older
//! revision: read only while a deployment waits on them (see
//! `sweep::protection::deployment_waits`). ListTasks (RUNNING, paginated),
//! DescribeTasks 100 at a time for their revision, GetTaskProtection 10
//! at a time. Reads only.

use super::{listing, ts, Collector};
use ecs_doctor_checks::evidence::{Fact, Service, TaskProtection};
use ecs_doctor_checks::sweep::protection::{deployment_waits, is_old};

/// The protection of `service`'s running tasks of an older revision, or
/// not applicable when no deployment waits on them.
pub async fn old_task_protection(
    c: &Collector,
    cluster: &str,
    service: &Service,
) -> Fact<Vec<TaskProtection>> {
    if !deployment_waits(service) {
        return Fact::not_applicable("no deployment is waiting on older tasks");
    }
    let running = listing::listed_tasks(
        c,
        cluster,
        Some(&service.name),
        aws_sdk_ecs::types::DesiredStatus::Running,
        (
            "which of the service's tasks are still running during the deployment",
            "the revision of the service's running tasks",
        ),
    )
    .await;
    let Fact::Gathered { value: running } = running else {
        return running.map(|_| Vec::new());
    };
    let old: Vec<_> = running
        .into_iter()
        .filter(|t| is_old(service, &t.task_definition_arn))
        .collect();
    let ecs = c.ecs();
    let arns: Vec<String> = old.iter().map(|t| t.arn.clone()).collect();
    let answers = futures::future::join_all(arns.chunks(10).map(|batch| {
        ecs.get_task_protection()
            .cluster(cluster)
            .set_tasks(Some(batch.to_vec()))
            .send()
    }))
    .await;
    let mut out = Vec::new();
    for answer in answers {
        match c.fact(
            "ecs:GetTaskProtection",
            "whether the older tasks a deployment waits on are protected from scale-in",
            answer,
        ) {
            Fact::Gathered { value } => {
                for p in value.protected_tasks() {
                    let arn = p.task_arn().unwrap_or_default().to_string();
                    let task = old.iter().find(|t| t.arn == arn);
                    out.push(TaskProtection {
                        task_definition: task.map(|t| t.task_definition_arn.clone()),
                        task_arn: arn,
                        protection_enabled: p.protection_enabled(),
                        expiration_date: ts(p.expiration_date()),
                    });
                }
            }
            other => return other.map(|_| Vec::new()),
        }
    }
    Fact::gathered(out)
}
