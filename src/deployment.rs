//! `ecs-doctor deployment`: a service's newest deployment, followed until it
//! settles with `--wait`, then judged with its own stopped tasks diagnosed
//! (`ecs_doctor_checks::sweep::deployment`). The reads are `collect`'s
//! (`deployments`, `stopped_tasks`); the judging is the checks crate's.

use crate::cli::{AwsArgs, DeploymentArgs};
use crate::collect::{self, deployments};
use crate::error::{exit, DoctorError};
use crate::session::Session;
use crate::sweep::{self, cluster_of, connect_for, named_by, the_service};
use crate::VERSION;
use ecs_doctor_checks::arn;
use ecs_doctor_checks::evidence::{Fact, ServiceDeployment, Task};
use ecs_doctor_checks::sweep::deployment::{
    self as judge, DeploymentFacts, DeploymentReport, DeploymentState, Waited,
};
use ecs_doctor_checks::sweep::Window;
use indicatif::ProgressBar;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Why the service must be described, when it cannot be.
const NEEDED_FOR: &str = "a deployment is read from its service";
/// The first pause between two polls of `--wait`.
const FIRST_PAUSE: Duration = Duration::from_secs(5);
/// The longest pause between two polls.
const LONGEST_PAUSE: Duration = Duration::from_secs(30);
/// How far back the stopped tasks are read when the deployment's start is not known.
const FALLBACK_WINDOW: Duration = Duration::from_secs(2 * 3600);

/// The exit code of a deployment report: 0 completed, 1 failed or rolled
/// back, 4 could not tell, 5 still in progress.
pub fn exit_code(report: &DeploymentReport) -> i32 {
    match report.state {
        DeploymentState::Completed => exit::OK,
        DeploymentState::InProgress => exit::IN_PROGRESS,
        DeploymentState::Unknown => exit::INCONCLUSIVE,
        DeploymentState::Failed
        | DeploymentState::Stopped
        | DeploymentState::RollingBack
        | DeploymentState::RolledBack
        | DeploymentState::RollbackFailed => exit::FAILURE_FOUND,
    }
}

/// Progress of `--wait` on stderr: a spinner on a terminal, else one line
/// per change of state.
pub struct Progress {
    spinner: Option<ProgressBar>,
    last: std::sync::Mutex<String>,
}

impl Progress {
    pub fn new() -> Progress {
        let spinner = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            spinner,
            last: std::sync::Mutex::new(String::new()),
        }
    }

    /// Say where the deployment stands after `waited`, unless that did not change.
    fn say(&self, waited: Duration, line: String) {
        let mut last = self.last.lock().expect("progress lock");
        if *last == line {
            return;
        }
        match &self.spinner {
            Some(bar) => bar.set_message(line.clone()),
            None => eprintln!("ecs-doctor: {}s: {line}", waited.as_secs()),
        }
        *last = line;
    }

    /// No progress at all (an MCP call, where stderr is the server's log).
    pub fn hidden() -> Progress {
        Progress {
            spinner: Some(ProgressBar::hidden()),
            last: std::sync::Mutex::new(String::new()),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.spinner {
            bar.finish_and_clear();
        }
    }
}

/// One line of where the deployment stands.
fn state_line(d: &ServiceDeployment) -> String {
    let mut line = format!("deployment {} {}", d.id(), d.status.as_str());
    if let Some(stage) = &d.lifecycle_stage {
        line.push_str(&format!(" ({stage})"));
    }
    if let Some(t) = &d.target {
        line.push_str(&format!(", {} of {} running", t.running, t.requested));
    }
    for hook in d
        .hooks
        .iter()
        .filter(|h| h.status.as_deref() == Some("AWAITING_ACTION"))
    {
        line.push_str(&format!(
            ", lifecycle hook {} awaits `aws ecs continue-service-deployment`",
            hook.id.as_deref().unwrap_or("(unnamed)")
        ));
    }
    if let Some(cb) = d.circuit_breaker.as_ref().filter(|cb| cb.failure_count > 0) {
        line.push_str(&format!(
            ", {} of {} failed tasks",
            cb.failure_count, cb.threshold
        ));
    }
    line
}

