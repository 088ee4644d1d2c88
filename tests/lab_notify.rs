//! End-to-end: the Lambda's notifications. The real binary serves a Lambda
//! Runtime API on loopback, several instances at once as Lambda scales out,
//! for the `notify-crash-loop` lab: 50 STOPPED events of a crash-looping
//! service and one of a one-off task with a bad tag. What the SNS topic
//! delivered is read back from the SQS queue subscribed to it.

mod common;

use common::runtime_api::{Answer, RuntimeApi};
use common::{debug_structure, ecs_doctor, lab_python, Lab};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "lab-only-not-a-secret-5f2c";

/// One instance of the function, with notifications configured by `env`.
/// Its stdout lines (the function's log) are collected into `log`.
fn function(
    lab: &Lab,
    api: &RuntimeApi,
    env: &[(&str, &str)],
    log: &Arc<Mutex<Vec<String>>>,
) -> Child {
    let mut cmd = ecs_doctor();
    cmd.env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "ecs-doctor")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ecs-doctor")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/03/[$LATEST]0123")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", lab.endpoint())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start the function");
    let stdout = child.stdout.take().unwrap();
    let log = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            log.lock().unwrap().push(line);
        }
    });
    child
}

fn answers(api: &RuntimeApi, n: usize) -> Vec<Answer> {
    (0..n)
        .map(|i| {
            api.answer(Duration::from_secs(180))
                .unwrap_or_else(|| panic!("no answer to invocation {i}"))
        })
        .collect()
}

