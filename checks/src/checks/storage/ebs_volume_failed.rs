//! ## What it detects
//! ECS could not create or attach the task's ECS-managed EBS volume (a
//! task definition volume with `configuredAtLaunch: true`, configured by
//! the service's `volumeConfigurations[].managedEBSVolume` or by
//! `RunTask`). The task's `AmazonElasticBlockStorage` attachment is
//! `FAILED` and its `statusReason` says what ECS met:
//! - `ECS was unable to assume the configured ECS Infrastructure Role '…'.
//!   Please verify that the role being passed has the proper trust
//!   relationship with Amazon ECS`: the infrastructure role (`roleArn`)
//!   does not exist, does not trust `ecs.amazonaws.com`, or does not allow
//!   what `AmazonECSInfrastructureRolePolicyForVolumes` grants;
//! - `ECS failed to set up the EBS volume. Encountered
//!   IdempotentParameterMismatch …`: the KMS key (`kmsKeyId`) is not valid
//!   or the infrastructure role may not use it;
//! - `ECS timed out while configuring the EBS volume attachment to your
//!   Task`: the file system type does not suit the task's operating system
//!   (or differs from the snapshot's).
//!
//! Whatever the text, the facts are collected and judged each on its own:
//! the role exists (`iam:GetRole`), trusts `ecs.amazonaws.com` and its
//! policies allow `ec2:CreateVolume`, `ec2:CreateTags` and
//! `ec2:AttachVolume` on the volume (`ec2:CreateVolume` on its snapshot, and `kms:CreateGrant`,
//! `kms:GenerateDataKeyWithoutPlaintext`, `kms:Decrypt` on a customer key),
//! evaluated with the same IAM evaluator as the execution role; the key
//! exists and is `Enabled` (`kms:DescribeKey`), and its key policy
//! (`kms:GetKeyPolicy`) names the role or delegates to its account, read
//! with the same key-policy rules as a secret's key; the snapshot exists in the
//! task's Region (`ec2:DescribeSnapshots`); the file system type is one the
//! task's OS mounts (NTFS for Windows, ext3, ext4 or xfs for Linux); the
//! volume's Availability Zone (`ec2:DescribeVolumes`) is the task's.
//! A read that was refused is a gap, never a pass.
//!
//! ## Why it matters
//! ECS creates and attaches the volume before the containers start, with
//! the infrastructure role rather than the execution role. When it cannot,
//! every task of the service fails the same way, the task can stay in
//! `DEPROVISIONING`, and the reason is only on the attachment, not in the
//! container logs.
//!
//! ## Example
//! ```text
//! EBS attachment of volume `data` statusReason = "ECS was unable to assume the configured
//!     ECS Infrastructure Role 'arn:aws:iam::123456789012:role/ecsInfrastructureRole'. …"
//! trust policy of ecsInfrastructureRole: no statement allows ecs.amazonaws.com to call
//!     sts:AssumeRole; it trusts Service: ec2.amazonaws.com
//! ```
//!
//! ## How to fix
//! Change the one thing that is wrong: give the infrastructure role a
//! trust policy that allows `ecs.amazonaws.com` to call `sts:AssumeRole`
//! (`aws iam update-assume-role-policy`); attach the AWS managed policy
//! `AmazonECSInfrastructureRolePolicyForVolumes` to it (`aws iam
//! attach-role-policy`) and, with a customer managed key, allow the role
//! `kms:CreateGrant`, `kms:GenerateDataKeyWithoutPlaintext` and
//! `kms:Decrypt` on that key only; enable the key or cancel its deletion
//! (`aws kms enable-key`, `aws kms cancel-key-deletion`); name a snapshot
//! that exists in the task's Region (copy it there with `aws ec2
//! copy-snapshot`); set `filesystemType` to one the task's OS mounts, the
//! snapshot's own for a volume made from one. Never widen a policy to `*`.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-ebs-volumes-scenarios.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ebs-volumes.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/infrastructure_IAM_role.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Attachment.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::{EbsEvidence, Fact, ManagedEbsVolume, Role};
use crate::iam::access::{arn_account, role_policies};
use crate::iam::permissions::{kms_key_arn, partition};
use crate::iam::key_policy;
use crate::iam::policy::{self, Context, Decision, Request, TrustContext, ECS_SERVICE};
use crate::report::{Finding, Strength, Verdict};
use crate::stops::{Detail, StopText};

