//! End-to-end: the image, registry, execution-role, secret and log causes,
//! each through the real binary against its AWS lab scenario. The
//! permission scenarios also run against a lab that answers
//! `iam:SimulatePrincipalPolicy` with recorded answers, and must reach the
//! same verdict as without it.

mod common;

use common::{top_code, top_evidence, top_title, Lab};
use serde_json::Value;

fn diagnose(scenario: &str, expected: &str) -> (Lab, Value) {
    common::diagnose_failed(scenario, expected, "image")
}

/// The status and detail of one check in the report.
fn check<'a>(report: &'a Value, id: &str) -> (&'a str, &'a str) {
    let c = report["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id}: {report:#}"));
    (
        c["status"].as_str().unwrap_or(""),
        c["detail"].as_str().unwrap_or(""),
    )
}

#[test]
fn image_repository_not_found_suggests_the_repository_that_exists() {
    let (lab, report) = diagnose("image-repository-not-found", "image-not-found");
    assert!(
        top_title(&report).contains("`web-app` does not exist in account 123456789012"),
        "{}",
        top_title(&report)
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("similar repositories in that registry: web-api"),
        "{evidence}"
    );
    assert!(evidence.contains(lab.get("image")), "{evidence}");
}

/// A task definition that pins `web:v3@<digest>`: the digest expired while
/// the tag moved on. The report names the digest, what the tag names now and
/// the lifecycle rule, read through the real ECR APIs.
#[test]
fn an_expired_digest_names_the_tag_now_and_the_lifecycle_rule() {
    let (lab, report) = diagnose("image-digest-expired", "image-not-found");
    let digest = lab.get("digest");
    assert!(
        top_title(&report).starts_with(&format!("Digest `{digest}` (tag `v3`) does not exist")),
        "{}",
        top_title(&report)
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("tag `v3` now names sha256:"),
        "{evidence}"
    );
    assert!(
        evidence.contains(
            "lifecycle rule 1 of `web` (\"Expire images older than 14 days\"): expires untagged images beyond 14 days since pushed"
        ),
        "{evidence}"
    );
    // The task definition pins the digest: redeploying it would pull it again.
    let fixes = report["candidates"][0]["fix"].to_string();
    assert!(
        fixes.contains("Register a task definition revision that names `web:v3`"),
        "{fixes}"
    );
    common::assert_contract(&report);
}

#[test]
fn image_platform_mismatch_reads_the_image_index() {
    let (_lab, report) = diagnose("image-platform-mismatch", "image-platform-mismatch");
    assert!(
        top_title(&report).starts_with("image is arm64 only, task is X86_64"),
        "{}",
        top_title(&report)
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("manifest of 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v4"),
        "{evidence}"
    );
    assert!(
        evidence.contains("declares linux/arm64/v8"),
        "attestations are not platforms:\n{evidence}"
    );
}

#[test]
fn registry_auth_failed_names_the_anonymous_pull() {
    let (lab, report) = diagnose("registry-auth-failed", "registry-auth-failed");
    let evidence = top_evidence(&report);
    assert!(evidence.contains(lab.get("image")), "{evidence}");
    assert!(
        evidence.contains("repositoryCredentials not set"),
        "{evidence}"
    );
    assert_eq!(check(&report, "image-not-found").0, "skipped");
}

#[test]
fn registry_rate_limited_on_docker_hub() {
    let (_lab, report) = diagnose("registry-rate-limited", "registry-rate-limited");
    assert_eq!(
        top_title(&report),
        "Docker Hub rate-limited the pull of `nginx:1.27` (container `web`)"
    );
    let evidence = top_evidence(&report);
    assert!(evidence.contains("toomanyrequests"), "{evidence}");
    assert!(evidence.contains("anonymous pulls"), "{evidence}");
}

#[test]
fn execution_role_missing_for_an_ecr_image() {
    let (lab, report) = diagnose("execution-role-missing", "execution-role-missing");
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("executionRoleArn is not set"),
        "{evidence}"
    );
    assert!(evidence.contains(lab.get("image")), "{evidence}");
    assert!(evidence.contains("no basic auth credentials"), "{evidence}");
}

#[test]
fn execution_role_not_found_names_the_role() {
    let (lab, report) = diagnose("execution-role-not-found", "execution-role-not-found");
    assert_eq!(
        top_title(&report),
        format!("Execution role `{}` does not exist", lab.get("role_name"))
    );
    assert!(top_evidence(&report).contains(lab.get("role_arn")));
    // The other role checks step aside rather than pile on.
    assert_eq!(check(&report, "execution-role-untrusted").0, "skipped");
    assert_eq!(check(&report, "execution-role-permissions").0, "skipped");
}

#[test]
fn execution_role_untrusted_names_the_trusted_service() {
    let (lab, report) = diagnose("execution-role-untrusted", "execution-role-untrusted");
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains(&format!(
            "it trusts Service: {}",
            lab.get("trusted_service")
        )),
        "{evidence}"
    );
    assert!(
        evidence.contains("ECS was unable to assume the role"),
        "{evidence}"
    );
}