/// Follow the newest deployment until it settles or `timeout` runs out.
/// Each poll is a run of its own (fresh answers, its own deadline) on one
/// AWS configuration. A poll that fails is tried again at the next pause.
/// When the deployments API is refused (or lists nothing yet), the PRIMARY
/// deployment's rollout state in `DescribeServices` is followed instead.
async fn wait(
    args: &DeploymentArgs,
    cluster: &str,
    primary_since: Option<SystemTime>,
    progress: &Progress,
) -> Result<Waited, DoctorError> {
    let aws = AwsArgs {
        session: Some(Arc::new(Session::default())),
        ..args.aws.clone()
    };
    let name = arn::name(&args.service);
    let started = Instant::now();
    let mut pause = FIRST_PAUSE;
    let mut polls = 0;
    let mut api_unreadable = false;
    loop {
        let c = connect_for(named_by(&args.service, cluster), &aws).await?;
        polls += 1;
        let elapsed = started.elapsed();
        let settled_now = if api_unreadable {
            rollout_settled(&c, cluster, name, progress, elapsed).await
        } else {
            match deployments::newest_deployment_state(&c, cluster, name, None).await {
                // Older than the service's PRIMARY deployment: the one just
                // started is not listed yet (a rollback's PRIMARY is older, so
                // it never looks like this).
                Fact::Gathered { value } if listed_before(&value, primary_since) => {
                    progress.say(
                        elapsed,
                        format!(
                            "the newest listed deployment, {}, is older than the service's; waiting for ECS to list it",
                            value.id()
                        ),
                    );
                    None
                }
                Fact::Gathered { value } => {
                    progress.say(elapsed, state_line(&value));
                    Some(DeploymentState::of(&value.status).is_settled())
                }
                Fact::Failed { action, error } => {
                    progress.say(elapsed, format!("{action} failed ({error}); trying again"));
                    None
                }
                _ => {
                    api_unreadable = true;
                    rollout_settled(&c, cluster, name, progress, elapsed).await
                }
            }
        };
        if settled_now == Some(true) {
            return Ok(settled(elapsed, polls, false));
        }
        let left = args.wait_timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Ok(settled(started.elapsed(), polls, true));
        }
        tokio::time::sleep(pause.min(left)).await;
        pause = (pause * 3 / 2).min(LONGEST_PAUSE);
    }
}

/// Whether the PRIMARY deployment in `DescribeServices` is done rolling
/// out (none when the service could not be read this time).
async fn rollout_settled(
    c: &collect::Collector,
    cluster: &str,
    name: &str,
    progress: &Progress,
    elapsed: Duration,
) -> Option<bool> {
    match collect::service_named(c, cluster, name).await {
        Fact::Gathered { value } => {
            let primary = value
                .deployments
                .iter()
                .find(|d| d.status.as_deref() == Some("PRIMARY"));
            let rollout = primary.and_then(|d| d.rollout_state.clone());
            progress.say(
                elapsed,
                format!(
                    "DescribeServices: PRIMARY deployment {} {}",
                    primary.map(|d| d.id.as_str()).unwrap_or("(none)"),
                    rollout.as_deref().unwrap_or("(no rollout state)")
                ),
            );
            Some(rollout.as_deref() != Some("IN_PROGRESS"))
        }
        Fact::Failed { action, error } => {
            progress.say(elapsed, format!("{action} failed ({error}); trying again"));
            None
        }
        _ => Some(true),
    }
}

/// How much earlier than the PRIMARY deployment in `DescribeServices` a
/// service deployment may be created and still be the same one.
const SAME_DEPLOYMENT: Duration = Duration::from_secs(60);

/// An RFC 3339 time as ECS writes it.
fn time_of(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok()
}

/// Whether `d` was created before the deployment `DescribeServices` shows
/// as PRIMARY began (less a minute): then it is an earlier deployment.
fn listed_before(d: &ServiceDeployment, primary_since: Option<SystemTime>) -> bool {
    match (d.created_at.as_deref().and_then(time_of), primary_since) {
        (Some(created), Some(primary)) => created + SAME_DEPLOYMENT < primary,
        _ => false,
    }
}

/// When the service's PRIMARY deployment began, as `DescribeServices` says.
fn primary_since(service: &ecs_doctor_checks::evidence::Service) -> Option<SystemTime> {
    let primary = service
        .deployments
        .iter()
        .find(|d| d.status.as_deref() == Some("PRIMARY"))?;
    time_of(primary.created_at.as_deref()?)
}