/// The AWS managed policy that grants an infrastructure role what ECS needs for volumes.
const MANAGED_POLICY: &str = "AmazonECSInfrastructureRolePolicyForVolumes";

/// What can be wrong with an ECS-managed EBS volume, each read from its own fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    RoleNotFound,
    RoleUntrusted,
    RolePermissions,
    KeyNotFound,
    KeyNotEnabled,
    KeyPolicyRefuses,
    SnapshotNotFound,
    FilesystemType,
    ZoneMismatch,
}

impl Fault {
    /// The status reason that AWS documents for this fault.
    fn said_by(self) -> Option<Detail> {
        match self {
            Fault::RoleNotFound | Fault::RoleUntrusted | Fault::RolePermissions => {
                Some(Detail::EbsRoleUnassumable)
            }
            Fault::KeyNotFound | Fault::KeyNotEnabled | Fault::KeyPolicyRefuses => Some(Detail::EbsSetupFailed),
            Fault::FilesystemType => Some(Detail::EbsAttachTimedOut),
            Fault::SnapshotNotFound | Fault::ZoneMismatch => None,
        }
    }
}

/// One fact that rules a fault in.
struct Problem {
    fault: Fault,
    title: String,
    evidence: Vec<String>,
    fix: String,
}

/// Everything judged: faults ruled in, facts ruled out, facts unknown.
#[derive(Default)]
struct Judged {
    problems: Vec<Problem>,
    ruled_out: Vec<String>,
    gaps: Vec<String>,
}

const EBS_TEXTS: &[Detail] = &[
    Detail::EbsRoleUnassumable,
    Detail::EbsSetupFailed,
    Detail::EbsAttachTimedOut,
];

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let attachment = ev.task.ebs_attachment.as_ref();
    let said = ctx.stops.stating_any(EBS_TEXTS).or_else(|| ctx.stops.find(crate::stops::StopKind::EbsVolume));
    let ebs = match &ev.ebs {
        Fact::Gathered { value } => Some(value),
        Fact::NotApplicable { reason } => {
            if attachment.is_none() && said.is_none() {
                return Verdict::Skipped(format!("the task has no EBS volume configured at launch ({reason})"));
            }
            None
        }
        other => {
            if attachment.is_none() && said.is_none() {
                return crate::task::startup_undecided(
                    ev,
                    format!("the task's EBS volume is unknown: {}", other.gap_reason().unwrap_or_default()),
                );
            }
            None
        }
    };
    let mut judged = Judged::default();
    match ebs {
        Some(e) => judge(ctx, e, &mut judged),
        None => judged
            .gaps
            .push(format!("the volume's configuration was not read: {}", ev.ebs.gap_reason().unwrap_or_default())),
    }
    let failed = attachment.is_some_and(|a| a.failed());
    let started = ev.task.timestamps.started_at.is_some();
    if judged.problems.is_empty() {
        if let Some(t) = said.filter(|_| !started || failed) {
            return from_text(ctx, t, &judged).into_verdict();
        }
        if failed {
            let f = Finding::new(
                Cause::EbsVolumeFailed,
                Strength::Direct,
                "ECS reports the task's EBS volume attachment FAILED".to_string(),
            )
            .evidence("attachment AmazonElasticBlockStorage: status FAILED, no status reason");
            return with_judged(f, &judged).into_verdict();
        }
        let volume = ebs.map(|e| e.volume_name.as_str()).unwrap_or("the volume");
        if !judged.gaps.is_empty() {
            return crate::task::startup_undecided(
                ev,
                format!("EBS volume `{volume}`: {}", judged.gaps.join("; ")),
            );
        }
        return Verdict::Pass(format!("EBS volume `{volume}`: {}", judged.ruled_out.join("; ")));
    }
    finding(ctx, said, failed, started, &judged).into_verdict()
}

