//! `ecs-doctor deployment` against the lab: a rollback by the circuit
//! breaker and by an alarm, a completed deployment, one still in progress,
//! `--wait` until it settles or times out, the state read without the
//! service deployments API, and bad input.

mod common;

use common::{debug_structure, snapshot_settings, Lab};
use serde_json::Value;
use std::time::Instant;

fn deployment(lab: &Lab, extra: &[&str]) -> (i32, Value, String) {
    let mut args = lab.question();
    args.extend(["-o", "json"]);
    args.extend(extra);
    let out = lab.run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {stderr}"));
    (out.status.code().unwrap_or(-1), report, stderr)
}

fn causes(report: &Value) -> Vec<(String, u64)> {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["cause"].as_str().unwrap().to_string(),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_circuit_breaker_rollback_exits_1_with_its_tasks_grouped_by_cause() {
    let lab = Lab::start("deployment-rolled-back");
    let (code, report, _) = deployment(&lab, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["kind"], "deployment");
    assert_eq!(report["state"], "rolled-back");
    assert_eq!(report["state_source"], "service-deployments");
    assert_eq!(report["verdict"], "failure");
    assert_eq!(
        report["triggers"][0],
        serde_json::json!({"kind": "circuit-breaker", "failures": 3, "threshold": 3})
    );
    assert_eq!(report["revisions"]["before"], serde_json::json!(["web:1"]));
    assert_eq!(report["revisions"]["after"], "web:2");
    assert_eq!(report["revisions"]["rolled_back_to"], "web:1");
    // Only the new revision's three tasks are the deployment's.
    assert_eq!(causes(&report), vec![("image-not-found".to_string(), 3)]);
    let mut failed: Vec<&str> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task"]["arn"].as_str().unwrap())
        .collect();
    failed.sort();
    let mut want: Vec<&str> = lab.info["failed_tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    want.sort();
    assert_eq!(failed, want);
    let headline = report["headline"].as_str().unwrap();
    assert!(
        headline.starts_with("web: the deployment of web:2 failed and was rolled back: the circuit breaker stopped it after 3 failed tasks (threshold 3); 3 of 3 stopped tasks: image-not-found"),
        "{headline}"
    );
    // The fix of the cause comes first among the next steps.
    assert!(
        report["next_steps"][0]
            .as_str()
            .unwrap()
            .starts_with("Push the image"),
        "{:#}",
        report["next_steps"]
    );
    // The scheduler's own words are there too.
    assert_eq!(report["issues"][0]["kind"], "circuit-breaker");
    // A secret of the task definition never reaches the report.
    assert!(!report.to_string().contains("lab-only-not-a-secret-5f2c"));

    let mut args = lab.question();
    args.extend(["-o", "markdown"]);
    let markdown = String::from_utf8(lab.run(&args).stdout).expect("utf-8");
    assert!(debug_structure(&markdown).is_none(), "{markdown}");
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("deployment_rolled_back_markdown", markdown);
    });
}