fn settled(elapsed: Duration, polls: u32, timed_out: bool) -> Waited {
    Waited {
        seconds: elapsed.as_secs(),
        polls,
        timed_out,
    }
}

/// An EventBridge "ECS Deployment State Change" event, as the Lambda reads it.
/// Format: <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentEvent {
    /// `resources[0]`: the service's ARN.
    pub service_arn: String,
    /// `detail.deploymentId` (`ecs-svc/…`).
    pub deployment_id: String,
    /// `detail.eventName`: `SERVICE_DEPLOYMENT_IN_PROGRESS`, `_COMPLETED` or `_FAILED`.
    pub event_name: String,
    pub reason: String,
    /// The event's `time`: the newest deployment then is the one it is about.
    pub time: Option<SystemTime>,
}

/// The detail type of a deployment event.
pub const DEPLOYMENT_EVENT: &str = "ECS Deployment State Change";

impl DeploymentEvent {
    /// The event, when `value` is an "ECS Deployment State Change" event
    /// that names its service.
    pub fn parse(value: &serde_json::Value) -> Option<DeploymentEvent> {
        if value.get("detail-type")?.as_str()? != DEPLOYMENT_EVENT {
            return None;
        }
        let detail = value.get("detail")?;
        let text = |v: Option<&serde_json::Value>| {
            v.and_then(|v| v.as_str()).unwrap_or_default().to_string()
        };
        let service_arn = value
            .get("resources")?
            .as_array()?
            .iter()
            .filter_map(|r| r.as_str())
            .find(|r| collect::cluster_of_service_arn(r).is_some())?
            .to_string();
        Some(DeploymentEvent {
            service_arn,
            deployment_id: text(detail.get("deploymentId")),
            event_name: text(detail.get("eventName")),
            reason: text(detail.get("reason")),
            time: value.get("time").and_then(|t| t.as_str()).and_then(time_of),
        })
    }

    /// Whether the event says the deployment failed: `SERVICE_DEPLOYMENT_FAILED`,
    /// or a rollback starting (`IN_PROGRESS` with the circuit breaker's
    /// "rolling back to deploymentId …" reason).
    pub fn is_failure(&self) -> bool {
        self.event_name == "SERVICE_DEPLOYMENT_FAILED"
            || (self.event_name == "SERVICE_DEPLOYMENT_IN_PROGRESS"
                && self.reason.to_lowercase().contains("rolling back"))
    }
}

/// The service the deployment is of, described, or the one line that ends the run.
async fn described(
    c: &collect::Collector,
    args: &DeploymentArgs,
    cluster: &str,
) -> Result<ecs_doctor_checks::evidence::Service, DoctorError> {
    let found = collect::service_named(c, cluster, arn::name(&args.service)).await;
    the_service(c, found, &args.service, cluster, &args.aws, NEEDED_FOR)
}

