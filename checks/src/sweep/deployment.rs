//! A service's newest deployment (`ecs-doctor deployment`): whether it
//! completed, failed or rolled back, what stopped it (the circuit breaker,
//! an alarm, a lifecycle hook, a person), the revisions it went from and to,
//! and its own stopped tasks diagnosed and grouped by cause as a service
//! sweep groups them.
//!
//! The deployment is read from ECS's service deployments API. When that
//! cannot be read (a policy written before it existed refuses it), the
//! state is read from `DescribeServices`: the PRIMARY deployment's rollout
//! state and the scheduler's events since it began, and the report says so.
//!
//! Which tasks are the deployment's: tasks of the service created at or
//! after the deployment was, running the target revision's task
//! definition. A deployment's ARN does not name the `ecs-svc/…` id its
//! tasks carry in `startedBy`, so the task definition and the time are what
//! tie a task to it.

use super::events::{self, EventKind};
use super::{group, in_window, issues, short_time, CauseGroup, ServiceIssue, Swept, Window};
use crate::evidence::{DeploymentStatus, Fact, Gap, Service, ServiceDeployment, Task};
use crate::report::{Conclusion, Report};
use crate::SCHEMA_VERSION;
use serde::{Deserialize, Serialize};

/// Where a deployment stands, for the reader and the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeploymentState {
    /// The service reached a steady state with the new revision.
    Completed,
    /// Still starting tasks, shifting traffic or baking.
    InProgress,
    /// Failed without a rollback (the circuit breaker or an alarm without `rollback`).
    Failed,
    /// Stopped before it finished (a person, or a failure with rollback off).
    Stopped,
    /// Failed, and ECS is rolling back to the previous revision.
    RollingBack,
    /// Failed, and the previous revision runs again.
    RolledBack,
    /// Failed, and the rollback failed too: the service may run neither revision.
    RollbackFailed,
    /// Not known: the deployment could not be read, or ECS wrote a status this version does not know.
    Unknown,
}

impl DeploymentState {
    /// The state of a deployment ECS describes.
    pub fn of(status: &DeploymentStatus) -> DeploymentState {
        match status {
            DeploymentStatus::Pending | DeploymentStatus::InProgress => DeploymentState::InProgress,
            DeploymentStatus::Successful => DeploymentState::Completed,
            DeploymentStatus::StopRequested | DeploymentStatus::Stopped => DeploymentState::Stopped,
            DeploymentStatus::RollbackRequested | DeploymentStatus::RollbackInProgress => {
                DeploymentState::RollingBack
            }
            DeploymentStatus::RollbackSuccessful => DeploymentState::RolledBack,
            DeploymentStatus::RollbackFailed => DeploymentState::RollbackFailed,
            DeploymentStatus::Other(_) => DeploymentState::Unknown,
        }
    }

    /// Whether the deployment will not change any more on its own: what
    /// `--wait` waits for. A rollback under way already says the new
    /// revision failed.
    pub fn is_settled(self) -> bool {
        !matches!(self, DeploymentState::InProgress | DeploymentState::Unknown)
    }

    /// The report's conclusion: a deployment that did not deploy its
    /// revision is a failure; one still under way or unknown is undecided.
    pub fn verdict(self) -> Conclusion {
        match self {
            DeploymentState::Completed => Conclusion::NoFailure,
            DeploymentState::InProgress | DeploymentState::Unknown => Conclusion::Inconclusive,
            DeploymentState::Failed
            | DeploymentState::Stopped
            | DeploymentState::RollingBack
            | DeploymentState::RolledBack
            | DeploymentState::RollbackFailed => Conclusion::Failure,
        }
    }

    /// The state in a few words, for a headline.
    pub fn words(self) -> &'static str {
        match self {
            DeploymentState::Completed => "completed",
            DeploymentState::InProgress => "is in progress",
            DeploymentState::Failed => "failed",
            DeploymentState::Stopped => "was stopped",
            DeploymentState::RollingBack => "failed and is rolling back",
            DeploymentState::RolledBack => "failed and was rolled back",
            DeploymentState::RollbackFailed => "failed, and so did its rollback",
            DeploymentState::Unknown => "is in a state ecs-doctor could not read",
        }
    }
}

