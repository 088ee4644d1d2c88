//! Inbound reachability of a running task, from where its traffic really
//! comes from: the service's load balancers (their subnets and security
//! groups, inside the VPC) and the network given with `--from`. Without
//! either there is no client to check from, and the scope is skipped: a task
//! nobody sends traffic to is not "unreachable". The internet is never
//! assumed; it is a source only when `--from 0.0.0.0/0` says so.

use super::*;
use crate::evidence::LoadBalancer;

/// Why the inbound paths are not evaluated when nothing names a source.
pub const NO_SOURCE: &str = "no source of inbound traffic was given (the service has no load balancer): pass --from CIDR to check reachability from a network";

/// Where inbound traffic to a running task comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--from CIDR`: a network the user named.
    Cidr,
    /// A load balancer of the service; the security groups it sends from.
    LoadBalancer { name: String, groups: Vec<String> },
}

/// One load balancer that sends to `container` on `port`.
struct LbSource<'a> {
    lb: &'a LoadBalancer,
    container: String,
    port: u16,
}

/// The service's load balancers, or what keeps them from being known.
fn lb_sources(ev: &Evidence) -> (Vec<LbSource<'_>>, Vec<String>) {
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    let service = match &ev.service {
        Fact::Gathered { value } => value,
        Fact::NotApplicable { .. } | Fact::Absent { .. } => return (out, unknown),
        other => {
            unknown.push(format!(
                "whether a load balancer sends to the task is unknown: the service could not be read ({})",
                other.gap_reason().unwrap_or_default()
            ));
            return (out, unknown);
        }
    };
    for entry in &service.load_balancers {
        let Some(arn) = entry.target_group_arn.as_deref() else {
            unknown.push(format!(
                "classic load balancer {} is not read by ecs-doctor",
                entry.load_balancer_name.as_deref().unwrap_or("?")
            ));
            continue;
        };
        let (Some(container), Some(port)) = (
            entry.container_name.clone(),
            entry.container_port.and_then(|p| u16::try_from(p).ok()),
        ) else {
            unknown.push(format!(
                "the service's load balancer entry for {arn} names no container port"
            ));
            continue;
        };
        let Some(tg) = ev.load_balancing.iter().find(|t| t.arn == arn) else {
            unknown.push(format!("target group {arn} was not collected"));
            continue;
        };
        match &tg.load_balancers {
            Fact::Gathered { value } => out.extend(value.iter().map(|lb| LbSource {
                lb,
                container: container.clone(),
                port,
            })),
            Fact::NotApplicable { .. } => {}
            other => unknown.push(format!(
                "the load balancers of target group {arn} are unknown: {}",
                other.gap_reason().unwrap_or_default()
            )),
        }
    }
    (out, unknown)
}

/// Inbound paths to a running task: from each of the service's load
/// balancers to the port it sends to, and from `--from` to every container
/// port.
pub(super) fn inbound_scope(ev: &Evidence) -> Scope {
    if !ev.task.last_status.eq_ignore_ascii_case("RUNNING") {
        return Scope::Skipped("inbound reachability is evaluated for RUNNING tasks".into());
    }
    let net = match Net::new(ev) {
        Ok(n) => n,
        Err(scope) => return scope,
    };
    let from = match ev.inputs.from_cidr.as_deref() {
        None => None,
        Some(text) => match text.parse::<Ipv4Net>() {
            Ok(n) => Some(n.trunc()),
            Err(_) => return Scope::Unknown(format!("--from {text} is not an IPv4 CIDR")),
        },
    };
    let (lbs, lb_unknown) = lb_sources(ev);
    if from.is_none() && lbs.is_empty() {
        return if lb_unknown.is_empty() {
            Scope::Skipped(NO_SOURCE.into())
        } else {
            Scope::Unknown(format!(
                "{}; pass --from CIDR to check reachability from a network",
                lb_unknown.join("; ")
            ))
        };
    }
    let Some(subnet_id) = net.placement.subnet_ids.first().cloned() else {
        return Scope::Unknown("the task's subnet is unknown".into());
    };
    let mut paths: Vec<PathEval> = lbs.iter().map(|s| lb_path(&net, &subnet_id, s)).collect();
    if let Some(from) = from {
        let Some(td) = ev.task_def() else {
            return Scope::Unknown("the task definition (container ports) is unknown".into());
        };
        let ports: Vec<(String, u16)> = td
            .containers
            .iter()
            .flat_map(|c| {
                c.port_mappings.iter().filter_map(move |p| {
                    let tcp = p
                        .protocol
                        .as_deref()
                        .is_none_or(|x| x.eq_ignore_ascii_case("tcp"));
                    let port = p.container_port.and_then(|x| u16::try_from(x).ok())?;
                    tcp.then(|| (c.name.clone(), port))
                })
            })
            .collect();
        if ports.is_empty() && paths.is_empty() {
            return Scope::Skipped("no container exposes a TCP port".into());
        }
        for (container, port) in ports {
            paths.push(cidr_path(&net, &subnet_id, from, &container, port));
        }
    }
    Scope::Paths(paths)
}

