//! The egress paths a Fargate task needs to start: for each subnet and
//! destination, route table → IGW / NAT / endpoint → security groups →
//! network ACLs → DNS.

use super::*;

pub(super) struct PathBuilder<'n, 'a> {
    pub(super) net: &'n Net<'a>,
    pub(super) subnet_id: String,
    pub(super) dest: Destination,
    pub(super) observed: Option<Observed>,
    pub(super) reliant: bool,
}

impl PathBuilder<'_, '_> {
    pub(super) fn eni_step(&self) -> Step {
        eni_step(self.net, &self.subnet_id)
    }

    pub(super) fn egress(self) -> PathEval {
        let net = self.net;
        let mut steps = vec![self.eni_step()];
        let dest = &self.dest;
        let endpoint_name = dest.endpoint_service();
        // Interface endpoint with private DNS: the host name resolves to it.
        let interface = match (&net.endpoints, &endpoint_name) {
            (Ok(eps), Some(name)) if !dest.is_gateway_service() => {
                let mut found: Vec<&VpcEndpoint> = eps
                    .iter()
                    .filter(|e| is_interface(e) && matches_service(e, name))
                    .collect();
                found.sort_by_key(|e| !endpoint_available(e));
                found.into_iter().next()
            }
            _ => None,
        };
        let private_dns = interface.filter(|e| e.private_dns_enabled == Some(true));
        steps.extend(dns_steps(net, private_dns));
        let (via, rest) = if let Some(ep) = private_dns {
            (
                Via::InterfaceEndpoint(ep.id.clone()),
                self.endpoint_path(ep),
            )
        } else if dest.is_gateway_service() && self.s3_gateway_route().is_some() {
            let (table, explicit, route, ep) = self.s3_gateway_route().expect("checked");
            (
                Via::GatewayEndpoint(route.target.clone()),
                self.gateway_path(table, explicit, &route.target, ep),
            )
        } else {
            let rest = self.route_path(interface);
            match (&net.endpoints, &endpoint_name) {
                // Unknown endpoints: one with private DNS may carry this
                // traffic, and whether the VPC relies on endpoints decides
                // which cause a missing route is; a blocked hop decides nothing.
                (Err(why), Some(_)) => {
                    let unless = if dest.is_gateway_service() {
                        format!("whether the VPC relies on endpoints, and so which cause this is, is unknown ({why})")
                    } else {
                        format!("unless an interface endpoint carries it ({why})")
                    };
                    (
                        rest.0,
                        rest.1
                            .into_iter()
                            .map(|s| s.undecided_unless(&unless))
                            .collect(),
                    )
                }
                _ => rest,
            }
        };
        steps.extend(rest);
        let assumed = dest.assumed.clone().unwrap_or_default();
        steps.push(Step::ok(format!("{}:{}", dest.host, dest.port), &[]).note(assumed));
        let multi = net.placement.subnet_ids.len() > 1;
        let title = format!(
            "egress to {}{}",
            dest.label(),
            if multi {
                format!(" from {}", self.subnet_id)
            } else {
                String::new()
            }
        );
        PathEval {
            direction: Direction::Egress(self.dest.clone()),
            subnet_id: self.subnet_id.clone(),
            via,
            steps,
            observed: self.observed.clone(),
            title,
        }
    }

    /// The route table's S3 prefix-list route to a gateway endpoint, if the table has one.
    pub(super) fn s3_gateway_route(
        &self,
    ) -> Option<(
        &RouteTable,
        bool,
        &crate::evidence::Route,
        Option<&VpcEndpoint>,
    )> {
        let (table, explicit) = self.net.table_of(&self.subnet_id).ok()?;
        let name = self.dest.endpoint_service()?;
        let eps = self.net.endpoints.as_ref().ok().copied().unwrap_or(&[]);
        table.routes.iter().find_map(|r| {
            let pl = r.destination_prefix_list_id.as_ref()?;
            if target_kind(&r.target) != TargetKind::VpcEndpoint {
                return None;
            }
            let ep = eps.iter().find(|e| e.id == r.target);
            let by_endpoint = ep.is_some_and(|e| matches_service(e, &name));
            let by_list = self
                .net
                .prefix_lists
                .iter()
                .any(|p| &p.id == pl && p.name.eq_ignore_ascii_case(&name));
            (by_endpoint || by_list).then_some((table, explicit, r, ep))
        })
    }

