//! End-to-end: `ecs-doctor exec` against running tasks of the lab, each
//! missing one thing ECS Exec needs, and one that has everything. Each runs
//! as the scenario's on-call caller (an assumed role, or a user whose
//! permissions come from its group), with a golden Markdown report; and
//! with the documented read-only policy enforced, the report reads every
//! fact it needs or says which one it lacked.

mod common;

use common::{
    assert_contract, check_ids, check_status, gap_actions, snapshot_settings, top_code, top_lines,
    top_title, Lab,
};
use serde_json::Value;

const DOCUMENTED: &str = include_str!("../docs/iam-policy.json");

/// `exec` against `scenario`: the exit code, the report, the golden Markdown.
fn exec(scenario: &str) -> (Lab, i32, Value) {
    let lab = Lab::start(scenario);
    let (code, report) = lab.json_of("exec", &[]);
    assert_contract(&report);
    assert_eq!(report["purpose"], "exec", "{report:#}");
    let checks = check_ids(&report);
    assert!(
        checks.len() == 5 && checks.iter().all(|c| c.starts_with("exec-")),
        "an exec report runs the exec checks only: {checks:?}"
    );
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            format!("exec_{}", scenario.replace('-', "_")),
            lab.markdown_of("exec")
        )
    });
    (lab, code, report)
}

fn blocked(scenario: &str, expected: &str) -> (Lab, Value) {
    let (lab, code, report) = exec(scenario);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), expected, "{report:#}");
    assert_eq!(report["candidates"][0]["family"], "exec");
    assert!(
        report["next_step"].is_null(),
        "no command for a blocked task"
    );
    (lab, report)
}

#[test]
fn a_ready_task_gets_the_command_to_run() {
    let (lab, code, report) = exec("exec-ready");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "no-failure");
    assert!(report["candidates"].as_array().unwrap().is_empty());
    let task_id = lab.task_arn().rsplit('/').next().unwrap();
    assert_eq!(
        report["next_step"],
        format!("aws ecs execute-command --region us-east-1 --cluster prod --task {task_id} --container web --interactive --command \"/bin/sh\"")
    );
    let paths = report["network_paths"].to_string();
    assert!(
        paths.contains("ssmmessages.us-east-1.amazonaws.com"),
        "{paths}"
    );
    assert!(
        common::gaps_beyond_the_lab(&report).is_empty(),
        "{:#}",
        report["gaps"]
    );
}

#[test]
fn a_task_started_without_exec() {
    let (_lab, report) = blocked("exec-not-enabled", "exec-not-enabled");
    assert!(top_lines(&report, "fix")
        .contains("--service web --enable-execute-command --force-new-deployment"));
}

#[test]
fn an_agent_stopped_by_a_read_only_root_file_system() {
    let (_lab, report) = blocked("exec-agent-not-running", "exec-agent-not-running");
    let evidence = top_lines(&report, "evidence");
    assert!(
        evidence.contains("read-only file system")
            && evidence.contains("readonlyRootFilesystem = true"),
        "{evidence}"
    );
}

#[test]
fn a_task_role_without_the_channels_or_the_cluster_key() {
    let (lab, report) = blocked("exec-task-role-permissions", "exec-task-role-permissions");
    assert!(
        top_title(&report).contains("ssmmessages:CreateControlChannel")
            && top_title(&report).contains("kms:Decrypt")
    );
    assert!(top_lines(&report, "evidence").contains(lab.get("kms_key_id")));
    assert!(top_lines(&report, "fix").contains("put-role-policy --role-name web-task"));
}

#[test]
fn a_vpc_without_a_way_to_ssmmessages() {
    let (_lab, report) = blocked("exec-no-ssm-path", "exec-no-ssm-path");
    assert!(top_lines(&report, "fix").contains("com.amazonaws.us-east-1.ssmmessages"));
}

#[test]
fn a_caller_whose_group_does_not_allow_execute_command() {
    let (_lab, report) = blocked("exec-caller-not-allowed", "exec-caller-not-allowed");
    assert!(
        top_title(&report).contains("user bob"),
        "{}",
        top_title(&report)
    );
    assert!(top_lines(&report, "fix").contains("put-user-policy --user-name bob"));
}

/// The documented policy plus `ecs:ExecuteCommand`, without `removed`.
fn caller_policy(removed: Option<&str>) -> String {
    let mut policy: Value = serde_json::from_str(DOCUMENTED).unwrap();
    let actions = policy["Statement"][0]["Action"].as_array_mut().unwrap();
    actions.push("ecs:ExecuteCommand".into());
    if let Some(action) = removed {
        actions.retain(|a| a != action);
    }
    policy.to_string()
}

#[test]
fn the_documented_policy_reads_everything_exec_needs() {
    let lab = Lab::start_with_policy("exec-ready", &caller_policy(None));
    let (code, report) = lab.json_of("exec", &[]);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        common::gaps_beyond_the_lab(&report).is_empty(),
        "{:#}",
        report["gaps"]
    );
}

#[test]
fn an_unreadable_cluster_or_caller_is_undecided_not_ready() {
    for (action, check) in [
        ("ecs:DescribeClusters", "exec-task-role-permissions"),
        ("iam:GetUserPolicy", "exec-caller-not-allowed"),
    ] {
        let lab = Lab::start_with_policy("exec-ready", &caller_policy(Some(action)));
        let (code, report) = lab.json_of("exec", &[]);
        assert_eq!(code, 4, "without {action}: {report:#}");
        assert!(report["next_step"].is_null());
        assert_eq!(gap_actions(&report), vec![action], "{report:#}");
        assert_eq!(
            check_status(&report, check),
            "inconclusive",
            "{check} without {action}: {report:#}"
        );
    }
}