fn judge(ctx: &Ctx, e: &EbsEvidence, out: &mut Judged) {
    let ev = ctx.ev;
    let config = match &e.config {
        Fact::Gathered { value } => Some(value),
        other => {
            if !matches!(other, Fact::NotApplicable { .. }) {
                out.gaps.push(format!(
                    "the service's volume configuration: {}",
                    other.gap_reason().unwrap_or_default()
                ));
            }
            None
        }
    };
    let role_arn = config
        .and_then(|c| c.role_arn.clone())
        .or_else(|| ev.task.ebs_attachment.as_ref().and_then(|a| a.role_arn.clone()));
    judge_role(ctx, e, role_arn.as_deref(), config, out);
    match &e.kms_key {
        Fact::Gathered { value: key } if key.is_enabled() => {
            out.ruled_out.push(format!("KMS key {} is Enabled", key.key_id))
        }
        Fact::Gathered { value: key } => {
            out.problems.push(Problem {
                fault: Fault::KeyNotEnabled,
                title: format!("The volume's KMS key {} is {}: ECS cannot encrypt the volume with it", key.key_id, key.state()),
                evidence: vec![key.state_evidence()],
                fix: key.state_fix().unwrap_or_default(),
            });
        }
        Fact::Absent { detail } => {
            let key = config.and_then(|c| c.kms_key_id.clone()).unwrap_or_default();
            out.problems.push(Problem {
                fault: Fault::KeyNotFound,
                title: format!("The volume's KMS key {key} does not exist in {}", ev.region),
                evidence: vec![format!("kms:DescribeKey: {detail}")],
                fix: format!("Set kmsKeyId in the service's volume configuration to a key that exists in {} (aws kms list-keys), or leave it out for the account's default EBS key.", ev.region),
            });
        }
        Fact::NotApplicable { .. } => {}
        other => out.gaps.push(format!("the KMS key: {}", other.gap_reason().unwrap_or_default())),
    }
    match &e.snapshot {
        Fact::Gathered { value: s } => out.ruled_out.push(format!(
            "snapshot {} exists in {} ({})",
            s.id,
            ev.region,
            s.state.as_deref().unwrap_or("state unknown")
        )),
        Fact::Absent { detail } => {
            let id = config.and_then(|c| c.snapshot_id.clone()).unwrap_or_default();
            out.problems.push(Problem {
                fault: Fault::SnapshotNotFound,
                title: format!("The volume's snapshot {id} does not exist in {}", ev.region),
                evidence: vec![format!("ec2:DescribeSnapshots: {detail}")],
                fix: format!("Name a snapshot that exists in {0}: copy it there (aws ec2 copy-snapshot --source-region <its Region> --source-snapshot-id {id} --region {0}) and set snapshotId to the copy.", ev.region),
            });
        }
        Fact::NotApplicable { .. } => {}
        other => out.gaps.push(format!("the snapshot: {}", other.gap_reason().unwrap_or_default())),
    }
    judge_filesystem(ctx, config.and_then(|c| c.filesystem_type.as_deref()), out);
    judge_zone(ctx, e, out);
}

