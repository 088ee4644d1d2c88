//! EC2: the task's ENI and the VPC around it (subnets, route tables,
//! gateways, endpoints, security groups, network ACLs, DNS attributes).

use super::Collector;
use aws_sdk_ec2::types::{Filter, VpcAttributeName};
use ecs_doctor_checks::evidence::*;

fn vpc_filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// The task's ENI, if it still exists (Fargate deletes it soon after a stop).
pub async fn task_eni(c: &Collector, task: &Task) -> Fact<NetworkInterface> {
    let Some(eni_id) = task.eni_attachment.as_ref().and_then(|a| a.eni_id.clone()) else {
        return Fact::not_applicable("the task has no ENI attachment");
    };
    // AWS marks the attachment DELETED once the ENI is gone; asking EC2
    // would only be told it does not exist.
    if task
        .eni_attachment
        .as_ref()
        .and_then(|a| a.status.as_deref())
        == Some("DELETED")
    {
        return Fact::absent(format!(
            "{eni_id} no longer exists (its attachment is DELETED: the ENI was deleted when the task stopped)"
        ));
    }
    let result = c
        .ec2()
        .describe_network_interfaces()
        .network_interface_ids(&eni_id)
        .send()
        .await;
    match c.fact(
        "ec2:DescribeNetworkInterfaces",
        "the task's public IP and security groups from its ENI",
        result,
    ) {
        Fact::Gathered { value } => match value.network_interfaces().first() {
            Some(n) => Fact::gathered(NetworkInterface {
                id: eni_id,
                status: n.status().map(|s| s.as_str().to_string()),
                subnet_id: n.subnet_id().map(str::to_string),
                private_ip: n.private_ip_address().map(str::to_string),
                public_ip: n
                    .association()
                    .and_then(|a| a.public_ip())
                    .map(str::to_string),
                security_group_ids: n
                    .groups()
                    .iter()
                    .filter_map(|g| g.group_id().map(str::to_string))
                    .collect(),
            }),
            None => Fact::absent(format!(
                "{eni_id} no longer exists (deleted when the task stopped)"
            )),
        },
        other => other.map(|_| NetworkInterface::default()),
    }
}

/// Recover where the task sat: its ENI if it still exists, else the
/// service's network configuration (the deployment that launched it), else
/// the ENI attachment; command-line flags fill what AWS no longer holds.
pub fn placement(
    task: &Task,
    td: Option<&TaskDefinition>,
    service: Option<&Service>,
    eni: &Fact<NetworkInterface>,
    inputs: &Inputs,
) -> Fact<TaskPlacement> {
    let awsvpc = td
        .and_then(|t| t.network_mode.as_deref())
        .map(|m| m == "awsvpc");
    if awsvpc == Some(false) && task.eni_attachment.is_none() {
        return Fact::not_applicable("the task does not use awsvpc networking");
    }
    let mut p = TaskPlacement::default();
    let service_cfg = service.and_then(|s| {
        let launched_by = task.started_by.as_deref();
        s.deployments
            .iter()
            .find(|d| Some(d.id.as_str()) == launched_by)
            .and_then(|d| d.network_configuration.clone())
            .or_else(|| s.network_configuration.clone())
    });
    if let Some(e) = eni.value() {
        if let Some(s) = &e.subnet_id {
            p.subnet_ids = vec![s.clone()];
            p.subnet_source = NetworkSource::Eni;
        }
        p.security_group_ids = e.security_group_ids.clone();
        p.security_groups_source = NetworkSource::Eni;
        p.public_ip = e.public_ip.clone();
        p.private_ip = e.private_ip.clone();
        p.assign_public_ip = Some(e.public_ip.is_some());
        p.assign_public_ip_source = NetworkSource::Eni;
    }
    if let Some(att) = &task.eni_attachment {
        if p.subnet_ids.is_empty() {
            if let Some(s) = &att.subnet_id {
                p.subnet_ids = vec![s.clone()];
                p.subnet_source = NetworkSource::TaskAttachment;
            }
        }
        if p.private_ip.is_none() {
            p.private_ip = att.private_ip.clone();
        }
    }
    if let Some(cfg) = &service_cfg {
        if p.subnet_ids.is_empty() {
            p.subnet_ids = cfg.subnets.clone();
            p.subnet_source = NetworkSource::Service;
        }
        if p.security_groups_source != NetworkSource::Eni {
            p.security_group_ids = cfg.security_groups.clone();
            p.security_groups_source = NetworkSource::Service;
        }
        if p.assign_public_ip.is_none() {
            // AWS defaults assignPublicIp to DISABLED.
            p.assign_public_ip = Some(cfg.assign_public_ip.unwrap_or(false));
            p.assign_public_ip_source = NetworkSource::Service;
        }
    }
    if !inputs.subnets.is_empty() && p.subnet_ids.is_empty() {
        p.subnet_ids = inputs.subnets.clone();
        p.subnet_source = NetworkSource::User;
    }
    if !inputs.security_groups.is_empty() && p.security_group_ids.is_empty() {
        p.security_group_ids = inputs.security_groups.clone();
        p.security_groups_source = NetworkSource::User;
    }
    p.assume_public_ip(inputs.assign_public_ip);
    if p.subnet_ids.is_empty() {
        return Fact::not_applicable(
            "no subnet is known for the task (name it with `ecs-doctor task … --subnet`)",
        );
    }
    Fact::gathered(p)
}