#[test]
fn an_alarm_rollback_names_the_alarm_and_where_to_read_why() {
    let lab = Lab::start("deployment-alarm-rolled-back");
    let (code, report, _) = deployment(&lab, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["state"], "rolled-back");
    assert_eq!(
        report["triggers"],
        serde_json::json!([{"kind": "alarms", "names": ["web-5xx"]}])
    );
    assert!(report["headline"]
        .as_str()
        .unwrap()
        .contains("alarm web-5xx went into ALARM"));
    assert!(report["next_steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s.as_str().unwrap().contains("--alarm-name web-5xx")));
    // Its tasks ran and were replaced by the rollback: benign, not the cause.
    assert_eq!(
        causes(&report),
        vec![("stopped-by-deployment".to_string(), 2)]
    );
}

#[test]
fn a_completed_deployment_exits_0_and_leaves_the_old_revisions_tasks_out() {
    let lab = Lab::start("deployment-completed");
    let (code, report, _) = deployment(&lab, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["state"], "completed");
    assert_eq!(report["verdict"], "no-failure");
    // web:1's two tasks were replaced by this deployment, but they are not its own.
    assert_eq!(report["window"]["stopped_tasks"], 0);
    assert_eq!(
        report["headline"],
        "web: the deployment of web:2 completed: 2 of 2 tasks running"
    );
}

#[test]
fn a_deployment_in_progress_exits_5_and_wait_times_out_with_progress_on_stderr() {
    let lab = Lab::start("deployment-in-progress");
    let (code, report, _) = deployment(&lab, &[]);
    assert_eq!(code, 5, "{report:#}");
    assert_eq!(report["state"], "in-progress");
    assert!(report["waited"].is_null());

    let started = Instant::now();
    let (code, report, stderr) = deployment(&lab, &["--wait", "--wait-timeout", "3s"]);
    assert_eq!(code, 5, "{report:#}");
    assert!(started.elapsed().as_secs() < 30, "the wait ended");
    assert_eq!(report["waited"]["timed_out"], true);
    assert!(report["waited"]["polls"].as_u64().unwrap() >= 2);
    assert!(report["headline"]
        .as_str()
        .unwrap()
        .contains("is in progress after waiting"));
    // Not a terminal: one line per change of state, not per poll.
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("IN_PROGRESS") && lines[0].contains("1 of 2 running"),
        "{stderr}"
    );
}

#[test]
fn a_deployment_waiting_on_a_protected_task_names_it_and_its_expiration() {
    let lab = Lab::start("deployment-stuck-on-protected-task");
    let (code, report, _) = deployment(&lab, &[]);
    assert_eq!(code, 5, "{report:#}");
    assert_eq!(report["state"], "in-progress");
    let protected = lab.info["protected_task_arn"].as_str().unwrap();
    let id = protected.rsplit('/').next().unwrap();
    let issue = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "tasks-protected")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(issue["count"], 1);
    assert_eq!(issue["read"], "ecs:GetTaskProtection");
    let evidence = issue["evidence"][0].as_str().unwrap();
    assert!(
        evidence.contains(id) && evidence.contains("(web:1)") && evidence.contains("until "),
        "{evidence}"
    );
    let fix = issue["fix"].to_string();
    assert!(
        fix.contains(&format!(
            "--cluster prod --tasks {id} --no-protection-enabled"
        )),
        "{fix}"
    );
    assert!(fix.contains("Only once you have decided"), "{fix}");
    assert!(report["headline"]
        .as_str()
        .unwrap()
        .contains("1 older task is protected from scale-in"));
    // The service sweep names it too.
    let (code, service) = lab.json_run(&[
        "service",
        "web",
        "--cluster",
        "prod",
        "--region",
        "us-east-1",
    ]);
    // Protection is the app's choice, not a failure: the report names it.
    assert_eq!(code, 0, "{service:#}");
    assert!(
        service["issues"].to_string().contains("tasks-protected"),
        "{service:#}"
    );
    // And the cluster sweep, the same way: named, not a failure.
    let (code, cluster) = lab.json_run(&["cluster", "prod", "--region", "us-east-1"]);
    assert_eq!(code, 0, "{cluster:#}");
    let row = cluster["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cause"] == "event:tasks-protected")
        .unwrap_or_else(|| panic!("{cluster:#}"));
    assert_eq!(row["name"], "web");
    assert_eq!(row["verdict"], service["verdict"], "{cluster:#}");

    // A refused GetTaskProtection is a named gap, never "nothing protected".
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ecs:GetTaskProtection", "Resource": "*"}
        ]
    });
    let lab = Lab::start_with_policy("deployment-stuck-on-protected-task", &policy.to_string());
    let (code, report, _) = deployment(&lab, &[]);
    assert_eq!(code, 5, "{report:#}");
    assert!(
        !report["issues"].to_string().contains("tasks-protected"),
        "{report:#}"
    );
    assert!(
        report["gaps"].to_string().contains("ecs:GetTaskProtection"),
        "{report:#}"
    );
    assert!(
        report["headline"]
            .as_str()
            .unwrap()
            .contains("could not be read"),
        "{report:#}"
    );
    let (code, cluster) = lab.json_run(&["cluster", "prod", "--region", "us-east-1"]);
    assert_eq!(
        code, 4,
        "a refused read leaves the cluster undecided: {cluster:#}"
    );
    assert!(
        cluster["gaps"]
            .to_string()
            .contains("ecs:GetTaskProtection"),
        "{cluster:#}"
    );
}

#[test]
fn wait_follows_a_deployment_until_it_completes() {
    let lab = Lab::start("deployment-settles-while-waiting");
    // The scenario's own invocation waits (its args carry --wait).
    let (code, report, stderr) = deployment(&lab, &[]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["state"], "completed");
    assert_eq!(report["waited"]["timed_out"], false);
    assert!(
        report["waited"]["polls"].as_u64().unwrap() >= 2,
        "{report:#}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].contains("IN_PROGRESS"), "{stderr}");
    assert!(lines.last().unwrap().contains("SUCCESSFUL"), "{stderr}");
}

#[test]
fn without_the_deployments_api_the_rollback_is_read_from_the_service_and_the_gap_named() {
    let policy: Value =
        serde_json::from_str(include_str!("../docs/iam-policy.json")).expect("the policy");
    let mut policy = policy;
    let actions = policy["Statement"][0]["Action"].as_array_mut().unwrap();
    actions.retain(|a| !a.as_str().unwrap().contains("ServiceDeployment"));
    let lab = Lab::start_with_policy("deployment-rolled-back", &policy.to_string());
    let (code, report, _) = deployment(&lab, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["state"], "rolled-back");
    assert_eq!(report["state_source"], "describe-services");
    assert!(report["deployment"].is_null());
    assert!(common::gap_actions(&report).contains(&"ecs:ListServiceDeployments"));
    // The revisions are not guessed from the service's current task definition.
    assert!(report["revisions"]["after"].is_null());
    assert_eq!(causes(&report), vec![("image-not-found".to_string(), 3)]);
}

#[test]
fn bad_input_is_one_line_and_a_missing_service_cannot_run() {
    let lab = Lab::start("deployment-completed");
    for (args, want, code) in [
        (
            vec!["deployment", "web", "--region", "us-east-1"],
            "give --cluster",
            2,
        ),
        (
            vec![
                "deployment",
                "web",
                "--cluster",
                "prod",
                "--wait",
                "--wait-timeout",
                "0s",
            ],
            "is not between 1 second and 24 hours",
            2,
        ),
        (
            vec![
                "deployment",
                "nope",
                "--cluster",
                "prod",
                "--region",
                "us-east-1",
            ],
            "nope",
            3,
        ),
    ] {
        let out = lab.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(debug_structure(&stderr).is_none(), "{stderr}");
        // Clap's own value errors add a line pointing to --help.
        if !stderr.starts_with("error: invalid value") {
            assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        }
    }
    // --wait-timeout needs --wait.
    let out = lab.run(&[
        "deployment",
        "web",
        "--cluster",
        "prod",
        "--wait-timeout",
        "5m",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
