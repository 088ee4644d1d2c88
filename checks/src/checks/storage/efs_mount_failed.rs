//! ## What it detects
//! An EFS volume of the task that could not be mounted, or cannot be. For
//! each file system the task definition names (`efsVolumeConfiguration`),
//! ecs-doctor reads the file system, its mount targets and their security
//! groups, its file system policy and the access points the volumes name
//! (`elasticfilesystem:Describe*`), and rules each requirement in or out,
//! naming the deciding fact:
//! - the file system and the access point exist (and the access point
//!   belongs to that file system);
//! - a mount target is in the task's Availability Zone and available;
//! - NFS (TCP 2049) leaves the task's security groups, is admitted by the
//!   mount target's security groups (by group or CIDR), and passes the
//!   network ACLs of both subnets, both ways;
//! - the VPC resolves the mount name (DNS support and DNS hostnames on);
//! - with IAM authorization (`authorizationConfig.iam = ENABLED`), the task
//!   role or the file system policy allows `elasticfilesystem:ClientMount`
//!   (and `ClientWrite` for a read-write mount); without it, a file system
//!   policy must allow anonymous clients.
//!
//! The stop texts come from the EFS mount helper: «failed to invoke EFS
//! utils commands to set up EFS volumes», «Failed to resolve … mount
//! target», «mount.nfs4: Connection timed out», «access denied by server».
//!
//! ## Why it matters
//! The task stops before any container starts, with a mount helper error
//! that says what failed (a time-out, a name that does not resolve, a
//! refusal) but not why. The why is spread over four services: EFS, the
//! VPC's security groups and ACLs, VPC DNS, and IAM.
//!
//! ## Example
//! ```text
//! stoppedReason = ResourceInitializationError: failed to invoke EFS utils commands to set up EFS
//!                 volumes: stderr: mount.nfs4: Connection timed out : unsuccessful EFS utils
//!                 command execution; code: 32
//! mount target fsmt-0a1b… (10.0.1.57, subnet-private-a): sg-efs admits tcp/2049 from nothing the task has
//! ```
//!
//! ## How to fix
//! Follow the deciding fact: add an ingress rule for TCP 2049 from the
//! task's security group to the mount target's; create a mount target in
//! the task's Availability Zone; turn on VPC DNS hostnames; allow
//! `elasticfilesystem:ClientMount` (and `ClientWrite`) to the task role or
//! in the file system policy; point the volume at an access point of that
//! file system.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/efs-volumes.html
//! - https://repost.aws/knowledge-center/fargate-unable-to-mount-efs
//! - https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html
//! - https://docs.aws.amazon.com/efs/latest/ug/troubleshooting-efs-mounting.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::{EfsEvidence, EfsVolume, Evidence, Fact};
use crate::iam::access::role_policies;
use crate::iam::policy::{self, Context, Decision, Policy, Principal, Request};
use crate::checks::findings::finding;
use crate::reach::{PathEval, Step};
use crate::report::{Finding, Strength, Verdict};
use crate::stops::{Detail, StopKind, StopText};
use crate::task::task_started;

/// One requirement that is not met: what it is, the facts and the fixes.
struct Blocker {
    title: String,
    facts: Vec<String>,
    fixes: Vec<String>,
    /// Does it explain a refusal (IAM, policy) rather than an unreachable server?
    refusal: bool,
}

/// What was found per requirement, across the task's EFS volumes.
#[derive(Default)]
struct Judged {
    blockers: Vec<Blocker>,
    unknown: Vec<String>,
    passed: Vec<String>,
}

const DOC: &str = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/efs-volumes.html";

/// What to check when ecs-doctor could not: the requirements, in the order
/// the mount needs them.
const BY_HAND: &str = "Check what the mount needs: a mount target of the file system in the task's Availability Zone, its security group admitting TCP 2049 from the task's security group, VPC DNS support and hostnames on, and (with IAM authorization) elasticfilesystem:ClientMount for the task role.";

