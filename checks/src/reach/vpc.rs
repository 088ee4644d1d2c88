//! The network facts of the task's VPC, borrowed from the evidence, with
//! what each fact could not be gathered for.

use super::*;

/// The network facts of the task's VPC, borrowed from the evidence.
pub(super) struct Net<'a> {
    pub(super) ev: &'a Evidence,
    pub(super) placement: &'a TaskPlacement,
    pub(super) vpc_id: String,
    pub(super) vpc_cidrs: Vec<Ipv4Net>,
    pub(super) subnets: &'a [Subnet],
    pub(super) tables: Result<&'a [RouteTable], String>,
    pub(super) nats: Result<&'a [NatGateway], String>,
    pub(super) endpoints: Result<&'a [VpcEndpoint], String>,
    pub(super) nacls: Result<&'a [NetworkAcl], String>,
    pub(super) prefix_lists: &'a [PrefixList],
    /// The task's security groups, or why they are unknown.
    pub(super) groups: Result<Vec<&'a SecurityGroup>, String>,
    /// A note when the groups were assumed.
    pub(super) groups_note: Option<String>,
    pub(super) all_groups: &'a [SecurityGroup],
    pub(super) ephemeral: (u16, u16),
}

pub(super) fn listed<'a, T>(fact: &'a Fact<Vec<T>>, what: &str) -> Result<&'a [T], String> {
    match fact {
        Fact::Gathered { value } => Ok(value.as_slice()),
        other => Err(format!(
            "{what} unknown: {}",
            other.gap_reason().unwrap_or_default()
        )),
    }
}

pub(super) fn source_label(source: NetworkSource) -> &'static str {
    match source {
        NetworkSource::Eni => "the task's ENI",
        NetworkSource::Service => "the service's networkConfiguration",
        NetworkSource::TaskAttachment => "the task's ENI attachment",
        NetworkSource::User => "the command line, assumed",
        NetworkSource::Unknown => "an unknown source",
    }
}