#[test]
fn execution_role_permissions_names_the_missing_action_and_secret() {
    let (lab, report) = diagnose("execution-role-permissions", "execution-role-permissions");
    let evidence = top_evidence(&report);
    let missing = format!(
        "{} on {}: not allowed",
        lab.get("missing_action"),
        lab.get("secret_arn")
    );
    assert!(evidence.contains(&missing), "{evidence}");
    assert!(
        evidence.contains(&format!(
            "assumed-role/ecsTaskExecutionRole/{} (this task's id)",
            lab.get("task_id")
        )),
        "{evidence}"
    );
    assert!(
        evidence.contains("ecs-doctor's own evaluation"),
        "{evidence}"
    );
    assert!(evidence.contains("neither method sees"), "{evidence}");
    let fix = report["candidates"][0]["fix"][0].as_str().unwrap_or("");
    assert!(
        fix.contains("put-role-policy") && fix.contains(lab.get("secret_arn")),
        "{fix}"
    );
}

#[test]
fn execution_role_permissions_pull_scoped_to_another_repository() {
    let (lab, report) = diagnose(
        "execution-role-permissions-pull",
        "execution-role-permissions",
    );
    let evidence = top_evidence(&report);
    for action in [
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
    ] {
        let line = format!("{action} on {}: not allowed", lab.get("repository_arn"));
        assert!(evidence.contains(&line), "{line}\n{evidence}");
    }
}

#[test]
fn secret_not_found_in_another_region() {
    let (lab, report) = diagnose("secret-not-found", "secret-not-found");
    assert!(
        top_title(&report).contains(lab.get("secret_name")),
        "{}",
        top_title(&report)
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains(lab.get("missing_secret_arn")),
        "{evidence}"
    );
    assert!(
        evidence.contains("the stop reason names the missing reference"),
        "{evidence}"
    );
    assert!(evidence.contains("no secret value was read"), "{evidence}");
    assert!(
        evidence.contains(&format!(
            "exists in the task's Region us-east-1: {}",
            lab.get("existing_secret_arn")
        )),
        "{evidence}"
    );
    assert_eq!(check(&report, "execution-role-permissions").0, "pass");
}

#[test]
fn log_group_missing_without_create_group() {
    let (lab, report) = diagnose("log-group-missing", "log-group-missing");
    assert!(top_title(&report).contains(lab.get("missing_log_group")));
    let fix = report["candidates"][0]["fix"][0].as_str().unwrap_or("");
    assert_eq!(
        fix,
        "aws logs create-log-group --region us-east-1 --log-group-name /ecs/web"
    );
}

#[test]
fn log_config_invalid_misspelt_option() {
    let (lab, report) = diagnose("log-config-invalid", "log-config-invalid");
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains(&format!(
            "unknown option {} (did you mean awslogs-stream-prefix?)",
            lab.get("bad_option")
        )),
        "{evidence}"
    );
    assert!(evidence.contains("Fargate requires it"), "{evidence}");
}

/// Secrets Manager appends six random characters to a secret's ARN, so two
/// labs hold the same secret under different ARNs.
fn without_secret_suffix(text: &str) -> String {
    regex::Regex::new(r"(:secret:[A-Za-z0-9/_+=.@-]+?)-[A-Za-z0-9]{6}\b")
        .unwrap()
        .replace_all(text, "$1-XXXXXX")
        .into_owned()
}

/// The evidence lines that name a denied action, and the top candidate.
fn verdict(report: &Value) -> (String, String, Vec<String>) {
    let denied = report["candidates"][0]["evidence"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .filter(|e| e.contains(": not allowed") || e.contains(": explicitly denied"))
                .map(|e| without_secret_suffix(e.split(" (").next().unwrap_or(e)))
                .collect()
        })
        .unwrap_or_default();
    (
        top_code(report).to_string(),
        without_secret_suffix(top_title(report)),
        denied,
    )
}

/// The scenario without the simulator (ecs-doctor evaluates the policies) and
/// with recorded simulator answers reach the same verdict, and each says how
/// it decided.
fn same_verdict_with_and_without_the_simulator(scenario: &str) {
    let plain = Lab::start(scenario);
    let simulated = Lab::start(&format!("{scenario}-simulated"));
    assert_eq!(simulated.get("simulator"), "recorded");
    let (code_a, a) = plain.diagnose_json(&[]);
    let (code_b, b) = simulated.diagnose_json(&[]);
    assert_eq!(code_a, code_b);
    assert_eq!(verdict(&a), verdict(&b), "\nwithout:\n{a:#}\nwith:\n{b:#}");
    let (_, how_a) = check(&a, "execution-role-permissions");
    let (_, how_b) = check(&b, "execution-role-permissions");
    let all_a = format!("{how_a}\n{}", top_evidence(&a));
    let all_b = format!("{how_b}\n{}", top_evidence(&b));
    assert!(all_a.contains("ecs-doctor's own evaluation"), "{all_a}");
    assert!(
        all_b.contains("decided by iam:SimulatePrincipalPolicy"),
        "{all_b}"
    );
}

#[test]
fn permissions_same_verdict_with_the_simulator() {
    same_verdict_with_and_without_the_simulator("execution-role-permissions");
}

#[test]
fn pull_permissions_same_verdict_with_the_simulator() {
    same_verdict_with_and_without_the_simulator("execution-role-permissions-pull");
}

#[test]
fn secret_not_found_same_verdict_with_the_simulator() {
    same_verdict_with_and_without_the_simulator("secret-not-found");
}

#[test]
fn untrusted_role_same_verdict_with_the_simulator() {
    same_verdict_with_and_without_the_simulator("execution-role-untrusted");
}