    pub(super) fn s3_prefix_list(&self) -> Option<&PrefixList> {
        let name = self.dest.endpoint_service()?;
        self.net
            .prefix_lists
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(&name))
    }

    pub(super) fn gateway_path(
        &self,
        table: &RouteTable,
        explicit: bool,
        vpce: &str,
        ep: Option<&VpcEndpoint>,
    ) -> Vec<Step> {
        let net = self.net;
        let route = table
            .routes
            .iter()
            .find(|r| r.target == vpce)
            .map(describe_route)
            .unwrap_or_default();
        let pl = self.s3_prefix_list();
        let peer = match pl {
            Some(list) => {
                let nets: Vec<Ipv4Net> = list.cidrs.iter().filter_map(|c| c.parse().ok()).collect();
                Peer::nets(format!("{} ({})", list.id, list.name), &nets)
                    .with_prefix_list(Some(list.id.clone()))
            }
            None => {
                let id = table
                    .routes
                    .iter()
                    .find(|r| r.target == vpce)
                    .and_then(|r| r.destination_prefix_list_id.clone());
                Peer::internet(id.clone().unwrap_or_else(|| "S3".into())).with_prefix_list(id)
            }
        };
        let mut steps = vec![
            sg_egress_step(net, &peer, self.dest.port),
            nacl_client_step(
                net,
                &self.subnet_id,
                &peer,
                self.dest.port,
                net.ephemeral,
                "task subnet",
            ),
        ];
        let route_step = Step::ok(
            format!("{}: {route}", table_label(table, explicit)),
            &[
                Cause::NoEgressRoute,
                Cause::NoPublicIp,
                Cause::VpcEndpointMissing,
            ],
        )
        .fact(association_fact(&self.subnet_id, table, explicit));
        steps.push(route_step);
        match ep {
            Some(ep) if !endpoint_available(ep) => steps.push(
                Step::blocked(
                    format!("{} (Gateway {})", ep.id, ep.service_name),
                    Cause::VpcEndpointMissing,
                    format!("state is {}", ep.state.clone().unwrap_or_default()),
                )
                .fact(format!(
                    "gateway endpoint {} ({}) is {}",
                    ep.id,
                    ep.service_name,
                    ep.state.clone().unwrap_or_default()
                ))
                .fix(format!("Recreate or repair {}; `aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {}` shows why", ep.id, ep.id)),
            ),
            Some(ep) => steps.push(Step::ok(
                format!("{} (Gateway {})", ep.id, ep.service_name),
                &[Cause::VpcEndpointMissing],
            )),
            None => steps.push(Step::ok(vpce.to_string(), &[Cause::VpcEndpointMissing])),
        }
        steps
    }

    pub(super) fn endpoint_path(&self, ep: &VpcEndpoint) -> Vec<Step> {
        let net = self.net;
        let port = self.dest.port;
        let mut steps = Vec::new();
        let ep_subnets: Vec<&String> = ep.subnet_ids.iter().collect();
        let ep_nets: Vec<Ipv4Net> = ep_subnets
            .iter()
            .filter_map(|s| net.subnet_net(s))
            .collect();
        let peer = Peer::nets(
            format!(
                "{} ({})",
                ep.id,
                if ep_nets.is_empty() {
                    "subnets unknown".to_string()
                } else {
                    addr::AddrSet::from_nets(&ep_nets).to_string()
                }
            ),
            &ep_nets,
        )
        .with_groups(&ep.security_group_ids);
        steps.push(sg_egress_step(net, &peer, port));
        let others: Vec<&String> = ep_subnets
            .iter()
            .copied()
            .filter(|s| **s != self.subnet_id)
            .collect();
        if !others.is_empty() {
            steps.push(nacl_client_step(
                net,
                &self.subnet_id,
                &peer,
                port,
                net.ephemeral,
                "task subnet",
            ));
        }
        // The endpoint itself.
        let task_az = net
            .subnet(&self.subnet_id)
            .and_then(|s| s.availability_zone.clone());
        let in_az = task_az.as_ref().map(|az| {
            ep_subnets
                .iter()
                .any(|s| net.subnet(s).and_then(|x| x.availability_zone.as_ref()) == Some(az))
        });
        let ep_label = format!("{} ({}, private DNS)", ep.id, ep.service_name);
        if !endpoint_available(ep) {
            steps.push(
                Step::blocked(
                    ep_label,
                    Cause::VpcEndpointMissing,
                    format!("state is {}", ep.state.clone().unwrap_or_default()),
                )
                .fact(format!(
                    "interface endpoint {} ({}) is {}, not available",
                    ep.id,
                    ep.service_name,
                    ep.state.clone().unwrap_or_default()
                ))
                .fix(format!(
                    "Repair or recreate {}: aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {}",
                    ep.id, ep.id
                )),
            );
        } else if ep_subnets.is_empty() {
            steps.push(
                Step::blocked(
                    ep_label,
                    Cause::VpcEndpointMissing,
                    "it has no subnets, so it has no network interface",
                )
                .fact(format!(
                    "interface endpoint {} ({}) has no subnets",
                    ep.id, ep.service_name
                ))
                .fix(format!(
                    "aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --add-subnet-ids {}",
                    ep.id, self.subnet_id
                )),
            );
        } else {
            let note = match (in_az, &task_az) {
                (Some(false), Some(az)) => format!(
                    "no endpoint subnet in {az}: traffic crosses Availability Zones (add {} to the endpoint)",
                    self.subnet_id
                ),
                _ => String::new(),
            };
            steps.push(Step::ok(ep_label, &[Cause::VpcEndpointMissing]).note(note));
        }
        // The endpoint's security groups must admit 443 from the task.
        let ep_groups: Vec<&SecurityGroup> = ep
            .security_group_ids
            .iter()
            .filter_map(|id| net.all_groups.iter().find(|g| &g.id == id))
            .collect();
        let task = net.task_peer(&self.subnet_id);
        let sg_label = format!(
            "{} ingress tcp/{port} (endpoint {})",
            if ep.security_group_ids.is_empty() {
                "endpoint security groups".to_string()
            } else {
                ep.security_group_ids.join(", ")
            },
            ep.id
        );
        if ep_groups.len() < ep.security_group_ids.len() || ep_groups.is_empty() {
            steps.push(Step::unknown(
                sg_label,
                &[Cause::SecurityGroupIngressClosed],
                format!(
                    "the endpoint's security groups {} are unknown",
                    ep.security_group_ids.join(", ")
                ),
            ));
        } else {
            let d = sg_decide(&ep_groups, false, port, &task, net.prefix_lists);
            let step = match d.allowed {
                Some(true) => {
                    Step::ok(sg_label, &[Cause::SecurityGroupIngressClosed]).fact(d.detail)
                }
                None => Step::unknown(sg_label, &[Cause::SecurityGroupIngressClosed], d.detail),
                Some(false) => {
                    let source = ingress_source(net, &task, &self.subnet_id);
                    Step::blocked(sg_label, Cause::SecurityGroupIngressClosed, d.detail.clone())
                        .fact(format!(
                            "endpoint {} ({}): {}",
                            ep.id, ep.service_name, d.detail
                        ))
                        .fix(format!(
                            "aws ec2 authorize-security-group-ingress --group-id {} --ip-permissions 'IpProtocol=tcp,FromPort={port},ToPort={port},{source}'",
                            ep_groups[0].id
                        ))
                }
            };
            steps.push(step);
        }
        for s in others {
            steps.push(nacl_server_step(net, s, &task, port, "endpoint subnet"));
        }
        steps
    }

    /// Traffic that follows the route table: IGW, NAT, or something else.
    pub(super) fn route_path(&self, interface: Option<&VpcEndpoint>) -> (Via, Vec<Step>) {
        let net = self.net;
        let dest = &self.dest;
        let route_causes = [
            Cause::NoEgressRoute,
            Cause::NoPublicIp,
            Cause::VpcEndpointMissing,
        ];
        let dialed_public = self
            .observed
            .as_ref()
            .and_then(|o| o.dialed)
            .and_then(|(ip, _)| match ip {
                IpAddr::V4(v4) if !is_private(&ip) => Some(v4),
                _ => None,
            });
        let peer = match dialed_public {
            Some(ip) => Peer::nets(format!("{ip} (from the stop reason)"), &[Ipv4Net::from(ip)])
                .of_public_service(),
            None => Peer::internet(format!("{} (internet)", dest.host)),
        };
        let mut steps = vec![
            sg_egress_step(net, &peer, dest.port),
            nacl_client_step(
                net,
                &self.subnet_id,
                &peer,
                dest.port,
                net.ephemeral,
                "task subnet",
            ),
        ];
        let (table, explicit) = match net.table_of(&self.subnet_id) {
            Ok(t) => t,
            Err(why) => {
                steps.push(Step::unknown("route table", &route_causes, why));
                return (Via::Nowhere, steps);
            }
        };
        let assoc = association_fact(&self.subnet_id, table, explicit);
        let probe = IpAddr::V4(dialed_public.unwrap_or(Ipv4Addr::new(203, 0, 113, 1)));
        let route = if dialed_public.is_some() {
            select_route(table, probe, net.prefix_lists)
        } else {
            crate::reach::routes::default_route(table)
        };
        let tlabel = table_label(table, explicit);
        // Why a missing internet path is a missing endpoint, and which.
        let endpoint_gap = self.endpoint_gap(interface, table);
        let Some(route) = route.filter(|r| target_kind(&r.target) != TargetKind::Local) else {
            let label = format!("{tlabel}: no route to 0.0.0.0/0");
            let step = match &endpoint_gap {
                Some((fact, fix)) if self.reliant => {
                    Step::blocked(label, Cause::VpcEndpointMissing, fact.clone())
                        .fact(assoc)
                        .fact(format!("{tlabel} has no 0.0.0.0/0 route, so {} can only be reached through a VPC endpoint", dest.host))
                        .fact(fact.clone())
                        .fix(fix.clone())
                }
                _ => Step::blocked(label, Cause::NoEgressRoute, "nothing carries traffic out of the VPC")
                    .fact(assoc)
                    .fact(format!("{tlabel} has no 0.0.0.0/0 route: {} ({}) is unreachable", dest.host, dest.service.label()))
                    .fix(format!(
                        "Route 0.0.0.0/0 to a NAT gateway in a public subnet: aws ec2 create-route --route-table-id {} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <nat-…>",
                        table.id
                    ))
                    .fix(match dest.endpoint_service() {
                        // A VPC's endpoints serve its own Region only.
                        Some(name) if dest.region == self.net.ev.region => format!("Or create the VPC endpoints the task needs, starting with {name}"),
                        Some(_) => format!("{} is in {}: a VPC endpoint serves only its own Region, so {INTERNET}", dest.host, dest.region),
                        None => format!("{} has no VPC endpoint: {INTERNET}", dest.host),
                    }),
            };
            steps.push(step);
            return (Via::Nowhere, steps);
        };
        let rlabel = format!("{tlabel}: {}", describe_route(route));
        if !is_active(route) {
            let mut step = Step::blocked(
                rlabel,
                Cause::NoEgressRoute,
                format!("the route is {}: its target no longer exists", route.state.clone().unwrap_or_default()),
            )
            .fact(assoc)
            .fact(format!(
                "{}: the route {} → {} is a {} route (its target no longer exists)",
                table.id,
                route.destination_cidr.clone().unwrap_or_else(|| "0.0.0.0/0".into()),
                route.target,
                route.state.clone().unwrap_or_default()
            ))
            .fix(format!(
                "Point the route at a working gateway: aws ec2 replace-route --route-table-id {} --destination-cidr-block {} --nat-gateway-id <nat-…>",
                table.id,
                route.destination_cidr.clone().unwrap_or_else(|| "0.0.0.0/0".into())
            ));
            if let (true, Some((fact, _))) = (self.reliant, &endpoint_gap) {
                step = step.fact(fact.clone());
            }
            steps.push(step);
            return (Via::Route(route.target.clone()), steps);
        }
        let via = Via::Route(route.target.clone());
        match target_kind(&route.target) {
            TargetKind::InternetGateway => {
                let attached = self.igw_attached(&route.target);
                let (public, public_label) = net.public_ip();
                match attached {
                    Err(why) => steps.push(Step::unknown(rlabel, &route_causes, why)),
                    Ok(false) => steps.push(
                        Step::blocked(rlabel, Cause::NoEgressRoute, format!("{} is not attached to {}", route.target, net.vpc_id))
                            .fact(assoc)
                            .fact(format!("{} is not attached to {}", route.target, net.vpc_id))
                            .fix(format!("aws ec2 attach-internet-gateway --internet-gateway-id {} --vpc-id {}", route.target, net.vpc_id)),
                    ),
                    Ok(true) => match public {
                        Some(true) => steps.push(
                            Step::ok(rlabel, &route_causes).fact(assoc).fact(public_label),
                        ),
                        None => steps.push(Step::unknown(
                            rlabel,
                            &[Cause::NoPublicIp],
                            "an IGW route needs a public IP, and whether the task had one is unknown (pass --assign-public-ip)",
                        )),
                        Some(false) => {
                            let p = net.placement;
                            let mut step = Step::blocked(rlabel, Cause::NoPublicIp, "an IGW route needs a public IP")
                                .fact(assoc)
                                .fact(format!(
                                    "{}: {} (a public subnet)",
                                    table.id,
                                    describe_route(route)
                                ))
                                .fact(format!(
                                    "assignPublicIp = DISABLED (from {})",
                                    source_label(p.assign_public_ip_source)
                                ));
                            if let (true, Some((fact, _))) = (self.reliant, &endpoint_gap) {
                                step = step.fact(fact.clone());
                            }
                            steps.push(step);
                        }
                    },
                }
            }
            TargetKind::NatGateway => steps.extend(self.nat_steps(rlabel, assoc, &route.target)),
            TargetKind::VpcEndpoint => steps.push(
                Step::blocked(rlabel, Cause::NoEgressRoute, "a gateway endpoint carries only its own service's traffic")
                    .fact(assoc)
                    .fix(format!("Route 0.0.0.0/0 in {} to a NAT gateway or an internet gateway", table.id)),
            ),
            _ => steps.push(Step::unknown(
                rlabel,
                &[Cause::NoEgressRoute],
                format!(
                    "traffic leaves through {}; ecs-doctor cannot see past it (check the next hop's routes and firewall)",
                    route.target
                ),
            )),
        }
        (via, steps)
    }

    /// When the internet path fails: the endpoint that would have served
    /// the destination, and why it did not (missing, private DNS off, not
    /// associated with the route table).
    pub(super) fn endpoint_gap(
        &self,
        interface: Option<&VpcEndpoint>,
        table: &RouteTable,
    ) -> Option<(String, String)> {
        let name = self.dest.endpoint_service()?;
        let region_matches = self.dest.region == self.net.ev.region;
        if !region_matches {
            return None;
        }
        if self.dest.is_gateway_service() {
            let eps = self.net.endpoints.as_ref().ok()?;
            if let Some(gw) = eps
                .iter()
                .find(|e| is_gateway(e) && matches_service(e, &name))
            {
                return Some((
                    format!(
                        "the S3 gateway endpoint {} exists but is not associated with {}",
                        gw.id, table.id
                    ),
                    format!(
                        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --add-route-table-ids {}",
                        gw.id, table.id
                    ),
                ));
            }
            return Some((
                format!("no S3 gateway endpoint ({name}): ECR image layers are stored in S3"),
                format!(
                    "aws ec2 create-vpc-endpoint --vpc-id {} --vpc-endpoint-type Gateway --service-name {name} --route-table-ids {}",
                    self.net.vpc_id, table.id
                ),
            ));
        }
        if let Some(ep) = interface {
            return Some((
                format!(
                    "{} ({name}) has private DNS disabled, so {} resolves to public addresses",
                    ep.id, self.dest.host
                ),
                format!(
                    "aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --private-dns-enabled",
                    ep.id
                ),
            ));
        }
        let groups = self
            .net
            .groups
            .as_ref()
            .ok()
            .and_then(|g| g.first())
            .map(|g| g.id.clone())
            .unwrap_or_else(|| "<sg-…>".into());
        Some((
            format!("no interface endpoint {name} in {}", self.net.vpc_id),
            format!(
                "aws ec2 create-vpc-endpoint --vpc-id {} --vpc-endpoint-type Interface --service-name {name} --subnet-ids {} --security-group-ids {groups} --private-dns-enabled",
                self.net.vpc_id, self.subnet_id
            ),
        ))
    }

    pub(super) fn igw_attached(&self, igw: &str) -> Result<bool, String> {
        match &self.net.ev.network.internet_gateways {
            Fact::Gathered { value } => Ok(value
                .iter()
                .any(|g| g.id == igw && g.attached_vpc_ids.contains(&self.net.vpc_id))),
            other => Err(format!(
                "internet gateways unknown: {}",
                other.gap_reason().unwrap_or_default()
            )),
        }
    }

    pub(super) fn nat_steps(&self, rlabel: String, assoc: String, nat_id: &str) -> Vec<Step> {
        let net = self.net;
        let route_causes = [
            Cause::NoEgressRoute,
            Cause::NoPublicIp,
            Cause::VpcEndpointMissing,
        ];
        let mut steps = vec![Step::ok(rlabel, &route_causes).fact(assoc)];
        let nats = match &net.nats {
            Ok(n) => n,
            Err(why) => {
                steps.push(Step::unknown(
                    nat_id.to_string(),
                    &[Cause::NoEgressRoute],
                    why.clone(),
                ));
                return steps;
            }
        };
        let Some(nat) = nats.iter().find(|n| n.id == nat_id) else {
            steps.push(
                Step::blocked(
                    nat_id.to_string(),
                    Cause::NoEgressRoute,
                    "the NAT gateway does not exist",
                )
                .fact(format!("{nat_id} is not among the VPC's NAT gateways"))
                .fix("Create a NAT gateway in a public subnet and point the route at it"),
            );
            return steps;
        };
        let state = nat.state.clone().unwrap_or_else(|| "unknown".into());
        let nat_label = format!(
            "{} ({state}{})",
            nat.id,
            nat.subnet_id
                .as_ref()
                .map(|s| format!(", in {s}"))
                .unwrap_or_default()
        );
        if !state.eq_ignore_ascii_case("available") {
            steps.push(
                Step::blocked(nat_label, Cause::NoEgressRoute, format!("the NAT gateway is {state}"))
                    .fact(format!("NAT gateway {} is {state}, not available", nat.id))
                    .fix("Create a new NAT gateway in a public subnet and replace the route's target with it"),
            );
            return steps;
        }
        if nat
            .connectivity_type
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("private"))
        {
            steps.push(
                Step::blocked(
                    nat_label,
                    Cause::NoEgressRoute,
                    "a private NAT gateway cannot reach the internet",
                )
                .fact(format!(
                    "NAT gateway {} has connectivityType = private",
                    nat.id
                ))
                .fix("Route 0.0.0.0/0 to a public NAT gateway instead"),
            );
            return steps;
        }
        steps.push(Step::ok(nat_label, &[Cause::NoEgressRoute]));
        let Some(nat_subnet) = nat.subnet_id.clone() else {
            steps.push(Step::unknown(
                "NAT gateway subnet",
                &[Cause::NoEgressRoute],
                format!("the subnet of {} is unknown", nat.id),
            ));
            return steps;
        };
        // The NAT's own subnet must route 0.0.0.0/0 to an attached internet gateway.
        match net.table_of(&nat_subnet) {
            Err(why) => steps.push(Step::unknown(
                format!("route table of {nat_subnet}"),
                &[Cause::NoEgressRoute],
                why,
            )),
            Ok((table, explicit)) => {
                let tlabel = table_label(table, explicit);
                match crate::reach::routes::default_route(table) {
                    Some(r)
                        if target_kind(&r.target) == TargetKind::InternetGateway
                            && is_active(r)
                            && self.igw_attached(&r.target).unwrap_or(true) =>
                    {
                        steps.push(Step::ok(
                            format!("{tlabel}: {}", describe_route(r)),
                            &[Cause::NoEgressRoute],
                        ));
                    }
                    other => {
                        let what = other
                            .map(describe_route)
                            .unwrap_or_else(|| "no route to 0.0.0.0/0".into());
                        let label = format!("{tlabel}: {what}");
                        steps.push(
                            Step::blocked(
                                label,
                                Cause::NoEgressRoute,
                                format!("the NAT gateway's subnet {nat_subnet} does not route to an internet gateway"),
                            )
                            .fact(format!(
                                "{} sits in {nat_subnet}, whose route table {} has {what} (a NAT gateway needs 0.0.0.0/0 → igw-… in its own subnet)",
                                nat.id, table.id
                            ))
                            .fix(format!(
                                "aws ec2 create-route --route-table-id {} --destination-cidr-block 0.0.0.0/0 --gateway-id <igw-…>",
                                table.id
                            )),
                        );
                    }
                }
            }
        }
        if nat_subnet != self.subnet_id {
            let task = net.task_peer(&self.subnet_id);
            let internet = Peer::internet(format!("{} (internet)", self.dest.host));
            steps.push(nacl_nat_step(
                net,
                &nat_subnet,
                &task,
                &internet,
                self.dest.port,
            ));
        }
        steps
    }
}