impl<'a> Net<'a> {
    pub(super) fn new(ev: &'a Evidence) -> Result<Net<'a>, Scope> {
        let placement = match &ev.network.placement {
            Fact::Gathered { value } => value,
            other => {
                let why = other.gap_reason().unwrap_or_default();
                let awsvpc = ev.task.eni_attachment.is_some()
                    || ev
                        .task_def()
                        .and_then(|t| t.network_mode.as_deref())
                        .is_some_and(|m| m == "awsvpc");
                return Err(if awsvpc {
                    Scope::Unknown(format!(
                        "the task's subnet is unknown ({why}); name it with `ecs-doctor task … --subnet`"
                    ))
                } else {
                    Scope::Skipped(format!("no awsvpc network placement: {why}"))
                });
            }
        };
        let subnets = listed(&ev.network.subnets, "subnets").map_err(Scope::Unknown)?;
        let vpc_id = placement
            .subnet_ids
            .iter()
            .find_map(|id| subnets.iter().find(|s| &s.id == id))
            .map(|s| s.vpc_id.clone())
            .or_else(|| ev.network.vpc.value().map(|v| v.id.clone()))
            .ok_or_else(|| {
                Scope::Unknown(format!(
                    "the task's subnet {} was not found",
                    placement.subnet_ids.join(", ")
                ))
            })?;
        let vpc_cidrs = ev
            .network
            .vpc
            .value()
            .map(|v| {
                v.cidr_blocks
                    .iter()
                    .filter_map(|c| c.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let all_groups: &[SecurityGroup] = ev
            .network
            .security_groups
            .value()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut groups_note = None;
        let groups = match &ev.network.security_groups {
            Fact::Gathered { value } => {
                let mut ids = placement.security_group_ids.clone();
                if ids.is_empty() && placement.security_groups_source != NetworkSource::Unknown {
                    // ECS attaches the VPC's default group when none is given.
                    if let Some(d) = value.iter().find(|g| {
                        g.name.as_deref() == Some("default")
                            && g.vpc_id.as_deref().is_none_or(|v| v == vpc_id)
                    }) {
                        ids.push(d.id.clone());
                        groups_note = Some(format!(
                            "no group configured, so the VPC's default group {} applies",
                            d.id
                        ));
                    }
                }
                if ids.is_empty() {
                    Err(
                        "the task's security groups are unknown (name them with `ecs-doctor task … --security-group`)"
                            .to_string(),
                    )
                } else {
                    let found: Vec<&SecurityGroup> = ids
                        .iter()
                        .filter_map(|id| value.iter().find(|g| &g.id == id))
                        .collect();
                    let missing: Vec<&String> = ids
                        .iter()
                        .filter(|id| !value.iter().any(|g| &g.id == *id))
                        .collect();
                    if missing.is_empty() {
                        if placement.security_groups_source == NetworkSource::User {
                            groups_note = Some(
                                "security groups given with --security-group (assumed)".into(),
                            );
                        }
                        Ok(found)
                    } else {
                        Err(format!(
                            "security group {} was not found in the VPC",
                            missing
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    }
                }
            }
            other => Err(format!(
                "security groups unknown: {}",
                other.gap_reason().unwrap_or_default()
            )),
        };
        let windows = ev
            .task_def()
            .and_then(|t| t.os_family.as_deref())
            .is_some_and(|o| o.to_ascii_uppercase().starts_with("WINDOWS"));
        Ok(Net {
            ev,
            placement,
            vpc_id,
            vpc_cidrs,
            subnets,
            tables: listed(&ev.network.route_tables, "route tables"),
            nats: listed(&ev.network.nat_gateways, "NAT gateways"),
            endpoints: listed(&ev.network.vpc_endpoints, "VPC endpoints"),
            nacls: listed(&ev.network.network_acls, "network ACLs"),
            prefix_lists: ev
                .network
                .prefix_lists
                .value()
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            groups,
            groups_note,
            all_groups,
            ephemeral: if windows {
                WINDOWS_EPHEMERAL
            } else {
                LINUX_EPHEMERAL
            },
        })
    }

    pub(super) fn subnet(&self, id: &str) -> Option<&'a Subnet> {
        self.subnets.iter().find(|s| s.id == id)
    }

    pub(super) fn subnet_net(&self, id: &str) -> Option<Ipv4Net> {
        self.subnet(id)
            .and_then(|s| s.cidr_block.as_deref())
            .and_then(|c| c.parse().ok())
    }

    pub(super) fn public_ip(&self) -> (Option<bool>, String) {
        let p = self.placement;
        match (&p.public_ip, p.assign_public_ip) {
            (Some(ip), _) => (Some(true), format!("public IP {ip}")),
            (None, Some(true)) => (Some(true), "public IP assigned".into()),
            (None, Some(false)) => (Some(false), "no public IP".into()),
            (None, None) => (None, "public IP unknown".into()),
        }
    }

    /// The task's own address as a peer for the other side's rules.
    pub(super) fn task_peer(&self, subnet_id: &str) -> Peer {
        let task_groups: Vec<String> = self
            .groups
            .as_ref()
            .map(|g| g.iter().map(|g| g.id.clone()).collect())
            .unwrap_or_default();
        let ip = self
            .placement
            .private_ip
            .as_deref()
            .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
            .filter(|_| self.placement.subnet_ids.len() == 1);
        match (ip, self.subnet_net(subnet_id)) {
            (Some(ip), _) => Peer::nets(format!("the task ({ip})"), &[Ipv4Net::from(ip)]),
            (None, Some(net)) => {
                Peer::nets(format!("the task's subnet {subnet_id} ({net})"), &[net])
            }
            (None, None) => Peer {
                addrs: addr::AddrSet::empty(),
                ..Peer::internet(format!("the task's subnet {subnet_id}"))
            },
        }
        .with_groups(&task_groups)
    }

    pub(super) fn nacl_of(&self, subnet_id: &str) -> Result<&'a NetworkAcl, String> {
        let acls = self.nacls.clone()?;
        acls.iter()
            .find(|a| a.subnet_ids.iter().any(|s| s == subnet_id))
            .or_else(|| {
                acls.iter()
                    .find(|a| a.is_default && a.vpc_id.as_deref().is_none_or(|v| v == self.vpc_id))
            })
            .ok_or_else(|| format!("no network ACL found for {subnet_id}"))
    }

    pub(super) fn table_of(&self, subnet_id: &str) -> Result<(&'a RouteTable, bool), String> {
        let tables = self.tables.clone()?;
        effective_route_table(tables, subnet_id, &self.vpc_id).ok_or_else(|| {
            format!(
                "{subnet_id} has no explicit route table and the VPC's main table was not found"
            )
        })
    }
}

pub(super) fn table_label(table: &RouteTable, explicit: bool) -> String {
    if explicit {
        table.id.clone()
    } else {
        format!("{} (main)", table.id)
    }
}

pub(super) fn association_fact(subnet_id: &str, table: &RouteTable, explicit: bool) -> String {
    if explicit {
        format!("{subnet_id} is explicitly associated with {}", table.id)
    } else {
        format!(
            "{subnet_id} has no explicit route table association, so the VPC's main route table {} applies",
            table.id
        )
    }
}
