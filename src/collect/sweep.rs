//! Sweeps: a service's or a cluster's stopped tasks, each diagnosed. The
//! tasks of a sweep share one collector, so what they have in common (task
//! definition, roles, images, subnets, the VPC) is asked of AWS once
//! ([`super::memo`]); each task keeps its own gaps.

use super::ecs::cluster_of_service_arn;
use super::{collect_found, connect, ecs, required, Collector};
use crate::app::VERSION;
use crate::cli::{AwsArgs, ClusterArgs, ServiceArgs, SweepArgs};
use crate::error::DoctorError;
use ecs_doctor_checks::diagnose;
use ecs_doctor_checks::evidence::{Fact, Inputs, Question, Service, Task};
use ecs_doctor_checks::sweep::{
    self, ClusterPart, ClusterReport, ServiceReport, Source, Swept, Window,
};
use futures::StreamExt;
use indicatif::ProgressBar;
use std::collections::BTreeMap;

/// How many tasks are diagnosed at once. What they share is asked once
/// (the memo) and each task's own log reads wait their turn under the
/// CloudWatch Logs quota (the pacer), so this only bounds memory and the
/// burst of a sweep's first requests.
const AT_ONCE: usize = 16;

/// The Region and account an ARN names, if the text is one.
fn arn_parts(text: &str) -> (Option<String>, Option<String>) {
    let mut parts = text.split(':');
    if parts.next() != Some("arn") {
        return (None, None);
    }
    let region = parts.nth(2).filter(|r| !r.is_empty()).map(str::to_string);
    let account = parts.next().filter(|a| !a.is_empty()).map(str::to_string);
    (region, account)
}

/// Every stopped task of `cluster` (of `service` only, when given) that
/// stopped at or after `since`, newest first: ListTasks (paginated), then
/// DescribeTasks in batches of 100.
pub async fn stopped_tasks(
    c: &Collector,
    cluster: &str,
    service: Option<&str>,
    since: &str,
) -> Fact<Vec<Task>> {
    let ecs = c.ecs();
    let pages = ecs
        .list_tasks()
        .cluster(cluster)
        .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
        .set_service_name(service.map(str::to_string))
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let arns = c.listed(
        "ecs:ListTasks",
        "which tasks stopped in the window",
        pages,
        |out| out.task_arns().to_vec(),
    );
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
        match c.fact(
            "ecs:DescribeTasks",
            "the stopped tasks of the window",
            batch,
        ) {
            Fact::Gathered { value } => tasks.extend(value.tasks().iter().map(ecs::convert_task)),
            other => return other.map(|_| Vec::new()),
        }
    }
    let wanted_group = service.map(|s| format!("service:{s}"));
    tasks.retain(|t| {
        // ListTasks' serviceName filter is AWS's; the group says it for certain.
        let ours = wanted_group
            .as_ref()
            .is_none_or(|g| t.group.as_deref() == Some(g.as_str()));
        ours && sweep::in_window(t.timestamps.stopped_at.as_deref(), since)
    });
    tasks.sort_by(|a, b| b.timestamps.stopped_at.cmp(&a.timestamps.stopped_at));
    Fact::gathered(tasks)
}

/// Diagnose each task (newest first, a few at a time), ticking `progress`.
pub async fn diagnose_each(
    c: &Collector,
    tasks: Vec<Task>,
    cluster: &str,
    log_lines: u32,
    progress: &ProgressBar,
) -> Vec<Swept> {
    futures::stream::iter(tasks.into_iter().map(|task| async move {
        let started_by = task.started_by.clone();
        let inputs = Inputs {
            log_lines,
            ..Default::default()
        };
        let evidence = collect_found(c, task, cluster, inputs, Question::Task).await;
        progress.inc(1);
        Swept {
            report: diagnose(&evidence, VERSION),
            started_by,
        }
    }))
    .buffered(AT_ONCE)
    .collect()
    .await
}

