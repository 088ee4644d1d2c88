//! End-to-end: `ecs-doctor preflight` against the lab, before a task runs.
//! A service's current task definition, a revision registered for the next
//! deployment, a service whose network has no way out, and task definition
//! files (as a CI pipeline holds them) checked against a service's network
//! and load balancer or against given subnets — each through the real
//! binary, with golden reports for the ticket and stable exit codes for CI.

mod common;

use common::{
    assert_contract, check_ids, gap_actions, snapshot_settings, top_code, top_title, Lab,
};
use serde_json::{json, Value};

const DOCUMENTED: &str = include_str!("../docs/iam-policy.json");

/// `ecs-doctor preflight ARGS -o json` against `lab`: the exit code and report.
fn preflight(lab: &Lab, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["preflight", "--region", lab.get("region")];
    all.extend_from_slice(args);
    all.extend(["-o", "json"]);
    let out = lab.run(&all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_contract(&report);
    assert_eq!(report["purpose"], "preflight");
    (out.status.code().unwrap_or(-1), report)
}

fn markdown(lab: &Lab, args: &[&str]) -> String {
    let mut all = vec!["preflight", "--region", lab.get("region")];
    all.extend_from_slice(args);
    all.extend(["-o", "markdown"]);
    String::from_utf8(lab.run(&all).stdout).expect("utf-8")
}

fn codes(report: &Value) -> Vec<&str> {
    report["candidates"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["code"].as_str()).collect())
        .unwrap_or_default()
}

/// The lab's task definition, as a register-task-definition input: its
/// image and execution role, changed by `edit`, written to a file.
fn td_file(lab: &Lab, edit: impl FnOnce(&mut Value)) -> tempfile::NamedTempFile {
    let mut td = common::lab_task_definition(lab);
    edit(&mut td);
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), td.to_string()).expect("write the task definition");
    file
}

/// A file checked against the lab's subnet and security group, with a public IP.
fn file_on_subnet(lab: &Lab, file: &tempfile::NamedTempFile) -> (i32, Value) {
    let path = file.path().to_str().unwrap().to_string();
    preflight(
        lab,
        &[
            "--file",
            &path,
            "--subnet",
            lab.get("subnet_id"),
            "--security-group",
            lab.get("security_group"),
            "--assign-public-ip",
            "ENABLED",
        ],
    )
}

#[test]
fn a_healthy_service_passes_and_its_next_revision_would_not_start() {
    let lab = Lab::start("preflight-ready");
    let service = ["--service", "web", "--cluster", "prod"];
    let (code, report) = preflight(&lab, &service);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "no-failure");
    assert!(
        common::gaps_beyond_the_lab(&report).is_empty(),
        "{report:#}"
    );
    let ran = check_ids(&report);
    assert!(
        ran.contains(&"task-definition-invalid") && !ran.contains(&"app-exit-error"),
        "a preflight asks what can be known before a task runs: {ran:?}"
    );
    snapshot_settings()
        .bind(|| insta::assert_snapshot!("preflight_ready", markdown(&lab, &service)));

    let next = lab.get("next_revision");
    let with_next = [
        "--service",
        "web",
        "--cluster",
        "prod",
        "--task-definition",
        next,
    ];
    let (code, report) = preflight(&lab, &with_next);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "image-not-found");
    assert!(
        top_title(&report).starts_with("Will fail: Tag `v3` does not exist"),
        "{}",
        top_title(&report)
    );
    assert_eq!(report["task"]["task_definition"], next);
    snapshot_settings()
        .bind(|| insta::assert_snapshot!("preflight_next_revision", markdown(&lab, &with_next)));
}