const IMPACT_ROUTES: &str = "the egress route checks (IGW, NAT, endpoints)";

/// Everything about the VPC the task sat in.
pub async fn network(
    c: &Collector,
    placement: Fact<TaskPlacement>,
    eni: Fact<NetworkInterface>,
) -> Network {
    let mut net = Network {
        placement: placement.clone(),
        eni,
        ..Network::default()
    };
    let Some(p) = placement.value() else {
        let reason = placement.gap_reason().unwrap_or_default();
        net.vpc = Fact::not_applicable(reason.clone());
        net.subnets = Fact::not_applicable(reason);
        return net;
    };
    let ec2 = c.ec2();
    let subnets = ec2
        .describe_subnets()
        .set_subnet_ids(Some(p.subnet_ids.clone()))
        .send()
        .await;
    net.subnets = c
        .fact("ec2:DescribeSubnets", "every network check", subnets)
        .map(|out| out.subnets().iter().map(convert_subnet).collect());
    let Some(vpc_id) = net
        .subnets
        .value()
        .and_then(|s| s.first())
        .map(|s| s.vpc_id.clone())
    else {
        let reason = net
            .subnets
            .gap_reason()
            .unwrap_or_else(|| "the task's subnet was not found".into());
        net.vpc = Fact::not_applicable(reason.clone());
        net.route_tables = Fact::not_applicable(reason.clone());
        return net;
    };

    // The other subnets of the VPC: where the NAT gateways and the interface
    // endpoints sit (their CIDRs, Availability Zones and network ACLs).
    let vpc_subnets = async {
        let pages = ec2
            .describe_subnets()
            .filters(vpc_filter("vpc-id", &vpc_id))
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        c.listed(
            "ec2:DescribeSubnets",
            "the NAT gateway and VPC endpoint subnets' CIDRs and network ACLs",
            pages,
            |out| out.subnets().iter().map(convert_subnet).collect::<Vec<_>>(),
        )
    };
    let route_tables = async {
        let pages = ec2
            .describe_route_tables()
            .filters(vpc_filter("vpc-id", &vpc_id))
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        c.listed("ec2:DescribeRouteTables", IMPACT_ROUTES, pages, |out| {
            out.route_tables()
                .iter()
                .map(convert_route_table)
                .collect::<Vec<_>>()
        })
    };
    let igws = async {
        let pages = ec2
            .describe_internet_gateways()
            .filters(vpc_filter("attachment.vpc-id", &vpc_id))
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        c.listed(
            "ec2:DescribeInternetGateways",
            IMPACT_ROUTES,
            pages,
            |out| {
                out.internet_gateways()
                    .iter()
                    .map(|g| InternetGateway {
                        id: g.internet_gateway_id().unwrap_or_default().to_string(),
                        attached_vpc_ids: g
                            .attachments()
                            .iter()
                            .filter_map(|a| a.vpc_id().map(str::to_string))
                            .collect(),
                    })
                    .collect::<Vec<_>>()
            },
        )
    };
    let nats = async {
        let pages = ec2
            .describe_nat_gateways()
            .filter(vpc_filter("vpc-id", &vpc_id))
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        c.listed(
            "ec2:DescribeNatGateways",
            "the NAT gateway checks",
            pages,
            |out| {
                out.nat_gateways()
                    .iter()
                    .map(|n| NatGateway {
                        id: n.nat_gateway_id().unwrap_or_default().to_string(),
                        subnet_id: n.subnet_id().map(str::to_string),
                        state: n.state().map(|s| s.as_str().to_string()),
                        connectivity_type: n.connectivity_type().map(|t| t.as_str().to_string()),
                        public_ip: n
                            .nat_gateway_addresses()
                            .iter()
                            .find_map(|a| a.public_ip().map(str::to_string)),
                    })
                    .collect::<Vec<_>>()
            },
        )
    };
    let endpoints = async {
        let pages = ec2
            .describe_vpc_endpoints()
            .filters(vpc_filter("vpc-id", &vpc_id))
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        c.listed(
            "ec2:DescribeVpcEndpoints",
            "the VPC endpoint checks",
            pages,
            |out| {
                out.vpc_endpoints()
                    .iter()
                    .map(|e| VpcEndpoint {
                        id: e.vpc_endpoint_id().unwrap_or_default().to_string(),
                        service_name: e.service_name().unwrap_or_default().to_string(),
                        endpoint_type: e
                            .vpc_endpoint_type()
                            .map(|t| t.as_str().to_string())
                            .unwrap_or_default(),
                        state: e.state().map(|s| s.as_str().to_string()),
                        private_dns_enabled: e.private_dns_enabled(),
                        subnet_ids: e.subnet_ids().to_vec(),
                        security_group_ids: e
                            .groups()
                            .iter()
                            .filter_map(|g| g.group_id().map(str::to_string))
                            .collect(),
                        route_table_ids: e.route_table_ids().to_vec(),
                        policy: e
                            .policy_document()
                            .and_then(|d| serde_json::from_str(d).ok()),
                    })
                    .collect::<Vec<_>>()
            },
        )
    };
    let sgs = async {
        let pages = ec2
            .describe_security_groups()
            .filters(vpc_filter("vpc-id", &vpc_id))
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        c.listed(
            "ec2:DescribeSecurityGroups",
            "the security group checks",
            pages,
            |out| {
                out.security_groups()
                    .iter()
                    .map(convert_sg)
                    .collect::<Vec<_>>()
            },
        )
    };
    let nacls = async {
        let pages = ec2
            .describe_network_acls()
            .filters(vpc_filter("vpc-id", &vpc_id))
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        c.listed(
            "ec2:DescribeNetworkAcls",
            "the network ACL checks",
            pages,
            |out| {
                out.network_acls()
                    .iter()
                    .map(|a| NetworkAcl {
                        id: a.network_acl_id().unwrap_or_default().to_string(),
                        vpc_id: a.vpc_id().map(str::to_string),
                        is_default: a.is_default().unwrap_or(false),
                        subnet_ids: a
                            .associations()
                            .iter()
                            .filter_map(|s| s.subnet_id().map(str::to_string))
                            .collect(),
                        entries: a
                            .entries()
                            .iter()
                            .map(|e| NetworkAclEntry {
                                rule_number: e.rule_number().unwrap_or_default(),
                                egress: e.egress().unwrap_or(false),
                                protocol: e.protocol().unwrap_or("-1").to_string(),
                                action: e
                                    .rule_action()
                                    .map(|r| r.as_str().to_string())
                                    .unwrap_or_default(),
                                cidr_block: e.cidr_block().map(str::to_string),
                                ipv6_cidr_block: e.ipv6_cidr_block().map(str::to_string),
                                port_from: e.port_range().and_then(|p| p.from()),
                                port_to: e.port_range().and_then(|p| p.to()),
                            })
                            .collect(),
                    })
                    .collect::<Vec<_>>()
            },
        )
    };
    let vpc = async {
        let (desc, dns_support, dns_hostnames) = tokio::join!(
            ec2.describe_vpcs().vpc_ids(&vpc_id).send(),
            ec2.describe_vpc_attribute()
                .vpc_id(&vpc_id)
                .attribute(VpcAttributeName::EnableDnsSupport)
                .send(),
            ec2.describe_vpc_attribute()
                .vpc_id(&vpc_id)
                .attribute(VpcAttributeName::EnableDnsHostnames)
                .send(),
        );
        let cidrs = c
            .fact("ec2:DescribeVpcs", "the VPC checks", desc)
            .map(|out| {
                out.vpcs()
                    .first()
                    .map(|v| {
                        let mut cidrs: Vec<String> = v
                            .cidr_block_association_set()
                            .iter()
                            .filter_map(|a| a.cidr_block().map(str::to_string))
                            .collect();
                        if cidrs.is_empty() {
                            cidrs.extend(v.cidr_block().map(str::to_string));
                        }
                        cidrs
                    })
                    .unwrap_or_default()
            });
        Fact::gathered(Vpc {
            id: vpc_id.clone(),
            cidr_blocks: cidrs.value().cloned().unwrap_or_default(),
            enable_dns_support: c
                .fact("ec2:DescribeVpcAttribute", "the VPC DNS check", dns_support)
                .map(|o| {
                    o.enable_dns_support()
                        .and_then(|a| a.value())
                        .unwrap_or(true)
                }),
            enable_dns_hostnames: c
                .fact(
                    "ec2:DescribeVpcAttribute",
                    "the VPC DNS check",
                    dns_hostnames,
                )
                .map(|o| {
                    o.enable_dns_hostnames()
                        .and_then(|a| a.value())
                        .unwrap_or(false)
                }),
        })
    };
    let (rts, igws, nats, endpoints, sgs, nacls, vpc, others) = tokio::join!(
        route_tables,
        igws,
        nats,
        endpoints,
        sgs,
        nacls,
        vpc,
        vpc_subnets
    );
    if let (
        Fact::Gathered {
            value: task_subnets,
        },
        Fact::Gathered { value: others },
    ) = (&mut net.subnets, others)
    {
        for s in others {
            if !task_subnets.iter().any(|t| t.id == s.id) {
                task_subnets.push(s);
            }
        }
    }
    net.route_tables = rts;
    net.internet_gateways = igws;
    net.nat_gateways = nats;
    net.vpc_endpoints = endpoints;
    net.security_groups = sgs;
    net.network_acls = nacls;
    net.vpc = vpc;
    net.prefix_lists = prefix_lists(c, &net).await;
    net
}