fn stop(children: Vec<Child>) {
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// Every message in the lab's queue (taken off it): the SNS envelopes.
fn drain_queue(lab: &Lab) -> Vec<Value> {
    let script = r#"
import json, sys, boto3
info = json.loads(sys.argv[1])
sqs = boto3.client("sqs", endpoint_url=info["endpoint"], region_name=info["region"],
                   aws_access_key_id="testing", aws_secret_access_key="testing")
out, empty = [], 0
while empty < 2:
    got = sqs.receive_message(QueueUrl=info["queue_url"], MaxNumberOfMessages=10, WaitTimeSeconds=1)
    msgs = got.get("Messages", [])
    empty = empty + 1 if not msgs else 0
    for m in msgs:
        out.append(json.loads(m["Body"]))
        sqs.delete_message(QueueUrl=info["queue_url"], ReceiptHandle=m["ReceiptHandle"])
print(json.dumps(out))
"#;
    let info = serde_json::json!({
        "endpoint": lab.endpoint(),
        "region": lab.get("region"),
        "queue_url": lab.get("queue_url"),
    });
    let out = std::process::Command::new(lab_python())
        .args(["-c", script, &info.to_string()])
        .output()
        .expect("read the queue");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the queue's messages")
}

/// The Chatbot custom notification inside an SNS envelope, checked
/// against the documented schema.
fn notification(envelope: &Value) -> Value {
    assert_eq!(envelope["Type"], "Notification", "{envelope:#}");
    let subject = envelope["Subject"].as_str().expect("a subject");
    assert!(
        !subject.is_empty() && subject.chars().count() < 100 && !subject.contains('\n'),
        "{subject}"
    );
    let body: Value =
        serde_json::from_str(envelope["Message"].as_str().unwrap()).expect("a JSON message");
    assert_eq!(body["version"], "1.0");
    assert_eq!(body["source"], "custom");
    let content = &body["content"];
    assert_eq!(content["textType"], "client-markdown");
    assert_eq!(content["title"], subject, "the subject is the title");
    assert!(content["description"]
        .as_str()
        .is_some_and(|d| !d.is_empty()));
    let steps = content["nextSteps"].as_array().expect("next steps");
    assert!(steps.iter().all(Value::is_string) && !steps.is_empty());
    let context = body["metadata"]["additionalContext"].as_object().unwrap();
    assert!(context.values().all(Value::is_string), "{context:?}");
    body
}

fn crash_events(lab: &Lab) -> Vec<Value> {
    lab.info["crash_events"]
        .as_array()
        .expect("crash events")
        .clone()
}

fn notices(answers: &[Answer]) -> Vec<(String, String, Value)> {
    answers
        .iter()
        .flat_map(|a| {
            assert_eq!(a.kind, "response", "{a:?}");
            a.body["results"].as_array().cloned().unwrap_or_default()
        })
        .map(|r| {
            (
                r["task"].as_str().unwrap_or_default().to_string(),
                r["cause"].as_str().unwrap_or_default().to_string(),
                r["notification"].clone(),
            )
        })
        .collect()
}

#[test]
fn a_crash_loop_is_sent_once_and_counted_and_another_cause_is_sent_apart() {
    let lab = Lab::start("notify-crash-loop");
    let mut events = crash_events(&lab);
    assert_eq!(events.len(), 50);
    events.insert(20, lab.info["other_event"].clone());
    let topic = lab.get("topic_arn").to_string();
    let table = lab.get("table").to_string();
    let env = [
        ("ECS_DOCTOR_TOPIC_ARN", topic.as_str()),
        ("ECS_DOCTOR_DEDUP_TABLE", table.as_str()),
        ("ECS_DOCTOR_NOTIFY_WINDOW", "3600"),
    ];
    let log = Arc::new(Mutex::new(Vec::new()));
    // One event per invocation, as EventBridge invokes; three instances at
    // once, as Lambda scales out, racing for the same table items.
    let api = RuntimeApi::start(events.clone());
    let children: Vec<Child> = (0..3).map(|_| function(&lab, &api, &env, &log)).collect();
    let got = answers(&api, events.len());
    stop(children);

    let results = notices(&got);
    assert_eq!(results.len(), 51);
    let other = lab.get("other_task_arn");
    let (crashes, others): (Vec<_>, Vec<_>) = results.iter().partition(|(t, _, _)| t != other);
    assert!(
        crashes.iter().all(|(_, c, _)| c == "app-exit-error"),
        "{crashes:#?}"
    );
    assert_eq!(others.len(), 1);
    assert_eq!(others[0].1, "image-not-found");
    assert_eq!(others[0].2["notice"], "sent", "{:?}", others[0]);
    let sent: Vec<_> = crashes
        .iter()
        .filter(|(_, _, n)| n["notice"] == "sent")
        .collect();
    assert_eq!(
        sent.len(),
        1,
        "one message for the crash loop: {crashes:#?}"
    );
    let mut counts: Vec<u64> = crashes
        .iter()
        .filter(|(_, _, n)| n["notice"] == "counted")
        .map(|(_, _, n)| n["count"].as_u64().unwrap())
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=49).collect::<Vec<u64>>(), "each counted once");

    let messages = drain_queue(&lab);
    assert_eq!(messages.len(), 2, "{messages:#?}");
    for m in &messages {
        assert!(!m.to_string().contains(SECRET), "{m}");
    }
    let bodies: Vec<Value> = messages.iter().map(notification).collect();
    let crash = bodies
        .iter()
        .find(|b| b["content"]["title"] == "ecs-doctor: app-exit-error in prod/web")
        .unwrap_or_else(|| panic!("no crash-loop message: {bodies:#?}"));
    let sent_task = &sent[0].0;
    let steps = crash["content"]["nextSteps"].to_string();
    assert!(
        steps.contains(&format!("ecs-doctor task {sent_task} --region us-east-1")),
        "{steps}"
    );
    assert_eq!(crash["metadata"]["relatedResources"][0], sent_task.as_str());
    assert!(!crash["content"]["description"]
        .as_str()
        .unwrap()
        .contains("more tasks since"));
    let image = bodies
        .iter()
        .find(|b| b["content"]["title"] == "ecs-doctor: image-not-found in prod/family:web")
        .unwrap_or_else(|| panic!("no message for the other cause: {bodies:#?}"));
    assert!(
        image["content"]["description"]
            .as_str()
            .unwrap()
            .contains("v7"),
        "{image:#}"
    );
    assert_eq!(image["metadata"]["relatedResources"][0], other);
    let logged = log.lock().unwrap().join("\n");
    assert!(!logged.contains(SECRET));
    assert!(!logged.contains("notify-error"), "{logged}");

    // An hour later (a window of one second, a second later): the next
    // crash is sent, with the count of those held back.
    std::thread::sleep(Duration::from_millis(1100));
    let newest = events.last().unwrap().clone();
    let api = RuntimeApi::start(vec![newest]);
    let window = [
        ("ECS_DOCTOR_TOPIC_ARN", topic.as_str()),
        ("ECS_DOCTOR_DEDUP_TABLE", table.as_str()),
        ("ECS_DOCTOR_NOTIFY_WINDOW", "1"),
    ];
    let child = function(&lab, &api, &window, &log);
    let got = answers(&api, 1);
    stop(vec![child]);
    let results = notices(&got);
    assert_eq!(results[0].2["notice"], "sent", "{results:?}");
    assert_eq!(results[0].2["more_since_last"], 49);
    let messages = drain_queue(&lab);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let body = notification(&messages[0]);
    assert_eq!(
        body["content"]["title"],
        "ecs-doctor: app-exit-error in prod/web"
    );
    let description = body["content"]["description"].as_str().unwrap();
    assert!(
        description.contains("…and 49 more tasks since ") && description.contains(" UTC"),
        "{description}"
    );
    assert_eq!(
        body["metadata"]["additionalContext"]["more_since_last"],
        "49"
    );
}