#[test]
fn a_service_whose_subnets_have_no_way_out() {
    let lab = Lab::start("net-no-egress-route-main-table");
    let (code, report) = preflight(&lab, &["--service", "web", "--cluster", "prod"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "no-egress-route", "{report:#}");
}

#[test]
fn task_definition_files_are_judged_before_they_are_registered() {
    let lab = Lab::start("preflight-ready");
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit)> = vec![
        ("image-platform-mismatch", |td: &mut Value| {
            td["runtimePlatform"]["cpuArchitecture"] = "ARM64".into();
        }),
        ("execution-role-missing", |td: &mut Value| {
            td.as_object_mut().unwrap().remove("executionRoleArn");
        }),
        ("log-config-invalid", |td: &mut Value| {
            td["containerDefinitions"][0]["logConfiguration"]["options"]
                .as_object_mut()
                .unwrap()
                .remove("awslogs-region");
        }),
        ("task-definition-invalid", |td: &mut Value| {
            td["containerDefinitions"][0]["memoryReservation"] = 1024.into();
        }),
    ];
    for (expected, edit) in cases {
        let file = td_file(&lab, edit);
        let (code, report) = file_on_subnet(&lab, &file);
        assert_eq!(code, 1, "{expected}: {report:#}");
        assert_eq!(top_code(&report), expected, "{report:#}");
        assert_eq!(
            codes(&report).len(),
            1,
            "one mistake, one finding: {:?}",
            codes(&report)
        );
    }
    // The same file, unchanged, would start.
    let file = td_file(&lab, |_| {});
    let (code, report) = file_on_subnet(&lab, &file);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_file_against_the_service_meets_its_load_balancer() {
    let lab = Lab::start("preflight-ready");
    let file = td_file(&lab, |td| {
        let web = &mut td["containerDefinitions"][0];
        web["portMappings"] = json!([{"containerPort": 8080}]);
        web["dependsOn"] = json!([{"containerName": "envoy", "condition": "HEALTHY"}]);
        td["containerDefinitions"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "envoy", "image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.4.0-prod", "essential": true}));
    });
    let path = file.path().to_str().unwrap().to_string();
    let args = ["--service", "web", "--cluster", "prod", "--file", &path];
    let (code, report) = preflight(&lab, &args);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "task-definition-invalid");
    let evidence = common::top_lines(&report, "evidence");
    assert!(
        evidence.contains("targets web:3000, but web maps port 8080"),
        "{evidence}"
    );
    assert!(evidence.contains("envoy has no healthCheck"), "{evidence}");
    let text = markdown(&lab, &args).replace(&path, "[file]");
    snapshot_settings().bind(|| insta::assert_snapshot!("preflight_file_against_service", text));
}

#[test]
fn bad_input_is_one_line_and_exit_2_and_what_aws_does_not_know_exit_3() {
    let lab = Lab::start("preflight-ready");
    let garbage = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(garbage.path(), "{\"family\": \"web\"}").unwrap();
    let path = garbage.path().to_str().unwrap().to_string();
    for (args, says) in [
        (
            vec!["preflight", "--file", &path, "--subnet", "subnet-1"],
            "no containerDefinitions",
        ),
        (vec!["preflight", "--task-definition", "web:1"], "--subnet"),
    ] {
        let mut args = args;
        args.extend(["--region", lab.get("region")]);
        let out = lab.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // What AWS does not know is not a usage mistake: the diagnosis cannot run (exit 3).
    for (args, says) in [
        (
            vec!["preflight", "--service", "api", "--cluster", "prod"],
            "service api",
        ),
        (
            vec![
                "preflight",
                "--service",
                "web",
                "--cluster",
                "prod",
                "--task-definition",
                "nope:9",
            ],
            "task definition nope:9",
        ),
    ] {
        let mut args = args;
        args.extend(["--region", lab.get("region")]);
        let out = lab.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn the_documented_policy_is_enough_and_a_refused_read_is_a_gap_not_a_pass() {
    let lab = Lab::start_with_policy("preflight-ready", DOCUMENTED);
    let (code, report) = preflight(&lab, &["--service", "web", "--cluster", "prod"]);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        common::gaps_beyond_the_lab(&report).is_empty(),
        "{:#}",
        report["gaps"]
    );

    let mut policy: Value = serde_json::from_str(DOCUMENTED).unwrap();
    policy["Statement"][0]["Action"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a != "ecr:DescribeImages");
    let lab = Lab::start_with_policy("preflight-ready", &policy.to_string());
    let (code, report) = preflight(&lab, &["--service", "web", "--cluster", "prod"]);
    assert_eq!(code, 4, "{report:#}");
    assert_eq!(gap_actions(&report), vec!["ecr:DescribeImages"]);

    // Without the service there is nothing to judge: one line, exit 3.
    let mut policy: Value = serde_json::from_str(DOCUMENTED).unwrap();
    policy["Statement"][0]["Action"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a != "ecs:DescribeServices");
    let lab = Lab::start_with_policy("preflight-ready", &policy.to_string());
    let out = lab.run(&[
        "preflight",
        "--service",
        "web",
        "--cluster",
        "prod",
        "--region",
        "us-east-1",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("ecs:DescribeServices could not be read"),
        "{stderr}"
    );
}
