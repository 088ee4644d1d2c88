//! The rules of each hop: network ACLs in rule order both ways, security
//! group egress, VPC DNS, and which endpoints the VPC has.

use super::*;

/// The client side's ephemeral ports on Linux (`ip_local_port_range`).
pub(super) const LINUX_EPHEMERAL: (u16, u16) = (32768, 60999);
/// Windows' dynamic port range.
pub(super) const WINDOWS_EPHEMERAL: (u16, u16) = (49152, 65535);
/// Ports a NAT gateway or an internet client may use as its source.
pub(super) const ANY_EPHEMERAL: (u16, u16) = (1024, 65535);

/// One subnet's network ACL on a client connection: out on `port` to the
/// peer, back in on the client's ephemeral ports.
pub(super) fn nacl_client_step(
    net: &Net<'_>,
    subnet_id: &str,
    peer: &Peer,
    port: u16,
    ephemeral: (u16, u16),
    role: &str,
) -> Step {
    nacl_step(
        net,
        subnet_id,
        &[(true, (port, port), peer), (false, ephemeral, peer)],
        role,
    )
}

/// The server side: in on `port` from the peer, out on the peer's ephemeral ports.
pub(super) fn nacl_server_step(
    net: &Net<'_>,
    subnet_id: &str,
    peer: &Peer,
    port: u16,
    role: &str,
) -> Step {
    nacl_step(
        net,
        subnet_id,
        &[(false, (port, port), peer), (true, ANY_EPHEMERAL, peer)],
        role,
    )
}

/// A NAT gateway's subnet forwards both ways: in from the task and out to
/// the internet on `port`, and the replies back on ephemeral ports.
pub(super) fn nacl_nat_step(
    net: &Net<'_>,
    subnet_id: &str,
    task: &Peer,
    internet: &Peer,
    port: u16,
) -> Step {
    nacl_step(
        net,
        subnet_id,
        &[
            (false, (port, port), task),
            (true, (port, port), internet),
            (false, ANY_EPHEMERAL, internet),
            (true, net.ephemeral, task),
        ],
        "NAT subnet",
    )
}

/// Evaluate a subnet's network ACL for each (egress?, ports, peer) and
/// report the first rule that blocks.
pub(super) fn nacl_step(
    net: &Net<'_>,
    subnet_id: &str,
    checks: &[(bool, (u16, u16), &Peer)],
    role: &str,
) -> Step {
    let acl = match net.nacl_of(subnet_id) {
        Ok(a) => a,
        Err(why) => {
            return Step::unknown(
                format!("network ACL of {subnet_id}"),
                &[Cause::NaclBlocked],
                why,
            )
        }
    };
    let label = format!("{} ({role} {subnet_id})", acl.id);
    let decisions: Vec<_> = checks
        .iter()
        .map(|(egress, ports, peer)| {
            (
                nacl_decide(acl, *egress, *ports, peer),
                *egress,
                *ports,
                *peer,
            )
        })
        .collect();
    if let Some((d, egress, ports, peer)) =
        decisions.iter().find(|(d, ..)| d.allowed == Some(false))
    {
        let rule_no = free_rule_number(acl, *egress, d.rule_number.unwrap_or(32767));
        let cidr = if peer.anywhere || peer.public_service || peer.addrs.is_empty() {
            "0.0.0.0/0".to_string()
        } else {
            peer.addrs
                .to_string()
                .split(", ")
                .next()
                .unwrap_or("0.0.0.0/0")
                .to_string()
        };
        let rule = match d.rule_number {
            Some(n) if n < 32767 => format!("rule {n}"),
            _ => "the default rule * (no numbered rule matches)".to_string(),
        };
        let what = format!(
            "{} {}{}",
            if *egress { "outbound" } else { "inbound" },
            if ports.0 == ports.1 {
                format!("tcp/{}", ports.0)
            } else {
                format!("tcp/{}-{}", ports.0, ports.1)
            },
            if ports.0 == ports.1 {
                ""
            } else {
                " (the replies)"
            }
        );
        return Step::blocked(label, Cause::NaclBlocked, d.detail.clone())
            .hint(format!("{} ({role} {subnet_id}) denies {what} by {rule}", acl.id))
            .fact(format!("{subnet_id} ({role}) uses network ACL {}", acl.id))
            .fact(d.detail.clone())
            .fix(format!(
                "aws ec2 create-network-acl-entry --network-acl-id {} --rule-number {rule_no} {} --protocol tcp --port-range From={},To={} --cidr-block {cidr} --rule-action allow",
                acl.id,
                if *egress { "--egress" } else { "--ingress" },
                ports.0,
                ports.1
            ));
    }
    if let Some((d, ..)) = decisions.iter().find(|(d, ..)| d.allowed.is_none()) {
        return Step::unknown(label, &[Cause::NaclBlocked], d.detail.clone());
    }
    let mut step = Step::ok(label, &[Cause::NaclBlocked]);
    for (d, ..) in &decisions {
        step = step.fact(d.detail.clone());
    }
    step
}