async fn connect_for(arn: &str, aws: &AwsArgs) -> Result<Collector, DoctorError> {
    let (region, account) = arn_parts(arn);
    connect(region.as_ref(), account, aws).await
}

fn window(sweep: &SweepArgs, stopped: usize, diagnosed: usize) -> Window {
    Window {
        since: sweep.since.rfc3339(),
        limit: sweep.limit as usize,
        stopped_tasks: stopped,
        diagnosed,
    }
}

/// `ecs-doctor service`: the service, its stopped tasks in the window, each diagnosed.
pub async fn service(
    args: &ServiceArgs,
    progress: &ProgressBar,
) -> Result<ServiceReport, DoctorError> {
    let cluster = match (&args.cluster, cluster_of_service_arn(&args.service)) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) => c.to_string(),
        (None, None) => {
            return Err(DoctorError::BadInput(
                "give --cluster, or the service's ARN (arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME)".into(),
            ))
        }
    };
    let named_by = if args.service.starts_with("arn:") {
        &args.service
    } else {
        &cluster
    };
    let c = connect_for(named_by, &args.aws).await?;
    // The service's name is all ListTasks needs: the listing does not wait
    // on the service's description.
    let name = args.service.rsplit('/').next().unwrap_or(&args.service);
    let since = args.sweep.since.rfc3339();
    let (described, stopped) = tokio::join!(
        ecs::service_named(&c, &cluster, &args.service),
        stopped_tasks(&c, &cluster, Some(name), &since),
    );
    let profile = args.aws.profile.as_deref();
    let service: &Service = required(
        &described,
        |detail| format!("{detail} in cluster {cluster} ({})", c.region),
        profile,
        "a service sweep starts from the service's events and deployments",
    )?
    .ok_or_else(|| DoctorError::BadInput(format!("service {} not found", args.service)))?;
    let c = Collector {
        account: c.account.clone().or_else(|| arn_parts(&service.arn).1),
        ..c
    }
    .with_described_services(vec![service.clone()]);
    let (window, swept) = match stopped {
        Fact::Gathered { value: tasks } => {
            let total = tasks.len();
            let tasks: Vec<Task> = tasks.into_iter().take(args.sweep.limit as usize).collect();
            progress.set_length(tasks.len() as u64);
            let swept = diagnose_each(&c, tasks, &cluster, args.sweep.log_lines, progress).await;
            (
                window(&args.sweep, total, swept.len()),
                Fact::gathered(swept),
            )
        }
        other => (window(&args.sweep, 0, 0), other.map(|_| Vec::new())),
    };
    c.print_stats();
    Ok(sweep::summarize_service(
        service,
        &cluster,
        &c.region,
        window,
        swept,
        c.gaps(),
        VERSION,
    ))
}