#[test]
fn without_a_topic_the_function_only_logs() {
    let lab = Lab::start("notify-crash-loop");
    let log = Arc::new(Mutex::new(Vec::new()));
    let api = RuntimeApi::start(vec![lab.info["other_event"].clone()]);
    let child = function(&lab, &api, &[], &log);
    let got = answers(&api, 1);
    stop(vec![child]);
    assert_eq!(got[0].body["results"][0]["cause"], "image-not-found");
    assert!(
        got[0].body["results"][0]["notification"].is_null(),
        "{got:?}"
    );
    assert!(drain_queue(&lab).is_empty());
}

#[test]
fn a_failed_publish_or_table_call_is_logged_and_answered_never_a_crash() {
    let lab = Lab::start("notify-crash-loop");
    let events = crash_events(&lab);
    let table = lab.get("table").to_string();
    let log = Arc::new(Mutex::new(Vec::new()));

    // A topic that does not exist: the claim is won, the publish fails, the
    // claim is undone, so the next crash tries again instead of counting.
    let api = RuntimeApi::start(vec![events[0].clone(), events[1].clone()]);
    let missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic";
    let child = function(
        &lab,
        &api,
        &[
            ("ECS_DOCTOR_TOPIC_ARN", missing),
            ("ECS_DOCTOR_DEDUP_TABLE", table.as_str()),
        ],
        &log,
    );
    let got = answers(&api, 2);
    stop(vec![child]);
    for (_, cause, n) in notices(&got) {
        assert_eq!(cause, "app-exit-error");
        assert_eq!(n["notice"], "failed", "{n}");
        assert_eq!(n["action"], "sns:Publish", "{n}");
        assert_eq!(n["error"], "NotFound", "{n}");
    }

    // A table that does not exist: nothing is sent.
    let topic = lab.get("topic_arn").to_string();
    let api = RuntimeApi::start(vec![events[2].clone()]);
    let child = function(
        &lab,
        &api,
        &[
            ("ECS_DOCTOR_TOPIC_ARN", topic.as_str()),
            ("ECS_DOCTOR_DEDUP_TABLE", "no-such-table"),
        ],
        &log,
    );
    let got = answers(&api, 1);
    stop(vec![child]);
    let n = &notices(&got)[0].2;
    assert_eq!(n["notice"], "failed", "{n}");
    assert_eq!(n["action"], "dynamodb:GetItem", "{n}");
    assert_eq!(n["error"], "ResourceNotFoundException", "{n}");
    assert!(drain_queue(&lab).is_empty());

    // Each failure is one JSON log line naming the action and the code.
    let lines = log.lock().unwrap().clone();
    let errors: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["ecs_doctor"] == "notify-error")
        .collect();
    let named: Vec<(String, String)> = errors
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["error"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            ("sns:Publish".to_string(), "NotFound".to_string()),
            ("sns:Publish".to_string(), "NotFound".to_string()),
            (
                "dynamodb:GetItem".to_string(),
                "ResourceNotFoundException".to_string()
            ),
        ]
    );
    for e in &errors {
        assert_eq!(debug_structure(&e.to_string()), None, "{e}");
    }
}