/// What ended the deployment, as ECS records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Trigger {
    /// The deployment circuit breaker counted enough failed tasks.
    CircuitBreaker { failures: i32, threshold: i32 },
    /// CloudWatch alarms went into ALARM during the deployment.
    Alarms { names: Vec<String> },
    /// A lifecycle hook answered FAILED or timed out.
    LifecycleHook {
        id: Option<String>,
        target: Option<String>,
        status: String,
    },
}

impl Trigger {
    fn describe(&self) -> String {
        match self {
            Trigger::CircuitBreaker {
                failures,
                threshold,
            } => format!(
                "the circuit breaker stopped it after {failures} failed task{} (threshold {threshold})",
                if *failures == 1 { "" } else { "s" }
            ),
            Trigger::Alarms { names } if names.is_empty() => {
                "a CloudWatch alarm of the deployment went into ALARM (ECS did not name it)".into()
            }
            Trigger::Alarms { names } => format!(
                "alarm{} {} went into ALARM",
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ),
            Trigger::LifecycleHook { id, target, status } => format!(
                "lifecycle hook {} answered {status}",
                target.as_deref().or(id.as_deref()).unwrap_or("(unnamed)")
            ),
        }
    }

    fn next_steps(&self) -> Vec<String> {
        match self {
            Trigger::CircuitBreaker { .. } => Vec::new(),
            Trigger::Alarms { names } if names.is_empty() => vec![
                "See which of the deployment's alarms fired: `aws cloudwatch describe-alarms --state-value ALARM`".into(),
            ],
            Trigger::Alarms { names } => names
                .iter()
                .map(|n| {
                    format!(
                        "See why alarm {n} fired: `aws cloudwatch describe-alarm-history --alarm-name {n} --history-item-type StateUpdate`"
                    )
                })
                .collect(),
            Trigger::LifecycleHook { target, .. } => match function_name(target.as_deref()) {
                Some(name) => vec![format!(
                    "Read the hook function's logs: `aws logs tail /aws/lambda/{name}`"
                )],
                None => vec!["Find what the hook checked: it decided the deployment failed".into()],
            },
        }
    }
}

/// The function a hook's target ARN names (`…:function:NAME[:QUALIFIER]`).
fn function_name(target: Option<&str>) -> Option<&str> {
    let rest = target?.split(":function:").nth(1)?;
    rest.split(':').next().filter(|n| !n.is_empty())
}

/// The triggers a deployment records, in the order ECS documents them.
pub fn triggers(d: &ServiceDeployment) -> Vec<Trigger> {
    let mut out = Vec::new();
    if let Some(cb) = d
        .circuit_breaker
        .as_ref()
        .filter(|cb| cb.status.as_deref() == Some("TRIGGERED"))
    {
        out.push(Trigger::CircuitBreaker {
            failures: cb.failure_count,
            threshold: cb.threshold,
        });
    }
    if let Some(alarms) = d
        .alarms
        .as_ref()
        .filter(|a| a.status.as_deref() == Some("TRIGGERED") || !a.triggered.is_empty())
    {
        out.push(Trigger::Alarms {
            names: alarms.triggered.clone(),
        });
    }
    for hook in &d.hooks {
        // A hook that timed out with CONTINUE let the deployment go on.
        let ended_it = match hook.status.as_deref() {
            Some("FAILED") => true,
            Some("TIMED_OUT") => hook.timeout_action.as_deref() != Some("CONTINUE"),
            _ => false,
        };
        if let (true, Some(status)) = (ended_it, hook.status.as_deref()) {
            out.push(Trigger::LifecycleHook {
                id: hook.id.clone(),
                target: hook.target_arn.clone(),
                status: status.to_string(),
            });
        }
    }
    out
}

/// `family:revision` of a task definition ARN.
fn revision_label(td: &str) -> String {
    td.rsplit('/').next().unwrap_or(td).to_string()
}

/// Whether a stopped task of the service was started by this deployment:
/// created at or after it, running its target's task definition (when the
/// target could be read).
pub fn belongs(task: &Task, d: &ServiceDeployment) -> bool {
    let since = d.created_at.as_deref().or(d.started_at.as_deref());
    let in_time = match since {
        Some(since) => in_window(task.timestamps.created_at.as_deref(), since),
        None => true,
    };
    let target = d.target.as_ref().and_then(|t| t.task_definition.as_deref());
    in_time && target.is_none_or(|td| td == task.task_definition_arn)
}

