//! A service's newest deployment, from ECS's service deployments API:
//! `ListServiceDeployments` (which deployments there are),
//! `DescribeServiceDeployments` (the newest one in full) and
//! `DescribeServiceRevisions` (the task definitions of the revisions it went
//! from and to). Reads only; judging it is the checks crate's
//! (`sweep::deployment`).

use super::{ts, Collector};
use aws_sdk_ecs::types as ecs;
use aws_smithy_types::DateTime;
use ecs_doctor_checks::evidence::{
    AlarmsState, CircuitBreakerState, DeploymentStatus, Fact, LifecycleHook, Revision, Rollback,
    ServiceDeployment,
};
use std::time::{Duration, SystemTime};

/// What a gap in the deployment's reads costs the report.
const IMPACT: &str = "the deployment's state, what stopped it and its revisions";

/// Listing pages read at most when the last day holds no deployment (100 each).
const MAX_PAGES: usize = 20;

/// The ARN of the service's newest deployment (created before `as_of`,
/// when given): among those created in the day before when there are any
/// (the listing can be long, a service keeps its deployments for months),
/// else among all of them. A listing longer than the pages read is a gap,
/// never its first pages passed off as the whole.
async fn newest_arn(
    c: &Collector,
    cluster: &str,
    service: &str,
    as_of: Option<SystemTime>,
) -> Fact<Option<String>> {
    let day_before = as_of.unwrap_or_else(SystemTime::now) - Duration::from_secs(24 * 3600);
    let before = as_of.map(DateTime::from);
    for after in [Some(DateTime::from(day_before)), None] {
        let window = (after.is_some() || before.is_some()).then(|| {
            ecs::CreatedAt::builder()
                .set_after(after)
                .set_before(before)
                .build()
        });
        let mut newest: Option<(Option<String>, String)> = None;
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let result = c
                .ecs()
                .list_service_deployments()
                .cluster(cluster)
                .service(service)
                .set_created_at(window.clone())
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await;
            let page = match c.fact("ecs:ListServiceDeployments", IMPACT, result) {
                Fact::Gathered { value } => value,
                other => return other.map(|_| None),
            };
            pages += 1;
            for brief in page.service_deployments() {
                let (Some(arn), created) = (
                    brief.service_deployment_arn(),
                    ts(brief.created_at().or(brief.started_at())),
                ) else {
                    continue;
                };
                if newest.as_ref().is_none_or(|(at, _)| created > *at) {
                    newest = Some((created, arn.to_string()));
                }
            }
            token = page.next_token().map(str::to_string);
            match (&token, pages) {
                (None, _) => break,
                (Some(_), MAX_PAGES) => {
                    let why = format!(
                        "more than {MAX_PAGES} pages of deployments: the newest could not be told"
                    );
                    c.gap("ecs:ListServiceDeployments", &why, IMPACT);
                    return Fact::Failed {
                        action: "ecs:ListServiceDeployments".into(),
                        error: why,
                    };
                }
                (Some(_), _) => {}
            }
        }
        if let Some((_, arn)) = newest {
            return Fact::gathered(Some(arn));
        }
    }
    Fact::gathered(None)
}

/// The service's newest deployment in full, with its revisions' task
/// definitions. Absent when ECS has no deployment of the service on record.
pub async fn newest_deployment(
    c: &Collector,
    cluster: &str,
    service: &str,
    as_of: Option<SystemTime>,
) -> Fact<ServiceDeployment> {
    let mut found = newest_deployment_state(c, cluster, service, as_of).await;
    if let Some(d) = found.value_mut() {
        revisions(c, d).await;
    }
    found
}

