//! The path from the task to each EFS file system it mounts: the VPC DNS
//! the mount name needs, a mount target in the task's Availability Zone,
//! NFS (TCP 2049) out through the task's security groups, in through the
//! mount target's, and the network ACLs of both subnets, both ways. Every
//! hop decides `efs-mount-failed`, so the generic network checks stay about
//! the start-up paths.

use super::*;
use crate::evidence::{EfsEvidence, MountTarget};

/// NFS.
pub const NFS_PORT: u16 = 2049;

/// The same hop, deciding the EFS mount instead of a generic network cause.
fn for_efs(mut step: Step) -> Step {
    step.causes = vec![Cause::EfsMountFailed];
    step
}

pub(super) fn efs_scope(ev: &Evidence) -> Scope {
    let Some(td) = ev.task_def() else {
        return Scope::Unknown(format!(
            "the task definition is unknown ({}), so its volumes are too",
            ev.task_definition.gap_reason().unwrap_or_default()
        ));
    };
    if !td.volumes.iter().any(|v| v.efs.is_some()) {
        return Scope::Skipped("the task mounts no EFS volume".into());
    }
    let net = match Net::new(ev) {
        Ok(n) => n,
        Err(scope) => return scope,
    };
    let mut paths = Vec::new();
    for subnet_id in &net.placement.subnet_ids {
        for fs in &ev.efs {
            paths.push(efs_path(&net, subnet_id, fs));
        }
    }
    Scope::Paths(paths)
}

fn efs_path(net: &Net<'_>, subnet_id: &str, fs: &EfsEvidence) -> PathEval {
    let id = &fs.file_system_id;
    let region = net.ev.region.as_str();
    let host = format!("{id}.efs.{region}.amazonaws.com");
    let dest = Destination {
        service: AwsService::Efs,
        region: region.to_string(),
        host: host.clone(),
        port: NFS_PORT,
        reasons: vec![format!("EFS file system {id}")],
        assumed: None,
    };
    let mut steps = vec![for_efs(eni_step(net, subnet_id))];
    steps.extend(dns_steps(net, &host).into_iter().map(for_efs));
    let task_az = net
        .subnet(subnet_id)
        .and_then(|s| s.availability_zone.clone());
    match mount_target(fs, task_az.as_deref(), subnet_id) {
        Err(step) => steps.push(*step),
        Ok(mt) => steps.extend(mount_target_steps(net, subnet_id, mt)),
    }
    PathEval {
        title: format!("{} (EFS {id}, tcp/{NFS_PORT})", subnet_id),
        direction: Direction::Egress(dest),
        subnet_id: subnet_id.to_string(),
        via: Via::Local,
        steps,
        observed: None,
    }
}

/// The mount name resolves through the Amazon DNS server, and only with
/// both VPC DNS attributes on.
fn dns_steps(net: &Net<'_>, host: &str) -> Vec<Step> {
    let Some(vpc) = net.ev.network.vpc.value() else {
        return vec![Step::unknown(
            "VPC DNS",
            &[],
            net.ev.network.vpc.gap_reason().unwrap_or_default(),
        )];
    };
    let mut steps = Vec::new();
    for (attr, fact, flag) in [
        (
            "enableDnsSupport",
            &vpc.enable_dns_support,
            "--enable-dns-support",
        ),
        (
            "enableDnsHostnames",
            &vpc.enable_dns_hostnames,
            "--enable-dns-hostnames",
        ),
    ] {
        match fact.value() {
            Some(true) => {}
            Some(false) => steps.push(
                Step::blocked(
                    format!("{} DNS ({host})", vpc.id),
                    Cause::EfsMountFailed,
                    format!("{attr} is false: the mount name {host} does not resolve"),
                )
                .hint(format!("{attr} is off, so the EFS mount name does not resolve"))
                .fact(format!(
                    "{}: {attr} = false; EFS mount names resolve only with VPC DNS support and DNS hostnames on",
                    vpc.id
                ))
                .fix(format!(
                    "aws ec2 modify-vpc-attribute --vpc-id {} {flag} '{{\"Value\":true}}'",
                    vpc.id
                )),
            ),
            None => steps.push(Step::unknown(
                format!("{} DNS", vpc.id),
                &[],
                fact.gap_reason().unwrap_or_default(),
            )),
        }
    }
    if steps.is_empty() {
        steps.push(Step::ok(format!("VPC DNS → {host}"), &[]));
    }
    steps
}