/// `ecs-doctor deployment`.
pub async fn deployment(
    args: &DeploymentArgs,
    progress: &Progress,
) -> Result<DeploymentReport, DoctorError> {
    let cluster = cluster_of(&args.service, args.cluster.as_deref())?;
    let name = arn::name(&args.service);
    let waited = if args.wait {
        // A service that does not exist ends the run before any wait.
        let c = connect_for(named_by(&args.service, &cluster), &args.aws).await?;
        let service = described(&c, args, &cluster).await?;
        Some(wait(args, &cluster, primary_since(&service), progress).await?)
    } else {
        None
    };
    // The judgement's run: fresh answers after the wait.
    let c = connect_for(named_by(&args.service, &cluster), &args.aws).await?;
    let (service, deployment) = tokio::join!(
        described(&c, args, &cluster),
        deployments::newest_deployment(&c, &cluster, name, args.as_of),
    );
    let service = service?;
    let c = sweep::for_service(c, &service);
    let since = deployment
        .value()
        .and_then(|d| d.created_at.clone().or(d.started_at.clone()))
        .unwrap_or_else(|| {
            humantime::format_rfc3339_seconds(std::time::SystemTime::now() - FALLBACK_WINDOW)
                .to_string()
        });
    let (stopped, protection) = tokio::join!(
        collect::stopped_tasks(&c, &cluster, Some(name), &since),
        collect::old_task_protection(&c, &cluster, &service),
    );
    let window = |stopped_tasks: usize, diagnosed: usize| Window {
        since: since.clone(),
        limit: args.limit as usize,
        stopped_tasks,
        diagnosed,
    };
    let (window, tasks) = match stopped {
        Fact::Gathered { value } => {
            let by_id = judge::deployment_id_from_service(&service);
            let mine: Vec<Task> = match (deployment.value(), by_id) {
                (Some(d), _) => value.into_iter().filter(|t| judge::belongs(t, d)).collect(),
                // Without the deployments API: the tasks its `ecs-svc/…` id started.
                (None, Some(id)) => value
                    .into_iter()
                    .filter(|t| t.started_by.as_deref() == Some(id.as_str()))
                    .collect(),
                (None, None) => value,
            };
            let total = mine.len();
            let chosen: Vec<Task> = mine.into_iter().take(args.limit as usize).collect();
            let bar = ProgressBar::hidden();
            let swept = sweep::diagnose_each(&c, chosen, &cluster, args.log_lines, &bar).await;
            (window(total, swept.len()), Fact::gathered(swept))
        }
        other => (window(0, 0), other.map(|_| Vec::new())),
    };
    c.print_stats();
    let mut report = judge::summarize_deployment(
        DeploymentFacts {
            service,
            cluster,
            region: c.region.clone(),
            deployment,
            window,
            tasks,
            waited,
            gaps: c.gaps(),
        },
        VERSION,
    );
    let before = report.issues.len();
    ecs_doctor_checks::sweep::protection::apply(
        &report.service.cluster,
        &protection,
        &mut report.issues,
        &mut report.headline,
        &mut report.verdict,
    );
    if report.issues.len() > before {
        if let Some(issue) = report.issues.last() {
            report.next_steps.extend(issue.fix.iter().cloned());
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::DeploymentEvent;
    use serde_json::json;

    /// The ECS Developer Guide's examples ("Amazon ECS service deployment state change events").
    fn event(name: &str, reason: &str) -> serde_json::Value {
        json!({
            "version": "0",
            "id": "ddca6449-b258-46c0-8653-e0e3aEXAMPLE",
            "detail-type": "ECS Deployment State Change",
            "source": "aws.ecs",
            "account": "111122223333",
            "time": "2020-05-23T12:31:14Z",
            "region": "us-west-2",
            "resources": ["arn:aws:ecs:us-west-2:111122223333:service/default/servicetest"],
            "detail": {
                "eventType": "ERROR",
                "eventName": name,
                "deploymentId": "ecs-svc/123",
                "updatedAt": "2020-05-23T11:11:11Z",
                "reason": reason
            }
        })
    }

    #[test]
    fn a_failure_or_a_rollback_is_a_failed_deployment_and_nothing_else_is() {
        let failed = DeploymentEvent::parse(&event(
            "SERVICE_DEPLOYMENT_FAILED",
            "ECS deployment circuit breaker: task failed to start.",
        ))
        .expect("a deployment event");
        assert_eq!(
            failed.service_arn,
            "arn:aws:ecs:us-west-2:111122223333:service/default/servicetest"
        );
        assert_eq!(failed.deployment_id, "ecs-svc/123");
        assert!(failed.is_failure());
        let rollback = DeploymentEvent::parse(&event(
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "ECS deployment circuit breaker: rolling back to deploymentId deploymentID.",
        ))
        .unwrap();
        assert!(rollback.is_failure());
        for (name, reason) in [
            (
                "SERVICE_DEPLOYMENT_IN_PROGRESS",
                "ECS deployment deploymentId in progress.",
            ),
            (
                "SERVICE_DEPLOYMENT_COMPLETED",
                "ECS deployment deploymentID completed.",
            ),
        ] {
            assert!(!DeploymentEvent::parse(&event(name, reason))
                .unwrap()
                .is_failure());
        }
        // A task event, or one that names no service, is not one.
        let mut task = event("SERVICE_DEPLOYMENT_FAILED", "");
        task["detail-type"] = json!("ECS Task State Change");
        assert_eq!(DeploymentEvent::parse(&task), None);
        let mut nameless = event("SERVICE_DEPLOYMENT_FAILED", "");
        nameless["resources"] = json!([]);
        assert_eq!(DeploymentEvent::parse(&nameless), None);
    }
}