/// Without the deployments API, the `ecs-svc/…` id whose tasks are the
/// deployment's: the one the newest "deployment failed" event since the
/// PRIMARY deployment began names (a rollback makes the old deployment
/// PRIMARY again), else the PRIMARY deployment's.
pub fn deployment_id_from_service(service: &Service) -> Option<String> {
    let primary = service
        .deployments
        .iter()
        .find(|d| d.status.as_deref() == Some("PRIMARY"))?;
    let since = primary.created_at.as_deref().unwrap_or("");
    let failed = service.events.iter().find_map(|e| {
        let named = e.message.split("(deployment ").nth(1)?.split(')').next()?;
        (in_window(e.created_at.as_deref(), since)
            && events::kind_of(&e.message) == EventKind::CircuitBreaker
            && e.message.contains("deployment failed"))
        .then(|| named.to_string())
    });
    failed.or_else(|| Some(primary.id.clone()))
}

/// The revisions a deployment went from and to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Revisions {
    /// The task definitions running when it began (`family:revision`).
    pub before: Vec<String>,
    /// The task definition it deployed.
    pub after: Option<String>,
    /// The task definition a rollback returned to.
    pub rolled_back_to: Option<String>,
}

impl Revisions {
    /// The revisions it went from, or `?` when they are not known.
    pub fn before_label(&self) -> String {
        match self.before.as_slice() {
            [] => "?".into(),
            before => before.join(", "),
        }
    }
}

/// How long `--wait` followed the deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waited {
    pub seconds: u64,
    pub polls: u32,
    /// `--wait-timeout` ran out while the deployment was still in progress.
    pub timed_out: bool,
}

/// Where the deployment's state was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateSource {
    /// ECS's service deployments API.
    ServiceDeployments,
    /// `DescribeServices`: the PRIMARY deployment's rollout state and the events.
    DescribeServices,
    /// Neither could tell.
    None,
}

/// Everything `ecs-doctor deployment` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentReport {
    pub schema_version: u32,
    /// Always `deployment`.
    pub kind: String,
    pub verdict: Conclusion,
    pub state: DeploymentState,
    pub state_source: StateSource,
    pub ecs_doctor_version: String,
    /// One line that says what happened, for the top of the ticket or the CI log.
    pub headline: String,
    pub service: super::ServiceSummary,
    /// The deployment as ECS describes it; none when it could not be read.
    pub deployment: Option<ServiceDeployment>,
    /// What ended it, as ECS records it.
    pub triggers: Vec<Trigger>,
    /// ECS's own words about it: the status reason, the rollback's reason,
    /// the circuit breaker, the alarms, the hooks.
    pub evidence: Vec<String>,
    pub revisions: Revisions,
    /// The deployment's stopped tasks grouped by cause, worst first.
    pub groups: Vec<CauseGroup>,
    /// What the scheduler's events since the deployment began say.
    pub issues: Vec<ServiceIssue>,
    /// What to do next, most useful first.
    pub next_steps: Vec<String>,
    pub window: Window,
    pub waited: Option<Waited>,
    pub gaps: Vec<Gap>,
    /// Each diagnosed task's report, newest first.
    pub tasks: Vec<Report>,
}

/// The state from `DescribeServices` alone, when the deployments API could
/// not be read: the PRIMARY deployment's rollout state, and a rollback the
/// scheduler's events or the rollout reason announce since it began. A
/// rollback leaves the PRIMARY deployment COMPLETED as a success does, so
/// COMPLETED alone decides nothing: only what was read convicts, and
/// nothing unread acquits.
pub fn state_from_service(service: &Service) -> DeploymentState {
    let Some(primary) = service
        .deployments
        .iter()
        .find(|d| d.status.as_deref() == Some("PRIMARY"))
    else {
        return DeploymentState::Unknown;
    };
    let since = primary.created_at.as_deref().unwrap_or("");
    let rolled_back = service.events.iter().any(|e| {
        in_window(e.created_at.as_deref(), since)
            && events::kind_of(&e.message) == EventKind::CircuitBreaker
    }) || primary
        .rollout_state_reason
        .as_deref()
        .is_some_and(|r| r.to_lowercase().contains("rolling back"));
    match (primary.rollout_state.as_deref(), rolled_back) {
        (Some("COMPLETED"), true) => DeploymentState::RolledBack,
        (Some("IN_PROGRESS"), true) => DeploymentState::RollingBack,
        (Some("IN_PROGRESS"), false) => DeploymentState::InProgress,
        (Some("FAILED"), _) => DeploymentState::Failed,
        _ => DeploymentState::Unknown,
    }
}

