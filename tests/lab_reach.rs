//! End-to-end: beyond one task. A service's stopped tasks grouped by cause, a
//! service that never placed a task, a cluster of three services, EventBridge
//! events for tasks AWS has forgotten, and the Lambda entry point fed a real
//! event through a Lambda Runtime API on loopback.

mod common;

use common::runtime_api::RuntimeApi;
use common::{ecs_doctor, gap_actions, snapshot_settings, top_code, Lab};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

fn groups(report: &Value) -> Vec<(String, u64)> {
    report["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            (
                g["cause"].as_str().unwrap_or_default().to_string(),
                g["count"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn a_service_sweep_groups_stopped_tasks_by_cause_and_keeps_benign_apart() {
    let lab = Lab::start("service-mixed-causes");
    let args = lab.question();
    let (code, report) = lab.json_run(&args);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["kind"], "service");
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["verdict"], "failure");
    assert_eq!(
        groups(&report),
        [
            ("image-not-found".to_string(), 3),
            ("app-exit-error".to_string(), 2),
            ("stopped-by-deployment".to_string(), 2)
        ]
    );
    let image = &report["groups"][0];
    assert_eq!(image["deployments"][0], lab.get("deployment_id"));
    let headline = report["headline"].as_str().unwrap();
    assert!(
        headline.starts_with("3 of 7 stopped tasks: image-not-found (Tag `v2` does not exist")
            && headline.contains(&format!("since deployment {} at", lab.get("deployment_id"))),
        "{headline}"
    );
    let benign = &report["groups"][2];
    assert_eq!(benign["benign"], true);
    assert_eq!(benign["verdict"], "no-failure");
    // The task that stopped three hours ago is outside the window.
    assert_eq!(report["window"]["stopped_tasks"], 7);
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 7);
    let outside = lab.get("outside_window_task_arn");
    assert!(tasks.iter().all(|t| t["task"]["arn"] != outside));
    // Each task is a whole task report, newest first.
    assert_eq!(tasks[0]["task"]["arn"], lab.task_arn());
    assert_eq!(top_code(&tasks[0]), "image-not-found");
    assert_eq!(report["issues"][0]["kind"], "failing-to-start");
    assert_eq!(report["deployments"][0]["status"], "PRIMARY");
    assert_eq!(report["deployments"][0]["failed_tasks"], 3);

    snapshot_settings().bind(|| {
        let mut md = args.clone();
        md.extend(["-o", "markdown"]);
        let out = lab.run(&md);
        insta::assert_snapshot!(
            "reach_service_mixed_causes",
            String::from_utf8(out.stdout).unwrap()
        )
    });
}

#[test]
fn limit_and_since_bound_the_sweep() {
    let lab = Lab::start("service-mixed-causes");
    let mut args = lab.question();
    args.extend(["--limit", "2"]);
    let (code, report) = lab.json_run(&args);
    assert_eq!(code, 1);
    assert_eq!(report["window"]["stopped_tasks"], 7);
    assert_eq!(report["window"]["diagnosed"], 2);
    assert_eq!(groups(&report), [("image-not-found".to_string(), 2)]);
    // The newest task stopped six minutes ago; the next one seventeen.
    let mut args = lab.question();
    args.extend(["--since", "10m"]);
    let (_, report) = lab.json_run(&args);
    assert_eq!(report["window"]["stopped_tasks"], 1);
    assert_eq!(report["tasks"][0]["task"]["arn"], lab.task_arn());
}

#[test]
fn a_service_that_never_placed_a_task_is_diagnosed_from_its_events() {
    let lab = Lab::start("service-never-placed");
    let (code, report) = lab.json_run(&lab.question());
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["groups"].as_array().unwrap().len(), 0);
    let issue = &report["issues"][0];
    assert_eq!(issue["kind"], "cannot-place-task");
    assert_eq!(issue["count"], 4);
    assert!(issue["evidence"][0]
        .as_str()
        .unwrap()
        .contains("Capacity is unavailable"));
    // The events name the cause and what was short: Fargate's own capacity.
    assert_eq!(issue["cause"], "placement-failed");
    assert_eq!(issue["resource"], "fargate-capacity");
    assert!(
        issue["fix"][0].as_str().unwrap().contains("retry"),
        "{issue:#}"
    );
    assert!(report["headline"]
        .as_str()
        .unwrap()
        .starts_with("No task stopped in the window; the scheduler says: placement-failed: The scheduler could not place a task: Fargate had no capacity for it in the Availability Zones asked (4 events"), "{report:#}");
    assert_eq!(report["service"]["running_count"], 0);
    assert_eq!(report["service"]["desired_count"], 2);
}