/// The prefix lists that routes and security group rules refer to (the S3
/// gateway endpoint's, typically), with their CIDRs.
async fn prefix_lists(c: &Collector, net: &Network) -> Fact<Vec<PrefixList>> {
    let mut ids: Vec<String> = Vec::new();
    if let Some(tables) = net.route_tables.value() {
        ids.extend(
            tables
                .iter()
                .flat_map(|t| t.routes.iter())
                .filter_map(|r| r.destination_prefix_list_id.clone()),
        );
    }
    if let Some(groups) = net.security_groups.value() {
        ids.extend(
            groups
                .iter()
                .flat_map(|g| g.egress.iter().chain(g.ingress.iter()))
                .flat_map(|r| r.prefix_list_ids.clone()),
        );
    }
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Fact::gathered(Vec::new());
    }
    let r = c
        .ec2()
        .describe_prefix_lists()
        .set_prefix_list_ids(Some(ids))
        .send()
        .await;
    c.fact(
        "ec2:DescribePrefixLists",
        "routes and security group rules that use prefix lists",
        r,
    )
    .map(|out| {
        out.prefix_lists()
            .iter()
            .map(|p| PrefixList {
                id: p.prefix_list_id().unwrap_or_default().to_string(),
                name: p.prefix_list_name().unwrap_or_default().to_string(),
                cidrs: p.cidrs().to_vec(),
            })
            .collect()
    })
}

