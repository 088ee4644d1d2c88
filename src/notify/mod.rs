//! The Lambda's notifications: a failure found becomes a [`Notice`], sent to
//! an SNS topic as an AWS Chatbot custom notification ([`message`]), at most
//! once per scope and cause within a window ([`dedup`]).
//!
//! Opt-in, by the function's environment:
//!
//! | variable | what |
//! |---|---|
//! | `ECS_DOCTOR_TOPIC_ARN` | the SNS topic; unset, nothing is sent and nothing is written |
//! | `ECS_DOCTOR_DEDUP_TABLE` | the DynamoDB table holding what was sent; unset, every failure is sent |
//! | `ECS_DOCTOR_NOTIFY_WINDOW` | seconds during which one scope and cause is sent once (default 3600) |
//!
//! A scope is a cluster and a service or task group (`service:web`,
//! `family:web`). A notice names what it is about in a [`Reference`]: a
//! task today; a deployment's notice uses the same path. What was sent or
//! counted, or which call failed with which AWS error code, comes back as
//! a [`Delivery`]; nothing here panics on an AWS error.
//!
//! The only writes: `sns:Publish` to the topic, and `dynamodb:GetItem`,
//! `PutItem`, `UpdateItem` on the table.

pub mod dedup;
pub mod message;

use crate::cli::AwsArgs;
use aws_smithy_runtime_api::client::result::SdkError;
use ecs_doctor_checks::evidence::Evidence;
use ecs_doctor_checks::sweep::deployment::DeploymentReport;
use ecs_doctor_checks::{redact, Conclusion, Report};
use serde_json::{json, Value};

/// The default window: one message per scope and cause per hour.
pub const DEFAULT_WINDOW: i64 = 3600;

/// What a notice is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Task {
        arn: String,
        region: String,
    },
    /// An ECS service deployment (`ecs-svc/…` or its ARN), of a service
    /// (its ARN): for the notices of "ECS Deployment State Change" events.
    Deployment {
        id: String,
        service: String,
    },
}

impl Reference {
    /// The ARN or id, as it goes into the message's related resources.
    pub fn id(&self) -> &str {
        match self {
            Reference::Task { arn, .. } => arn,
            Reference::Deployment { id, .. } => id,
        }
    }

    /// The message's `eventType`.
    pub fn event_type(&self) -> &'static str {
        match self {
            Reference::Task { .. } => "ecs-doctor-task-stopped",
            Reference::Deployment { .. } => "ecs-doctor-deployment",
        }
    }

    /// `n` of what is counted between two messages of one scope and cause.
    pub fn counted(&self, n: u64) -> String {
        let noun = match (self, n) {
            (Reference::Task { .. }, 1) => "task",
            (Reference::Task { .. }, _) => "tasks",
            (Reference::Deployment { .. }, 1) => "failed deployment",
            (Reference::Deployment { .. }, _) => "failed deployments",
        };
        format!("{n} more {noun}")
    }

    /// One line naming it, for the message's description.
    pub fn sentence(&self) -> String {
        match self {
            Reference::Task { arn, .. } => format!("Task `{arn}`."),
            Reference::Deployment { id, service } => {
                format!("Deployment `{id}` of `{service}`.")
            }
        }
    }
}

/// A failure worth telling people about.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The cluster's ARN (or its name when no ARN is known).
    pub cluster: String,
    /// `service:<name>` or the task's group (`family:<name>`).
    pub group: String,
    /// The cause code, or `inconclusive`.
    pub cause: String,
    /// One line: what was found.
    pub title: String,
    /// A few lines of the key evidence.
    pub description: Vec<String>,
    /// The fix, then the command that prints the full report.
    pub next_steps: Vec<String>,
    pub reference: Reference,
}

/// The most evidence lines and fix steps a notice carries.
const EVIDENCE_LINES: usize = 3;
const FIX_STEPS: usize = 3;

impl Notice {
    /// `web` for a service, else the group as ECS names it.
    pub fn group_label(&self) -> &str {
        self.group
            .strip_prefix("service:")
            .unwrap_or(self.group.as_str())
    }

