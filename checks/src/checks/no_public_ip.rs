//! ## What it detects
//! The task sits in a subnet whose route table sends `0.0.0.0/0` to an
//! internet gateway, but the task has no public IP (`assignPublicIp =
//! DISABLED` and no public address on its ENI). An internet gateway only
//! carries traffic for addresses that have a public IP, so the task cannot
//! reach ECR, S3, Secrets Manager or CloudWatch Logs, and nothing on the
//! internet can reach it.
//!
//! ## Why it matters
//! On Fargate platform version 1.4 the image pull, secret retrieval and log
//! set-up all go through the task's own ENI. Without a public IP the pull
//! times out (`dial tcp <public ip>:443: i/o timeout`) and the task stops
//! with `TaskFailedToStart`. A running task in the same position cannot be
//! reached on its public address because it has none.
//!
//! ## Example
//! ```text
//! stoppedReason = ResourceInitializationError: unable to pull secrets or registry auth: …
//!                 dial tcp 52.46.157.21:443: i/o timeout
//! subnet-0a1 → rtb-1 (explicit): 0.0.0.0/0 → igw-1
//! service web: assignPublicIp = DISABLED
//! ```
//!
//! ## How to fix
//! Either set `assignPublicIp=ENABLED` in the service's (or `run-task`'s)
//! `awsvpcConfiguration`, or move the task to private subnets whose default
//! route goes to a NAT gateway (or give the VPC the endpoints it needs).
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html
//! - https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html

use crate::classify::{find_stop_text, StopCode};
use crate::codes::Cause;
use crate::evidence::{Evidence, NetworkSource};
use crate::netpath::{default_route, describe_route, dialed_addresses, effective_route_table, igw_attached, is_active, is_private, target_kind, TargetKind};
use crate::report::{Finding, Strength, Verdict};

/// Stop-text fragments of a connection that never got an answer.
pub(crate) const NETWORK_TIMEOUT_TEXT: &[&str] = &[
    "i/o timeout",
    "context deadline exceeded",
    "connection issue between the task and",
    "request canceled while waiting for connection",
    "context canceled",
    "statuscode: 0",
    "check your network configuration",
    "check your task network configuration",
];

fn source_label(source: NetworkSource) -> &'static str {
    match source {
        NetworkSource::Eni => "the task's ENI",
        NetworkSource::Service => "the service's networkConfiguration",
        NetworkSource::TaskAttachment => "the task's ENI attachment",
        NetworkSource::User => "--assign-public-ip (assumed)",
        NetworkSource::Unknown => "unknown source",
    }
}

pub(crate) fn check(ev: &Evidence) -> Verdict {
    let placement = match &ev.network.placement {
        crate::evidence::Fact::Gathered { value } => value,
        other => return Verdict::Skipped(format!("no awsvpc placement: {}", other.gap_reason().unwrap_or_default())),
    };
    if placement.public_ip.is_some() || placement.assign_public_ip == Some(true) {
        return Verdict::Pass(format!(
            "the task has a public IP ({})",
            placement.public_ip.clone().unwrap_or_else(|| format!("assignPublicIp = ENABLED per {}", source_label(placement.assign_public_ip_source)))
        ));
    }
    let (Some(tables), Some(subnets)) = (ev.network.route_tables.value(), ev.network.subnets.value()) else {
        let why = ev.network.route_tables.gap_reason().or(ev.network.subnets.gap_reason()).unwrap_or_default();
        return Verdict::Inconclusive(format!("route tables or subnets unknown: {why}"));
    };
    let Some(assign) = placement.assign_public_ip else {
        return Verdict::Inconclusive("whether the task had a public IP is unknown (its ENI is gone and no service configuration says); pass --assign-public-ip".into());
    };
    debug_assert!(!assign);
    let mut hits = Vec::new();
    for subnet_id in &placement.subnet_ids {
        let Some(subnet) = subnets.iter().find(|s| &s.id == subnet_id) else { continue };
        let Some((table, explicit)) = effective_route_table(tables, &subnet.id, &subnet.vpc_id) else { continue };
        let Some(route) = default_route(table) else { continue };
        if target_kind(&route.target) == TargetKind::InternetGateway && is_active(route) {
            let attached = igw_attached(ev, &route.target, &subnet.vpc_id).unwrap_or(true);
            if attached {
                hits.push(format!(
                    "{} → {} ({}): {}",
                    subnet.id,
                    table.id,
                    if explicit { "explicit association" } else { "the VPC's main route table" },
                    describe_route(route)
                ));
            }
        }
    }
    if hits.is_empty() {
        return Verdict::Pass("no task subnet routes 0.0.0.0/0 to an internet gateway, so a public IP is not required".into());
    }
    let timeout_text = find_stop_text(ev, NETWORK_TIMEOUT_TEXT);
    let dialed = timeout_text.as_deref().map(dialed_addresses).unwrap_or_default();
    let strength = match (&timeout_text, StopCode::of(ev)) {
        (Some(_), StopCode::TaskFailedToStart) => Strength::Direct,
        (Some(_), _) => Strength::Direct,
        _ => Strength::Corroborating,
    };
    let mut finding = Finding::new(
        Cause::NoPublicIp,
        strength,
        "The task is in a public subnet (default route to an internet gateway) without a public IP",
    );
    for hit in &hits {
        finding = finding.evidence(hit.clone());
    }
    finding = finding.evidence(format!(
        "assignPublicIp = DISABLED (from {})",
        source_label(placement.assign_public_ip_source)
    ));
    if let Some(t) = &timeout_text {
        finding = finding.evidence(format!("stop reason shows a connection that never got an answer: \"{t}\""));
    }
    for (ip, port) in &dialed {
        if is_private(ip) {
            finding = finding.against(format!("the failed connection went to a private address {ip}:{port} (a VPC endpoint), not through the internet gateway"));
        } else {
            finding = finding.evidence(format!("the failed connection went to public address {ip}:{port}, i.e. through the internet gateway"));
        }
    }
    if placement.assign_public_ip_source == NetworkSource::User {
        finding = finding.against("assignPublicIp was supplied on the command line, not read from AWS");
    }
    let update = match (ev.service_name(), ev.task.cluster_arn.rsplit('/').next()) {
        (Some(svc), Some(cluster)) => format!(
            "aws ecs update-service --cluster {cluster} --service {svc} --network-configuration 'awsvpcConfiguration={{subnets=[{}],securityGroups=[{}],assignPublicIp=ENABLED}}'",
            placement.subnet_ids.join(","),
            placement.security_group_ids.join(",")
        ),
        _ => "run the task with --network-configuration 'awsvpcConfiguration={…,assignPublicIp=ENABLED}'".to_string(),
    };
    finding
        .fix(format!("Give the task a public IP: {update}"))
        .fix("Or move the task to private subnets whose 0.0.0.0/0 route goes to a NAT gateway (or to VPC endpoints for ECR, S3, Logs and Secrets Manager).")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html")
        .into_verdict()
}