fn convert_subnet(s: &aws_sdk_ec2::types::Subnet) -> Subnet {
    Subnet {
        id: s.subnet_id().unwrap_or_default().to_string(),
        vpc_id: s.vpc_id().unwrap_or_default().to_string(),
        availability_zone: s.availability_zone().map(str::to_string),
        cidr_block: s.cidr_block().map(str::to_string),
        available_ip_address_count: s.available_ip_address_count(),
        map_public_ip_on_launch: s.map_public_ip_on_launch(),
    }
}

fn convert_route_table(t: &aws_sdk_ec2::types::RouteTable) -> RouteTable {
    RouteTable {
        id: t.route_table_id().unwrap_or_default().to_string(),
        vpc_id: t.vpc_id().unwrap_or_default().to_string(),
        main: t.associations().iter().any(|a| a.main().unwrap_or(false)),
        subnet_ids: t
            .associations()
            .iter()
            .filter_map(|a| a.subnet_id().map(str::to_string))
            .collect(),
        routes: t
            .routes()
            .iter()
            .map(|r| Route {
                destination_cidr: r.destination_cidr_block().map(str::to_string),
                destination_ipv6_cidr: r.destination_ipv6_cidr_block().map(str::to_string),
                destination_prefix_list_id: r.destination_prefix_list_id().map(str::to_string),
                target: r
                    .gateway_id()
                    .or(r.nat_gateway_id())
                    .or(r.transit_gateway_id())
                    .or(r.vpc_peering_connection_id())
                    .or(r.egress_only_internet_gateway_id())
                    .or(r.local_gateway_id())
                    .or(r.carrier_gateway_id())
                    .or(r.core_network_arn())
                    .or(r.network_interface_id())
                    .or(r.instance_id())
                    .unwrap_or("unknown")
                    .to_string(),
                state: r.state().map(|s| s.as_str().to_string()),
            })
            .collect(),
    }
}