/// What reaches a destination no VPC endpoint of the task's serves.
const INTERNET: &str = "it needs a NAT gateway (or a public IP and an internet gateway route)";

pub(super) fn net_multi(net: &Net<'_>) -> bool {
    net.placement.subnet_ids.len() > 1
}

/// Every egress path the task needed to start, per subnet and destination.
pub(super) fn egress_scope(ev: &Evidence, stops: &StopTexts) -> Scope {
    let net = match fargate_net(
        ev,
        "not a Fargate task: image, secret and log traffic goes through the container instance, not the task ENI",
    ) {
        Ok(n) => n,
        Err(scope) => return scope,
    };
    let Some(dests) = destinations(ev) else {
        return Scope::Unknown(format!(
            "the task definition is unknown ({}), so the destinations are too",
            ev.task_definition.gap_reason().unwrap_or_default()
        ));
    };
    let reliant = relies_on_endpoints(&net, &dests);
    let mut paths = Vec::new();
    for subnet_id in &net.placement.subnet_ids {
        for d in &dests {
            let b = PathBuilder {
                net: &net,
                subnet_id: subnet_id.clone(),
                dest: d.clone(),
                observed: observed(stops, d),
                reliant,
            };
            paths.push(b.egress());
        }
    }
    Scope::Paths(paths)
}

/// The task's network, for paths that leave through its own ENI: only a
/// Fargate task's do (`not_fargate` says where the others' traffic goes).
pub(super) fn fargate_net<'a>(ev: &'a Evidence, not_fargate: &str) -> Result<Net<'a>, Scope> {
    match on_fargate(ev) {
        Some(false) => Err(Scope::Skipped(not_fargate.into())),
        None => Err(Scope::Unknown("the launch type is unknown".into())),
        Some(true) => Net::new(ev),
    }
}
