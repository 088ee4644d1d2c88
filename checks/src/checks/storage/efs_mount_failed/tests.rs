use super::*;

crate::check_under_test!();
use crate::evidence::{AccessPoint, Role};
use crate::testkit::found;
use crate::testkit::net::{Fx, EFS_TIMEOUT};
use serde_json::json;

fn failed(text: &str) -> Fx {
    Fx::private_nat().with_efs().stopped("TaskFailedToStart", text)
}

const TASK_ROLE: &str = "arn:aws:iam::123456789012:role/web-task";
const ACCESS_DENIED: &str = "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: b'mount.nfs4: access denied by server while mounting 127.0.0.1:/' : unsuccessful EFS utils command execution; code: 32";

#[test]
fn a_task_without_efs_skips_and_a_reachable_file_system_passes() {
    assert!(matches!(check(&Fx::private_nat().ev()), Verdict::Skipped(_)));
    let ev = Fx::private_nat().with_efs().stopped("TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref x: not found").ev();
    match check(&ev) {
        Verdict::Pass(d) => assert!(d.contains("reaches a mount target") && d.contains("no file system policy"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_mount_target_group_without_nfs_from_the_task_is_named_with_the_command() {
    let mut fx = failed(EFS_TIMEOUT);
    fx.group_mut("sg-efs").ingress.clear();
    let f = found(check(&fx.ev()));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.title.contains("does not admit NFS"), "{}", f.title);
    assert!(f.fix.iter().any(|x| x.contains("--group-id sg-efs") && x.contains("FromPort=2049") && x.contains("GroupId=sg-task")), "{:?}", f.fix);
}

#[test]
fn no_mount_target_in_the_task_zone() {
    let mut fx = failed("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: Failed to resolve \"fs-0123456789abcdef0.efs.us-east-1.amazonaws.com\" - check that your file system ID is correct, and ensure that the VPC has an EFS mount target for this file system ID.");
    if let Fact::Gathered { value } = &mut fx.efs[0].mount_targets {
        value.retain(|m| m.id != "fsmt-a");
    }
    let f = found(check(&fx.ev()));
    assert!(f.title.contains("no mount target in us-east-1a"), "{}", f.title);
    assert!(f.fix.iter().any(|x| x.contains("create-mount-target") && x.contains("--subnet-id subnet-a")), "{:?}", f.fix);
}

#[test]
fn dns_hostnames_off_hides_the_mount_name() {
    let mut fx = failed(EFS_TIMEOUT);
    fx.vpc.enable_dns_hostnames = Fact::gathered(false);
    let f = found(check(&fx.ev()));
    assert!(f.title.contains("enableDnsHostnames"), "{}", f.title);
    assert!(f.fix.iter().any(|x| x.contains("--enable-dns-hostnames")), "{:?}", f.fix);
}

fn with_policy_for_another_role(fx: &mut Fx) {
    fx.td.volumes[0].efs.as_mut().expect("efs volume").iam = Some("ENABLED".into());
    fx.td.task_role_arn = Some(TASK_ROLE.into());
    fx.efs[0].policy = Fact::gathered(json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/batch"},
                       "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], "Resource": "*"}]
    }));
    fx.task_role = Fact::gathered(Role {
        arn: TASK_ROLE.into(),
        name: "web-task".into(),
        attached_policies: Fact::gathered(Vec::new()),
        inline_policies: Fact::gathered(Vec::new()),
        ..Default::default()
    });
}

#[test]
fn a_refused_mount_names_the_missing_iam_action_first() {
    let mut fx = failed(ACCESS_DENIED);
    with_policy_for_another_role(&mut fx);
    let f = found(check(&fx.ev()));
    assert_eq!(f.strength, Strength::Direct);
    assert!(f.title.contains("not allowed elasticfilesystem:ClientMount"), "{}", f.title);
    assert!(f.title.contains("task role `web-task`"), "{}", f.title);
    assert!(f.fix[0].contains("put-role-policy --role-name web-task") && f.fix[0].contains("elasticfilesystem:ClientWrite"), "{:?}", f.fix);
}

#[test]
fn a_task_role_allowing_the_mount_passes_iam() {
    let mut fx = failed("CannotPullContainerError: failed to resolve ref x: not found");
    with_policy_for_another_role(&mut fx);
    if let Fact::Gathered { value } = &mut fx.task_role {
        value.inline_policies = Fact::gathered(vec![crate::evidence::InlinePolicy {
            name: "efs".into(),
            document: Fact::gathered(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], "Resource": "*"}]})),
        }]);
    }
    match check(&fx.ev()) {
        Verdict::Pass(d) => assert!(d.contains("ClientMount on fs-0123456789abcdef0 is allowed"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_access_point_of_another_file_system_is_a_blocker() {
    let mut fx = failed(ACCESS_DENIED);
    fx.td.volumes[0].efs.as_mut().expect("efs volume").access_point_id = Some("fsap-1".into());
    fx.efs[0].access_points.push(("fsap-1".into(), Fact::gathered(AccessPoint {
        id: "fsap-1".into(),
        file_system_id: "fs-other".into(),
        life_cycle_state: Some("available".into()),
        root_directory: Some("/app".into()),
    })));
    let f = found(check(&fx.ev()));
    assert!(f.title.contains("belongs to fs-other"), "{}", f.title);
}

#[test]
fn unreadable_mount_targets_leave_the_text_unconfirmed() {
    let mut fx = failed(EFS_TIMEOUT);
    fx.efs[0].mount_targets = Fact::Denied {
        action: "elasticfilesystem:DescribeMountTargets".into(),
        error: "AccessDeniedException".into(),
    };
    let f = found(check(&fx.ev()));
    assert_eq!(f.strength, Strength::Corroborating);
    assert!(f.evidence.iter().any(|e| e.contains("DescribeMountTargets was denied")), "{:?}", f.evidence);
    assert!(f.fix.iter().any(|x| x.contains("docs/iam-policy.json")), "{:?}", f.fix);
}

#[test]
fn without_a_text_unreadable_facts_are_inconclusive_and_a_started_task_passes() {
    let mut fx = Fx::private_nat().with_efs().stopped("TaskFailedToStart", "");
    fx.efs[0].mount_targets = Fact::Denied {
        action: "elasticfilesystem:DescribeMountTargets".into(),
        error: "AccessDeniedException".into(),
    };
    assert!(matches!(check(&fx.ev()), Verdict::Inconclusive(_)), "{:?}", check(&fx.ev()));
    let ev = Fx::private_nat().with_efs().running().ev();
    assert!(matches!(check(&ev), Verdict::Pass(_)), "{:?}", check(&ev));
}
