use super::*;
use crate::evidence::{Evidence, Fact, InlinePolicy, KeyEvidence, KmsKey};
use crate::report::Strength;
use crate::testkit::found;
use crate::testkit::image::*;
use serde_json::json;

crate::check_under_test!();

const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/web/db-AbCdEf";
/// Secrets Manager's refusal caused by the key (corpus: GiamPy5/terraform-aws-directus#10).
const KMS_REFUSED: &str = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:eu-central-1:account_id:secret:algo-dev-directus-secret20240626183203358800000004-EaPYTy from secrets manager: AccessDeniedException: Access to KMS is not allowed status code: 400, request id: a87a66d9-f839-4353-b8c2-9984b1465695";

fn delegating() -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]})
}

fn admin_only() -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "KeyAdmins", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/key-admin"}, "Action": "kms:*", "Resource": "*"}]})
}

/// A task that failed with `reason`, reading a secret under KEY, whose
/// execution role may decrypt (`role_decrypts`), and KEY read as given.
fn with_key(reason: &str, role_decrypts: bool, state: &str, policy: Fact<serde_json::Value>) -> Evidence {
    let mut ev = failed_to_start(reason);
    add_secret(&mut ev, "DB_PASSWORD", SECRET, secret_metadata(SECRET, Some(KEY)));
    let actions = if role_decrypts { json!(["secretsmanager:GetSecretValue", "kms:Decrypt"]) } else { json!("secretsmanager:GetSecretValue") };
    role_mut(&mut ev).inline_policies.value_mut().expect("listed").push(InlinePolicy {
        name: "secrets".into(),
        document: Fact::gathered(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})),
    });
    ev.kms.keys.push(KeyEvidence {
        key: KEY.into(),
        described: Fact::gathered(KmsKey { key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(), arn: Some(KEY.into()), key_state: Some(state.into()), key_manager: Some("CUSTOMER".into()), ..Default::default() }),
        policy,
    });
    ev
}

#[test]
fn a_key_policy_naming_another_principal_refuses_the_role_its_own_policies_allow() {
    let f = found(check(&with_key(KMS_REFUSED, true, "Enabled", Fact::gathered(admin_only()))));
    assert_eq!(f.code, Cause::KmsKeyPolicyDenied);
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.title.contains("does not let `ecsTaskExecutionRole` decrypt"), "{}", f.title);
    let all = f.evidence.join("\n");
    assert!(all.contains("Access to KMS is not allowed") && all.contains("allows arn:aws:iam::123456789012:role/ecsTaskExecutionRole or its account"), "{all}");
    let fix = f.fix.join("\n");
    assert!(fix.contains(ROLE_ARN) && fix.contains("\"Action\":\"kms:Decrypt\"") && fix.contains("secretsmanager.us-east-1.amazonaws.com"), "{fix}");
    assert!(!fix.contains("kms:*") && !fix.contains("\"Principal\":\"*\""), "{fix}");
    // The role check does not claim the same refusal.
    let ev = with_key(KMS_REFUSED, true, "Enabled", Fact::gathered(admin_only()));
    assert!(matches!(crate::testkit::run(crate::checks::image::execution_role_permissions::check, &ev), crate::report::Verdict::Pass(_)));
}