fn judge_role(
    ctx: &Ctx,
    e: &EbsEvidence,
    role_arn: Option<&str>,
    config: Option<&ManagedEbsVolume>,
    out: &mut Judged,
) {
    let ev = ctx.ev;
    let role = match &e.role {
        Fact::Gathered { value } => value,
        Fact::Absent { detail } => {
            let arn = role_arn.unwrap_or("the infrastructure role");
            out.problems.push(Problem {
                fault: Fault::RoleNotFound,
                title: format!("The volume's infrastructure role {arn} does not exist"),
                evidence: vec![format!("iam:GetRole: {detail}")],
                fix: format!("Create the role with a trust policy for {ECS_SERVICE} and the managed policy {MANAGED_POLICY}, or set roleArn in the volume configuration to a role that exists."),
            });
            return;
        }
        Fact::NotApplicable { .. } => return,
        other => {
            out.gaps.push(format!("the infrastructure role: {}", other.gap_reason().unwrap_or_default()));
            return;
        }
    };
    let account = ev
        .account
        .clone()
        .or_else(|| arn_account(&role.arn).map(str::to_string))
        .unwrap_or_default();
    let trust_ctx = TrustContext { account: account.clone(), task_arn: ev.task.arn.clone() };
    match policy::trust_for(&role.trust_policy, &trust_ctx, ECS_SERVICE) {
        Ok(t) if t.trusted => out.ruled_out.push(format!("infrastructure role {} trusts {ECS_SERVICE}", role.name)),
        Ok(t) => {
            let document = serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": ECS_SERVICE}, "Action": "sts:AssumeRole"}]
            });
            out.problems.push(Problem {
                fault: Fault::RoleUntrusted,
                title: format!("The volume's infrastructure role {} does not trust {ECS_SERVICE}", role.name),
                evidence: t.reasons.iter().map(|r| format!("trust policy of {}: {r}", role.name)).collect(),
                fix: format!("aws iam update-assume-role-policy --role-name {} --policy-document '{document}'", role.name),
            });
        }
        Err(e) => out.gaps.push(format!("the trust policy of {}: {e}", role.name)),
    }
    judge_permissions(ctx, e, role, config, &account, out);
    judge_key_policy(ctx, e, role, out);
}

/// What the infrastructure role must be allowed, with the context ECS's
/// requests carry (the tags ECS puts on the volume it creates).
fn requirements(
    ctx: &Ctx,
    config: Option<&ManagedEbsVolume>,
    account: &str,
) -> Vec<(String, String, Context)> {
    let ev = ctx.ev;
    let region = &ev.region;
    let part = partition(region);
    let volume = format!("arn:{part}:ec2:{region}:{account}:volume/*");
    let mut tags = Context::new();
    policy::with_key(&mut tags, "aws:RequestTag/AmazonECSManaged", Some(vec!["true".into()]));
    policy::with_key(&mut tags, "aws:RequestTag/AmazonECSCreated", Some(vec![ev.task.arn.clone()]));
    let mut create_tags = tags.clone();
    policy::with_key(&mut create_tags, "ec2:CreateAction", Some(vec!["CreateVolume".into()]));
    let mut managed = Context::new();
    policy::with_key(&mut managed, "aws:ResourceTag/AmazonECSManaged", Some(vec!["true".into()]));
    let mut out = vec![
        ("ec2:CreateVolume".to_string(), volume.clone(), tags),
        ("ec2:CreateTags".to_string(), volume.clone(), create_tags),
        ("ec2:AttachVolume".to_string(), volume, managed),
    ];
    if let Some(snapshot) = config.and_then(|c| c.snapshot_id.as_deref()) {
        out.push((
            "ec2:CreateVolume".to_string(),
            format!("arn:{part}:ec2:{region}::snapshot/{snapshot}"),
            Context::new(),
        ));
    }
    if let Some(k) = config.and_then(|c| c.kms_key_id.as_deref()) {
        let arn = kms_key_arn(k, region, account);
        for action in ["kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt"] {
            out.push((action.to_string(), arn.clone(), Context::new()));
        }
    }
    out
}