/// The reads that would let ecs-doctor decide.
const GRANT_READS: &str = "Allow ecs-doctor elasticfilesystem:DescribeFileSystems, DescribeMountTargets, DescribeMountTargetSecurityGroups, DescribeFileSystemPolicy and DescribeAccessPoints (docs/iam-policy.json) so it can decide.";

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let text = efs_text(ctx);
    let Some(td) = ev.task_def() else {
        return match text {
            Some(t) => Finding::stated_not_confirmed(
                Cause::EfsMountFailed,
                "The stop reason says an EFS volume could not be mounted; the task definition could not be read to say which",
                &t.text,
                &ev.task_definition.gap_reason().unwrap_or_default(),
            )
            .fix(BY_HAND)
            .doc(DOC)
            .into_verdict(),
            None => Verdict::Inconclusive(format!(
                "the task definition is unknown ({}), so its volumes are too",
                ev.task_definition.gap_reason().unwrap_or_default()
            )),
        };
    };
    let volumes: Vec<(&str, &EfsVolume)> = td
        .volumes
        .iter()
        .filter_map(|v| v.efs.as_ref().map(|e| (v.name.as_str(), e)))
        .collect();
    if volumes.is_empty() {
        return match text {
            Some(t) => Finding::new(
                Cause::EfsMountFailed,
                Strength::Corroborating,
                "The stop reason says an EFS volume could not be mounted, but this task definition has none",
            )
            .evidence(t.quote())
            .evidence(format!("task definition {} declares no efsVolumeConfiguration", td.arn))
            .against("the task definition revision that failed may differ from the one read")
            .fix("Compare the task definition revision the task ran with its volumes' efsVolumeConfiguration.")
            .doc(DOC)
            .into_verdict(),
            None => Verdict::Skipped("the task mounts no EFS volume".into()),
        };
    }
    let mut judged = Judged::default();
    for (name, vol) in &volumes {
        let Some(fs) = ev.efs.iter().find(|f| f.file_system_id == vol.file_system_id) else {
            judged.unknown.push(format!(
                "file system {} of volume {name} was not looked up",
                vol.file_system_id
            ));
            continue;
        };
        file_system(fs, &mut judged);
        access_point(name, vol, fs, &mut judged);
        authorization(ev, name, vol, fs, &mut judged);
    }
    let hops = ctx.network.hops_for(Cause::EfsMountFailed);
    let network_finding = (!hops.blocked.is_empty()).then(|| {
        finding(
            ctx,
            Cause::EfsMountFailed,
            path_title(&hops.blocked),
            &hops.blocked,
        )
    });
    let started = task_started(ev);
    for (p, s) in &hops.unknown {
        judged.unknown.push(format!("{}: {}", p.short(), s.explanation()));
    }
    judged.unknown.extend(hops.missing.iter().cloned());
    if hops.blocked.is_empty() && !hops.paths.is_empty() && hops.unknown.is_empty() {
        judged.passed.push(format!(
            "NFS tcp/2049 reaches a mount target in the task's Availability Zone ({} path{})",
            hops.paths.len(),
            if hops.paths.len() == 1 { "" } else { "s" }
        ));
    }

    if judged.blockers.is_empty() && network_finding.is_none() {
        return match (text, started) {
            (Some(t), _) if judged.unknown.is_empty() => Finding::new(
                Cause::EfsMountFailed,
                Strength::Direct,
                "An EFS volume could not be mounted; every requirement ecs-doctor can read is met",
            )
            .evidence(t.quote())
            .evidence(format!("ruled out: {}", judged.passed.join("; ")))
            .fix("Read the mount helper's message in the stop reason: a time-out that the rules above allow points at something ecs-doctor cannot see (a firewall appliance, a Transit Gateway route, an on-premises DNS forwarder); an access denial at the file system policy's conditions.")
            .doc("https://docs.aws.amazon.com/efs/latest/ug/troubleshooting-efs-mounting.html")
            .into_verdict(),
            (Some(t), _) => Finding::stated_not_confirmed(
                Cause::EfsMountFailed,
                "The stop reason says an EFS volume could not be mounted; the deciding facts could not all be read",
                &t.text,
                &judged.unknown.join("; "),
            )
            .fix(BY_HAND)
            .fix(GRANT_READS)
            .doc(DOC)
            .into_verdict(),
            (None, Some(started)) => Verdict::Pass(format!(
                "{started}, so its EFS volumes were mounted{}",
                if judged.passed.is_empty() { String::new() } else { format!(" ({})", judged.passed.join("; ")) }
            )),
            (None, None) if !judged.unknown.is_empty() => {
                crate::task::startup_undecided(ev, judged.unknown.join("; "))
            }
            (None, None) => Verdict::Pass(judged.passed.join("; ")),
        };
    }
    build(text, started, judged, network_finding)
}

/// The stop text of the mount helper, if the task has one.
fn efs_text<'a>(ctx: &'a Ctx) -> Option<&'a StopText> {
    ctx.stops
        .all()
        .iter()
        .find(|t| t.class.is(StopKind::EfsMount))
        .or_else(|| ctx.stops.stating_any(&[Detail::EfsAccessDenied, Detail::EfsUnreachable]))
}

