//! End-to-end: the causes beyond the classic three — EFS mounts, a full
//! disk, the secret variants (a missing JSON key, a Parameter Store
//! parameter, a customer-managed KMS key), an app bound to loopback, a grace
//! period shorter than the start-up, and a sidecar that took the task down —
//! each through the real binary against its lab scenario, with a golden
//! Markdown report.

mod common;

use common::{top_evidence, top_lines, top_title as title, Lab};
use serde_json::Value;

fn diagnose(scenario: &str, expected: &str) -> (Lab, Value) {
    common::diagnose_failed(scenario, expected, "breadth")
}

fn codes(report: &Value) -> Vec<&str> {
    report["candidates"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["code"].as_str()).collect())
        .unwrap_or_default()
}

#[test]
fn efs_mount_target_without_nfs_from_the_task() {
    let (lab, report) = diagnose("efs-mount-failed", "efs-mount-failed");
    assert_eq!(report["candidates"][0]["family"], "storage");
    assert!(
        title(&report).contains("does not admit NFS (tcp/2049)"),
        "{}",
        title(&report)
    );
    let fix = top_lines(&report, "fix");
    assert!(
        fix.contains(&format!("--group-id {}", lab.get("efs_security_group")))
            && fix.contains(&format!("GroupId={}", lab.get("task_security_group")))
            && fix.contains("FromPort=2049"),
        "{fix}"
    );
    // The generic network checks stay about the start-up paths.
    assert!(
        !codes(&report).contains(&"security-group-ingress-closed"),
        "{:?}",
        codes(&report)
    );
}

#[test]
fn efs_iam_authorization_names_the_task_role_and_the_actions() {
    let (lab, report) = diagnose("efs-access-denied", "efs-mount-failed");
    assert!(
        title(&report)
            .contains("task role `web-task` is not allowed elasticfilesystem:ClientMount"),
        "{}",
        title(&report)
    );
    let ev = top_evidence(&report);
    assert!(ev.contains("access denied by server"), "{ev}");
    assert!(ev.contains(lab.get("file_system_id")), "{ev}");
    assert!(top_lines(&report, "fix").contains("put-role-policy --role-name web-task"));
}

#[test]
fn a_full_disk_outranks_the_exit_it_caused() {
    let (lab, report) = diagnose("ephemeral-storage-exhausted", "ephemeral-storage-exhausted");
    let ev = top_evidence(&report);
    assert!(ev.contains(lab.get("decisive_line")), "{ev}");
    assert!(ev.contains("21 GiB (ephemeralStorage.sizeInGiB)"), "{ev}");
    assert!(top_lines(&report, "fix").contains("\"sizeInGiB\""));
    assert_eq!(codes(&report)[1], "app-exit-error", "{:?}", codes(&report));
}

#[test]
fn a_missing_json_key_is_not_a_missing_secret() {
    let (lab, report) = diagnose("secret-key-missing", "secret-key-missing");
    assert!(
        title(&report).contains("JSON key `pasword`"),
        "{}",
        title(&report)
    );
    assert!(
        title(&report).contains(lab.get("secret_arn")),
        "{}",
        title(&report)
    );
    assert!(
        !codes(&report).contains(&"secret-not-found"),
        "{:?}",
        codes(&report)
    );
    assert!(
        !codes(&report).contains(&"execution-role-permissions"),
        "{:?}",
        codes(&report)
    );
}

#[test]
fn a_missing_parameter_store_parameter() {
    let (lab, report) = diagnose("secret-not-found-ssm", "secret-not-found");
    assert!(
        title(&report).contains(lab.get("missing_parameter")),
        "{}",
        title(&report)
    );
    assert!(top_evidence(&report).contains("ssm:DescribeParameters"));
}

#[test]
fn a_customer_managed_key_needs_decrypt() {
    let (lab, report) = diagnose("execution-role-kms", "execution-role-permissions");
    let t = title(&report);
    assert!(
        t.contains("kms:Decrypt") && t.contains(lab.get("key_arn")),
        "{t}"
    );
    assert!(top_evidence(&report).contains("Access to KMS is not allowed"));
}

#[test]
fn an_app_bound_to_loopback_outranks_the_health_check() {
    let (_lab, report) = diagnose("app-bound-to-localhost", "app-bound-to-localhost");
    assert!(
        title(&report).contains("127.0.0.1:3000"),
        "{}",
        title(&report)
    );
    assert_eq!(
        codes(&report)[1],
        "lb-health-check-failed",
        "{:?}",
        codes(&report)
    );
}

#[test]
fn a_start_slower_than_the_grace_period() {
    let (lab, report) = diagnose(
        "health-check-grace-too-short",
        "health-check-grace-too-short",
    );
    let t = title(&report);
    assert!(
        t.contains(&format!("about {}s", lab.get("startup_seconds"))) && t.contains("after 60s"),
        "{t}"
    );
    assert!(top_lines(&report, "fix").contains("--health-check-grace-period-seconds 150"));
}