/// `ecs-doctor cluster`: every service (DescribeServices, 10 at a time) and
/// every stopped task of the window (one listing for the whole cluster),
/// grouped by service or task group, each task diagnosed.
pub async fn cluster(
    args: &ClusterArgs,
    progress: &ProgressBar,
) -> Result<ClusterReport, DoctorError> {
    let cluster = args.cluster.clone();
    let c = connect_for(&cluster, &args.aws).await?;
    let profile = args.aws.profile.as_deref();
    let since = args.sweep.since.rfc3339();
    // The stopped tasks are listed while the services are read: neither waits on the other.
    let services = async {
        let ecs = c.ecs();
        let pages = ecs
            .list_services()
            .cluster(&cluster)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        if let Some(Err(err)) = pages.iter().find(|p| p.is_err()) {
            let (_, message) = super::classify(err);
            if message.contains("ClusterNotFound") {
                return Err(DoctorError::ClusterNotFound {
                    cluster: cluster.clone(),
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
                .map(|batch| ecs::services(&c, &cluster, batch)),
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
        Ok::<_, DoctorError>(services)
    };
    let (services, stopped) = tokio::join!(services, stopped_tasks(&c, &cluster, None, &since));
    let services = services?;
    let c = Collector {
        account: c
            .account
            .clone()
            .or_else(|| services.first().and_then(|s| arn_parts(&s.arn).1)),
        ..c
    }
    .with_described_services(services.clone());
    // Tasks by service or task group, newest first, at most --limit each.
    let mut by_group: BTreeMap<String, Vec<Task>> = BTreeMap::new();
    if let Some(tasks) = stopped.value() {
        for t in tasks {
            let group = t.group.clone().unwrap_or_else(|| "(no group)".into());
            by_group.entry(group).or_default().push(t.clone());
        }
    }
    let totals: BTreeMap<String, usize> =
        by_group.iter().map(|(g, t)| (g.clone(), t.len())).collect();
    let (groups, chosen): (Vec<String>, Vec<Task>) = by_group
        .into_iter()
        .flat_map(|(group, tasks)| {
            tasks
                .into_iter()
                .take(args.sweep.limit as usize)
                .map(move |t| (group.clone(), t))
        })
        .unzip();
    let diagnosed = chosen.len();
    progress.set_length(diagnosed as u64);
    let swept = diagnose_each(&c, chosen, &cluster, args.sweep.log_lines, progress).await;
    // The sweep's own gaps and every task's: a row that could not be decided says why.
    let mut gaps = c.gaps();
    gaps.extend(swept.iter().flat_map(|s| s.report.gaps.iter().cloned()));
    gaps.sort();
    gaps.dedup();
    let mut swept_by_group: BTreeMap<String, Vec<Swept>> = BTreeMap::new();
    // diagnose_each keeps the order it was given.
    for (group, s) in groups.into_iter().zip(swept) {
        swept_by_group.entry(group).or_default().push(s);
    }
    let undecided = match &stopped {
        Fact::Denied { action, error } | Fact::Failed { action, error } => Some(format!(
            "stopped tasks could not be listed ({action}: {error})"
        )),
        _ => None,
    };
    let mut parts = Vec::new();
    for svc in &services {
        let key = format!("service:{}", svc.name);
        let tasks = swept_by_group.remove(&key).unwrap_or_default();
        parts.push(ClusterPart {
            name: svc.name.clone(),
            source: Source::Service,
            groups: sweep::group(
                &tasks,
                &svc.deployments,
                totals.get(&key).copied().unwrap_or(0),
            ),
            issues: sweep::issues(svc, &since),
            stopped: totals.get(&key).copied().unwrap_or(0),
            undecided: undecided.clone(),
        });
    }
    // Tasks started without a service cannot be named when the listing failed.
    if undecided.is_some() {
        parts.push(ClusterPart {
            name: "tasks without a service".into(),
            source: Source::Standalone,
            groups: Vec::new(),
            issues: Vec::new(),
            stopped: 0,
            undecided: undecided.clone(),
        });
    }
    // Task groups of tasks started without a service, and of services deleted since.
    for (group, tasks) in swept_by_group {
        parts.push(ClusterPart {
            name: group.clone(),
            source: Source::Standalone,
            groups: sweep::group(&tasks, &[], totals.get(&group).copied().unwrap_or(0)),
            issues: Vec::new(),
            stopped: totals.get(&group).copied().unwrap_or(0),
            undecided: None,
        });
    }
    let total: usize = totals.values().sum();
    c.print_stats();
    Ok(sweep::summarize_cluster(
        &cluster,
        &c.region,
        window(&args.sweep, total, diagnosed),
        parts,
        gaps,
        VERSION,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_their_region_account_and_cluster() {
        let arn = "arn:aws:ecs:eu-west-1:123456789012:service/prod/web";
        assert_eq!(
            arn_parts(arn),
            (Some("eu-west-1".into()), Some("123456789012".into()))
        );
        assert_eq!(cluster_of_service_arn(arn), Some("prod"));
        // The old ARN format names no cluster.
        assert_eq!(
            cluster_of_service_arn("arn:aws:ecs:eu-west-1:123456789012:service/web"),
            None
        );
        assert_eq!(arn_parts("prod"), (None, None));
    }
}