/// A free rule number below the one that blocks, so the new rule wins.
pub(super) fn free_rule_number(acl: &NetworkAcl, egress: bool, blocking: i32) -> i32 {
    let used: Vec<i32> = acl
        .entries
        .iter()
        .filter(|e| e.egress == egress)
        .map(|e| e.rule_number)
        .collect();
    let mut n = (blocking.min(32767) - 1).max(1);
    // Prefer a round number just below the blocking rule.
    if blocking >= 32767 {
        n = used
            .iter()
            .filter(|u| **u < 32767)
            .max()
            .map(|m| m + 10)
            .unwrap_or(100)
            .min(32766);
    }
    while used.contains(&n) && n > 1 {
        n -= 1;
    }
    n
}

/// The `--ip-permissions` source that admits the task: its first security
/// group, else its subnet's CIDR.
pub(super) fn ingress_source(net: &Net<'_>, task: &Peer, subnet_id: &str) -> String {
    task.groups
        .first()
        .map(|g| format!("UserIdGroupPairs=[{{GroupId={g}}}]"))
        .unwrap_or_else(|| {
            format!(
                "IpRanges=[{{CidrIp={}}}]",
                net.subnet_net(subnet_id)
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "<task subnet CIDR>".into())
            )
        })
}

pub(super) fn sg_egress_step(net: &Net<'_>, peer: &Peer, port: u16) -> Step {
    let groups = match &net.groups {
        Ok(g) => g,
        Err(why) => {
            return Step::unknown(
                "task security groups",
                &[Cause::SecurityGroupEgressBlocked],
                why.clone(),
            )
        }
    };
    let ids: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    let label = format!("{} egress tcp/{port}", ids.join(", "));
    let d = sg_decide(groups, true, port, peer, net.prefix_lists);
    let assumed = net.groups_note.clone().unwrap_or_default();
    match d.allowed {
        Some(true) => Step::ok(label, &[Cause::SecurityGroupEgressBlocked]).fact(d.detail),
        None => Step::unknown(label, &[Cause::SecurityGroupEgressBlocked], d.detail),
        Some(false) => {
            let target = match (&peer.prefix_list, peer.anywhere || peer.public_service) {
                (Some(pl), _) => format!("PrefixListIds=[{{PrefixListId={pl}}}]"),
                (None, true) => "IpRanges=[{CidrIp=0.0.0.0/0}]".to_string(),
                (None, false) if !peer.groups.is_empty() => {
                    format!("UserIdGroupPairs=[{{GroupId={}}}]", peer.groups[0])
                }
                (None, false) => format!(
                    "IpRanges=[{}]",
                    peer.addrs
                        .to_string()
                        .split(", ")
                        .map(|c| format!("{{CidrIp={c}}}"))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            };
            let mut step = Step::blocked(label, Cause::SecurityGroupEgressBlocked, d.detail.clone())
                .fact(d.detail)
                .fix(format!(
                    "aws ec2 authorize-security-group-egress --group-id {} --ip-permissions 'IpProtocol=tcp,FromPort={port},ToPort={port},{target}'",
                    ids.first().copied().unwrap_or("sg-…")
                ));
            if !assumed.is_empty() {
                step = step.fact(assumed);
            }
            step
        }
    }
}

pub(super) fn dns_steps(net: &Net<'_>, private_dns_endpoint: Option<&VpcEndpoint>) -> Vec<Step> {
    let Some(vpc) = net.ev.network.vpc.value() else {
        return vec![Step::unknown(
            "VPC DNS",
            &[Cause::VpcDnsDisabled],
            net.ev.network.vpc.gap_reason().unwrap_or_default(),
        )];
    };
    let mut steps = Vec::new();
    let fix_support = format!(
        "aws ec2 modify-vpc-attribute --vpc-id {} --enable-dns-support '{{\"Value\":true}}'",
        vpc.id
    );
    let fix_hostnames = format!(
        "aws ec2 modify-vpc-attribute --vpc-id {} --enable-dns-hostnames '{{\"Value\":true}}'",
        vpc.id
    );
    match vpc.enable_dns_support.value() {
        Some(false) => steps.push(
            Step::blocked(
                format!("{} DNS", vpc.id),
                Cause::VpcDnsDisabled,
                "enableDnsSupport is false: the Amazon DNS server does not answer, so no AWS host name resolves",
            )
            .fact(format!("{}: enableDnsSupport = false", vpc.id))
            .fix(fix_support.clone()),
        ),
        None => steps.push(Step::unknown(
            format!("{} DNS", vpc.id),
            &[Cause::VpcDnsDisabled],
            vpc.enable_dns_support.gap_reason().unwrap_or_default(),
        )),
        Some(true) => {}
    }
    if let Some(ep) = private_dns_endpoint {
        match vpc.enable_dns_hostnames.value() {
            Some(false) => steps.push(
                Step::blocked(
                    format!("{} private DNS of {}", vpc.id, ep.id),
                    Cause::VpcDnsDisabled,
                    "enableDnsHostnames is false: the endpoint's private DNS name does not take effect",
                )
                .fact(format!(
                    "{}: enableDnsHostnames = false, but {} ({}) relies on private DNS",
                    vpc.id, ep.id, ep.service_name
                ))
                .fix(fix_hostnames),
            ),
            None => steps.push(Step::unknown(
                format!("{} DNS hostnames", vpc.id),
                &[Cause::VpcDnsDisabled],
                vpc.enable_dns_hostnames.gap_reason().unwrap_or_default(),
            )),
            Some(true) => {}
        }
    }
    if let (true, Some(ep)) = (steps.is_empty(), private_dns_endpoint) {
        steps.push(Step::ok(
            format!("private DNS → {}", ep.id),
            &[Cause::VpcDnsDisabled],
        ));
    } else if steps.is_empty() {
        // Nothing to show, but the DNS check has looked.
        steps.push(Step::ok(String::new(), &[Cause::VpcDnsDisabled]));
    }
    steps
}

pub(super) fn matches_service(ep: &VpcEndpoint, service_name: &str) -> bool {
    ep.service_name.eq_ignore_ascii_case(service_name)
}

pub(super) fn is_interface(ep: &VpcEndpoint) -> bool {
    ep.endpoint_type.eq_ignore_ascii_case("interface")
}

pub(super) fn is_gateway(ep: &VpcEndpoint) -> bool {
    ep.endpoint_type.eq_ignore_ascii_case("gateway")
}

pub(super) fn endpoint_available(ep: &VpcEndpoint) -> bool {
    ep.state
        .as_deref()
        .is_none_or(|s| s.eq_ignore_ascii_case("available"))
}

/// Does the VPC rely on interface endpoints for the services the task needs?
pub(super) fn relies_on_endpoints(net: &Net<'_>, dests: &[Destination]) -> bool {
    let Ok(eps) = &net.endpoints else {
        return false;
    };
    dests
        .iter()
        .filter_map(|d| d.endpoint_service())
        .any(|name| {
            eps.iter()
                .any(|e| is_interface(e) && matches_service(e, &name))
        })
}

/// The task's network interface, the first hop of every path from the task.
pub(super) fn eni_step(net: &Net<'_>, subnet_id: &str) -> Step {
    let p = net.placement;
    let (_, public) = net.public_ip();
    let mut parts = vec![subnet_id.to_string()];
    if let Some(ip) = &p.private_ip {
        parts.push(ip.clone());
    }
    parts.push(public);
    let mut notes = Vec::new();
    if p.subnet_source == NetworkSource::User {
        notes.push("subnet assumed (--subnet)".to_string());
    } else if net_multi(net) {
        notes.push(format!(
            "one of the subnets in {}",
            source_label(p.subnet_source)
        ));
    }
    if p.public_ip.is_none() && p.assign_public_ip_source == NetworkSource::User {
        notes.push("assignPublicIp assumed (--assign-public-ip)".to_string());
    }
    if let Some(n) = &net.groups_note {
        notes.push(n.clone());
    }
    Step::ok(format!("task ENI ({})", parts.join(", ")), &[]).note(notes.join("; "))
}
