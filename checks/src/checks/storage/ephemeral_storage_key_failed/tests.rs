use super::*;
use crate::evidence::{Evidence, Fact, KeyEvidence, KmsKey};
use crate::testkit::found;
use crate::testkit::image::*;
use serde_json::json;

crate::check_under_test!();

const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/5678efgh-12ab-34cd-56ef-1234567890ab";

/// The key policy the developer guide gives for the cluster `prod`.
fn fargate_policy() -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "fargate.amazonaws.com"}, "Action": ["kms:GenerateDataKeyWithoutPlaintext"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:aws:ecs:clusterAccount": ["123456789012"], "kms:EncryptionContext:aws:ecs:clusterName": ["prod"]}}},
        {"Effect": "Allow", "Principal": {"Service": "fargate.amazonaws.com"}, "Action": ["kms:CreateGrant"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:aws:ecs:clusterAccount": ["123456789012"], "kms:EncryptionContext:aws:ecs:clusterName": ["prod"]},
                       "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]}}}]})
}

fn with_storage_key(state: &str, policy: serde_json::Value) -> Evidence {
    let mut ev = failed_to_start("Task failed to start");
    ev.task.launch_type = Some("FARGATE".into());
    ev.kms.fargate_storage_key = Fact::gathered(KEY.into());
    ev.kms.keys.push(KeyEvidence {
        key: KEY.into(),
        described: Fact::gathered(KmsKey { key_id: "5678efgh-12ab-34cd-56ef-1234567890ab".into(), arn: Some(KEY.into()), key_state: Some(state.into()), key_manager: Some("CUSTOMER".into()), multi_region: Some(false), ..Default::default() }),
        policy: Fact::gathered(policy),
    });
    ev
}

#[test]
fn an_enabled_key_whose_policy_allows_fargate_passes() {
    let ev = with_storage_key("Enabled", fargate_policy());
    assert_eq!(crate::task::cluster_name(&ev), "prod", "the kit's cluster");
    match check(&ev) {
        Verdict::Pass(d) => assert!(d.contains("is Enabled") && d.contains("allows fargate.amazonaws.com kms:CreateGrant"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_disabled_or_deleting_key_fails_new_tasks() {
    let f = found(check(&with_storage_key("Disabled", fargate_policy())));
    assert_eq!(f.code, Cause::EphemeralStorageKeyFailed);
    assert_eq!(f.strength, Strength::Corroborating);
    assert!(f.title.contains("is Disabled"), "{}", f.title);
    assert!(f.fix[0].contains("aws kms enable-key --key-id"), "{:?}", f.fix);
    let f = found(check(&with_storage_key("PendingDeletion", fargate_policy())));
    assert!(f.fix[0].contains("cancel-key-deletion"), "{:?}", f.fix);
}

#[test]
fn a_key_policy_without_fargate_names_the_statements_to_add() {
    let f = found(check(&with_storage_key("Enabled", json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]}))));
    assert!(f.title.contains("does not let Fargate use it for cluster prod"), "{}", f.title);
    let fix = f.fix.join("\n");
    assert!(fix.contains("fargate.amazonaws.com") && fix.contains("kms:EncryptionContext:aws:ecs:clusterName") && !fix.contains("kms:*"), "{fix}");
    // For another cluster's name the condition fails, and says so.
    let mut other = fargate_policy();
    other["Statement"][1]["Condition"]["StringEquals"]["kms:EncryptionContext:aws:ecs:clusterName"] = json!(["staging"]);
    let f = found(check(&with_storage_key("Enabled", other)));
    assert!(f.evidence.iter().any(|e| e.contains("clusterName")), "{:?}", f.evidence);
}

#[test]
fn aliases_and_multi_region_keys_are_not_supported() {
    let mut ev = with_storage_key("Enabled", fargate_policy());
    ev.kms.keys[0].described.value_mut().unwrap().multi_region = Some(true);
    assert!(found(check(&ev)).title.contains("multi-Region"));
    let mut ev = with_storage_key("Enabled", fargate_policy());
    ev.kms.fargate_storage_key = Fact::gathered("alias/prod-storage".into());
    ev.kms.keys[0].key = "alias/prod-storage".into();
    assert!(found(check(&ev)).title.contains("alias"));
}

#[test]
fn gaps_and_other_launch_types() {
    let mut ev = with_storage_key("Enabled", fargate_policy());
    ev.kms.keys[0].policy = Fact::Denied { action: "kms:GetKeyPolicy".into(), error: "AccessDeniedException".into() };
    match check(&ev) {
        Verdict::Inconclusive(d) => assert!(d.contains("kms:GetKeyPolicy was denied"), "{d}"),
        other => panic!("{other:?}"),
    }
    let mut ev = with_storage_key("Disabled", fargate_policy());
    ev.task.launch_type = Some("EC2".into());
    assert!(matches!(check(&ev), Verdict::Skipped(_)));
    // A task that ran got its storage: the key matters for the next tasks.
    let mut ev = with_storage_key("Disabled", fargate_policy());
    ev.task.timestamps.started_at = Some("2026-01-01T12:00:30Z".into());
    match check(&ev) {
        Verdict::Pass(d) => assert!(d.contains("new tasks of the cluster will fail now"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_stop_reason_that_names_another_failure_counts_against_it() {
    // The bare text names nothing.
    let f = found(check(&with_storage_key("Disabled", fargate_policy())));
    assert!(f.against.is_empty(), "{:?}", f.against);
    // A real pull failure (the corpus's missing tag) does.
    let mut ev = with_storage_key("Disabled", fargate_policy());
    ev.task.stopped_reason = Some("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 1.dkr.ecr.us-east-1.amazonaws.com/web:v3: not found".into());
    let f = found(check(&ev));
    assert!(f.against.iter().any(|a| a.contains("names another failure")), "{:?}", f.against);
}