fn judge_permissions(
    ctx: &Ctx,
    e: &EbsEvidence,
    role: &Role,
    config: Option<&ManagedEbsVolume>,
    account: &str,
    out: &mut Judged,
) {
    let key = config.and_then(|c| c.kms_key_id.as_deref());
    let (policies, unreadable) = role_policies(role);
    let mut refused = Vec::new();
    let named = key_policy_names(ctx, e, &role.arn);
    for (action, resource, context) in requirements(ctx, config, account) {
        // A key policy that names the role allows the key's use without an
        // IAM policy; an explicit Deny in the role's policies still refuses.
        let named_here = named.contains(&action);
        let eval = policy::evaluate(
            &policies,
            &Request { action: &action, resource: Some(&resource), principal: None, context: &context },
        );
        match eval.decision {
            Decision::Allowed => {}
            Decision::ExplicitDeny => refused.push(format!(
                "{action} on {resource}: explicitly denied by {}",
                eval.deciding.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            )),
            Decision::ImplicitDeny if named_here => {}
            Decision::ImplicitDeny => refused.push(format!("{action} on {resource}: no statement allows it")),
        }
    }
    if refused.is_empty() {
        out.ruled_out.push(format!(
            "infrastructure role {} is allowed what ECS needs for the volume",
            role.name
        ));
        return;
    }
    if !unreadable.is_empty() {
        out.gaps.push(format!(
            "the policies of {} could not all be read ({}), and those read do not allow: {}",
            role.name,
            unreadable.join("; "),
            refused.join("; ")
        ));
        return;
    }
    let kms_only = refused.iter().all(|r| r.starts_with("kms:"));
    let mut evidence: Vec<String> = refused.iter().map(|r| format!("policies of {}: {r}", role.name)).collect();
    if kms_only {
        evidence.push("the key policy delegates these to the role's IAM policies, or was not read".into());
    }
    let fix = if kms_only {
        let arn = kms_key_arn(key.unwrap_or_default(), &ctx.ev.region, account);
        format!(
            "Allow the role the key's use, on that key only: aws iam put-role-policy --role-name {} --policy-name EbsVolumeKey --policy-document '{}'",
            role.name,
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt"], "Resource": arn}]})
        )
    } else {
        format!(
            "aws iam attach-role-policy --role-name {} --policy-arn arn:{}:iam::aws:policy/service-role/{MANAGED_POLICY}",
            role.name,
            partition(&ctx.ev.region)
        )
    };
    out.problems.push(Problem {
        fault: Fault::RolePermissions,
        title: format!("The volume's infrastructure role {} is not allowed what ECS needs to create and attach the volume", role.name),
        evidence,
        fix,
    });
}

/// What the infrastructure role asks of the key, through EC2.
const KEY_ACTIONS: &[&str] = &["kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt"];

/// The key policy's decision for each action the role asks of the key;
/// `None` when there is no customer key or its policy was not read.
fn key_decisions(ctx: &Ctx, e: &EbsEvidence, role_arn: &str) -> Option<Vec<(&'static str, key_policy::KeyDecision)>> {
    let doc = e.key_policy.value()?;
    let described = e.kms_key.value();
    let key = described.map(|k| k.arn.clone().unwrap_or_else(|| k.key_id.clone())).unwrap_or_default();
    if key_policy::is_aws_managed(&key, described) {
        return None;
    }
    let who = policy::Principal::Role {
        arn: role_arn.to_string(),
        account: arn_account(role_arn).unwrap_or_default().to_string(),
    };
    let region = crate::iam::access::arn_region(&key).unwrap_or(&ctx.ev.region);
    let mut context = key_policy::role_context(role_arn, Some("ec2"), region);
    policy::with_key(&mut context, "kms:GrantIsForAWSResource", Some(vec!["true".into()]));
    KEY_ACTIONS
        .iter()
        .map(|a| key_policy::decide(doc, &who, a, &context).ok().map(|d| (*a, d)))
        .collect()
}

/// The actions whose key policy statement names the role itself, for a
/// key of the role's own account (another account's key needs the role's
/// IAM policies too).
fn key_policy_names(ctx: &Ctx, e: &EbsEvidence, role_arn: &str) -> Vec<String> {
    let key_account = e.kms_key.value().and_then(|k| k.arn.as_deref()).and_then(arn_account);
    if key_account.is_some_and(|a| Some(a) != arn_account(role_arn)) {
        return Vec::new();
    }
    key_decisions(ctx, e, role_arn)
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, d)| matches!(d.access, key_policy::KeyAccess::Named { .. }))
        .map(|(a, _)| a.to_string())
        .collect()
}