#[test]
fn a_rolled_back_deployment_is_reported_from_its_events_and_sent_once() {
    let lab = Lab::start("deployment-rolled-back");
    let events = lab.info["deployment_events"]
        .as_array()
        .expect("deployment events")
        .clone();
    let env = [
        ("ECS_DOCTOR_TOPIC_ARN", lab.get("topic_arn")),
        ("ECS_DOCTOR_DEDUP_TABLE", lab.get("table")),
    ];
    let log = Arc::new(Mutex::new(Vec::new()));
    // SERVICE_DEPLOYMENT_FAILED, the rollback starting, and the rollback completing.
    let api = RuntimeApi::start(events);
    let child = function(&lab, &api, &env, &log);
    let got = answers(&api, 3);
    stop(vec![child]);

    // The failure and the rollback are each reported as `deployment` reports them.
    for answer in &got[..2] {
        assert_eq!(answer.kind, "response", "{answer:?}");
        let result = &answer.body["results"][0];
        assert_eq!(result["state"], "rolled-back", "{answer:?}");
        assert_eq!(result["verdict"], "failure");
    }
    assert_eq!(got[0].body["results"][0]["notification"]["notice"], "sent");
    assert_eq!(
        got[1].body["results"][0]["notification"]["notice"],
        "counted"
    );
    // A completed deployment is noted and left.
    assert_eq!(got[2].body["diagnosed"], 0, "{:?}", got[2]);

    let lines = log.lock().unwrap().clone();
    let reports: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["ecs_doctor"] == "deployment")
        .collect();
    assert_eq!(reports.len(), 2, "{lines:#?}");
    assert_eq!(
        reports[0]["report"]["groups"][0]["cause"],
        "image-not-found"
    );
    assert!(reports[0]["markdown"]
        .as_str()
        .unwrap()
        .starts_with("## ecs-doctor: deployment of web — failure"));
    for line in &lines {
        assert!(!line.contains(SECRET), "{line}");
        assert!(debug_structure(line).is_none(), "{line}");
    }

    // One message for the failed deployment, however many events it made.
    let queue = drain_queue(&lab);
    assert_eq!(queue.len(), 1, "{queue:#?}");
    let body = notification(&queue[0]);
    let content = &body["content"];
    assert_eq!(
        content["title"],
        "ecs-doctor: deployment-failed in prod/web"
    );
    let description = content["description"].as_str().unwrap();
    assert!(
        description.contains("failed and was rolled back")
            && description.contains("image-not-found")
            && description.contains(lab.get("new_deployment_id")),
        "{description}"
    );
    let steps: Vec<&str> = content["nextSteps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(steps[0].starts_with("Push the image"), "{steps:?}");
    assert!(
        steps
            .last()
            .unwrap()
            .contains("ecs-doctor deployment web --cluster prod --region us-east-1"),
        "{steps:?}"
    );
    assert_eq!(body["metadata"]["eventType"], "ecs-doctor-deployment");
}