fn path_title(blocked: &[(&PathEval, &Step)]) -> String {
    let (p, s) = blocked[0];
    match &s.hint {
        Some(h) => format!("{}: {h}", efs_id(p)),
        None => format!("{}: {} blocks NFS", efs_id(p), s.hop.label),
    }
}

fn efs_id(p: &PathEval) -> String {
    p.destination()
        .and_then(|d| d.reasons.first().cloned())
        .unwrap_or_else(|| "EFS".into())
}

fn build(
    text: Option<&StopText>,
    started: Option<String>,
    judged: Judged,
    network: Option<Finding>,
) -> Verdict {
    let refused = text.is_some_and(|t| t.class.states(Detail::EfsAccessDenied));
    let unreachable = text.is_some_and(|t| t.class.states(Detail::EfsUnreachable));
    // The observed error picks which requirement leads: a refusal names
    // IAM or a policy, a time-out or a name that did not resolve the network.
    let mut blockers = judged.blockers;
    blockers.sort_by_key(|b| if refused { !b.refusal } else { b.refusal });
    let network_first =
        network.is_some() && !refused && (unreachable || blockers.iter().all(|b| b.refusal));
    let title = match (&network, blockers.first()) {
        (Some(n), _) if network_first => n.title.clone(),
        (_, Some(b)) => b.title.clone(),
        (Some(n), None) => n.title.clone(),
        (None, None) => "An EFS volume cannot be mounted".to_string(),
    };
    // The mount helper's own error is direct; a task whose containers ran
    // mounted its volumes at launch, so a blocker found now is circumstance.
    let strength = match (text, &started) {
        (Some(_), _) => Strength::Direct,
        (None, Some(_)) => Strength::Circumstantial,
        (None, None) => Strength::Corroborating,
    };
    let mut f = Finding::new(Cause::EfsMountFailed, strength, title);
    if let Some(t) = text {
        f = f.evidence(t.quote());
    }
    let network_lines = |n: &Finding| -> Vec<String> {
        n.evidence
            .iter()
            .filter(|e| !e.starts_with("stop reason"))
            .cloned()
            .collect()
    };
    let mut evidence = Vec::new();
    let mut fixes = Vec::new();
    if let (true, Some(n)) = (network_first, &network) {
        evidence.extend(network_lines(n));
        fixes.extend(n.fix.iter().cloned());
    }
    for b in &blockers {
        evidence.extend(b.facts.iter().cloned());
        fixes.extend(b.fixes.iter().cloned());
    }
    if let (false, Some(n)) = (network_first, &network) {
        evidence.extend(network_lines(n));
        fixes.extend(n.fix.iter().cloned());
    }
    evidence.extend(judged.unknown.iter().map(|u| format!("not checked: {u}")));
    for line in dedup(evidence) {
        f = f.evidence(line);
    }
    for fix in dedup(fixes) {
        f = f.fix(fix);
    }
    if let Some(started) = &started {
        f = f.against(format!(
            "{started}, so the volumes were mounted at launch (or the configuration changed since)"
        ));
    }
    f.doc(DOC).into_verdict()
}