#[test]
fn a_wrong_port_outranks_a_start_slower_than_the_grace_period() {
    // Both are true: the app needed 98 s (the load balancer allows 60 s) and
    // listens on 8080 while the load balancer sends to 3000. A longer grace
    // period can never help while the port is wrong.
    let (lab, report) = diagnose("app-slow-start-wrong-port", "app-port-mismatch");
    let t = title(&report);
    assert!(
        t.contains(lab.get("app_port")) && t.contains(lab.get("container_port")),
        "{t}"
    );
    let grace = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "health-check-grace-too-short")
        .unwrap_or_else(|| panic!("the slow start is still reported: {report:#}"));
    let gt = grace["title"].as_str().unwrap();
    assert!(
        gt.ends_with("— this matters only once app-port-mismatch is fixed"),
        "{gt}"
    );
    assert!(
        grace["confidence"].as_f64() < report["candidates"][0]["confidence"].as_f64(),
        "{report:#}"
    );
    assert!(!top_lines(&report, "fix").contains("--health-check-grace-period-seconds"));
}

#[test]
fn a_sidecar_that_took_the_task_down() {
    let (lab, report) = diagnose("sidecar-failed", "sidecar-failed");
    assert!(
        title(&report).contains("`log-router`") && title(&report).contains("FireLens"),
        "{}",
        title(&report)
    );
    let ev = top_evidence(&report);
    assert!(ev.contains(lab.get("decisive_line")), "{ev}");
    assert!(ev.contains("`web` exitCode = 143"), "{ev}");
    assert!(
        !codes(&report).contains(&"app-exit-error"),
        "{:?}",
        codes(&report)
    );
}

#[test]
fn registry_credentials_the_execution_role_may_not_read() {
    let (lab, report) = diagnose("registry-credentials-unreadable", "registry-auth-failed");
    let t = title(&report);
    assert!(
        t.contains("cannot read the registry credentials")
            && t.contains(lab.get("credentials_secret")),
        "{t}"
    );
    let ev = top_evidence(&report);
    assert!(
        ev.contains("repositoryCredentials.credentialsParameter"),
        "{ev}"
    );
    assert!(ev.contains("secretsmanager:GetSecretValue"), "{ev}");
    // The rate-limit cause stays apart.
    assert!(
        !codes(&report).contains(&"registry-rate-limited"),
        "{:?}",
        codes(&report)
    );
}

#[test]
fn exec_format_error_from_an_image_that_pulled_fine() {
    let (_lab, report) = diagnose("image-exec-format-error", "image-platform-mismatch");
    // The manifest (its schema 1 form) names arm64; the log line confirms it.
    assert!(
        title(&report).contains("image is arm64 only, task is X86_64"),
        "{}",
        title(&report)
    );
    assert!(top_evidence(&report).contains("exec format error"));
    assert!(top_lines(&report, "fix").contains("--platform linux/amd64"));
}

#[test]
fn an_app_refused_by_its_task_role() {
    let (lab, report) = diagnose("task-role-permissions", "task-role-permissions");
    let t = title(&report);
    assert!(
        t.contains("Task role web-task does not allow ecs:GetTaskProtection")
            && t.contains(lab.task_arn()),
        "{t}"
    );
    let ev = top_evidence(&report);
    assert!(ev.contains(lab.get("decisive_line")), "{ev}");
    assert!(
        ev.contains("no statement of inline policy web-s3 allows it"),
        "{ev}"
    );
    let fix = top_lines(&report, "fix");
    assert!(
        fix.contains("put-role-policy --role-name web-task")
            && fix.contains(&format!(
                "\"Action\": \"ecs:GetTaskProtection\", \"Resource\": \"{}\"",
                lab.task_arn()
            )),
        "{fix}"
    );
    assert!(!fix.contains("\"*\""), "never a wildcard: {fix}");
    // The generic exit is listed below, with the reason it ranks lower.
    assert_eq!(codes(&report)[1], "app-exit-error", "{:?}", codes(&report));
}

#[test]
fn two_containers_on_one_port() {
    let (lab, report) = diagnose("port-conflict", "port-conflict");
    assert_eq!(
        title(&report),
        "Containers `web` and `status` of the task both bind port 80"
    );
    let ev = top_evidence(&report);
    assert!(ev.contains(lab.get("decisive_line")), "{ev}");
    assert!(ev.contains("one network namespace"), "{ev}");
    assert!(
        top_lines(&report, "fix").contains("Move container `status` to port 81"),
        "{}",
        top_lines(&report, "fix")
    );
}

#[test]
fn a_read_only_root_file_system_the_app_writes_to() {
    let (lab, report) = diagnose("read-only-filesystem", "read-only-filesystem");
    assert!(
        title(&report).ends_with(&format!("could not write in {}", lab.get("writable_path"))),
        "{}",
        title(&report)
    );
    let ev = top_evidence(&report);
    assert!(ev.contains(lab.get("decisive_line")), "{ev}");
    assert!(
        ev.contains("readonlyRootFilesystem = true; mountPoints: none"),
        "{ev}"
    );
    let fix = top_lines(&report, "fix");
    assert!(
        fix.contains("\"containerPath\": \"/var/cache/nginx\", \"readOnly\": false"),
        "{fix}"
    );
}