#[test]
fn a_key_policy_delegating_to_the_account_lets_the_role_policies_decide() {
    match check(&with_key("Task failed to start", true, "Enabled", Fact::gathered(delegating()))) {
        Verdict::Pass(d) => assert!(d.contains("delegates to the account"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn when_the_role_refuses_the_role_check_comes_first() {
    let ev = with_key(KMS_REFUSED, false, "Enabled", Fact::gathered(admin_only()));
    match check(&ev) {
        Verdict::Pass(d) => assert!(d.contains("execution-role-permissions comes first"), "{d}"),
        other => panic!("{other:?}"),
    }
    let role = found(crate::testkit::run(crate::checks::image::execution_role_permissions::check, &ev));
    assert!(role.title.contains("kms:Decrypt"), "{}", role.title);
}

#[test]
fn a_deny_in_the_key_policy_is_named() {
    let mut policy = delegating();
    policy["Statement"].as_array_mut().unwrap().push(json!({"Sid": "NoTaskDecrypt", "Effect": "Deny",
        "Principal": {"AWS": ROLE_ARN}, "Action": "kms:Decrypt", "Resource": "*"}));
    let f = found(check(&with_key(KMS_REFUSED, true, "Enabled", Fact::gathered(policy))));
    assert!(f.fix.iter().any(|x| x.contains("Narrow the Deny") && x.contains("NoTaskDecrypt")), "{:?}", f.fix);
}

#[test]
fn a_disabled_or_deleting_key_is_named_with_its_state() {
    let f = found(check(&with_key(KMS_REFUSED, true, "Disabled", Fact::gathered(delegating()))));
    assert!(f.title.contains("is Disabled"), "{}", f.title);
    assert_eq!(f.fix, vec![format!("Enable the key: aws kms enable-key --key-id {KEY}")]);
    let f = found(check(&with_key(KMS_REFUSED, true, "PendingDeletion", Fact::gathered(delegating()))));
    assert!(f.fix[0].contains("cancel-key-deletion") && f.fix[0].contains("enable-key"), "{:?}", f.fix);
}

#[test]
fn an_unreadable_key_policy_is_a_gap_and_the_text_decides() {
    let refused = || Fact::Denied { action: "kms:GetKeyPolicy".into(), error: "AccessDeniedException".into() };
    match check(&with_key("Task failed to start", true, "Enabled", refused())) {
        Verdict::Inconclusive(d) => assert!(d.contains("kms:GetKeyPolicy was denied"), "{d}"),
        other => panic!("{other:?}"),
    }
    // What was not read cannot be quoted: corroborating, the fix conditional.
    let f = found(check(&with_key(KMS_REFUSED, true, "Enabled", refused())));
    assert_eq!(f.strength, Strength::Corroborating);
    assert!(f.fix[0].contains("if its key policy does not already allow the role"), "{:?}", f.fix);
    assert!(f.title.contains("the key's policy or state refused"), "{}", f.title);
    assert!(f.evidence.iter().any(|e| e.contains("could not be read: kms:GetKeyPolicy was denied")), "{:?}", f.evidence);
}

#[test]
fn aws_managed_keys_and_no_keys_are_skipped() {
    let mut ev = failed_to_start("Task failed to start");
    add_secret(&mut ev, "DB_PASSWORD", SECRET, secret_metadata(SECRET, Some("alias/aws/secretsmanager")));
    assert!(matches!(check(&ev), Verdict::Skipped(_)));
    assert!(matches!(check(&healthy()), Verdict::Skipped(_)));
}

#[test]
fn a_task_that_started_ranks_the_key_policy_as_circumstance() {
    let mut ev = with_key("Essential container in task exited", true, "Enabled", Fact::gathered(admin_only()));
    ev.task.stop_code = Some("EssentialContainerExited".into());
    ev.task.timestamps.started_at = Some("2026-01-01T12:00:30Z".into());
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Circumstantial);
    assert!(!f.against.is_empty());
}

#[test]
fn a_secret_whose_metadata_was_refused_is_a_gap_for_both_checks() {
    let mut ev = failed_to_start(KMS_REFUSED);
    add_secret(&mut ev, "DB_PASSWORD", SECRET, Fact::Denied { action: "secretsmanager:DescribeSecret".into(), error: "AccessDeniedException".into() });
    match check(&ev) {
        Verdict::Inconclusive(d) => assert!(d.contains("secretsmanager:DescribeSecret was denied"), "{d}"),
        other => panic!("{other:?}"),
    }
    // The role check does not take the refusal for its own either.
    match crate::testkit::run(crate::checks::image::execution_role_permissions::check, &ev) {
        Verdict::Inconclusive(d) => assert!(d.contains("keys could not be read"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn another_accounts_key_needs_both_halves_and_its_unread_policy_is_a_gap() {
    let other = "arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let names_role = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ROLE_ARN}, "Action": "kms:Decrypt", "Resource": "*"}]});
    // The key policy names the role, but the role's own policies do not allow
    // the key: across accounts that refuses, and it is the role's refusal.
    let mut ev = failed_to_start(KMS_REFUSED);
    add_secret(&mut ev, "DB_PASSWORD", SECRET, secret_metadata(SECRET, Some(other)));
    ev.kms.keys.push(KeyEvidence { key: other.into(), described: Fact::gathered(KmsKey { key_id: "k".into(), arn: Some(other.into()), key_state: Some("Enabled".into()), ..Default::default() }), policy: Fact::gathered(names_role) });
    match check(&ev) {
        Verdict::Pass(d) => assert!(d.contains("execution-role-permissions comes first"), "{d}"),
        other => panic!("{other:?}"),
    }
    // KMS refuses another account's key policy to ecs-doctor: a gap, never a pass.
    let mut ev = with_key("Task failed to start", true, "Enabled", Fact::Denied { action: "kms:GetKeyPolicy".into(), error: "AccessDeniedException".into() });
    ev.kms.keys[0].key = other.into();
    ev.secrets[0].metadata = secret_metadata(SECRET, Some(other));
    ev.kms.keys[0].described = Fact::Denied { action: "kms:DescribeKey".into(), error: "AccessDeniedException".into() };
    role_mut(&mut ev).inline_policies.value_mut().expect("listed")[0].document =
        Fact::gathered(json!({"Statement": [{"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "kms:Decrypt"], "Resource": "*"}]}));
    match check(&ev) {
        Verdict::Inconclusive(d) => assert!(d.contains(other) && d.contains("kms:GetKeyPolicy was denied"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_state_that_could_not_be_read_is_a_gap_never_enabled() {
    let mut ev = with_key("Task failed to start", true, "Enabled", Fact::gathered(delegating()));
    for k in ev.kms.keys.iter_mut() {
        k.described = Fact::Denied { action: "kms:DescribeKey".into(), error: "AccessDeniedException".into() };
    }
    match check(&ev) {
        Verdict::Inconclusive(d) => assert!(d.contains("the state of key"), "{d}"),
        other => panic!("{other:?}"),
    }
}
