use super::*;

crate::check_under_test!();
use crate::evidence::{
    AttachedPolicy, EbsAttachment, EbsEvidence, Evidence, KmsKey, ManagedEbsVolume,
    Volume,
};
use crate::testkit::found;
use crate::testkit::image::{failed_to_start, healthy, td_mut};
use serde_json::json;

const ROLE: &str = "arn:aws:iam::123456789012:role/ecsInfrastructureRole";
const UNASSUMABLE: &str = "ECS was unable to assume the configured ECS Infrastructure Role 'arn:aws:iam::123456789012:role/ecsInfrastructureRole'. Please verify that the role being passed has the proper trust relationship with Amazon ECS";
const SETUP: &str = "ECS failed to set up the EBS volume. Encountered IdempotentParameterMismatch\"; \"The client token you have provided is associated with a resource that is already deleted. Please use a different client token.\"";
const TIMED_OUT: &str = "ECS timed out while configuring the EBS volume attachment to your Task";

/// The statements of `AmazonECSInfrastructureRolePolicyForVolumes` that
/// create, tag and attach a volume (its v5 document).
fn volumes_policy() -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "CreateEBSManagedVolume", "Effect": "Allow", "Action": "ec2:CreateVolume",
         "Resource": "arn:aws:ec2:*:*:volume/*",
         "Condition": {"ArnLike": {"aws:RequestTag/AmazonECSCreated": "arn:aws:ecs:*:*:task/*"},
                       "StringEquals": {"aws:RequestTag/AmazonECSManaged": "true"}}},
        {"Sid": "CreateEBSManagedVolumeFromSnapshot", "Effect": "Allow", "Action": "ec2:CreateVolume",
         "Resource": "arn:aws:ec2:*:*:snapshot/*"},
        {"Sid": "TagOnCreateVolume", "Effect": "Allow", "Action": "ec2:CreateTags",
         "Resource": "arn:aws:ec2:*:*:volume/*",
         "Condition": {"ArnLike": {"aws:RequestTag/AmazonECSCreated": "arn:aws:ecs:*:*:task/*"},
                       "StringEquals": {"aws:RequestTag/AmazonECSManaged": "true", "ec2:CreateAction": "CreateVolume"}}},
        {"Sid": "ManageEBSVolumeLifecycle", "Effect": "Allow", "Action": ["ec2:AttachVolume", "ec2:DetachVolume"],
         "Resource": "arn:aws:ec2:*:*:volume/*",
         "Condition": {"StringEquals": {"aws:ResourceTag/AmazonECSManaged": "true"}}}
    ]})
}

fn infra_role(trusted: &str, with_policy: bool) -> Role {
    Role {
        arn: ROLE.into(),
        name: "ecsInfrastructureRole".into(),
        trust_policy: json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": trusted}, "Action": "sts:AssumeRole"}]}),
        attached_policies: Fact::gathered(if with_policy {
            vec![AttachedPolicy {
                arn: format!("arn:aws:iam::aws:policy/service-role/{MANAGED_POLICY}"),
                name: MANAGED_POLICY.into(),
                document: Fact::gathered(volumes_policy()),
                updated_at: None,
            }]
        } else {
            Vec::new()
        }),
        inline_policies: Fact::gathered(Vec::new()),
        permissions_boundary_arn: None,
    }
}

/// A task with volume `data` configured at launch, a sound configuration,
/// stopped with `reason` and its attachment FAILED with `status_reason`.
fn with_ebs(mut ev: Evidence, status: &str, status_reason: Option<&str>) -> Evidence {
    td_mut(&mut ev).volumes.push(Volume {
        name: "data".into(),
        efs: None,
        configured_at_launch: true,
    });
    ev.task.availability_zone = Some("us-east-1a".into());
    ev.task.ebs_attachment = Some(EbsAttachment {
        status: Some(status.into()),
        volume_name: Some("data".into()),
        volume_id: Some("vol-0123456789abcdef0".into()),
        role_arn: Some(ROLE.into()),
        status_reason: status_reason.map(str::to_string),
    });
    ev.ebs = Fact::gathered(EbsEvidence {
        volume_name: "data".into(),
        config: Fact::gathered(ManagedEbsVolume {
            role_arn: Some(ROLE.into()),
            filesystem_type: Some("ext4".into()),
            size_in_gib: Some(20),
            ..Default::default()
        }),
        role: Fact::gathered(infra_role("ecs.amazonaws.com", true)),
        kms_key: Fact::not_applicable("no kmsKeyId"),
        key_policy: Fact::not_applicable("no kmsKeyId"),
        snapshot: Fact::not_applicable("no snapshotId"),
        volume: Fact::absent("volume vol-0123456789abcdef0 does not exist"),
    });
    ev
}

fn ebs_mut(ev: &mut Evidence) -> &mut EbsEvidence {
    ev.ebs.value_mut().expect("the fixture's EBS evidence")
}

#[test]
fn a_task_without_an_ebs_volume_skips() {
    assert!(matches!(check(&healthy()), Verdict::Skipped(_)));
}

