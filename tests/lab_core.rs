//! End-to-end: the pipeline against the AWS lab, one scenario per family, and
//! the way bad input behaves.

mod common;

use common::{ecs_doctor, snapshot_settings, top_code, top_evidence, Lab};

#[test]
fn app_exit_error_quotes_the_log_line() {
    let lab = Lab::start("app-exit-error");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "app-exit-error", "{report:#}");
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains(lab.get("decisive_line")),
        "evidence lacks the decisive line:\n{evidence}"
    );
    assert!(evidence.contains("exitCode = 1"), "{evidence}");
    common::assert_contract(&report);
    assert_eq!(report["task"]["stop_code"], "EssentialContainerExited");
    snapshot_settings()
        .bind(|| insta::assert_snapshot!("core_app_exit_error", lab.diagnose_markdown()));
}

#[test]
fn image_not_found_names_the_missing_tag() {
    let lab = Lab::start("image-not-found");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "image-not-found", "{report:#}");
    let evidence = top_evidence(&report);
    assert!(evidence.contains("`v3` is not in it"), "{evidence}");
    assert!(
        evidence.contains("v2, v1"),
        "recent tags, newest first:\n{evidence}"
    );
    snapshot_settings()
        .bind(|| insta::assert_snapshot!("core_image_not_found", lab.diagnose_markdown()));
    // The lab's IAM has no policy simulator (HTTP 500): the permission check
    // decides by evaluating the policies, and the report lists the simulator
    // as a gap instead of saying every call was answered.
    let simulator = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["action"] == "iam:SimulatePrincipalPolicy")
        .unwrap_or_else(|| panic!("no simulator gap: {:#}", report["gaps"]));
    assert!(
        simulator["error"]
            .as_str()
            .unwrap()
            .starts_with(common::LAB_SIMULATOR_ERROR),
        "{simulator}"
    );
    assert!(
        simulator["impact"]
            .as_str()
            .unwrap()
            .contains("service control policies"),
        "{simulator}"
    );
    let table = String::from_utf8(lab.run(&["task", lab.task_arn()]).stdout).unwrap();
    assert!(
        table.contains("iam:SimulatePrincipalPolicy") && !table.contains("every AWS call"),
        "{table}"
    );
}

/// The tag the pull could not find was pushed after the task stopped: the
/// observed error ranks first, with what changed since, not `unknown`.
#[test]
fn a_tag_pushed_after_the_stop_still_explains_it() {
    let lab = Lab::start("image-pushed-after-stop");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "image-not-found", "{report:#}");
    let title = report["candidates"][0]["title"].as_str().unwrap();
    assert!(title.contains("minutes after this task stopped"), "{title}");
    assert!(
        report["candidates"][0]["fix"][0]
            .as_str()
            .unwrap()
            .contains("a new deployment should start"),
        "{report:#}"
    );
    common::assert_contract(&report);
}

#[test]
fn no_public_ip_in_a_public_subnet() {
    let lab = Lab::start("no-public-ip");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "no-public-ip", "{report:#}");
    let evidence = top_evidence(&report);
    assert!(evidence.contains(lab.get("igw_id")), "{evidence}");
    assert!(evidence.contains(lab.get("subnet_id")), "{evidence}");
    assert!(evidence.contains("assignPublicIp = DISABLED"), "{evidence}");
    snapshot_settings()
        .bind(|| insta::assert_snapshot!("core_no_public_ip", lab.diagnose_markdown()));
}

#[test]
fn deployment_replacement_is_benign() {
    let lab = Lab::start("stopped-by-deployment");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 0, "a deployment stop is not a failure: {report:#}");
    assert_eq!(top_code(&report), "stopped-by-deployment", "{report:#}");
    assert_eq!(report["candidates"][0]["benign"], true);
    assert!(top_evidence(&report).contains("exitCode = 0"));
    snapshot_settings()
        .bind(|| insta::assert_snapshot!("core_stopped_by_deployment", lab.diagnose_markdown()));
}