/// The last hop: the container, with the port its log says it listens on.
fn container_step(net: &Net<'_>, container: &str, port: u16) -> Step {
    let mut last = Step::ok(format!("container {container}:{port}"), &[]);
    if let Some(listen) = crate::logs::announced(net.ev.log_lines(container)) {
        if listen.port != i32::from(port) {
            last = last.note(format!(
                "the logs say the app listens on {}: \"{}\"",
                listen.port, listen.line
            ));
        }
    }
    last
}

/// `load balancer web (sg-1, sg-2)`.
fn lb_label(lb: &LoadBalancer) -> String {
    if lb.security_groups.is_empty() {
        format!("load balancer {}", lb.name)
    } else {
        format!(
            "load balancer {} ({})",
            lb.name,
            lb.security_groups.join(", ")
        )
    }
}

/// From a load balancer's nodes (in its subnets, with its security groups)
/// to the container port it sends to: inside the VPC, so no public address
/// and no internet route are involved.
fn lb_path(net: &Net<'_>, subnet_id: &str, s: &LbSource<'_>) -> PathEval {
    let lb = s.lb;
    let port = s.port;
    let label = lb_label(lb);
    let lb_nets: Vec<Ipv4Net> = lb
        .subnet_ids
        .iter()
        .filter_map(|id| net.subnet_net(id))
        .collect();
    // The nodes' addresses: their subnets, else somewhere in the VPC.
    let nets = if lb_nets.is_empty() {
        net.vpc_cidrs.clone()
    } else {
        lb_nets.clone()
    };
    let peer = Peer::nets(label.clone(), &nets).with_groups(&lb.security_groups);
    let where_ = if lb.subnet_ids.is_empty() {
        String::new()
    } else {
        format!(" in {}", lb.subnet_ids.join(", "))
    };
    let mut steps = vec![
        Step::ok(format!("{label}{where_}"), &[]),
        Step::ok(
            "local route (inside the VPC)",
            &[Cause::NoEgressRoute, Cause::NoPublicIp],
        ),
    ];
    // The load balancer's own subnets: out to the task, replies back in.
    // A network ACL applies where traffic crosses a subnet's edge, once per ACL.
    let task_peer = net.task_peer(subnet_id);
    let mut seen: Vec<String> = Vec::new();
    for id in lb.subnet_ids.iter().filter(|id| id.as_str() != subnet_id) {
        let acl = net.nacl_of(id).map(|a| a.id.clone()).unwrap_or_default();
        if !acl.is_empty() && seen.contains(&acl) {
            continue;
        }
        seen.push(acl);
        steps.push(nacl_client_step(
            net,
            id,
            &task_peer,
            port,
            ANY_EPHEMERAL,
            "load balancer subnet",
        ));
    }
    steps.push(nacl_server_step(net, subnet_id, &peer, port, "task subnet"));
    steps.push(task_groups_step(net, port, &peer, |mut step, task_sg| {
        if lb.security_groups.is_empty() {
            let cidrs: Vec<String> = lb_nets.iter().map(|n| n.to_string()).collect();
            step = step.fact(format!(
                "load balancer {} has no security group: its nodes send from its subnets {}",
                lb.name,
                cidrs.join(", ")
            ));
            for c in &cidrs {
                step = step.fix(format!(
                    "aws ec2 authorize-security-group-ingress --group-id {task_sg} --protocol tcp --port {port} --cidr {c}"
                ));
            }
        } else {
            step = step.fact(format!(
                "load balancer {} sends to container {} on tcp/{port} from its security group{} {}",
                lb.name,
                s.container,
                if lb.security_groups.len() == 1 { "" } else { "s" },
                lb.security_groups.join(", ")
            ));
            for g in &lb.security_groups {
                step = step.fix(format!(
                    "aws ec2 authorize-security-group-ingress --group-id {task_sg} --protocol tcp --port {port} --source-group {g}"
                ));
            }
        }
        step
    }));
    steps.push(container_step(net, &s.container, port));
    PathEval {
        direction: Direction::Inbound {
            container: s.container.clone(),
            port,
            from: label.clone(),
            source: Source::LoadBalancer {
                name: lb.name.clone(),
                groups: lb.security_groups.clone(),
            },
        },
        subnet_id: subnet_id.to_string(),
        via: Via::Local,
        steps,
        observed: None,
        title: format!("inbound tcp/{port} to {} from {label}", s.container),
    }
}