#[test]
fn a_sound_volume_passes_when_the_task_failed_for_another_reason() {
    let ev = with_ebs(
        failed_to_start("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref docker.io/library/nope:latest: not found"),
        "DELETED",
        None,
    );
    match check(&ev) {
        Verdict::Pass(d) => {
            assert!(d.contains("trusts ecs.amazonaws.com"), "{d}");
            assert!(d.contains("allowed what ECS needs"), "{d}");
            assert!(d.contains("ext4 suits a Linux task"), "{d}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_untrusting_role_is_named_with_the_status_reason_and_the_trust_policy() {
    let mut ev = with_ebs(failed_to_start("Task failed to start"), "FAILED", Some(UNASSUMABLE));
    ebs_mut(&mut ev).role = Fact::gathered(infra_role("ec2.amazonaws.com", true));
    let f = found(check(&ev));
    assert_eq!(f.code, Cause::EbsVolumeFailed);
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.title.contains("does not trust ecs.amazonaws.com"), "{}", f.title);
    assert!(f.evidence.iter().any(|e| e.contains("statusReason") && e.contains("unable to assume")), "{:?}", f.evidence);
    assert!(f.evidence.iter().any(|e| e.contains("it trusts Service: ec2.amazonaws.com")), "{:?}", f.evidence);
    assert!(f.fix[0].contains("update-assume-role-policy --role-name ecsInfrastructureRole") && f.fix[0].contains("ecs.amazonaws.com"), "{:?}", f.fix);
    assert!(!f.fix.iter().any(|x| x.contains("\"*\"")), "{:?}", f.fix);
}

#[test]
fn a_role_without_the_volume_permissions_gets_the_managed_policy() {
    let mut ev = with_ebs(failed_to_start("Task failed to start"), "FAILED", Some(UNASSUMABLE));
    ebs_mut(&mut ev).role = Fact::gathered(infra_role("ecs.amazonaws.com", false));
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.title.contains("not allowed"), "{}", f.title);
    assert!(f.evidence.iter().any(|e| e.contains("ec2:CreateVolume") && e.contains("no statement allows it")), "{:?}", f.evidence);
    assert!(f.fix[0].contains("attach-role-policy") && f.fix[0].contains(MANAGED_POLICY), "{:?}", f.fix);
}

#[test]
fn a_disabled_key_is_named_with_its_state_and_pending_deletion_is_cancelled() {
    let mut ev = with_ebs(failed_to_start("Task failed to start"), "FAILED", Some(SETUP));
    let key = "1234abcd-12ab-34cd-56ef-1234567890ab";
    let e = ebs_mut(&mut ev);
    e.config.value_mut().unwrap().kms_key_id = Some(key.into());
    e.kms_key = Fact::gathered(KmsKey { key_id: key.into(), key_state: Some("Disabled".into()), ..Default::default() });
    let mut role = infra_role("ecs.amazonaws.com", true);
    role.inline_policies = Fact::gathered(vec![crate::evidence::InlinePolicy {
        name: "key".into(),
        document: Fact::gathered(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt"],
            "Resource": format!("arn:aws:kms:us-east-1:123456789012:key/{key}")}]})),
    }]);
    e.role = Fact::gathered(role);
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.title.contains("is Disabled"), "{}", f.title);
    assert!(f.fix[0].contains("aws kms enable-key --key-id"), "{:?}", f.fix);

    let e = ebs_mut(&mut ev);
    e.kms_key = Fact::gathered(KmsKey { key_id: key.into(), key_state: Some("PendingDeletion".into()), deletion_date: Some("2027-01-01".into()), ..Default::default() });
    let f = found(check(&ev));
    assert!(f.title.contains("PendingDeletion"), "{}", f.title);
    assert!(f.fix[0].contains("cancel-key-deletion"), "{:?}", f.fix);
}

/// A volume encrypted with an enabled customer managed key under `policy`,
/// for an infrastructure role with the managed policy only (no KMS in IAM).
fn with_key_policy(policy: serde_json::Value) -> Evidence {
    let mut ev = with_ebs(failed_to_start("Task failed to start"), "FAILED", Some(SETUP));
    let key = "1234abcd-12ab-34cd-56ef-1234567890ab";
    let arn = format!("arn:aws:kms:us-east-1:123456789012:key/{key}");
    let e = ebs_mut(&mut ev);
    e.config.value_mut().unwrap().kms_key_id = Some(key.into());
    e.kms_key = Fact::gathered(KmsKey { key_id: key.into(), arn: Some(arn), key_state: Some("Enabled".into()), key_manager: Some("CUSTOMER".into()), ..Default::default() });
    e.key_policy = Fact::gathered(policy);
    ev
}