    /// The notice for a stopped task's report: its failure cause, or that
    /// no cause could be decided. None for a benign stop or a clean one.
    pub fn for_task(evidence: &Evidence, report: &Report) -> Option<Notice> {
        let task = &report.task;
        let region = task.region.clone();
        let command = format!(
            "Full report: `ecs-doctor task {} --region {region}` (while ECS still returns the task, about an hour; the function's log group keeps this report)",
            task.arn
        );
        let (cause, title, description, mut next_steps) = match report.verdict {
            Conclusion::Failure => {
                let top = report.candidates.iter().find(|c| !c.benign)?;
                (
                    top.code.to_string(),
                    top.title.clone(),
                    top.evidence.iter().take(EVIDENCE_LINES).cloned().collect(),
                    top.fix.iter().take(FIX_STEPS).cloned().collect::<Vec<_>>(),
                )
            }
            Conclusion::Inconclusive => (
                "inconclusive".to_string(),
                "No cause could be decided: a check lacked a fact".to_string(),
                report
                    .gaps
                    .iter()
                    .take(EVIDENCE_LINES)
                    .map(|g| format!("{} failed: {}", g.action, g.error))
                    .collect(),
                vec!["Grant the function the reads named in the gaps.".to_string()],
            ),
            Conclusion::NoFailure => return None,
        };
        next_steps.push(command);
        let cluster = if evidence.task.cluster_arn.is_empty() {
            task.cluster.clone()
        } else {
            evidence.task.cluster_arn.clone()
        };
        let group = evidence
            .task
            .group
            .clone()
            .filter(|g| !g.is_empty())
            .unwrap_or_else(|| format!("task:{}", evidence.task.id));
        Some(Notice {
            cluster,
            group,
            cause,
            title,
            description,
            next_steps,
            reference: Reference::Task {
                arn: task.arn.clone(),
                region,
            },
        })
    }

    /// The notice of a deployment ECS said failed (`said`: its event's
    /// deployment id and reason): the report's headline, ECS's words about
    /// it and the next steps. When the report could not confirm the failure
    /// (its reads were refused, or the deployment moved on before the event
    /// was read), the notice says what ECS said and what was read. Its cause
    /// is `deployment-failed`, so the failed deployments of a service are
    /// one message per window, apart from its stopped tasks' messages; the
    /// deployment's ARN is its reference, so its several events count once.
    pub fn for_deployment(report: &DeploymentReport, said: (&str, &str)) -> Notice {
        let (deployment_id, reason) = said;
        let svc = &report.service;
        let mut next_steps: Vec<String> =
            report.next_steps.iter().take(FIX_STEPS).cloned().collect();
        next_steps.push(format!(
            "Full report: `ecs-doctor deployment {} --cluster {} --region {}`",
            svc.name, svc.cluster, svc.region
        ));
        let mut description: Vec<String> = report
            .groups
            .iter()
            .filter(|g| g.verdict == Conclusion::Failure)
            .map(|g| g.summary.clone())
            .take(1)
            .collect();
        let title = if report.verdict == Conclusion::Failure {
            report.headline.clone()
        } else {
            description.push(format!(
                "ecs-doctor read the service's newest deployment as {}: {}",
                serde_json::to_value(report.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                report.headline
            ));
            format!(
                "{}: ECS reported deployment {deployment_id} failed: {reason}",
                svc.name
            )
        };
        description.extend(report.evidence.iter().take(EVIDENCE_LINES).cloned());
        let cluster = match svc.arn.split(":service/").next() {
            Some(head) if head != svc.arn => format!("{head}:cluster/{}", svc.cluster),
            _ => svc.cluster.clone(),
        };
        let id = report
            .deployment
            .as_ref()
            .filter(|_| report.verdict == Conclusion::Failure)
            .map_or(deployment_id, |d| d.arn.as_str());
        Notice {
            cluster,
            group: format!("service:{}", svc.name),
            cause: "deployment-failed".into(),
            title,
            description,
            next_steps,
            reference: Reference::Deployment {
                id: id.to_string(),
                service: svc.arn.clone(),
            },
        }
    }

    /// The cluster's name, as the message shows it.
    pub fn cluster_name(&self) -> &str {
        ecs_doctor_checks::arn::name(&self.cluster)
    }

    /// The de-duplication scope: the cluster (its ARN names its account
    /// and Region too) and the group.
    pub fn scope(&self) -> String {
        format!("{} {}", self.cluster, self.group)
    }
}

/// A call that failed: the action, AWS's error code, and the message
/// (redacted, one line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub action: &'static str,
    pub code: String,
    pub message: String,
}