/// The hop every inbound path ends with: the task's security groups
/// admitting `port` from `peer`. A refusal's facts and fixes depend on
/// where the traffic comes from: `blocked` adds them, given the task's
/// first group; the groups' own note follows.
fn task_groups_step(
    net: &Net<'_>,
    port: u16,
    peer: &Peer,
    blocked: impl FnOnce(Step, &str) -> Step,
) -> Step {
    let groups = match &net.groups {
        Err(why) => {
            return Step::unknown(
                "task security groups",
                &[Cause::SecurityGroupIngressClosed],
                why.clone(),
            )
        }
        Ok(groups) => groups,
    };
    let ids: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    let label = format!("{} ingress tcp/{port}", ids.join(", "));
    let d = sg_decide(groups, false, port, peer, net.prefix_lists);
    match d.allowed {
        Some(true) => Step::ok(label, &[Cause::SecurityGroupIngressClosed]).fact(d.detail),
        None => Step::unknown(label, &[Cause::SecurityGroupIngressClosed], d.detail),
        Some(false) => {
            let step = Step::blocked(label, Cause::SecurityGroupIngressClosed, d.detail.clone())
                .fact(d.detail);
            let mut step = blocked(step, ids.first().copied().unwrap_or("<sg-…>"));
            if let Some(n) = &net.groups_note {
                step = step.fact(n.clone());
            }
            step
        }
    }
}

/// What opening the task to `from` exposes, said with any fix that does it
/// for the whole internet.
fn exposure(from: Ipv4Net) -> Option<&'static str> {
    (from.prefix_len() == 0).then_some(
        "this exposes the task itself to the whole internet (you asked about --from 0.0.0.0/0): anyone can connect to what its security groups admit",
    )
}

/// The `awsvpcConfiguration` change that gives the task a public IP.
fn public_ip_command(net: &Net<'_>) -> String {
    let ev = net.ev;
    let p = net.placement;
    let config = format!(
        "'awsvpcConfiguration={{subnets=[{}],securityGroups=[{}],assignPublicIp=ENABLED}}'",
        p.subnet_ids.join(","),
        p.security_group_ids.join(",")
    );
    match ev.service_name() {
        Some(svc) => format!(
            "aws ecs update-service --cluster {} --service {svc} --network-configuration {config}",
            crate::task::cluster_name(ev)
        ),
        None => format!("aws ecs run-task … --network-configuration {config}"),
    }
}