fn convert_rules(perms: &[aws_sdk_ec2::types::IpPermission]) -> Vec<SecurityGroupRule> {
    perms
        .iter()
        .map(|p| SecurityGroupRule {
            protocol: p.ip_protocol().unwrap_or("-1").to_string(),
            from_port: p.from_port(),
            to_port: p.to_port(),
            ipv4_ranges: p
                .ip_ranges()
                .iter()
                .filter_map(|r| r.cidr_ip().map(str::to_string))
                .collect(),
            ipv6_ranges: p
                .ipv6_ranges()
                .iter()
                .filter_map(|r| r.cidr_ipv6().map(str::to_string))
                .collect(),
            prefix_list_ids: p
                .prefix_list_ids()
                .iter()
                .filter_map(|r| r.prefix_list_id().map(str::to_string))
                .collect(),
            group_ids: p
                .user_id_group_pairs()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_string))
                .collect(),
        })
        .collect()
}

fn convert_sg(g: &aws_sdk_ec2::types::SecurityGroup) -> SecurityGroup {
    SecurityGroup {
        id: g.group_id().unwrap_or_default().to_string(),
        name: g.group_name().map(str::to_string),
        vpc_id: g.vpc_id().map(str::to_string),
        ingress: convert_rules(g.ip_permissions()),
        egress: convert_rules(g.ip_permissions_egress()),
    }
}