#[test]
fn every_format_renders_and_secrets_stay_out() {
    let lab = Lab::start("app-exit-error");
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("evidence.json");
    for format in ["table", "json", "markdown"] {
        let mut args = vec!["task", lab.task_arn(), "-o", format];
        let bundle_arg = bundle.to_string_lossy().to_string();
        if format == "json" {
            args.extend(["--save-evidence", bundle_arg.as_str()]);
        }
        let out = lab.run(&args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("app-exit-error"), "{format}:\n{text}");
        assert!(
            !text.contains("lab-only-not-a-secret"),
            "{format} leaks an environment value"
        );
    }
    let saved = std::fs::read_to_string(&bundle).unwrap();
    assert!(
        !saved.contains("lab-only-not-a-secret"),
        "the bundle leaks an environment value"
    );
    assert!(
        saved.contains("\"PGPASSWORD\""),
        "the variable's name is kept"
    );
    // The replayed bundle gives the same report as the live run.
    let live = lab.diagnose_json(&[]).1;
    let replay = ecs_doctor()
        .args(["replay", bundle.to_str().unwrap(), "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(replay.status.code(), Some(1));
    let replayed: serde_json::Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(replayed["candidates"], live["candidates"]);
    assert_eq!(replayed["checks"], live["checks"]);
}

#[test]
fn unknown_task_exits_3_and_mentions_the_hour() {
    let lab = Lab::start("app-exit-error");
    let arn = "arn:aws:ecs:us-east-1:123456789012:task/prod/00000000000000000000000000000000";
    let out = lab.run(&["task", arn]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not found") && err.contains("hour"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn malformed_arn_exits_2_with_one_line() {
    let out = ecs_doctor()
        .args(["task", "arn:aws:ecs:us-east-1:12345:task/prod/abc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("malformed task ARN"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn unreachable_endpoint_exits_3() {
    // A loopback port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = ecs_doctor()
        .args([
            "task",
            "arn:aws:ecs:us-east-1:123456789012:task/prod/abc",
            "--timeout",
            "5",
        ])
        .args(["--endpoint-url", &format!("http://127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn no_credentials_exits_3() {
    let out = ecs_doctor()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args([
            "task",
            "arn:aws:ecs:us-east-1:123456789012:task/prod/abc",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no AWS credentials"));
}

#[test]
fn region_flag_disagreeing_with_the_arn_is_bad_input() {
    let out = ecs_doctor()
        .args([
            "task",
            "arn:aws:ecs:us-east-1:123456789012:task/prod/abc",
            "--region",
            "eu-west-1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn replay_of_a_non_bundle_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.json");
    std::fs::write(&file, "{\"hello\": 1}").unwrap();
    let out = ecs_doctor()
        .args(["replay", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an ecs-doctor evidence bundle"));
}

#[test]
fn explain_prints_the_check_docs() {
    let out = ecs_doctor()
        .args(["explain", "no-public-ip"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("## What it detects") && text.contains("## How to fix"),
        "{text}"
    );
    let out = ecs_doctor()
        .args(["explain", "no-such-code"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn aws_region_variable_does_not_fight_the_arn() {
    // AWS_REGION names another Region: the task ARN's own Region still wins, as in the AWS CLI
    // when the resource names its Region.
    let lab = Lab::start("stopped-by-deployment");
    let out = ecs_doctor()
        .env("AWS_REGION", "eu-west-1")
        .args([
            "task",
            lab.task_arn(),
            "-o",
            "json",
            "--endpoint-url",
            lab.endpoint(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["task"]["region"], "us-east-1");
}

#[test]
fn several_tasks_give_an_array_and_the_worst_exit_code() {
    let failing = Lab::start("image-not-found");
    // Both tasks live in the same lab: the stopped task and a task id that ECS has forgotten.
    let forgotten = "arn:aws:ecs:us-east-1:123456789012:task/prod/11111111111111111111111111111111";
    let out = ecs_doctor()
        .args([
            "task",
            failing.task_arn(),
            failing.task_arn(),
            "-o",
            "json",
            "--endpoint-url",
            failing.endpoint(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reports = reports.as_array().expect("an array of reports");
    assert_eq!(reports.len(), 2);
    for r in reports {
        common::assert_contract(r);
        assert_eq!(top_code(r), "image-not-found");
    }
    let out = ecs_doctor()
        .args([
            "task",
            failing.task_arn(),
            forgotten,
            "-o",
            "json",
            "--endpoint-url",
            failing.endpoint(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "one task could not be diagnosed"
    );
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reports = reports.as_array().unwrap();
    assert_eq!(reports.len(), 2, "one entry per input: {reports:#?}");
    assert_eq!(
        top_code(&reports[0]),
        "image-not-found",
        "the other report is still printed"
    );
    assert_eq!(reports[1]["input"], forgotten);
    assert!(String::from_utf8_lossy(&out.stderr).contains("11111111111111111111111111111111"));
}