fn dedup(lines: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

fn file_system(fs: &EfsEvidence, judged: &mut Judged) {
    let id = &fs.file_system_id;
    match &fs.file_system {
        Fact::Gathered { value } => {
            let state = value.life_cycle_state.as_deref().unwrap_or("unknown");
            if state.eq_ignore_ascii_case("available") {
                judged.passed.push(format!("file system {id} exists and is available"));
            } else {
                judged.blockers.push(Blocker {
                    title: format!("EFS file system {id} is {state}, not available"),
                    facts: vec![format!("file system {id}: LifeCycleState = {state}")],
                    fixes: vec![format!("Wait for {id} to become available, or point the volume at a file system that is: aws efs describe-file-systems --file-system-id {id}")],
                    refusal: false,
                });
            }
        }
        Fact::Absent { detail } => judged.blockers.push(Blocker {
            title: format!("EFS file system {id} does not exist"),
            facts: vec![format!("elasticfilesystem:DescribeFileSystems: {detail}")],
            fixes: vec![format!("Point efsVolumeConfiguration.fileSystemId at a file system of this account and Region (aws efs describe-file-systems), not {id}, and register a new revision.")],
            refusal: false,
        }),
        other => judged.unknown.push(format!(
            "file system {id}: {}",
            other.gap_reason().unwrap_or_default()
        )),
    }
}

fn access_point(volume: &str, vol: &EfsVolume, fs: &EfsEvidence, judged: &mut Judged) {
    let Some(ap_id) = &vol.access_point_id else {
        return;
    };
    let Some((_, ap)) = fs.access_points.iter().find(|(id, _)| id == ap_id) else {
        judged.unknown.push(format!("access point {ap_id} of volume {volume} was not looked up"));
        return;
    };
    match ap {
        Fact::Gathered { value } if value.file_system_id != fs.file_system_id => {
            judged.blockers.push(Blocker {
                title: format!(
                    "Access point {ap_id} of volume {volume} belongs to {}, not to {}",
                    value.file_system_id, fs.file_system_id
                ),
                facts: vec![format!(
                    "access point {ap_id}: FileSystemId = {}; the volume mounts {}",
                    value.file_system_id, fs.file_system_id
                )],
                fixes: vec![format!("Use an access point of {} (aws efs describe-access-points --file-system-id {}), or mount {} instead.", fs.file_system_id, fs.file_system_id, value.file_system_id)],
                refusal: true,
            });
        }
        Fact::Gathered { value } => {
            let state = value.life_cycle_state.as_deref().unwrap_or("available");
            if state.eq_ignore_ascii_case("available") {
                judged.passed.push(format!(
                    "access point {ap_id} exists on {} (root {})",
                    fs.file_system_id,
                    value.root_directory.as_deref().unwrap_or("/")
                ));
            } else {
                judged.blockers.push(Blocker {
                    title: format!("Access point {ap_id} is {state}"),
                    facts: vec![format!("access point {ap_id}: LifeCycleState = {state}")],
                    fixes: vec![format!("Use an available access point of {}.", fs.file_system_id)],
                    refusal: true,
                });
            }
        }
        Fact::Absent { detail } => judged.blockers.push(Blocker {
            title: format!("Access point {ap_id} of volume {volume} does not exist"),
            facts: vec![format!("elasticfilesystem:DescribeAccessPoints: {detail}")],
            fixes: vec![format!(
                "Create it, or point authorizationConfig.accessPointId at one that exists: aws efs describe-access-points --file-system-id {}",
                fs.file_system_id
            )],
            refusal: true,
        }),
        other => judged.unknown.push(format!(
            "access point {ap_id}: {}",
            other.gap_reason().unwrap_or_default()
        )),
    }
}

/// The actions the volume's containers need: mount, and write unless every
/// mount point of the volume is read-only.
fn needed_actions(ev: &Evidence, volume: &str) -> Vec<&'static str> {
    let writes = ev.task_def().is_some_and(|td| {
        td.containers
            .iter()
            .flat_map(|c| &c.mount_points)
            .any(|m| m.source_volume == volume && !m.read_only)
    });
    if writes {
        vec!["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    } else {
        vec!["elasticfilesystem:ClientMount"]
    }
}

fn authorization(ev: &Evidence, volume: &str, vol: &EfsVolume, fs: &EfsEvidence, judged: &mut Judged) {
    let id = &fs.file_system_id;
    let fs_policy = match &fs.policy {
        // No file system policy: EFS grants every client that can connect.
        Fact::Absent { .. } => {
            judged.passed.push(format!(
                "{id} has no file system policy, so EFS lets every client that reaches it mount and write"
            ));
            return;
        }
        Fact::Gathered { value } => match Policy::parse("file system policy", value) {
            Ok(p) => p,
            Err(e) => {
                judged.unknown.push(format!("the file system policy of {id}: {e}"));
                return;
            }
        },
        other => {
            judged.unknown.push(format!(
                "the file system policy of {id}: {}",
                other.gap_reason().unwrap_or_default()
            ));
            return;
        }
    };
    let Some(fs_arn) = fs.file_system.value().and_then(|f| f.arn.clone()) else {
        judged.unknown.push(format!("the ARN of {id} is unknown"));
        return;
    };
    let mut context = Context::new();
    policy::with_key(
        &mut context,
        "aws:SecureTransport",
        Some(vec![
            vol.transit_encryption
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("ENABLED"))
                .to_string(),
        ]),
    );
    policy::with_key(
        &mut context,
        "elasticfilesystem:AccessPointArn",
        vol.access_point_id.as_ref().map(|ap| {
            vec![format!("{}:access-point/{ap}", fs_arn.rsplit_once(":file-system/").map(|(a, _)| a).unwrap_or(&fs_arn))]
        }),
    );
    let (principal, identity): (Principal, Option<Vec<Policy>>) = if vol.uses_iam() {
        let Some(role_arn) = ev.task_def().and_then(|td| td.task_role_arn.clone()) else {
            judged.blockers.push(Blocker {
                title: format!("Volume {volume} uses EFS IAM authorization, but the task has no task role"),
                facts: vec![format!("volume {volume}: authorizationConfig.iam = ENABLED; taskRoleArn is not set, so the mount has no identity to authorize")],
                fixes: vec!["Set taskRoleArn to a role that allows elasticfilesystem:ClientMount (and ClientWrite) on the file system, and register a new revision.".into()],
                refusal: true,
            });
            return;
        };
        let role = match &ev.task_role {
            Fact::Gathered { value } => value,
            Fact::Absent { detail } => {
                judged.blockers.push(Blocker {
                    title: format!("The task role {role_arn} does not exist"),
                    facts: vec![format!("iam:GetRole: {detail}")],
                    fixes: vec!["Create the task role, or point taskRoleArn at one that exists.".into()],
                    refusal: true,
                });
                return;
            }
            other => {
                judged.unknown.push(format!(
                    "the task role's policies: {}",
                    other.gap_reason().unwrap_or_default()
                ));
                return;
            }
        };
        let (policies, unreadable) = role_policies(role);
        if !unreadable.is_empty() {
            judged.unknown.push(format!("the task role's policies: {}", unreadable.join("; ")));
            return;
        }
        let account = crate::iam::access::arn_account(&role.arn).unwrap_or_default().to_string();
        (Principal::Role { arn: role.arn.clone(), account }, Some(policies))
    } else {
        // Without IAM authorization the client is anonymous: only a
        // statement for every principal can grant it.
        (
            Principal::Role { arn: "anonymous".into(), account: String::new() },
            None,
        )
    };
    let who = match &principal {
        Principal::Role { arn, .. } if vol.uses_iam() => {
            format!("task role `{}`", arn.rsplit('/').next().unwrap_or(arn))
        }
        _ => "an anonymous client (IAM authorization is off)".to_string(),
    };
    let mut refused: Vec<&str> = Vec::new();
    let mut facts = Vec::new();
    for action in needed_actions(ev, volume) {
        let req = Request {
            action,
            resource: Some(&fs_arn),
            principal: Some(&principal),
            context: &context,
        };
        let by_fs = policy::evaluate(std::slice::from_ref(&fs_policy), &req);
        let by_role = identity.as_ref().map(|p| {
            policy::evaluate(
                p,
                &Request {
                    principal: None,
                    ..req.clone()
                },
            )
        });
        let denied = by_fs.decision == Decision::ExplicitDeny
            || by_role.as_ref().is_some_and(|r| r.decision == Decision::ExplicitDeny);
        let allowed = by_fs.decision == Decision::Allowed
            || by_role.as_ref().is_some_and(|r| r.decision == Decision::Allowed);
        if allowed && !denied {
            let by = if by_fs.decision == Decision::Allowed { "the file system policy" } else { "the task role's policies" };
            judged.passed.push(format!("{action} on {id} is allowed for {who} by {by}"));
            continue;
        }
        refused.push(action);
        facts.push(format!(
            "{action} on {fs_arn} for {who}: {}",
            if denied { "explicitly denied" } else { "allowed neither by the file system policy nor by the role's policies" }
        ));
        for d in by_fs.deciding.iter().chain(by_role.iter().flat_map(|r| r.deciding.iter())) {
            facts.push(format!("decided by {d}"));
        }
        for c in by_fs.failed_conditions.iter() {
            facts.push(format!("file system policy condition not met: {c}"));
        }
    }
    let Some(first) = refused.first() else {
        return;
    };
    let fix = match (&principal, vol.uses_iam()) {
        (Principal::Role { arn, .. }, true) => format!(
            "Allow the mount to the task role (or grant it in the file system policy): aws iam put-role-policy --role-name {} --policy-name efs-{volume} --policy-document '{}'",
            arn.rsplit('/').next().unwrap_or(arn),
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": refused, "Resource": fs_arn}]})
        ),
        _ => format!(
            "Turn on IAM authorization for volume {volume} (authorizationConfig.iam = ENABLED, transitEncryption = ENABLED) with a task role allowed {}, or let the file system policy allow it.",
            refused.join(" and ")
        ),
    };
    judged.blockers.push(Blocker {
        title: if first.ends_with("ClientWrite") {
            format!("Volume {volume} mounts {id} read-only: {who} may not write ({first})")
        } else {
            format!("EFS refuses to mount {id}: {who} is not allowed {first}")
        },
        facts,
        fixes: vec![fix],
        refusal: true,
    });
}

#[cfg(test)]
mod tests;
