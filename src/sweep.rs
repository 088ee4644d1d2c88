//! Sweeps: a service's or a cluster's stopped tasks, each diagnosed and
//! grouped by cause. The tasks of a sweep share one collector, so what they
//! have in common (task definition, roles, images, subnets, the VPC) is
//! asked of AWS once (`collect::memo`); each task keeps its own gaps. The
//! reads are `collect`'s (`stopped_tasks`, `cluster_services`); the
//! judging is the checks crate's (`diagnose`, `ecs_doctor_checks::sweep`).

use crate::cli::{AwsArgs, ClusterArgs, ServiceArgs, SweepArgs};
use crate::collect::{self, Collector};
use crate::error::DoctorError;
use crate::VERSION;
use ecs_doctor_checks::evidence::{Fact, Inputs, Question, Service, Task};
use ecs_doctor_checks::sweep::{
    self, ClusterPart, ClusterReport, ServiceReport, Source, Swept, Window,
};
use ecs_doctor_checks::{arn, diagnose};
use futures::StreamExt;
use indicatif::ProgressBar;
use std::collections::BTreeMap;
use std::io::IsTerminal;

/// How many tasks are diagnosed at once. What they share is asked once
/// (the memo) and each task's own log reads wait their turn under the
/// CloudWatch Logs quota (the pacer), so this only bounds memory and the
/// burst of a sweep's first requests.
const AT_ONCE: usize = 16;

/// A progress bar on stderr for sweeps, drawn only on a terminal.
pub fn progress(what: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} ({elapsed})")
            .expect("a valid progress template"),
    );
    bar.set_message(what);
    bar
}

/// Diagnose each task (newest first, a few at a time), ticking `progress`.
pub(crate) async fn diagnose_each(
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
        let evidence = collect::collect_found(c, task, cluster, inputs, Question::Task).await;
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

/// The cluster of a service given by name (with `--cluster`) or by ARN.
pub(crate) fn cluster_of(service: &str, cluster: Option<&str>) -> Result<String, DoctorError> {
    match (cluster, collect::cluster_of_service_arn(service)) {
        (Some(c), _) => Ok(c.to_string()),
        (None, Some(c)) => Ok(c.to_string()),
        (None, None) => Err(DoctorError::BadInput(
            "give --cluster, or the service's ARN (arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME)"
                .into(),
        )),
    }
}

/// What names the Region and account of a service's run: its ARN, else the cluster's.
pub(crate) fn named_by<'a>(service: &'a str, cluster: &'a str) -> &'a str {
    if service.starts_with("arn:") {
        service
    } else {
        cluster
    }
}

/// The described service a run starts from, or the one line that ends it
/// (not found, refused, failed: exit 3).
pub(crate) fn the_service(
    c: &Collector,
    described: Fact<Service>,
    service: &str,
    cluster: &str,
    aws: &AwsArgs,
    needed_for: &str,
) -> Result<Service, DoctorError> {
    collect::required(
        &described,
        |detail| collect::service_absent(detail, cluster, &c.region),
        aws.profile.as_deref(),
        needed_for,
    )?
    .cloned()
    .ok_or_else(|| {
        DoctorError::NotFound(format!(
            "service {service} was not found in cluster {cluster} ({})",
            c.region
        ))
    })
}

/// The run, for the tasks of `service`: its account (when the run did not
/// know it) and the service as already described.
pub(crate) fn for_service(c: Collector, service: &Service) -> Collector {
    let account = c
        .account
        .clone()
        .or_else(|| arn::account(&service.arn).map(str::to_string));
    c.with_account(account)
        .with_described_services(vec![service.clone()])
}

/// A collector in the Region and account `named_by` names, when it is an ARN.
pub(crate) async fn connect_for(named_by: &str, aws: &AwsArgs) -> Result<Collector, DoctorError> {
    let region = arn::region(named_by).map(str::to_string);
    let account = arn::account(named_by).map(str::to_string);
    collect::connect(region.as_ref(), account, aws).await
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
    let cluster = cluster_of(&args.service, args.cluster.as_deref())?;
    let c = connect_for(named_by(&args.service, &cluster), &args.aws).await?;
    // The service's name is all ListTasks needs: the listing does not wait
    // on the service's description.
    let name = arn::name(&args.service);
    let since = args.sweep.since.rfc3339();
    let (described, stopped) = tokio::join!(
        collect::service_named(&c, &cluster, &args.service),
        collect::stopped_tasks(&c, &cluster, Some(name), &since),
    );
    let service = &the_service(
        &c,
        described,
        &args.service,
        &cluster,
        &args.aws,
        "a service sweep starts from the service's events and deployments",
    )?;
    let c = for_service(c, service);
    let diagnosed = async {
        match stopped {
            Fact::Gathered { value: tasks } => {
                let total = tasks.len();
                let tasks: Vec<Task> = tasks.into_iter().take(args.sweep.limit as usize).collect();
                progress.set_length(tasks.len() as u64);
                let swept =
                    diagnose_each(&c, tasks, &cluster, args.sweep.log_lines, progress).await;
                (
                    window(&args.sweep, total, swept.len()),
                    Fact::gathered(swept),
                )
            }
            other => (window(&args.sweep, 0, 0), other.map(|_| Vec::new())),
        }
    };
    let ((window, swept), protection) = tokio::join!(
        diagnosed,
        collect::old_task_protection(&c, &cluster, service)
    );
    c.print_stats();
    let mut report = sweep::summarize_service(
        service,
        &cluster,
        &c.region,
        window,
        swept,
        c.gaps(),
        VERSION,
    );
    sweep::protection::apply(
        &report.service.cluster,
        &protection,
        &mut report.issues,
        &mut report.headline,
        &mut report.verdict,
    );
    Ok(report)
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
    let (services, stopped) = tokio::join!(
        collect::cluster_services(&c, &cluster, profile),
        collect::stopped_tasks(&c, &cluster, None, &since)
    );
    let services = services?;
    let account = c.account.clone().or_else(|| {
        services
            .first()
            .and_then(|s| arn::account(&s.arn))
            .map(str::to_string)
    });
    let c = c
        .with_account(account)
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
    // While a deployment waits on older tasks, their scale-in protection
    // says why (read only for those services).
    // Only a service whose deployment waits on older tasks makes a request
    // (most answer "not applicable" at once).
    let protections = futures::future::join_all(
        services
            .iter()
            .map(|s| collect::old_task_protection(&c, &cluster, s)),
    );
    let (swept, protections) = tokio::join!(
        diagnose_each(&c, chosen, &cluster, args.sweep.log_lines, progress),
        protections
    );
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
    for (svc, protection) in services.iter().zip(&protections) {
        let key = format!("service:{}", svc.name);
        let tasks = swept_by_group.remove(&key).unwrap_or_default();
        let mut part = ClusterPart {
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
        };
        sweep::protection::apply_to_part(arn::name(&cluster), protection, &mut part);
        parts.push(part);
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
            (arn::region(arn), arn::account(arn)),
            (Some("eu-west-1"), Some("123456789012"))
        );
        assert_eq!(collect::cluster_of_service_arn(arn), Some("prod"));
        // The old ARN format names no cluster.
        assert_eq!(
            collect::cluster_of_service_arn("arn:aws:ecs:eu-west-1:123456789012:service/web"),
            None
        );
        assert_eq!((arn::region("prod"), arn::account("prod")), (None, None));
    }
}
