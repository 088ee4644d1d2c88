//! Inbound reachability of a running task: from `--from` to each container
//! port, through the public IP, the reply route, the subnet's network ACL
//! and the task's security groups.

use super::*;

/// Inbound paths to a running task's container ports from `--from`.
pub(super) fn inbound_scope(ev: &Evidence) -> Scope {
    if !ev.task.last_status.eq_ignore_ascii_case("RUNNING") {
        return Scope::Skipped("inbound reachability is evaluated for RUNNING tasks".into());
    }
    let net = match Net::new(ev) {
        Ok(n) => n,
        Err(scope) => return scope,
    };
    let Some(td) = ev.task_def() else {
        return Scope::Unknown("the task definition (container ports) is unknown".into());
    };
    let from_text = ev
        .inputs
        .from_cidr
        .clone()
        .unwrap_or_else(|| "0.0.0.0/0".into());
    let Ok(from) = from_text.parse::<Ipv4Net>().map(|n| n.trunc()) else {
        return Scope::Unknown(format!("--from {from_text} is not an IPv4 CIDR"));
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
    if ports.is_empty() {
        return Scope::Skipped("no container exposes a TCP port".into());
    }
    let Some(subnet_id) = net.placement.subnet_ids.first().cloned() else {
        return Scope::Unknown("the task's subnet is unknown".into());
    };
    let from_peer = Peer::nets(format!("{from} (--from)"), &[from]);
    let inside_vpc = net.vpc_cidrs.iter().any(|c| c.contains(&from));
    let private_from = is_private(&IpAddr::V4(from.network())) && from.prefix_len() > 0;
    let mut paths = Vec::new();
    for (container, port) in ports {
        let mut steps = vec![Step::ok(format!("client {from}"), &[])];
        let route_causes = [Cause::NoEgressRoute, Cause::NoPublicIp];
        if inside_vpc {
            steps.push(Step::ok("local route (inside the VPC)", &route_causes));
        } else {
            let mut no_public_ip = false;
            if !private_from {
                let (public, label) = net.public_ip();
                no_public_ip = public == Some(false);
                let step = match public {
                    Some(true) => Step::ok(label, &[Cause::NoPublicIp]),
                    None => Step::unknown(label, &[Cause::NoPublicIp], "pass --assign-public-ip"),
                    Some(false) => Step::blocked("task ENI: no public IP", Cause::NoPublicIp, "nothing outside the VPC can address the task")
                        .fact(format!(
                            "the task's ENI has no public IP (assignPublicIp from {})",
                            source_label(net.placement.assign_public_ip_source)
                        ))
                        .fact(format!("{from} is outside the VPC, so it can reach the task only through a public address")),
                };
                steps.push(step);
            }
            match net.table_of(&subnet_id) {
                // Without a public address nothing arrives, so the reply route does not matter.
                _ if no_public_ip => {}
                Err(why) => steps.push(Step::unknown("route table", &route_causes, why)),
                Ok((table, explicit)) => {
                    let tlabel = table_label(table, explicit);
                    let assoc = association_fact(&subnet_id, table, explicit);
                    let route = select_route(table, IpAddr::V4(from.network()), net.prefix_lists)
                        .filter(|r| target_kind(&r.target) != TargetKind::Local);
                    match route {
                        None => steps.push(
                            Step::blocked(format!("{tlabel}: no route back to {from}"), Cause::NoEgressRoute, "replies have no way out")
                                .fact(assoc)
                                .fix(format!("aws ec2 create-route --route-table-id {} --destination-cidr-block 0.0.0.0/0 --gateway-id <igw-…>", table.id)),
                        ),
                        Some(r) => {
                            let rlabel = format!("{tlabel}: {} (replies)", describe_route(r));
                            let kind = target_kind(&r.target);
                            if !is_active(r) {
                                steps.push(Step::blocked(rlabel, Cause::NoEgressRoute, "the route is a blackhole").fact(assoc));
                            } else if private_from {
                                steps.push(Step::unknown(rlabel, &[Cause::NoEgressRoute], format!("replies go through {}; ecs-doctor cannot see past it", r.target)));
                            } else if kind == TargetKind::InternetGateway {
                                steps.push(Step::ok(rlabel, &route_causes));
                            } else {
                                steps.push(
                                    Step::blocked(
                                        rlabel,
                                        Cause::NoEgressRoute,
                                        format!("replies leave through {}, not an internet gateway, so they never reach the client", r.target),
                                    )
                                    .fact(assoc)
                                    .fact(format!("{}: {} — a task reached on a public IP needs its subnet's 0.0.0.0/0 route to go to an internet gateway", table.id, describe_route(r)))
                                    .fix("Put the task in a public subnet (0.0.0.0/0 → igw-…) with assignPublicIp=ENABLED, or put a load balancer in front of it"),
                                );
                            }
                        }
                    }
                }
            }
        }
        steps.push(nacl_server_step(
            &net,
            &subnet_id,
            &from_peer,
            port,
            "task subnet",
        ));
        // The task's security groups must admit the port from --from.
        match &net.groups {
            Err(why) => steps.push(Step::unknown(
                "task security groups",
                &[Cause::SecurityGroupIngressClosed],
                why.clone(),
            )),
            Ok(groups) => {
                let ids: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
                let label = format!("{} ingress tcp/{port}", ids.join(", "));
                let d = sg_decide(groups, false, port, &from_peer, net.prefix_lists);
                steps.push(match d.allowed {
                    Some(true) => Step::ok(label, &[Cause::SecurityGroupIngressClosed]).fact(d.detail),
                    None => Step::unknown(label, &[Cause::SecurityGroupIngressClosed], d.detail),
                    Some(false) => {
                        let mut s = Step::blocked(label, Cause::SecurityGroupIngressClosed, d.detail.clone())
                            .fact(d.detail)
                            .fix(format!(
                                "aws ec2 authorize-security-group-ingress --group-id {} --protocol tcp --port {port} --cidr {from}",
                                ids.first().copied().unwrap_or("<sg-…>")
                            ));
                        if let Some(n) = &net.groups_note {
                            s = s.fact(n.clone());
                        }
                        s
                    }
                });
            }
        }
        let mut last = Step::ok(format!("container {container}:{port}"), &[]);
        if let Some(listen) = crate::logs::announced(ev.log_lines(&container)) {
            if listen.port != i32::from(port) {
                last = last.note(format!(
                    "the logs say the app listens on {}: \"{}\"",
                    listen.port, listen.line
                ));
            }
        }
        steps.push(last);
        paths.push(PathEval {
            direction: Direction::Inbound {
                container: container.clone(),
                port,
                from: from.to_string(),
            },
            subnet_id: subnet_id.clone(),
            via: if inside_vpc { Via::Local } else { Via::Nowhere },
            steps,
            observed: None,
            title: format!("inbound tcp/{port} to {container} from {from}"),
        });
    }
    Scope::Paths(paths)
}