/// The key policy of the volume's customer managed key, for the infrastructure role.
fn judge_key_policy(ctx: &Ctx, e: &EbsEvidence, role: &Role, out: &mut Judged) {
    let Some(described) = e.kms_key.value() else { return };
    let key = described.arn.clone().unwrap_or_else(|| described.key_id.clone());
    match &e.key_policy {
        Fact::Gathered { .. } => {}
        Fact::NotApplicable { .. } => return,
        other => {
            out.gaps.push(format!("the key policy of {key}: {}", other.gap_reason().unwrap_or_default()));
            return;
        }
    }
    if let Some(Err(why)) = e.key_policy.value().map(|doc| policy::Policy::parse("key policy", doc)) {
        out.gaps.push(format!("the key policy of {key} is not valid: {why}"));
        return;
    }
    let Some(decisions) = key_decisions(ctx, e, &role.arn) else { return };
    let refused: Vec<String> = decisions
        .iter()
        .filter(|(_, d)| d.access.refuses())
        .map(|(a, d)| format!("{a}: {}", key_policy::describe(&d.access, &role.arn, &key)))
        .collect();
    if refused.is_empty() {
        out.ruled_out.push(format!("the key policy of {key} lets {} use the key (named, or delegated to its IAM policies)", role.name));
        return;
    }
    let denied = decisions.iter().any(|(_, d)| matches!(d.access, key_policy::KeyAccess::Denied { .. }));
    let statement = serde_json::json!({
        "Sid": "AllowEcsInfrastructureRoleVolumes", "Effect": "Allow", "Principal": {"AWS": role.arn},
        "Action": KEY_ACTIONS, "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": format!("ec2.{}.amazonaws.com", ctx.ev.region)}},
    });
    out.problems.push(Problem {
        fault: Fault::KeyPolicyRefuses,
        title: format!("The policy of the volume's KMS key {key} does not let the infrastructure role {} use it", role.name),
        evidence: refused,
        fix: if denied {
            format!("Narrow the Deny of the key policy of {key} that matches {}.", role.arn)
        } else {
            format!("Add this statement to the key policy of {key} (Resource * is the key itself), merged with its other statements (aws kms get-key-policy --key-id {key} --policy-name default, then aws kms put-key-policy): {statement}")
        },
    });
}

fn judge_filesystem(ctx: &Ctx, fs: Option<&str>, out: &mut Judged) {
    let Some(fs) = fs else { return };
    let windows = ctx
        .ev
        .task_def()
        .and_then(|td| td.os_family.as_deref())
        .is_some_and(|os| os.to_ascii_uppercase().starts_with("WINDOWS"));
    let fits = if windows {
        fs.eq_ignore_ascii_case("ntfs")
    } else {
        ["ext3", "ext4", "xfs"].iter().any(|f| fs.eq_ignore_ascii_case(f))
    };
    let os = if windows { "Windows" } else { "Linux" };
    if fits {
        out.ruled_out.push(format!("file system type {fs} suits a {os} task"));
        return;
    }
    let want = if windows { "NTFS" } else { "ext3, ext4 or xfs (the snapshot's own for a volume made from one)" };
    out.problems.push(Problem {
        fault: Fault::FilesystemType,
        title: format!("The volume's file system type {fs} does not suit a {os} task"),
        evidence: vec![format!("volume configuration: filesystemType {fs}; the task's OS: {os}")],
        fix: format!("Set filesystemType in the service's volume configuration to {want}."),
    });
}

fn judge_zone(ctx: &Ctx, e: &EbsEvidence, out: &mut Judged) {
    let ev = ctx.ev;
    let volume = match &e.volume {
        Fact::Gathered { value } => value,
        Fact::Absent { .. } | Fact::NotApplicable { .. } => return,
        other => {
            out.gaps.push(format!("the volume's Availability Zone: {}", other.gap_reason().unwrap_or_default()));
            return;
        }
    };
    let (Some(volume_zone), Some(task_zone)) = (volume.availability_zone.as_deref(), ev.task.availability_zone.as_deref()) else {
        return;
    };
    if volume_zone == task_zone {
        out.ruled_out.push(format!("volume {} is in the task's Availability Zone {task_zone}", volume.id));
    } else {
        out.problems.push(Problem {
            fault: Fault::ZoneMismatch,
            title: format!("Volume {} is in {volume_zone}, the task in {task_zone}: a volume attaches only in its own zone", volume.id),
            evidence: vec![format!("ec2:DescribeVolumes: {} is in {volume_zone}; the task runs in {task_zone}", volume.id)],
            fix: "Let ECS create the volume in the task's zone from the volume configuration (a snapshot is Regional and seeds a volume in any zone); do not reuse a volume from another zone.".into(),
        });
    }
}