#[test]
fn a_task_no_instance_had_memory_for_is_a_placement_failure() {
    let lab = Lab::start("place-ec2-short-of-memory");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "placement-failed", "{report:#}");
    let top = &report["candidates"][0];
    assert!(top["title"]
        .as_str()
        .unwrap()
        .contains("no container instance had enough free memory"));
    let evidence = top["evidence"].to_string();
    assert!(
        evidence.contains("TaskFailedToStart: RESOURCE:MEMORY"),
        "{evidence}"
    );
    assert!(evidence.contains("capacity provider web-asg"), "{evidence}");
    assert!(top["fix"][0]
        .as_str()
        .unwrap()
        .contains("Add container instances"));
    // The service's sweep groups the task under the same cause.
    let (code, sweep) = lab.json_run(&[
        "service",
        "web",
        "--cluster",
        "prod",
        "--region",
        "us-east-1",
    ]);
    assert_eq!(code, 1, "{sweep:#}");
    assert_eq!(groups(&sweep), [("placement-failed".to_string(), 1)]);
}

#[test]
fn service_sweeps_refuse_bad_input_in_one_line() {
    let lab = Lab::start("service-never-placed");
    for (args, code, words) in [
        (
            vec![
                "service",
                "nope",
                "--cluster",
                "prod",
                "--region",
                "us-east-1",
            ],
            // AWS does not know the service: the diagnosis cannot run.
            3,
            "service nope does not exist",
        ),
        (
            vec!["service", "web", "--region", "us-east-1"],
            2,
            "give --cluster",
        ),
        (
            vec![
                "service",
                "web",
                "--cluster",
                "prod",
                "--since",
                "yesterday",
            ],
            2,
            "neither a duration",
        ),
    ] {
        let out = lab.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn a_least_privilege_caller_sweeps_without_gaps_and_a_refused_listing_is_named() {
    let policy =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/iam-policy.json"))
            .unwrap();
    let lab = Lab::start_with_policy("service-mixed-causes", &policy);
    let (code, report) = lab.json_run(&lab.question());
    assert_eq!(code, 1, "{report:#}");
    assert!(
        common::gaps_beyond_the_lab(&report).is_empty(),
        "{report:#}"
    );
    for task in report["tasks"].as_array().unwrap() {
        assert!(gap_actions(task).is_empty(), "{task:#}");
    }
    // Without ecs:ListTasks the stopped tasks are a gap, not an empty list.
    let without = policy.replace("\"ecs:ListTasks\",", "");
    let lab = Lab::start_with_policy("service-mixed-causes", &without);
    let (_, report) = lab.json_run(&lab.question());
    assert_eq!(gap_actions(&report), ["ecs:ListTasks"], "{report:#}");
    assert!(report["headline"]
        .as_str()
        .unwrap()
        .starts_with("The stopped tasks could not be listed"));
    assert_eq!(report["groups"], serde_json::json!([]));
}

#[test]
fn a_cluster_sweep_lists_failing_services_worst_first() {
    let lab = Lab::start("cluster-three-services");
    let args = lab.question();
    let (code, report) = lab.json_run(&args);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["kind"], "cluster");
    let rows: Vec<(String, String, u64, u64)> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["cause"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
                r["of"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("web".into(), "image-not-found".into(), 2, 2),
            ("family:web".into(), "app-exit-error".into(), 1, 1),
            ("api".into(), "app-exit-error".into(), 1, 2),
        ]
    );
    assert_eq!(report["rows"][1]["source"], "standalone");
    assert_eq!(report["quiet"], serde_json::json!(["worker"]));
    assert_eq!(report["window"]["stopped_tasks"], 5);
    snapshot_settings().bind(|| {
        let mut md = args.clone();
        md.extend(["-o", "markdown"]);
        let out = lab.run(&md);
        insta::assert_snapshot!(
            "reach_cluster_three_services",
            String::from_utf8(out.stdout).unwrap()
        )
    });
}

fn events(lab: &Lab) -> Vec<Value> {
    lab.info["events"].as_array().expect("events").clone()
}

#[test]
fn events_stand_in_for_tasks_aws_has_forgotten() {
    let lab = Lab::start("event-stopped-tasks");
    let dir = tempfile::tempdir().unwrap();
    // JSON lines: the forgotten task, then the held task's PENDING and STOPPED changes.
    let lines: String = events(&lab).iter().map(|e| format!("{e}\n")).collect();
    let file = dir.path().join("events.jsonl");
    std::fs::write(&file, lines).unwrap();
    let (code, reports) = lab.json_run(&["event", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{reports:#}");
    let reports = reports.as_array().expect("several tasks: an array");
    assert_eq!(reports.len(), 2, "one report per task, its latest change");
    let by_arn = |arn: &str| {
        reports
            .iter()
            .find(|r| r["task"]["arn"] == arn)
            .unwrap_or_else(|| panic!("no report for {arn}"))
    };
    let forgotten = by_arn(lab.get("forgotten_task_arn"));
    assert_eq!(top_code(forgotten), "image-not-found", "{forgotten:#}");
    assert!(forgotten["task"]["source"]
        .as_str()
        .unwrap()
        .contains("ECS no longer returns this task"));
    assert!(gap_actions(forgotten).is_empty(), "{forgotten:#}");
    let held = by_arn(lab.get("held_task_arn"));
    assert_eq!(top_code(held), "app-exit-error");
    assert!(held["task"]["source"].is_null(), "AWS's own record is used");

    // One event on standard input: one report, as for one task.
    let mut cmd = ecs_doctor();
    cmd.args([
        "event",
        "-",
        "-o",
        "markdown",
        "--endpoint-url",
        lab.endpoint(),
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(events(&lab)[0].to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("**Task record** from the EventBridge event"),
        "{md}"
    );

    // The task itself: AWS reports it MISSING, and the message says where to go.
    let out = lab.run(&["task", lab.get("forgotten_task_arn")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("MISSING")
            && stderr.contains("ecs-doctor event")
            && stderr.contains("ecs-doctor service"),
        "{stderr}"
    );

    // Not an event file: one line, exit 2.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"hello": "world"}"#).unwrap();
    let out = lab.run(&["event", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not an EventBridge event file"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn the_lambda_entry_point_diagnoses_each_stopped_task_event() {
    let lab = Lab::start("event-stopped-tasks");
    let events = events(&lab);
    // The held task stopping, then its earlier PENDING change (skipped).
    let api = RuntimeApi::start(vec![events[2].clone(), events[1].clone()]);
    let mut child = ecs_doctor()
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "ecs-doctor")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ecs-doctor")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/03/[$LATEST]0123")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", lab.endpoint())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the function");
    let stdout = child.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .take(2)
            .map(|l| l.expect("a line"))
            .collect::<Vec<_>>()
    });
    let first = api
        .answer(Duration::from_secs(60))
        .expect("an answer to the stopped task");
    let second = api
        .answer(Duration::from_secs(60))
        .expect("an answer to the pending change");
    let _ = child.kill();
    let _ = child.wait();
    let lines = lines.join().unwrap();

    assert_eq!(first.kind, "response", "{first:?}");
    assert_eq!(first.body["diagnosed"], 1, "{first:?}");
    assert_eq!(first.body["results"][0]["cause"], "app-exit-error");
    assert_eq!(second.body["diagnosed"], 0, "{second:?}");

    // One structured JSON line per report, the Markdown inside it.
    let report: Value = serde_json::from_str(&lines[0]).expect("a JSON log line");
    assert_eq!(report["ecs_doctor"], "report");
    assert_eq!(report["task"], lab.get("held_task_arn"));
    assert_eq!(report["cause"], "app-exit-error");
    assert_eq!(report["report"]["verdict"], "failure");
    let markdown = report["markdown"].as_str().unwrap();
    assert!(
        markdown
            .starts_with("## ecs-doctor: app-exit-error\n\n**Most likely cause: app-exit-error"),
        "{markdown}"
    );
    // Secrets stay secret in the log line too.
    assert!(
        !lines[0].contains("lab-only-not-a-secret-5f2c"),
        "{}",
        lines[0]
    );
    let skipped: Value = serde_json::from_str(&lines[1]).expect("a JSON log line");
    assert_eq!(skipped["ecs_doctor"], "skipped");
    assert!(skipped["reason"].as_str().unwrap().contains("PENDING"));
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line() {
    let out = ecs_doctor().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    let script = String::from_utf8(out.stdout).unwrap();
    for word in ["ecs-doctor", "service", "cluster", "event", "--since"] {
        assert!(script.contains(word), "bash completion lacks {word}");
    }
    let out = ecs_doctor().arg("man").output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH ecs-doctor"),
        "{page}"
    );
    assert!(
        page.contains("preflight") && page.contains("service"),
        "{page}"
    );
}
