//! ecs-doctor as an AWS Lambda function, for EventBridge rules on "ECS Task
//! State Change" and "ECS Deployment State Change" events: each stopped
//! task is diagnosed while AWS still holds it, and each failed or rolled
//! back deployment as `ecs-doctor deployment` reports it; each report is
//! written as one JSON log line (the Markdown inside it) to the function's
//! own CloudWatch Logs. It reads what `ecs-doctor task` and `deployment`
//! read; with `ECS_DOCTOR_TOPIC_ARN` set, it also sends each failure to that
//! SNS topic, without storms ([`crate::notify`]), and writes nothing else.
//!
//! The same binary runs as the function when Lambda starts it (as
//! `bootstrap`, with `AWS_LAMBDA_RUNTIME_API` set and no arguments).

use crate::cli::{AwsArgs, DeploymentArgs, OutputFormat, Style};
use crate::collect::event;
use crate::deployment::{self, DeploymentEvent};
use crate::notify::{Delivery, Notice, Notifier};
use crate::{render, VERSION};
use ecs_doctor_checks::{diagnose, redact};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

/// Whether Lambda started this process to serve invocations.
pub fn wanted() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() && std::env::args_os().len() <= 1
}

/// Serve invocations until Lambda stops the process.
pub fn run() -> anyhow::Result<i32> {
    crate::runtime::start()?
        .block_on(lambda_runtime::run(service_fn(handle)))
        .map_err(|e| anyhow::anyhow!("the Lambda runtime stopped: {e}"))?;
    Ok(0)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Print one log line (CloudWatch Logs keeps each stdout line as one event).
fn log(line: &Value) {
    println!("{line}");
}

/// The function's AWS settings, from its environment.
fn aws_settings() -> AwsArgs {
    AwsArgs {
        region: None,
        profile: None,
        endpoint_url: std::env::var("AWS_ENDPOINT_URL").ok(),
        timeout: env_number("ECS_DOCTOR_TIMEOUT", 30).clamp(1, 600),
        session: None,
    }
}

async fn notifier(aws: &AwsArgs) -> Option<Notifier> {
    match Notifier::from_env(aws).await {
        Ok(n) => n,
        Err(why) => {
            log(&json!({"ecs_doctor": "notify-error", "action": "configuration", "error": why}));
            None
        }
    }
}

/// Send `notice` when notifications are on; what happened, for the invocation's result.
async fn notify(notifier: &Option<Notifier>, notice: Option<Notice>) -> Option<Value> {
    let (Some(notifier), Some(notice)) = (notifier, notice) else {
        return None;
    };
    let delivery = notifier.send(&notice).await;
    if let Delivery::Failed(f) = &delivery {
        crate::notify::log_failure(f, &notice);
    }
    Some(delivery.to_json())
}

async fn handle(invocation: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    if let Some(event) = DeploymentEvent::parse(&invocation.payload) {
        return Ok(handle_deployment(event).await);
    }
    if invocation
        .payload
        .get("detail-type")
        .and_then(Value::as_str)
        == Some(deployment::DEPLOYMENT_EVENT)
    {
        let why = "the deployment event names no service ARN with its cluster (arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME)";
        log(&json!({"ecs_doctor": "skipped", "reason": why}));
        return Ok(json!({"diagnosed": 0, "skipped": why}));
    }
    let (events, _) = match event::parse(&invocation.payload.to_string()) {
        Ok(parsed) => parsed,
        Err(why) => {
            log(&json!({"ecs_doctor": "skipped", "reason": why}));
            return Ok(json!({"diagnosed": 0, "skipped": why}));
        }
    };
    // Only a stopped task has a cause to find; other changes are noted and left.
    let (stopped, others): (Vec<_>, Vec<_>) = events
        .into_iter()
        .partition(|e| e.task.last_status.eq_ignore_ascii_case("STOPPED"));
    for e in &others {
        log(&json!({
            "ecs_doctor": "skipped",
            "task": e.task.arn,
            "reason": format!("the task is {}, not STOPPED", e.task.last_status),
        }));
    }
    let aws = aws_settings();
    let log_lines = env_number("ECS_DOCTOR_LOG_LINES", 20).min(1000) as u32;
    let notifier = notifier(&aws).await;
    let mut verdicts = Vec::new();
    for (arn, result) in event::collect_tasks(stopped, &aws, log_lines).await {
        match result {
            Ok(evidence) => {
                let report = diagnose(&evidence, VERSION);
                let top = report.candidates.first();
                log(&json!({
                    "ecs_doctor": "report",
                    "task": arn,
                    "verdict": report.verdict,
                    "cause": top.map(|c| c.code.to_string()),
                    "title": top.map(|c| redact::redact(&c.title)),
                    "report": redact::redact_serde(&report),
                    "markdown": render::render(&report, Style::plain(OutputFormat::Markdown)),
                }));
                let mut result = json!({"task": arn, "verdict": report.verdict,
                    "cause": top.map(|c| c.code.to_string())});
                if let Some(sent) = notify(&notifier, Notice::for_task(&evidence, &report)).await {
                    result["notification"] = sent;
                }
                verdicts.push(result);
            }
            Err(err) => {
                let error = redact::redact(&err.to_string());
                log(&json!({"ecs_doctor": "error", "task": arn, "error": error}));
                verdicts.push(json!({"task": arn, "error": error}));
            }
        }
    }
    Ok(json!({"diagnosed": verdicts.len(), "results": verdicts}))
}

/// A deployment event: a failure (`SERVICE_DEPLOYMENT_FAILED`, a rollback
/// starting) is reported as `ecs-doctor deployment` reports the service's
/// newest deployment, without waiting; other changes are noted and left.
async fn handle_deployment(event: DeploymentEvent) -> Value {
    if !event.is_failure() {
        log(&json!({
            "ecs_doctor": "skipped",
            "service": event.service_arn,
            "deployment": event.deployment_id,
            "reason": format!("{} is not a failure", event.event_name),
        }));
        return json!({"diagnosed": 0, "skipped": event.event_name});
    }
    let aws = aws_settings();
    let args = DeploymentArgs::once(
        event.service_arn.clone(),
        None,
        env_number("ECS_DOCTOR_DEPLOYMENT_TASKS", 20).clamp(1, 1000) as u32,
        env_number("ECS_DOCTOR_LOG_LINES", 20).min(1000) as u32,
        aws.clone(),
        // The deployment the event is about, not one started since.
        event.time,
    );
    let report = match deployment::deployment(&args, &deployment::Progress::hidden()).await {
        Ok(report) => report,
        Err(err) => {
            let error = redact::redact(&err.to_string());
            log(&json!({"ecs_doctor": "error", "service": event.service_arn, "error": error}));
            return json!({"diagnosed": 0, "results": [{"service": event.service_arn, "error": error}]});
        }
    };
    log(&json!({
        "ecs_doctor": "deployment",
        "service": event.service_arn,
        "deployment": event.deployment_id,
        "event": event.event_name,
        "state": report.state,
        "verdict": report.verdict,
        "headline": redact::redact(&report.headline),
        "report": redact::redact_serde(&report),
        "markdown": render::render_deployment(&report, Style::plain(OutputFormat::Markdown)),
    }));
    let mut result = json!({"service": event.service_arn, "state": report.state,
        "verdict": report.verdict});
    let notice = Notice::for_deployment(&report, (&event.deployment_id, &event.reason));
    if let Some(sent) = notify(&notifier(&aws).await, Some(notice)).await {
        result["notification"] = sent;
    }
    json!({"diagnosed": 1, "results": [result]})
}