fn with_judged(mut f: Finding, judged: &Judged) -> Finding {
    for r in &judged.ruled_out {
        f = f.evidence(format!("ruled out: {r}"));
    }
    for g in &judged.gaps {
        f = f.evidence(format!("not checked: {g}"));
    }
    f.doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-ebs-volumes-scenarios.html")
}

fn finding(ctx: &Ctx, said: Option<&StopText>, failed: bool, started: bool, judged: &Judged) -> Finding {
    let states = |p: &Problem| p.fault.said_by().is_some_and(|d| said.is_some_and(|t| t.class.states(d)));
    let first = judged.problems.iter().find(|p| states(p)).unwrap_or(&judged.problems[0]);
    let strength = if states(first) {
        Strength::Direct
    } else if failed || said.is_some() {
        Strength::Corroborating
    } else {
        Strength::Circumstantial
    };
    let mut f = Finding::new(Cause::EbsVolumeFailed, strength, first.title.clone());
    if let Some(t) = said {
        f = f.evidence(t.quote());
    }
    if let Some(a) = ctx.ev.task.ebs_attachment.as_ref() {
        f = f.evidence(format!(
            "attachment AmazonElasticBlockStorage: status {}{}",
            a.status.as_deref().unwrap_or("unknown"),
            a.volume_id.as_deref().map(|v| format!(", volume {v}")).unwrap_or_default()
        ));
        if !failed && !started {
            f = f.against("ECS does not report the volume's attachment as FAILED");
        }
    }
    let mut ordered: Vec<&Problem> = vec![first];
    ordered.extend(judged.problems.iter().filter(|p| !std::ptr::eq(*p, first)));
    for p in &ordered {
        for e in &p.evidence {
            f = f.evidence(e.clone());
        }
        if !std::ptr::eq(*p, first) {
            f = f.evidence(format!("also: {}", p.title));
        }
        f = f.fix(p.fix.clone());
    }
    if started {
        f = f.against("the task's containers started, so ECS did attach the volume");
    }
    with_judged(f, judged)
}

/// AWS says the volume failed and no collected fact explains it.
fn from_text(ctx: &Ctx, t: &StopText, judged: &Judged) -> Finding {
    let (title, fix) = if t.class.states(Detail::EbsRoleUnassumable) {
        (
            "ECS could not assume the EBS volume's infrastructure role",
            format!("Give the infrastructure role a trust policy for {ECS_SERVICE} and attach {MANAGED_POLICY} to it; the caller that creates the service or runs the task needs iam:PassRole on that role."),
        )
    } else if t.class.states(Detail::EbsSetupFailed) {
        (
            "ECS could not create the EBS volume (a KMS key that is not valid or that the infrastructure role may not use)",
            "Set kmsKeyId to a key that exists and is enabled, and let the infrastructure role use it (its key policy).".to_string(),
        )
    } else if t.class.states(Detail::EbsAttachTimedOut) {
        (
            "ECS timed out attaching the EBS volume (a file system type the task's OS cannot mount)",
            "Set filesystemType to one the task's OS mounts: NTFS for Windows, ext3, ext4 or xfs for Linux, the snapshot's own for a volume made from one.".to_string(),
        )
    } else {
        (
            "ECS could not create or attach the task's EBS volume",
            "Read the attachment's statusReason (aws ecs describe-tasks) and the EBS events in EventBridge for the volume.".to_string(),
        )
    };
    let started = ctx.ev.task.timestamps.started_at.is_some();
    let mut f = Finding::new(
        Cause::EbsVolumeFailed,
        if started { Strength::Circumstantial } else { Strength::Direct },
        title,
    )
    .evidence(t.quote())
    .fix(fix);
    if started {
        f = f.against("the task's containers started, so ECS did attach the volume");
    }
    with_judged(f, judged)
}

#[cfg(test)]
mod tests;