#[test]
fn the_key_policy_of_the_volume_key_is_judged_for_the_infrastructure_role() {
    // It names another principal only: the key refuses the role.
    let ev = with_key_policy(json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/admin"}, "Action": "kms:*", "Resource": "*"}]}));
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.title.contains("policy of the volume's KMS key"), "{}", f.title);
    assert!(f.evidence.iter().any(|e| e.contains("kms:CreateGrant") && e.contains("allows arn:aws:iam::123456789012:role/ecsInfrastructureRole or its account")), "{:?}", f.evidence);
    let fix = f.fix.join("\n");
    assert!(fix.contains(ROLE) && fix.contains("ec2.us-east-1.amazonaws.com") && !fix.contains("kms:*") && !fix.contains("\"Principal\":\"*\""), "{fix}");

    // It names the role itself: the key's use needs no IAM policy, the
    // volume passes (for a task that failed for another reason).
    let mut ev = with_key_policy(json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ROLE},
        "Action": ["kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt"], "Resource": "*"}]}));
    let attachment = ev.task.ebs_attachment.as_mut().unwrap();
    attachment.status = Some("DELETED".into());
    attachment.status_reason = None;
    assert!(matches!(check(&ev), Verdict::Pass(_)), "{:?}", check(&ev));

    // It delegates to the account: the role's IAM policies decide, and they do not allow the key.
    let ev = with_key_policy(json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]}));
    let f = found(check(&ev));
    assert!(f.title.contains("not allowed"), "{}", f.title);

    // A key policy that could not be read is a gap, named beside the text.
    let mut ev = with_key_policy(json!({}));
    ebs_mut(&mut ev).key_policy = Fact::Denied { action: "kms:GetKeyPolicy".into(), error: "AccessDeniedException".into() };
    let f = found(check(&ev));
    assert!(f.evidence.iter().any(|e| e.contains("kms:GetKeyPolicy was denied")), "{:?}", f.evidence);
}

#[test]
fn a_missing_snapshot_and_a_wrong_file_system_are_ruled_in_from_their_facts() {
    let mut ev = with_ebs(failed_to_start("Task failed to start"), "FAILED", Some(TIMED_OUT));
    let e = ebs_mut(&mut ev);
    e.config.value_mut().unwrap().filesystem_type = Some("ntfs".into());
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.title.contains("ntfs does not suit a Linux task"), "{}", f.title);

    let mut ev = with_ebs(failed_to_start("Task failed to start"), "FAILED", None);
    let e = ebs_mut(&mut ev);
    e.config.value_mut().unwrap().snapshot_id = Some("snap-0123".into());
    e.snapshot = Fact::absent("snapshot snap-0123 does not exist");
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Corroborating);
    assert!(f.title.contains("snap-0123 does not exist in us-east-1"), "{}", f.title);
    assert!(f.fix[0].contains("copy-snapshot"), "{:?}", f.fix);
}

#[test]
fn a_refused_read_is_a_gap_never_a_pass() {
    let mut ev = with_ebs(failed_to_start("Task failed to start"), "DELETED", None);
    ebs_mut(&mut ev).role = Fact::Denied { action: "iam:GetRole".into(), error: "AccessDenied".into() };
    match check(&ev) {
        Verdict::Inconclusive(d) => assert!(d.contains("iam:GetRole was denied"), "{d}"),
        other => panic!("{other:?}"),
    }
    // With the status reason, the text convicts and the gap is named.
    let mut ev = with_ebs(failed_to_start("Task failed to start"), "FAILED", Some(UNASSUMABLE));
    ebs_mut(&mut ev).role = Fact::Denied { action: "iam:GetRole".into(), error: "AccessDenied".into() };
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.evidence.iter().any(|e| e.contains("not checked") && e.contains("iam:GetRole")), "{:?}", f.evidence);
}

#[test]
fn a_volume_in_another_zone_is_named() {
    let mut ev = with_ebs(failed_to_start("Task failed to start"), "FAILED", None);
    ebs_mut(&mut ev).volume = Fact::gathered(crate::evidence::EbsVolume {
        id: "vol-0123456789abcdef0".into(),
        availability_zone: Some("us-east-1b".into()),
        state: Some("available".into()),
    });
    let f = found(check(&ev));
    assert!(f.title.contains("us-east-1b") && f.title.contains("us-east-1a"), "{}", f.title);
}

#[test]
fn a_role_that_may_not_read_the_snapshot_is_short_of_permissions() {
    let mut ev = with_ebs(failed_to_start("Task failed to start"), "FAILED", Some(UNASSUMABLE));
    let e = ebs_mut(&mut ev);
    e.config.value_mut().unwrap().snapshot_id = Some("snap-0123456789abcdef0".into());
    e.snapshot = Fact::gathered(crate::evidence::Snapshot {
        id: "snap-0123456789abcdef0".into(),
        state: Some("completed".into()),
        ..Default::default()
    });
    let mut policy = volumes_policy();
    policy["Statement"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["Sid"] != "CreateEBSManagedVolumeFromSnapshot");
    let mut role = infra_role("ecs.amazonaws.com", true);
    if let Fact::Gathered { value } = &mut role.attached_policies {
        value[0].document = Fact::gathered(policy);
    }
    e.role = Fact::gathered(role);
    let f = found(check(&ev));
    assert_eq!(f.strength, Strength::Direct);
    assert!(
        f.evidence.iter().any(|x| x.contains("ec2:CreateVolume on arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0")),
        "{:?}",
        f.evidence
    );
    assert!(f.evidence.iter().any(|x| x.contains("ruled out: snapshot snap-0123456789abcdef0 exists")), "{:?}", f.evidence);
}