/// The mount target the task uses: the one in its Availability Zone.
fn mount_target<'a>(
    fs: &'a EfsEvidence,
    task_az: Option<&str>,
    subnet_id: &str,
) -> Result<&'a MountTarget, Box<Step>> {
    let id = &fs.file_system_id;
    let label = format!("mount target of {id}");
    let targets = match &fs.mount_targets {
        Fact::Gathered { value } => value,
        Fact::Absent { detail } => {
            return Err(Box::new(
                Step::blocked(label, Cause::EfsMountFailed, detail.clone())
                    .fact(format!("file system {id}: {detail}")),
            ))
        }
        other => {
            return Err(Box::new(Step::unknown(
                label,
                &[Cause::EfsMountFailed],
                other.gap_reason().unwrap_or_default(),
            )))
        }
    };
    let Some(az) = task_az else {
        return Err(Box::new(Step::unknown(
            label,
            &[Cause::EfsMountFailed],
            format!("the Availability Zone of {subnet_id} is unknown"),
        )));
    };
    match targets
        .iter()
        .find(|m| m.availability_zone.as_deref() == Some(az))
    {
        Some(mt) => Ok(mt),
        None => {
            let where_ = if targets.is_empty() {
                "it has no mount target at all".to_string()
            } else {
                format!(
                    "its mount targets are in {}",
                    targets
                        .iter()
                        .map(|m| m
                            .availability_zone
                            .clone()
                            .unwrap_or_else(|| m.subnet_id.clone()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let one_zone = fs
                .file_system
                .value()
                .and_then(|f| f.availability_zone.clone())
                .map(|z| {
                    format!(" (a One Zone file system in {z}: run the task in a subnet of {z})")
                })
                .unwrap_or_default();
            Err(Box::new(Step::blocked(
                label,
                Cause::EfsMountFailed,
                format!("no mount target in {az}, the Availability Zone of {subnet_id}"),
            )
            .hint(format!("{id} has no mount target in {az}"))
            .fact(format!(
                "file system {id} has no mount target in {az} ({subnet_id}); {where_}{one_zone}"
            ))
            .fix(format!(
                "aws efs create-mount-target --file-system-id {id} --subnet-id {subnet_id} --security-groups <sg admitting tcp/2049 from the task>"
            ))))
        }
    }
}

fn mount_target_steps(net: &Net<'_>, subnet_id: &str, mt: &MountTarget) -> Vec<Step> {
    let mut steps = Vec::new();
    let state = mt.life_cycle_state.as_deref().unwrap_or("unknown");
    let label = format!(
        "{} ({}, {})",
        mt.id,
        mt.ip_address.as_deref().unwrap_or("address unknown"),
        mt.subnet_id
    );
    if !state.eq_ignore_ascii_case("available") {
        steps.push(
            Step::blocked(label, Cause::EfsMountFailed, format!("state is {state}"))
                .fact(format!("mount target {} is {state}, not available", mt.id)),
        );
        return steps;
    }
    steps.push(Step::ok(label, &[Cause::EfsMountFailed]));
    let mt_groups = match &mt.security_groups {
        Fact::Gathered { value } => value.clone(),
        other => {
            steps.push(Step::unknown(
                format!("{} security groups", mt.id),
                &[Cause::EfsMountFailed],
                other.gap_reason().unwrap_or_default(),
            ));
            return steps;
        }
    };
    let mt_net: Vec<Ipv4Net> = mt
        .ip_address
        .as_deref()
        .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
        .map(|ip| vec![Ipv4Net::from(ip)])
        .or_else(|| net.subnet_net(&mt.subnet_id).map(|n| vec![n]))
        .unwrap_or_default();
    let peer = Peer::nets(format!("mount target {}", mt.id), &mt_net).with_groups(&mt_groups);
    steps.push(for_efs(sg_egress_step(net, &peer, NFS_PORT)));
    if mt.subnet_id != subnet_id {
        steps.push(for_efs(nacl_client_step(
            net,
            subnet_id,
            &peer,
            NFS_PORT,
            net.ephemeral,
            "task subnet",
        )));
    }
    // The mount target's security groups must admit NFS from the task.
    let task = net.task_peer(subnet_id);
    let groups: Vec<&SecurityGroup> = mt_groups
        .iter()
        .filter_map(|id| net.all_groups.iter().find(|g| &g.id == id))
        .collect();
    let sg_label = format!(
        "{} ingress tcp/{NFS_PORT} (mount target {})",
        mt_groups.join(", "),
        mt.id
    );
    if groups.len() < mt_groups.len() || groups.is_empty() {
        steps.push(Step::unknown(
            sg_label,
            &[Cause::EfsMountFailed],
            format!(
                "the mount target's security groups {} are unknown",
                mt_groups.join(", ")
            ),
        ));
    } else {
        let d = sg_decide(&groups, false, NFS_PORT, &task, net.prefix_lists);
        steps.push(match d.allowed {
            Some(true) => Step::ok(sg_label, &[Cause::EfsMountFailed]).fact(d.detail),
            None => Step::unknown(sg_label, &[Cause::EfsMountFailed], d.detail),
            Some(false) => {
                let source = ingress_source(net, &task, subnet_id);
                Step::blocked(sg_label, Cause::EfsMountFailed, d.detail.clone())
                    .hint(format!("mount target {} does not admit NFS (tcp/{NFS_PORT}) from the task", mt.id))
                    .fact(format!("mount target {}: {}", mt.id, d.detail))
                    .fix(format!(
                        "aws ec2 authorize-security-group-ingress --group-id {} --ip-permissions 'IpProtocol=tcp,FromPort={NFS_PORT},ToPort={NFS_PORT},{source}'",
                        groups[0].id
                    ))
            }
        });
    }
    // Within one subnet no network ACL applies; across subnets the mount
    // target's ACL sees NFS in and the replies out.
    if mt.subnet_id != subnet_id {
        steps.push(for_efs(nacl_server_step(
            net,
            &mt.subnet_id,
            &task,
            NFS_PORT,
            "mount target subnet",
        )));
    }
    steps
}