/// ECS's own words about the deployment, one line each.
fn evidence_of(d: &ServiceDeployment, triggers: &[Trigger]) -> Vec<String> {
    let mut out = vec![format!("status: {}", d.status.as_str())];
    if let Some(reason) = &d.status_reason {
        out.push(format!("ECS: {reason}"));
    }
    out.extend(triggers.iter().map(Trigger::describe));
    if let Some(cb) = d
        .circuit_breaker
        .as_ref()
        .filter(|cb| cb.status.as_deref() != Some("TRIGGERED"))
    {
        if let Some(status) = &cb.status {
            out.push(format!(
                "circuit breaker: {status}, {} of {} failed tasks",
                cb.failure_count, cb.threshold
            ));
        }
    }
    if let Some(rb) = &d.rollback {
        let to = rb
            .revision
            .as_ref()
            .and_then(|r| r.task_definition.as_deref())
            .map(|td| format!(" to {}", revision_label(td)))
            .unwrap_or_default();
        let at = rb
            .started_at
            .as_deref()
            .map(|t| format!(" at {}", short_time(t)))
            .unwrap_or_default();
        let why = rb
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        out.push(format!("rollback{to}{at}{why}"));
    }
    if let Some(stage) = &d.lifecycle_stage {
        out.push(format!("lifecycle stage: {stage}"));
    }
    out
}

fn revisions_of(d: &ServiceDeployment) -> Revisions {
    let label = |r: &crate::evidence::Revision| r.task_definition.as_deref().map(revision_label);
    Revisions {
        before: d.sources.iter().filter_map(label).collect(),
        after: d.target.as_ref().and_then(label),
        rolled_back_to: d
            .rollback
            .as_ref()
            .and_then(|rb| rb.revision.as_ref())
            .and_then(label),
    }
}

/// What the deployment looked at and found, for [`summarize_deployment`].
pub struct DeploymentFacts {
    pub service: Service,
    pub cluster: String,
    pub region: String,
    /// The newest deployment, or why it could not be read.
    pub deployment: Fact<ServiceDeployment>,
    pub window: Window,
    /// Its stopped tasks, diagnosed; not gathered when they could not be listed.
    pub tasks: Fact<Vec<Swept>>,
    pub waited: Option<Waited>,
    pub gaps: Vec<Gap>,
}

