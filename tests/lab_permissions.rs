//! End-to-end: the documented least-privilege policy, with the lab enforcing
//! IAM. ecs-doctor runs as a user whose only permissions are the policy under
//! test. The documented policy must be enough for the same diagnosis as an
//! unrestricted caller, and each permission taken away must show up as exactly
//! one gap, with the checks that need it inconclusive rather than passing.

mod common;

use common::{check_status, ecs_doctor, snapshot_settings, top_code, top_evidence, Lab};
use serde_json::Value;

const DOCUMENTED: &str = include_str!("../docs/iam-policy.json");

/// The documented policy without `action`.
fn documented_without(action: &str) -> String {
    let mut policy: Value = serde_json::from_str(DOCUMENTED).unwrap();
    let actions = policy["Statement"][0]["Action"].as_array_mut().unwrap();
    let before = actions.len();
    actions.retain(|a| a != action);
    assert_eq!(
        actions.len(),
        before - 1,
        "{action} is not in docs/iam-policy.json"
    );
    policy.to_string()
}

fn check_detail(report: &Value, id: &str) -> String {
    report["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .and_then(|c| c["detail"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// The report names exactly one gap, `action`, refused by AWS, with an impact
/// line; no check in `needs_it` passes without the fact.
fn assert_one_honest_gap(report: &Value, action: &str, needs_it: &[&str]) {
    let gaps = common::gaps_beyond_the_lab(report);
    assert_eq!(gaps.len(), 1, "exactly one gap expected: {gaps:#?}");
    let gap = gaps[0];
    assert_eq!(gap["action"], action, "{gap}");
    let error = gap["error"].as_str().unwrap_or_default();
    assert!(
        ["AccessDenied", "UnauthorizedOperation"]
            .iter()
            .any(|c| error.contains(c)),
        "the gap says AWS refused the call: {gap}"
    );
    assert!(error.contains(action), "{gap}");
    assert!(
        gap["impact"].as_str().is_some_and(|i| !i.trim().is_empty()),
        "the gap says what it costs: {gap}"
    );
    for id in needs_it {
        assert_ne!(
            check_status(report, id),
            "pass",
            "{id} passed without {action}: {}",
            check_detail(report, id)
        );
    }
    common::assert_contract(report);
}

/// The documented policy diagnoses a scenario exactly as an unrestricted
/// caller does: same candidates, same check verdicts, no gaps.
fn documented_policy_is_enough(scenario: &str) {
    let open = Lab::start(scenario);
    let (open_code, open_report) = open.diagnose_json(&[]);
    drop(open);
    let lab = Lab::start_with_policy(scenario, DOCUMENTED);
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, open_code, "{report:#}");
    assert_eq!(top_code(&report), scenario, "{report:#}");
    let gaps = common::gaps_beyond_the_lab(&report);
    assert!(
        gaps.is_empty(),
        "the documented policy lacks something: {gaps:#?}"
    );
    assert_eq!(report["candidates"], open_report["candidates"]);
    assert_eq!(report["checks"], open_report["checks"]);
    common::assert_contract(&report);
}

#[test]
fn documented_policy_is_enough_for_an_app_exit() {
    documented_policy_is_enough("app-exit-error");
}

#[test]
fn documented_policy_is_enough_for_a_network_failure() {
    documented_policy_is_enough("no-public-ip");
}

#[test]
fn documented_policy_is_enough_for_an_efs_mount() {
    documented_policy_is_enough("efs-mount-failed");
}

#[test]
fn documented_policy_is_enough_for_a_secret_key() {
    documented_policy_is_enough("secret-key-missing");
}

#[test]
fn without_mount_targets_the_efs_check_does_not_convict() {
    let lab = Lab::start_with_policy(
        "efs-mount-failed",
        &documented_without("elasticfilesystem:DescribeMountTargets"),
    );
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_one_honest_gap(
        &report,
        "elasticfilesystem:DescribeMountTargets",
        &["efs-mount-failed"],
    );
    // The mount helper's error still ranks first, as stated, not confirmed.
    assert_eq!(top_code(&report), "efs-mount-failed", "{report:#}");
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("not confirmed") && evidence.contains("DescribeMountTargets"),
        "{evidence}"
    );
    assert!(!evidence.contains("does not admit NFS"), "{evidence}");
}