impl Failure {
    pub fn of<E, R>(action: &'static str, err: &SdkError<E, R>) -> Failure
    where
        E: aws_sdk_sns::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let (_, message) = crate::collect::error_class(err);
        let code = match err {
            SdkError::ServiceError(se) => se.err().code().unwrap_or("Unknown").to_string(),
            SdkError::TimeoutError(_) => "Timeout".to_string(),
            SdkError::DispatchFailure(_) => "ConnectionFailed".to_string(),
            SdkError::ResponseError(_) => "UnreadableResponse".to_string(),
            _ => "RequestNotBuilt".to_string(),
        };
        Failure {
            action,
            code,
            message: redact::redact(&message).chars().take(300).collect(),
        }
    }
}

/// What became of one notice.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// Published; `earlier` tasks of the cause were counted before it.
    Sent {
        message_id: String,
        earlier: Option<dedup::Earlier>,
    },
    /// Counted within the window of an earlier message.
    Counted { count: u64 },
    /// A call failed; nothing was sent.
    Failed(Failure),
}

impl Delivery {
    /// The invocation result's and the log line's words for it.
    pub fn to_json(&self) -> Value {
        match self {
            Delivery::Sent {
                message_id,
                earlier,
            } => json!({
                "notice": "sent",
                "message_id": message_id,
                "more_since_last": earlier.map_or(0, |e| e.count),
            }),
            Delivery::Counted { count } => json!({"notice": "counted", "count": count}),
            Delivery::Failed(f) => json!({
                "notice": "failed", "action": f.action, "error": f.code, "message": f.message,
            }),
        }
    }
}

/// The topic, the table and the window, from the function's environment.
pub struct Notifier {
    sns: aws_sdk_sns::Client,
    topic: String,
    table: Option<dedup::Table>,
    window: i64,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Notifier {
    /// None when no topic is configured: the function only logs.
    pub async fn from_env(aws: &AwsArgs) -> Result<Option<Notifier>, String> {
        let Some(topic) = std::env::var("ECS_DOCTOR_TOPIC_ARN")
            .ok()
            .filter(|t| !t.trim().is_empty())
        else {
            return Ok(None);
        };
        let window = match std::env::var("ECS_DOCTOR_NOTIFY_WINDOW") {
            Err(_) => DEFAULT_WINDOW,
            Ok(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|w| *w >= 0)
                .ok_or_else(|| {
                    format!("ECS_DOCTOR_NOTIFY_WINDOW is not a number of seconds: {v}")
                })?,
        };
        let sdk = crate::collect::unmemoised_config(aws)
            .await
            .map_err(|e| redact::redact(&e.to_string()))?;
        let table = std::env::var("ECS_DOCTOR_DEDUP_TABLE")
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|name| dedup::Table {
                client: aws_sdk_dynamodb::Client::new(&sdk),
                name,
            });
        Ok(Some(Notifier {
            sns: aws_sdk_sns::Client::new(&sdk),
            topic,
            table,
            window,
        }))
    }

    /// Send `notice` unless one of its scope and cause went out within the
    /// window; then only count it.
    pub async fn send(&self, notice: &Notice) -> Delivery {
        let now = now();
        let scope = notice.scope();
        let claim = match &self.table {
            None => dedup::Claim::Send {
                earlier: None,
                before: None,
                revision: 0,
            },
            Some(table) => match table
                .claim(
                    &scope,
                    &notice.cause,
                    notice.reference.id(),
                    now,
                    self.window,
                )
                .await
            {
                Ok(claim) => claim,
                Err(f) => return Delivery::Failed(f),
            },
        };
        let (earlier, before, revision) = match claim {
            dedup::Claim::Counted { count } => return Delivery::Counted { count },
            dedup::Claim::Send {
                earlier,
                before,
                revision,
            } => (earlier, before, revision),
        };
        let message = message::render(notice, earlier.as_ref(), now);
        let published = self
            .sns
            .publish()
            .topic_arn(&self.topic)
            .subject(&message.subject)
            .message(message.body.to_string())
            .send()
            .await;
        match published {
            Ok(out) => Delivery::Sent {
                message_id: out.message_id.unwrap_or_default(),
                earlier,
            },
            Err(e) => {
                let failure = Failure::of("sns:Publish", &e);
                if let Some(table) = &self.table {
                    if let Err(undo) = table
                        .undo(&scope, &notice.cause, before, revision, now)
                        .await
                    {
                        log_failure(&undo, notice);
                    }
                }
                Delivery::Failed(failure)
            }
        }
    }
}