/// Judge a deployment from what was collected.
pub fn summarize_deployment(facts: DeploymentFacts, version: &str) -> DeploymentReport {
    let DeploymentFacts {
        service,
        cluster,
        region,
        deployment,
        window,
        tasks,
        waited,
        gaps,
    } = facts;
    let d = deployment.value().cloned();
    let (state, source) = match &d {
        Some(d) => (
            DeploymentState::of(&d.status),
            StateSource::ServiceDeployments,
        ),
        None => match state_from_service(&service) {
            DeploymentState::Unknown => (DeploymentState::Unknown, StateSource::None),
            s => (s, StateSource::DescribeServices),
        },
    };
    let triggers = d.as_ref().map(triggers).unwrap_or_default();
    let mut evidence = match &d {
        Some(d) => evidence_of(d, &triggers),
        None => service
            .deployments
            .iter()
            .filter(|dep| dep.status.as_deref() == Some("PRIMARY"))
            .map(|dep| {
                format!(
                    "DescribeServices: PRIMARY deployment {} of {} is {}{}",
                    dep.id,
                    dep.task_definition
                        .as_deref()
                        .map(revision_label)
                        .unwrap_or_else(|| "an unknown task definition".into()),
                    dep.rollout_state
                        .as_deref()
                        .unwrap_or("in no rollout state"),
                    dep.rollout_state_reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                )
            })
            .collect(),
    };
    if let Some(why) = deployment.gap_reason().filter(|_| d.is_none()) {
        evidence.push(format!("the service deployment could not be read: {why}"));
        if state == DeploymentState::Unknown {
            evidence.push(
                "DescribeServices alone cannot tell a completed deployment from one rolled back: both leave the PRIMARY deployment COMPLETED".into(),
            );
        }
    }
    // Without the deployment, the service's task definition may be the one
    // rolled back to: the revisions are not guessed.
    let revisions = d.as_ref().map(revisions_of).unwrap_or_default();
    let issues = issues(&service, &window.since);
    let (groups, reports) = match tasks.value() {
        Some(tasks) => (
            group(tasks, &service.deployments, window.stopped_tasks),
            tasks.iter().map(|t| t.report.clone()).collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let mut next_steps: Vec<String> = Vec::new();
    if state.verdict() == Conclusion::Failure {
        if let Some(g) = groups.iter().find(|g| g.verdict == Conclusion::Failure) {
            next_steps.extend(g.fix.iter().cloned());
        }
        next_steps.extend(triggers.iter().flat_map(Trigger::next_steps));
        if groups.is_empty() {
            if let Some(issue) = issues.first() {
                next_steps.extend(issue.fix.iter().cloned());
            }
        }
    }
    if state == DeploymentState::Unknown && gaps.iter().any(Gap::needs_a_grant) {
        next_steps.push(
            "Grant the calls the gaps name (docs/iam-policy.json: ecs:ListServiceDeployments, ecs:DescribeServiceDeployments, ecs:DescribeServiceRevisions) and run again".into(),
        );
    }
    let listed = tasks.value().is_some();
    let mut report = DeploymentReport {
        schema_version: SCHEMA_VERSION,
        kind: "deployment".into(),
        verdict: state.verdict(),
        state,
        state_source: source,
        ecs_doctor_version: version.to_string(),
        headline: String::new(),
        service: super::ServiceSummary {
            name: service.name.clone(),
            arn: service.arn.clone(),
            cluster: cluster.rsplit('/').next().unwrap_or(&cluster).to_string(),
            region,
            status: service.status.clone(),
            desired_count: service.desired_count,
            running_count: service.running_count,
            task_definition: service.task_definition.clone(),
        },
        deployment: d,
        triggers,
        evidence,
        revisions,
        groups,
        issues,
        next_steps,
        window,
        waited,
        gaps,
        tasks: reports,
    };
    report.headline = headline(&report, listed);
    report
}

/// One line: what happened to the deployment, what ended it, its tasks'
/// cause (or why there is none to tell), and what runs now. `listed`:
/// whether its stopped tasks could be listed.
fn headline(r: &DeploymentReport, listed: bool) -> String {
    let of = r
        .revisions
        .after
        .as_deref()
        .map(|td| format!(" of {td}"))
        .unwrap_or_default();
    let mut line = format!("{}: the deployment{of} {}", r.service.name, r.state.words());
    if let Some(t) = r.triggers.first() {
        line.push_str(&format!(": {}", t.describe()));
    }
    match r.state.verdict() {
        Conclusion::Failure => {
            if let Some(g) = r.groups.iter().find(|g| g.verdict == Conclusion::Failure) {
                line.push_str(&format!("; {}", g.summary));
            } else if let Some(issue) = r.issues.first() {
                line.push_str(&format!("; the scheduler says: {}", issue.named()));
            } else if !listed {
                line.push_str("; its stopped tasks could not be listed (see the gaps)");
            } else if r.groups.is_empty() {
                line.push_str("; no task of it stopped in the window");
            }
            if let Some(back) = &r.revisions.rolled_back_to {
                line.push_str(&format!("; {back} runs again"));
            }
        }
        Conclusion::NoFailure => line.push_str(&format!(
            ": {} of {} tasks running",
            r.service.running_count, r.service.desired_count
        )),
        Conclusion::Inconclusive => {
            if let Some(w) = r.waited.as_ref().filter(|w| w.timed_out) {
                line.push_str(&format!(" after waiting {}", humanize_seconds(w.seconds)));
            }
            if let Some(g) = r.groups.iter().find(|g| g.verdict == Conclusion::Failure) {
                line.push_str(&format!("; so far {}", g.summary));
            }
        }
    }
    line
}

/// `95` → `1m35s`, `3600` → `60m0s`: short, for a headline.
fn humanize_seconds(s: u64) -> String {
    if s < 60 {
        format!("{s}s")
    } else {
        format!("{}m{}s", s / 60, s % 60)
    }
}

#[cfg(test)]
#[path = "deployment_tests.rs"]
mod tests;