#[test]
fn the_lab_really_enforces_the_policy() {
    // The usual test keys belong to no IAM user once the lab enforces IAM.
    let lab = Lab::start_with_policy("app-exit-error", DOCUMENTED);
    let out = ecs_doctor()
        .args(["task", lab.task_arn(), "--endpoint-url", lab.endpoint()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("UnrecognizedClientException"), "{err}");
}

#[test]
fn without_get_role_the_role_checks_say_so() {
    // The stop reason blames the execution role's pull, so this is where the
    // role checks matter most; the route table still decides the cause.
    let lab = Lab::start_with_policy("no-public-ip", &documented_without("iam:GetRole"));
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "no-public-ip", "{report:#}");
    assert_one_honest_gap(
        &report,
        "iam:GetRole",
        &[
            "execution-role-not-found",
            "execution-role-untrusted",
            "execution-role-permissions",
        ],
    );
    assert!(common::gaps_beyond_the_lab(&report)[0]["impact"]
        .as_str()
        .unwrap()
        .contains("execution role"));
}

#[test]
fn without_route_tables_the_public_ip_check_is_inconclusive() {
    let lab = Lab::start_with_policy(
        "no-public-ip",
        &documented_without("ec2:DescribeRouteTables"),
    );
    let (code, report) = lab.diagnose_json(&[]);
    // No network cause can be shown without the route table, and the task
    // surely failed: unknown first, naming the checks that could not decide.
    assert_eq!(code, 1, "{report:#}");
    let codes: Vec<&str> = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["code"].as_str())
        .collect();
    assert_eq!(codes, ["unknown"], "{report:#}");
    assert!(
        common::top_evidence(&report).contains("could not decide: no-public-ip"),
        "{report:#}"
    );
    assert_one_honest_gap(
        &report,
        "ec2:DescribeRouteTables",
        &["no-public-ip", "no-egress-route", "vpc-endpoint-missing"],
    );
    assert_eq!(check_status(&report, "no-public-ip"), "inconclusive");
    assert!(
        check_detail(&report, "no-public-ip").contains("ec2:DescribeRouteTables was denied"),
        "{report:#}"
    );
    // Every format still renders, with the gap in it.
    let markdown = lab.diagnose_markdown();
    assert!(markdown.contains("ec2:DescribeRouteTables"), "{markdown}");
}

#[test]
fn without_log_events_the_evidence_says_the_lines_were_not_read() {
    let lab = Lab::start_with_policy("app-exit-error", &documented_without("logs:GetLogEvents"));
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "app-exit-error", "{report:#}");
    assert_one_honest_gap(
        &report,
        "logs:GetLogEvents",
        &["app-missing-config", "app-port-mismatch"],
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("its log lines could not be read: logs:GetLogEvents was denied"),
        "{evidence}"
    );
    assert!(
        !evidence.contains(lab.get("decisive_line")),
        "a denied log line cannot be quoted:\n{evidence}"
    );
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "permissions_app_exit_error_logs_denied",
            lab.diagnose_markdown()
        )
    });
}

#[test]
fn a_denied_describe_tasks_is_one_clear_line() {
    // An explicit Deny wins over the documented Allow.
    let mut policy: Value = serde_json::from_str(DOCUMENTED).unwrap();
    policy["Statement"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "Effect": "Deny",
            "Action": "ecs:DescribeTasks",
            "Resource": "*"
        }));
    let lab = Lab::start_with_policy("app-exit-error", &policy.to_string());
    let out = lab.run(&["task", lab.task_arn()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty(), "no report without the task");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line:\n{err}");
    assert!(err.contains("ecs:DescribeTasks"), "{err}");
    assert!(err.contains("AccessDeniedException"), "{err}");
}