/// From the network given with `--from` to a container port: through the
/// task's public IP and its subnet's internet route when the network is
/// outside the VPC and public, directly when it is inside.
fn cidr_path(
    net: &Net<'_>,
    subnet_id: &str,
    from: Ipv4Net,
    container: &str,
    port: u16,
) -> PathEval {
    let from_peer = Peer::nets(format!("{from} (--from)"), &[from]);
    let inside_vpc = net.vpc_cidrs.iter().any(|c| c.contains(&from));
    let private_from = is_private(&IpAddr::V4(from.network())) && from.prefix_len() > 0;
    let route_causes = [Cause::NoEgressRoute, Cause::NoPublicIp];
    let mut steps = vec![Step::ok(format!("client {from}"), &[])];
    if inside_vpc {
        steps.push(Step::ok("local route (inside the VPC)", &route_causes));
    } else {
        let mut no_public_ip = false;
        if !private_from {
            let (public, label) = net.public_ip();
            no_public_ip = public == Some(false);
            steps.push(match public {
                Some(true) => Step::ok(label, &[Cause::NoPublicIp]),
                None => Step::unknown(label, &[Cause::NoPublicIp], "pass --assign-public-ip"),
                Some(false) => {
                    let step = Step::blocked(
                        "task ENI: no public IP",
                        Cause::NoPublicIp,
                        format!("clients in {from}, outside the VPC, have no address to reach the task at"),
                    )
                    .fact(format!(
                        "the task's ENI has no public IP (assignPublicIp from {})",
                        source_label(net.placement.assign_public_ip_source)
                    ))
                    .fact(format!(
                        "{from} (--from) is outside the VPC, so it could reach the task only through a public address"
                    ))
                    .fix(format!(
                        "Put an internet-facing load balancer in public subnets in front of the service, its security group admitting {from}, and reach the task through it: the task stays private."
                    ));
                    match exposure(from) {
                        Some(warning) => step.fix(format!(
                            "Or give the task a public IP: {} — {warning}.",
                            public_ip_command(net)
                        )),
                        None => step.fix(format!(
                            "Or reach the task from inside the VPC (a VPN, Direct Connect or peering that routes {from} to the VPC, or a bastion host)."
                        )),
                    }
                }
            });
        }
        match net.table_of(subnet_id) {
            // Without a public address nothing arrives, so the reply route does not matter.
            _ if no_public_ip => {}
            Err(why) => steps.push(Step::unknown("route table", &route_causes, why)),
            Ok((table, explicit)) => {
                let tlabel = table_label(table, explicit);
                let assoc = association_fact(subnet_id, table, explicit);
                let route = select_route(table, IpAddr::V4(from.network()), net.prefix_lists)
                    .filter(|r| target_kind(&r.target) != TargetKind::Local);
                steps.push(match route {
                    None => Step::blocked(
                        format!("{tlabel}: no route back to {from}"),
                        Cause::NoEgressRoute,
                        "replies have no way out",
                    )
                    .fact(assoc)
                    .fix(format!(
                        "aws ec2 create-route --route-table-id {} --destination-cidr-block {from} --gateway-id <igw-… or the gateway toward {from}>",
                        table.id
                    )),
                    Some(r) => {
                        let rlabel = format!("{tlabel}: {} (replies)", describe_route(r));
                        let kind = target_kind(&r.target);
                        if !is_active(r) {
                            Step::blocked(rlabel, Cause::NoEgressRoute, "the route is a blackhole")
                                .fact(assoc)
                        } else if private_from {
                            Step::unknown(
                                rlabel,
                                &[Cause::NoEgressRoute],
                                format!("replies go through {}; ecs-doctor cannot see past it", r.target),
                            )
                        } else if kind == TargetKind::InternetGateway {
                            Step::ok(rlabel, &route_causes)
                        } else {
                            Step::blocked(
                                rlabel,
                                Cause::NoEgressRoute,
                                format!("replies leave through {}, not an internet gateway, so they never reach the client", r.target),
                            )
                            .fact(assoc)
                            .fact(format!(
                                "{}: {} — a task reached on a public IP needs its subnet's route to the client to go to an internet gateway",
                                table.id,
                                describe_route(r)
                            ))
                            .fix(format!(
                                "Put a load balancer in front of the service (its security group admitting {from}) and reach the task through it."
                            ))
                        }
                    }
                });
            }
        }
    }
    steps.push(nacl_server_step(
        net,
        subnet_id,
        &from_peer,
        port,
        "task subnet",
    ));
    // The task's security groups must admit the port from --from.
    steps.push(task_groups_step(net, port, &from_peer, |step, task_sg| {
        let command = format!(
            "aws ec2 authorize-security-group-ingress --group-id {task_sg} --protocol tcp --port {port} --cidr {from}"
        );
        step.fix(match exposure(from) {
            Some(warning) => format!(
                "{command} — {warning}; behind a load balancer, admit its security group instead (--source-group sg-…)"
            ),
            None => command,
        })
    }));
    steps.push(container_step(net, container, port));
    PathEval {
        direction: Direction::Inbound {
            container: container.to_string(),
            port,
            from: from.to_string(),
            source: Source::Cidr,
        },
        subnet_id: subnet_id.to_string(),
        via: if inside_vpc { Via::Local } else { Via::Nowhere },
        steps,
        observed: None,
        title: format!("inbound tcp/{port} to {container} from {from}"),
    }
}
