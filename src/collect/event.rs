//! EventBridge "ECS Task State Change" events: the task as the event shows
//! it, for tasks AWS no longer returns. The event's `detail` is the task in
//! the ECS API's own JSON shape; it stands in for DescribeTasks, and
//! everything else (task definition, roles, network, logs) is read live.

use super::{collect_found, connect, ecs, Collector};
use crate::cli::AwsArgs;
use crate::error::DoctorError;
use crate::target::TaskTarget;
use ecs_doctor_checks::arn;
use ecs_doctor_checks::evidence::{
    Container, EbsAttachment, EniAttachment, Evidence, Gap, Inputs, ManagedAgent, Question, Task,
    TaskTimestamps,
};
use serde_json::Value;

pub const DETAIL_TYPE: &str = "ECS Task State Change";

/// One task state change, read from an event.
#[derive(Debug, Clone)]
pub struct TaskEvent {
    pub id: Option<String>,
    pub time: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    /// `detail.version`: ECS counts each task's changes up.
    pub version: Option<u64>,
    pub task: Task,
}

/// Every task state change in `text`: one event, a JSON array, JSON lines,
/// CloudWatch Logs output (`{"events": [{"message": "…"}]}`), or an export
/// with a timestamp before each event. Events of other kinds are counted
/// in the second value; a text with no event at all is an error.
pub fn parse(text: &str) -> Result<(Vec<TaskEvent>, usize), String> {
    let mut values = Vec::new();
    match serde_json::from_str::<Value>(text.trim()) {
        Ok(v) => flatten(v, &mut values),
        Err(_) => {
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                // An export line may start with a timestamp: the event starts at `{`.
                let Some(start) = line.find('{') else {
                    return Err(format!("line {} is not JSON", n + 1));
                };
                let v: Value = serde_json::from_str(&line[start..])
                    .map_err(|e| format!("line {} is not JSON ({e})", n + 1))?;
                flatten(v, &mut values);
            }
        }
    }
    let mut events = Vec::new();
    let mut other = 0;
    for v in values {
        if v.get("detail-type").and_then(Value::as_str) == Some(DETAIL_TYPE) {
            events.push(from_event(&v)?);
        } else {
            other += 1;
        }
    }
    if events.is_empty() {
        return Err(format!(
            "it holds no \"{DETAIL_TYPE}\" event ({other} other JSON value{})",
            if other == 1 { "" } else { "s" }
        ));
    }
    // Several changes of one task: the latest (highest detail.version) tells most.
    events.sort_by_key(|e| (e.task.arn.clone(), std::cmp::Reverse(version_of(e))));
    events.dedup_by(|later, first| later.task.arn == first.task.arn);
    Ok((events, other))
}

fn version_of(e: &TaskEvent) -> (Option<u64>, Option<String>) {
    (e.version, e.time.clone())
}

/// Arrays, CloudWatch Logs envelopes and `message` strings, down to events.
fn flatten(v: Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(items) => items.into_iter().for_each(|i| flatten(i, out)),
        Value::Object(ref map) if map.contains_key("events") && !map.contains_key("detail") => {
            if let Some(Value::Array(items)) = map.get("events") {
                items.iter().cloned().for_each(|i| flatten(i, out));
            }
        }
        Value::Object(ref map) if !map.contains_key("detail") && map.contains_key("message") => {
            if let Some(text) = map.get("message").and_then(Value::as_str) {
                if let Ok(inner) = serde_json::from_str::<Value>(text) {
                    flatten(inner, out);
                }
            }
        }
        other => out.push(other),
    }
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Event timestamps are RFC 3339 text; the API's epoch seconds also land here.
fn time(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(t) => Some(t.clone()),
        Value::Number(n) => n.as_f64().map(|secs| {
            humantime::format_rfc3339_millis(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(secs),
            )
            .to_string()
        }),
        _ => None,
    }
}

fn from_event(event: &Value) -> Result<TaskEvent, String> {
    let detail = event
        .get("detail")
        .filter(|d| d.is_object())
        .ok_or("an ECS Task State Change event without a detail")?;
    let arn = s(detail, "taskArn").ok_or("an event whose detail names no taskArn")?;
    Ok(TaskEvent {
        id: s(event, "id"),
        time: s(event, "time"),
        region: s(event, "region"),
        account: s(event, "account"),
        version: detail.get("version").and_then(Value::as_u64),
        task: task_from_detail(detail, arn),
    })
}

/// The event's attachment of one of `kinds` (its `type`, in any case).
fn attachment<'a>(d: &'a Value, kinds: &[&str]) -> Option<&'a Value> {
    d.get("attachments")?
        .as_array()?
        .iter()
        .find(|a| s(a, "type").is_some_and(|t| kinds.iter().any(|k| t.eq_ignore_ascii_case(k))))
}

/// One of an attachment's details, by name.
fn detail(a: &Value, name: &str) -> Option<String> {
    a.get("details")?
        .as_array()?
        .iter()
        .find(|x| s(x, "name").as_deref() == Some(name))
        .and_then(|x| s(x, "value"))
}