/// Fill in the task definitions of the deployment's revisions. A refused
/// or failed read leaves them unknown (and is a gap): the state does not
/// hang on them.
async fn revisions(c: &Collector, d: &mut ServiceDeployment) {
    let mut arns: Vec<String> = d
        .target
        .iter()
        .chain(d.sources.iter())
        .chain(d.rollback.iter().filter_map(|r| r.revision.as_ref()))
        .map(|r| r.arn.clone())
        .filter(|a| !a.is_empty())
        .collect();
    arns.sort();
    arns.dedup();
    if arns.is_empty() {
        return;
    }
    // DescribeServiceRevisions takes 20 at a time; a deployment names a few.
    arns.truncate(20);
    let result = c
        .ecs()
        .describe_service_revisions()
        .set_service_revision_arns(Some(arns))
        .send()
        .await;
    let Some(out) = c
        .fact(
            "ecs:DescribeServiceRevisions",
            "the task definitions the deployment went from and to",
            result,
        )
        .value()
        .cloned()
    else {
        return;
    };
    let td_of = |arn: &str| {
        out.service_revisions()
            .iter()
            .find(|r| r.service_revision_arn() == Some(arn))
            .and_then(|r| r.task_definition())
            .map(str::to_string)
    };
    let all = d
        .target
        .iter_mut()
        .chain(d.sources.iter_mut())
        .chain(d.rollback.iter_mut().filter_map(|r| r.revision.as_mut()));
    for r in all {
        r.task_definition = td_of(&r.arn);
    }
}

/// The newest deployment without its revisions' task definitions (what
/// `--wait` polls: two requests).
pub async fn newest_deployment_state(
    c: &Collector,
    cluster: &str,
    service: &str,
    as_of: Option<SystemTime>,
) -> Fact<ServiceDeployment> {
    let arn = match newest_arn(c, cluster, service, as_of).await {
        Fact::Gathered { value: Some(arn) } => arn,
        Fact::Gathered { value: None } => {
            return Fact::absent(format!(
                "ECS has no deployment of service {service} on record"
            ))
        }
        other => return other.map(|_| ServiceDeployment::default()),
    };
    let result = c
        .ecs()
        .describe_service_deployments()
        .service_deployment_arns(&arn)
        .send()
        .await;
    match c.fact("ecs:DescribeServiceDeployments", IMPACT, result) {
        Fact::Gathered { value } => match value.service_deployments().first() {
            Some(found) => Fact::gathered(convert(found)),
            None => Fact::absent(format!(
                "deployment {arn}: {}",
                value
                    .failures()
                    .first()
                    .and_then(|f| f.reason())
                    .unwrap_or("not known to ECS")
            )),
        },
        other => other.map(|_| ServiceDeployment::default()),
    }
}

fn revision(r: &ecs::ServiceRevisionSummary) -> Revision {
    Revision {
        arn: r.arn().unwrap_or_default().to_string(),
        task_definition: None,
        requested: r.requested_task_count(),
        running: r.running_task_count(),
        pending: r.pending_task_count(),
    }
}

fn convert(d: &ecs::ServiceDeployment) -> ServiceDeployment {
    ServiceDeployment {
        arn: d.service_deployment_arn().unwrap_or_default().to_string(),
        status: d
            .status()
            .map(|s| DeploymentStatus::parse(s.as_str()))
            .unwrap_or(DeploymentStatus::Other(String::new())),
        status_reason: d.status_reason().map(str::to_string),
        created_at: ts(d.created_at()),
        started_at: ts(d.started_at()),
        finished_at: ts(d.finished_at()),
        stopped_at: ts(d.stopped_at()),
        updated_at: ts(d.updated_at()),
        lifecycle_stage: d.lifecycle_stage().map(|s| s.as_str().to_string()),
        target: d.target_service_revision().map(revision),
        sources: d.source_service_revisions().iter().map(revision).collect(),
        circuit_breaker: d
            .deployment_circuit_breaker()
            .map(|cb| CircuitBreakerState {
                status: cb.status().map(|s| s.as_str().to_string()),
                failure_count: cb.failure_count(),
                threshold: cb.threshold(),
            }),
        alarms: d.alarms().map(|a| AlarmsState {
            status: a.status().map(|s| s.as_str().to_string()),
            alarm_names: a.alarm_names().to_vec(),
            triggered: a.triggered_alarm_names().to_vec(),
        }),
        hooks: d
            .lifecycle_hook_details()
            .iter()
            .map(|h| LifecycleHook {
                id: h.hook_id().map(str::to_string),
                target_arn: h.target_arn().map(str::to_string),
                status: h.status().map(|s| s.as_str().to_string()),
                target_type: h.target_type().map(|t| t.as_str().to_string()),
                timeout_action: h.timeout_action().map(|a| a.as_str().to_string()),
            })
            .collect(),
        rollback: d.rollback().map(|r| Rollback {
            reason: r.reason().map(str::to_string),
            started_at: ts(r.started_at()),
            revision: r.service_revision_arn().map(|arn| Revision {
                arn: arn.to_string(),
                ..Default::default()
            }),
        }),
    }
}
