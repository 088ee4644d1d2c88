//! The listings a sweep starts from: a cluster's services and the stopped
//! tasks of a cluster or of one service. Reads only; judging the tasks is
//! the sweep's (`src/sweep.rs`).

use super::{ecs, error_class, required, Collector};
use crate::error::DoctorError;
use ecs_doctor_checks::evidence::{Fact, Service, Task};
use ecs_doctor_checks::sweep;

/// Every task of `cluster` (of `service` only, when given) ECS lists with
/// `desired` status: ListTasks (paginated), then DescribeTasks in batches
/// of 100. `why` says what each of the two reads is for, in a gap.
pub async fn listed_tasks(
    c: &Collector,
    cluster: &str,
    service: Option<&str>,
    desired: aws_sdk_ecs::types::DesiredStatus,
    why: (&str, &str),
) -> Fact<Vec<Task>> {
    let ecs = c.ecs();
    let pages = ecs
        .list_tasks()
        .cluster(cluster)
        .desired_status(desired)
        .set_service_name(service.map(str::to_string))
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let arns = c.listed("ecs:ListTasks", why.0, pages, |out| {
        out.task_arns().to_vec()
    });
    let Some(arns) = arns.value() else {
        return arns.map(|_| Vec::new());
    };
    let batches = futures::future::join_all(arns.chunks(100).map(|batch| {
        ecs.describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(batch.to_vec()))
            .send()
    }))
    .await;
    let mut tasks = Vec::new();
    for batch in batches {
        match c.fact("ecs:DescribeTasks", why.1, batch) {
            Fact::Gathered { value } => tasks.extend(value.tasks().iter().map(ecs::convert_task)),
            other => return other.map(|_| Vec::new()),
        }
    }
    // ListTasks' serviceName filter is AWS's; the group says it for certain.
    let wanted_group = service.map(|s| format!("service:{s}"));
    tasks.retain(|t| {
        wanted_group
            .as_ref()
            .is_none_or(|g| t.group.as_deref() == Some(g.as_str()))
    });
    Fact::gathered(tasks)
}

/// Every stopped task of `cluster` (of `service` only, when given) that
/// stopped at or after `since`, newest first.
pub async fn stopped_tasks(
    c: &Collector,
    cluster: &str,
    service: Option<&str>,
    since: &str,
) -> Fact<Vec<Task>> {
    let listed = listed_tasks(
        c,
        cluster,
        service,
        aws_sdk_ecs::types::DesiredStatus::Stopped,
        (
            "which tasks stopped in the window",
            "the stopped tasks of the window",
        ),
    )
    .await;
    let Fact::Gathered { value: mut tasks } = listed else {
        return listed;
    };
    tasks.retain(|t| sweep::in_window(t.timestamps.stopped_at.as_deref(), since));
    tasks.sort_by(|a, b| b.timestamps.stopped_at.cmp(&a.timestamps.stopped_at));
    Fact::gathered(tasks)
}

/// Every service of `cluster`: ListServices (paginated), then
/// DescribeServices 10 at a time. A cluster sweep cannot start without
/// them, so a listing or a description that fails ends the run.
pub async fn cluster_services(
    c: &Collector,
    cluster: &str,
    profile: Option<&str>,
) -> Result<Vec<Service>, DoctorError> {
    let ecs = c.ecs();
    let pages = ecs
        .list_services()
        .cluster(cluster)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    if let Some(Err(err)) = pages.iter().find(|p| p.is_err()) {
        let (_, message) = error_class(err);
        if message.contains("ClusterNotFound") {
            return Err(DoctorError::ClusterNotFound {
                cluster: cluster.to_string(),
                region: c.region.clone(),
            });
        }
    }
    let arns = c.listed(
        "ecs:ListServices",
        "which services the cluster runs",
        pages,
        |out| out.service_arns().to_vec(),
    );
    let arns = required(
        &arns,
        |detail| format!("cluster {cluster}: {detail}"),
        profile,
        "a cluster sweep starts from the cluster's services",
    )?
    .cloned()
    .unwrap_or_default();
    let described = futures::future::join_all(
        arns.chunks(10)
            .map(|batch| ecs::services(c, cluster, batch)),
    )
    .await;
    let mut services: Vec<Service> = Vec::new();
    for fact in &described {
        if let Some(batch) = required(
            fact,
            |detail| format!("cluster {cluster}: {detail}"),
            profile,
            "a cluster sweep reads each service's events and deployments",
        )? {
            services.extend(batch.iter().cloned());
        }
    }
    Ok(services)
}