/// The task, as DescribeTasks would have returned it.
fn task_from_detail(d: &Value, arn: String) -> Task {
    let eni_attachment = attachment(d, &["eni", "ElasticNetworkInterface"]).map(|a| {
        let detail = |name: &str| detail(a, name);
        EniAttachment {
            status: s(a, "status"),
            eni_id: detail("networkInterfaceId"),
            subnet_id: detail("subnetId"),
            private_ip: detail("privateIPv4Address"),
        }
    });
    let ebs_attachment = attachment(d, &["AmazonElasticBlockStorage"]).map(|a| {
        let detail = |name: &str| detail(a, name);
        EbsAttachment {
            status: s(a, "status"),
            volume_name: detail("volumeName"),
            volume_id: detail("volumeId"),
            role_arn: detail("roleArn"),
            status_reason: detail("statusReason"),
        }
    });
    let containers = d
        .get("containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| Container {
                    name: s(c, "name").unwrap_or_default(),
                    image: s(c, "image"),
                    image_digest: s(c, "imageDigest"),
                    last_status: s(c, "lastStatus"),
                    exit_code: c
                        .get("exitCode")
                        .and_then(Value::as_i64)
                        .and_then(|x| i32::try_from(x).ok()),
                    reason: s(c, "reason"),
                    health_status: s(c, "healthStatus"),
                    managed_agents: c
                        .get("managedAgents")
                        .and_then(Value::as_array)
                        .map(|agents| {
                            agents
                                .iter()
                                .map(|a| ManagedAgent {
                                    name: s(a, "name").unwrap_or_default(),
                                    last_status: s(a, "lastStatus"),
                                    reason: s(a, "reason"),
                                    last_started_at: time(a, "lastStartedAt"),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    Task {
        id: arn::name(&arn).to_string(),
        cluster_arn: s(d, "clusterArn").unwrap_or_default(),
        task_definition_arn: s(d, "taskDefinitionArn").unwrap_or_default(),
        last_status: s(d, "lastStatus").unwrap_or_else(|| "UNKNOWN".into()),
        desired_status: s(d, "desiredStatus"),
        stop_code: s(d, "stopCode"),
        stopped_reason: s(d, "stoppedReason"),
        launch_type: s(d, "launchType"),
        platform_version: s(d, "platformVersion"),
        capacity_provider_name: s(d, "capacityProviderName"),
        group: s(d, "group"),
        started_by: s(d, "startedBy"),
        availability_zone: s(d, "availabilityZone"),
        health_status: s(d, "healthStatus"),
        cpu: s(d, "cpu"),
        memory: s(d, "memory"),
        timestamps: TaskTimestamps {
            created_at: time(d, "createdAt"),
            pull_started_at: time(d, "pullStartedAt"),
            pull_stopped_at: time(d, "pullStoppedAt"),
            started_at: time(d, "startedAt"),
            stopping_at: time(d, "stoppingAt"),
            execution_stopped_at: time(d, "executionStoppedAt"),
            stopped_at: time(d, "stoppedAt"),
        },
        containers,
        eni_attachment,
        ebs_attachment,
        enable_execute_command: d.get("enableExecuteCommand").and_then(Value::as_bool),
        arn,
    }
}

/// The evidence about the task of each event, for the caller to diagnose:
/// AWS's own record when it still has the task (fresher), the event's when
/// it does not. One collector per Region, so shared evidence is read once.
pub async fn collect_tasks(
    events: Vec<TaskEvent>,
    aws: &AwsArgs,
    log_lines: u32,
) -> Vec<(String, Result<Evidence, DoctorError>)> {
    let mut collectors: Vec<(Option<String>, Collector)> = Vec::new();
    let mut out = Vec::new();
    for event in events {
        let arn = event.task.arn.clone();
        let region = event
            .region
            .clone()
            .or_else(|| arn::region(&arn).map(str::to_string));
        let existing = collectors
            .iter()
            .find(|(r, _)| *r == region)
            .map(|(_, c)| c.clone());
        let collector = match existing {
            Some(c) => c,
            None => match connect(region.as_ref(), event.account.clone(), aws).await {
                Ok(c) => {
                    collectors.push((region.clone(), c.clone()));
                    c
                }
                Err(e) => {
                    out.push((arn, Err(e)));
                    continue;
                }
            },
        };
        out.push((arn, Ok(one(&collector, event, log_lines).await)));
    }
    out
}

async fn one(c: &Collector, event: TaskEvent, log_lines: u32) -> Evidence {
    let cluster = event.task.cluster_arn.clone();
    let target = TaskTarget {
        task: event.task.arn.clone(),
        cluster: cluster.clone(),
        region: event.region.clone(),
        account: event.account.clone(),
    };
    let mut unread = None;
    let (task, source) = match ecs::describe_task(&c.ecs(), &c.region, &target, None).await {
        Ok(live) => (live, None),
        Err(DoctorError::TaskNotFound { .. }) => (
            event.task,
            Some(format!(
                "the EventBridge event{}{}: ECS no longer returns this task (it forgets stopped tasks about an hour after they stop)",
                event.id.map(|i| format!(" {i}")).unwrap_or_default(),
                event.time.map(|t| format!(" of {t}")).unwrap_or_default()
            )),
        ),
        Err(other) => {
            // AWS's own record could not be read: a gap, not a forgotten task.
            unread = Some(Gap {
                action: "ecs:DescribeTasks".into(),
                error: other.to_string(),
                impact: "the task's current record (the event's is used instead)".into(),
            });
            (
                event.task,
                Some(format!(
                    "the EventBridge event{}: DescribeTasks failed ({other})",
                    event.id.map(|i| format!(" {i}")).unwrap_or_default()
                )),
            )
        }
    };
    let inputs = Inputs {
        log_lines,
        task_source: source,
        ..Default::default()
    };
    let mut evidence = collect_found(c, task, &cluster, inputs, Question::Task).await;
    evidence.gaps.extend(unread);
    evidence
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{
      "version": "0", "id": "9bcdac79-b31f-4d3d-9410-fbd727c29fab",
      "detail-type": "ECS Task State Change", "source": "aws.ecs",
      "account": "123456789012", "time": "2026-12-03T10:44:05Z", "region": "us-east-1",
      "resources": ["arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"],
      "detail": {
        "attachments": [{"id": "a1", "type": "eni", "status": "DELETED", "details": [
          {"name": "subnetId", "value": "subnet-0a1b"},
          {"name": "networkInterfaceId", "value": "eni-0c2d"},
          {"name": "privateIPv4Address", "value": "10.0.1.23"}]}],
        "availabilityZone": "us-east-1a",
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        "containers": [{"name": "web", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2",
          "lastStatus": "STOPPED", "exitCode": 1, "reason": null}],
        "cpu": "256", "memory": "512", "desiredStatus": "STOPPED", "group": "service:web",
        "launchType": "FARGATE", "lastStatus": "STOPPED", "platformVersion": "1.4.0",
        "startedBy": "ecs-svc/123", "stopCode": "EssentialContainerExited",
        "stoppedReason": "Essential container in task exited",
        "createdAt": "2026-12-03T10:43:00.123Z", "startedAt": "2026-12-03T10:43:40Z",
        "stoppedAt": "2026-12-03T10:44:05Z",
        "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef",
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
        "version": 4
      }
    }"#;

    #[test]
    fn an_event_becomes_the_task_describe_tasks_would_return() {
        let (events, other) = parse(EVENT).unwrap();
        assert_eq!(other, 0);
        let e = &events[0];
        assert_eq!(e.region.as_deref(), Some("us-east-1"));
        let t = &e.task;
        assert_eq!(t.id, "0123456789abcdef0123456789abcdef");
        assert_eq!(t.stop_code.as_deref(), Some("EssentialContainerExited"));
        assert_eq!(t.group.as_deref(), Some("service:web"));
        assert_eq!(t.containers[0].exit_code, Some(1));
        assert_eq!(t.containers[0].reason, None);
        assert_eq!(
            t.timestamps.stopped_at.as_deref(),
            Some("2026-12-03T10:44:05Z")
        );
        let eni = t.eni_attachment.as_ref().unwrap();
        assert_eq!(eni.subnet_id.as_deref(), Some("subnet-0a1b"));
        assert_eq!(eni.status.as_deref(), Some("DELETED"));
    }

    #[test]
    fn arrays_json_lines_and_log_exports_all_read() {
        let one_line =
            serde_json::to_string(&serde_json::from_str::<Value>(EVENT).unwrap()).unwrap();
        let other = r#"{"detail-type": "ECS Container Instance State Change", "detail": {}}"#;
        let array = format!("[{one_line}, {other}]");
        let lines = format!("{one_line}\n{other}\n");
        let export = format!("2026-12-03T10:44:06.000Z {one_line}\n");
        let logs =
            serde_json::json!({"events": [{"timestamp": 1, "message": one_line}]}).to_string();
        for text in [
            array.as_str(),
            lines.as_str(),
            export.as_str(),
            logs.as_str(),
        ] {
            let (events, _) = parse(text).unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(events.len(), 1, "{text}");
        }
        assert_eq!(parse(&array).unwrap().1, 1);
    }

    #[test]
    fn not_an_event_is_refused_in_one_line() {
        assert!(parse(r#"{"a": 1}"#)
            .unwrap_err()
            .contains("no \"ECS Task State Change\" event"));
        assert!(parse("hello\nworld")
            .unwrap_err()
            .contains("line 1 is not JSON"));
    }

    #[test]
    fn several_changes_of_one_task_keep_the_latest() {
        let mut v: Value = serde_json::from_str(EVENT).unwrap();
        let mut earlier = v.clone();
        earlier["time"] = "2026-12-03T10:43:00Z".into();
        earlier["detail"]["lastStatus"] = "PROVISIONING".into();
        v["time"] = "2026-12-03T10:44:05Z".into();
        let text = serde_json::to_string(&vec![earlier, v]).unwrap();
        let (events, _) = parse(&text).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].task.last_status, "STOPPED");
    }
}