/// One JSON log line for a failed call: the action and AWS's error code.
pub fn log_failure(f: &Failure, notice: &Notice) {
    println!(
        "{}",
        json!({
            "ecs_doctor": "notify-error",
            "action": f.action,
            "error": f.code,
            "message": f.message,
            "reference": notice.reference.id(),
            "cause": notice.cause,
        })
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecs_doctor_checks::{diagnose, testkit};

    #[test]
    fn a_failure_becomes_a_notice_of_its_cause_and_group() {
        let mut ev = testkit::exited();
        ev.task.containers[0].exit_code = Some(1);
        let report = diagnose(&ev, "test");
        let notice = Notice::for_task(&ev, &report).expect("a failure is told");
        assert_eq!(notice.cause, "app-exit-error");
        assert_eq!(notice.group, "service:web");
        assert_eq!(notice.group_label(), "web");
        assert_eq!(notice.cluster_name(), "prod");
        assert_eq!(
            notice.scope(),
            "arn:aws:ecs:us-east-1:123456789012:cluster/prod service:web"
        );
        let last = notice.next_steps.last().unwrap();
        assert!(
            last.contains(&format!(
                "ecs-doctor task {} --region us-east-1",
                ev.task.arn
            )),
            "{last}"
        );
    }

    #[test]
    fn a_benign_stop_is_not_told() {
        // A deployment replacing its task (the stop text ECS writes).
        let ev = testkit::stopped(
            "ServiceSchedulerInitiated",
            "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)",
        );
        let report = diagnose(&ev, "test");
        assert_eq!(report.verdict, Conclusion::NoFailure, "{report:#?}");
        assert_eq!(Notice::for_task(&ev, &report), None);
    }

    #[test]
    fn a_one_off_task_is_its_groups() {
        let mut ev = testkit::exited();
        ev.task.containers[0].exit_code = Some(1);
        ev.task.group = Some("family:web".into());
        let report = diagnose(&ev, "test");
        let notice = Notice::for_task(&ev, &report).unwrap();
        assert_eq!(notice.group_label(), "family:web");
    }

    #[test]
    fn a_failure_ecs_reported_is_told_even_when_the_deployment_read_otherwise() {
        use ecs_doctor_checks::evidence::{Fact, Service};
        use ecs_doctor_checks::sweep::deployment::{summarize_deployment, DeploymentFacts};
        use ecs_doctor_checks::sweep::Window;
        let service = Service {
            name: "web".into(),
            arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
            ..Default::default()
        };
        // The deployments API refused, and DescribeServices shows no PRIMARY deployment.
        let report = summarize_deployment(
            DeploymentFacts {
                service,
                cluster: "prod".into(),
                region: "us-east-1".into(),
                deployment: Fact::Denied {
                    action: "ecs:ListServiceDeployments".into(),
                    error: "AccessDeniedException".into(),
                },
                window: Window::default(),
                tasks: Fact::gathered(Vec::new()),
                waited: None,
                gaps: Vec::new(),
            },
            "test",
        );
        let notice = Notice::for_deployment(
            &report,
            (
                "ecs-svc/123",
                "ECS deployment circuit breaker: task failed to start.",
            ),
        );
        assert_eq!(notice.cause, "deployment-failed");
        assert_eq!(
            notice.title,
            "web: ECS reported deployment ecs-svc/123 failed: ECS deployment circuit breaker: task failed to start."
        );
        assert!(notice.description[0]
            .starts_with("ecs-doctor read the service's newest deployment as unknown"));
        assert_eq!(notice.reference.id(), "ecs-svc/123");
        assert_eq!(
            notice.cluster,
            "arn:aws:ecs:us-east-1:123456789012:cluster/prod"
        );
    }
}
