//! Network reachability, hop by hop: could the task reach what it needed to
//! start, and can a running task be reached?
//!
//! One pure evaluator that every network check reuses, so they agree with
//! each other: for each destination the task definition implies it follows
//! the subnet's effective route table (explicit association, else the main
//! table) with longest-prefix selection, the internet gateway or NAT gateway
//! (and the NAT's own route to an internet gateway), interface endpoints
//! (state, private DNS, their security groups) and the S3 gateway endpoint,
//! then the task's security groups and the network ACLs of every subnet on
//! the way, both directions. Each hop records which cause codes it decides.

pub mod addr;
pub mod dest;
pub mod rules;

pub use dest::{destinations, observed, Destination, Observed, Service};

use crate::classify::StopCode;
use crate::codes::Cause;
use crate::evidence::{
    Evidence, Fact, NatGateway, NetworkAcl, NetworkSource, PrefixList, RouteTable, SecurityGroup,
    Subnet, TaskPlacement, VpcEndpoint,
};
use crate::netpath::{
    describe_route, effective_route_table, is_active, is_private, select_route, target_kind,
    TargetKind,
};
use crate::report::{Hop, NetworkPath, Strength};
use ipnet::Ipv4Net;
use rules::{nacl_decide, sg_decide, Peer};
use std::net::{IpAddr, Ipv4Addr};

/// The client side's ephemeral ports on Linux (`ip_local_port_range`).
const LINUX_EPHEMERAL: (u16, u16) = (32768, 60999);
/// Windows' dynamic port range.
const WINDOWS_EPHEMERAL: (u16, u16) = (49152, 65535);
/// Ports a NAT gateway or an internet client may use as its source.
const ANY_EPHEMERAL: (u16, u16) = (1024, 65535);

/// One hop of a path and the cause codes it decides.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub hop: Hop,
    /// For a blocking hop: the cause that blocks. For a passing or unknown
    /// hop: the causes it rules out or leaves open.
    pub causes: Vec<Cause>,
    /// Evidence lines for a finding.
    pub facts: Vec<String>,
    /// Concrete fixes for a finding.
    pub fixes: Vec<String>,
    /// A short phrase for a finding's title, when the label is not enough.
    pub hint: Option<String>,
}

impl Step {
    fn new(label: impl Into<String>, ok: Option<bool>, causes: &[Cause]) -> Step {
        Step {
            hop: Hop {
                label: label.into(),
                ok,
                note: None,
            },
            causes: causes.to_vec(),
            facts: Vec::new(),
            fixes: Vec::new(),
            hint: None,
        }
    }
    fn ok(label: impl Into<String>, causes: &[Cause]) -> Step {
        Step::new(label, Some(true), causes)
    }
    fn blocked(label: impl Into<String>, cause: Cause, note: impl Into<String>) -> Step {
        Step::new(label, Some(false), &[cause]).note(note)
    }
    fn unknown(label: impl Into<String>, causes: &[Cause], note: impl Into<String>) -> Step {
        Step::new(label, None, causes).note(note)
    }
    fn note(mut self, note: impl Into<String>) -> Step {
        let note = note.into();
        if !note.is_empty() {
            self.hop.note = Some(note);
        }
        self
    }
    fn fact(mut self, fact: impl Into<String>) -> Step {
        self.facts.push(fact.into());
        self
    }
    fn fix(mut self, fix: impl Into<String>) -> Step {
        self.fixes.push(fix.into());
        self
    }
    fn hint(mut self, hint: impl Into<String>) -> Step {
        self.hint = Some(hint.into());
        self
    }
    pub fn is_blocked(&self) -> bool {
        self.hop.ok == Some(false)
    }
    pub fn is_unknown(&self) -> bool {
        self.hop.ok.is_none()
    }
    /// The note, or the label when there is none (for "inconclusive" details).
    pub fn explanation(&self) -> String {
        match &self.hop.note {
            Some(n) => format!("{}: {n}", self.hop.label),
            None => self.hop.label.clone(),
        }
    }
}

/// How traffic to a destination leaves the subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Through the route table's route (IGW, NAT, or something ecs-doctor cannot see past).
    Route(String),
    /// An interface endpoint that private DNS points the host name at.
    InterfaceEndpoint(String),
    /// The S3 gateway endpoint, by its prefix-list route.
    GatewayEndpoint(String),
    /// Inside the VPC (the `local` route).
    Local,
    /// No route at all, or unknown.
    Nowhere,
}

/// Egress to a destination, or inbound to a container port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direction {
    Egress(Destination),
    Inbound {
        container: String,
        port: u16,
        from: String,
    },
}

/// One evaluated path.
#[derive(Debug, Clone, PartialEq)]
pub struct PathEval {
    pub direction: Direction,
    pub subnet_id: String,
    pub via: Via,
    pub steps: Vec<Step>,
    /// The stop text's network failure that concerns this path.
    pub observed: Option<Observed>,
    /// How the report names the path.
    pub title: String,
}

impl PathEval {
    pub fn to_network_path(&self) -> NetworkPath {
        NetworkPath {
            destination: self.title.clone(),
            hops: self
                .steps
                .iter()
                .filter(|s| !s.hop.label.is_empty())
                .map(|s| s.hop.clone())
                .collect(),
        }
    }

    pub fn destination(&self) -> Option<&Destination> {
        match &self.direction {
            Direction::Egress(d) => Some(d),
            Direction::Inbound { .. } => None,
        }
    }

    pub fn is_inbound(&self) -> bool {
        matches!(self.direction, Direction::Inbound { .. })
    }

    /// The destination's short name: `ECR API`, `tcp/3000 from 0.0.0.0/0`.
    pub fn short(&self) -> String {
        match &self.direction {
            Direction::Egress(d) => d.label(),
            Direction::Inbound {
                container,
                port,
                from,
            } => format!("inbound tcp/{port} to {container} from {from}"),
        }
    }
}

/// Paths of one kind, or why there are none.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    Paths(Vec<PathEval>),
    /// Does not apply to this task.
    Skipped(String),
    /// Applies, but a fact is missing: names it.
    Unknown(String),
}

/// Every path of one task.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub egress: Scope,
    pub inbound: Scope,
}

/// What the evaluation says about one cause code.
#[derive(Debug, Default)]
pub struct Outcome<'a> {
    pub blocked: Vec<(&'a PathEval, &'a Step)>,
    pub unknown: Vec<(&'a PathEval, &'a Step)>,
    /// Paths evaluated (whatever they decided).
    pub paths: Vec<&'a PathEval>,
    /// Why a scope was not evaluated.
    pub skipped: Vec<String>,
    pub missing: Vec<String>,
}

impl Evaluation {
    pub fn paths(&self) -> impl Iterator<Item = &PathEval> {
        let e = match &self.egress {
            Scope::Paths(p) => p.as_slice(),
            _ => &[],
        };
        let i = match &self.inbound {
            Scope::Paths(p) => p.as_slice(),
            _ => &[],
        };
        e.iter().chain(i.iter())
    }

    /// The hops that decide `cause`, across both scopes.
    pub fn outcome(&self, cause: Cause) -> Outcome<'_> {
        let mut out = Outcome::default();
        for scope in [&self.egress, &self.inbound] {
            match scope {
                Scope::Paths(paths) => {
                    for p in paths {
                        out.paths.push(p);
                        for s in p.steps.iter().filter(|s| s.causes.contains(&cause)) {
                            if s.is_blocked() {
                                out.blocked.push((p, s));
                            } else if s.is_unknown() {
                                out.unknown.push((p, s));
                            }
                        }
                    }
                }
                Scope::Skipped(why) => out.skipped.push(why.clone()),
                Scope::Unknown(why) => out.missing.push(why.clone()),
            }
        }
        out
    }
}

/// The network facts of the task's VPC, borrowed from the evidence.
struct Net<'a> {
    ev: &'a Evidence,
    placement: &'a TaskPlacement,
    vpc_id: String,
    vpc_cidrs: Vec<Ipv4Net>,
    subnets: &'a [Subnet],
    tables: Result<&'a [RouteTable], String>,
    nats: Result<&'a [NatGateway], String>,
    endpoints: Result<&'a [VpcEndpoint], String>,
    nacls: Result<&'a [NetworkAcl], String>,
    prefix_lists: &'a [PrefixList],
    /// The task's security groups, or why they are unknown.
    groups: Result<Vec<&'a SecurityGroup>, String>,
    /// A note when the groups were assumed.
    groups_note: Option<String>,
    all_groups: &'a [SecurityGroup],
    ephemeral: (u16, u16),
}

fn listed<'a, T>(fact: &'a Fact<Vec<T>>, what: &str) -> Result<&'a [T], String> {
    match fact {
        Fact::Gathered { value } => Ok(value.as_slice()),
        other => Err(format!(
            "{what} unknown: {}",
            other.gap_reason().unwrap_or_default()
        )),
    }
}

fn source_label(source: NetworkSource) -> &'static str {
    match source {
        NetworkSource::Eni => "the task's ENI",
        NetworkSource::Service => "the service's networkConfiguration",
        NetworkSource::TaskAttachment => "the task's ENI attachment",
        NetworkSource::User => "the command line, assumed",
        NetworkSource::Unknown => "an unknown source",
    }
}

/// Is the task on Fargate (where image, secret and log traffic uses the task ENI)?
pub fn on_fargate(ev: &Evidence) -> Option<bool> {
    if let Some(lt) = &ev.task.launch_type {
        return Some(lt.eq_ignore_ascii_case("FARGATE"));
    }
    if let Some(cp) = &ev.task.capacity_provider_name {
        return Some(cp.to_ascii_uppercase().starts_with("FARGATE"));
    }
    ev.task_def().map(|td| {
        td.requires_compatibilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case("FARGATE"))
    })
}

/// Is the task (or was it ever) running its containers? Then the start-up
/// paths worked when it launched.
pub fn task_started(ev: &Evidence) -> Option<String> {
    if ev.task.last_status.eq_ignore_ascii_case("RUNNING") {
        return Some("the task is RUNNING".into());
    }
    if let Some(c) = ev.task.containers.iter().find(|c| c.exit_code.is_some()) {
        return Some(format!(
            "container {} ran and exited with code {}",
            c.name,
            c.exit_code.unwrap_or_default()
        ));
    }
    ev.task
        .timestamps
        .started_at
        .as_ref()
        .map(|t| format!("the task started at {t}"))
}

impl<'a> Net<'a> {
    fn new(ev: &'a Evidence) -> Result<Net<'a>, Scope> {
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
                        "the task's subnet is unknown ({why}); pass --subnet"
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
                        "the task's security groups are unknown (pass --security-group)"
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

    fn subnet(&self, id: &str) -> Option<&'a Subnet> {
        self.subnets.iter().find(|s| s.id == id)
    }

    fn subnet_net(&self, id: &str) -> Option<Ipv4Net> {
        self.subnet(id)
            .and_then(|s| s.cidr_block.as_deref())
            .and_then(|c| c.parse().ok())
    }

    fn public_ip(&self) -> (Option<bool>, String) {
        let p = self.placement;
        match (&p.public_ip, p.assign_public_ip) {
            (Some(ip), _) => (Some(true), format!("public IP {ip}")),
            (None, Some(true)) => (Some(true), "public IP assigned".into()),
            (None, Some(false)) => (Some(false), "no public IP".into()),
            (None, None) => (None, "public IP unknown".into()),
        }
    }

    /// The task's own address as a peer for the other side's rules.
    fn task_peer(&self, subnet_id: &str) -> Peer {
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

    fn nacl_of(&self, subnet_id: &str) -> Result<&'a NetworkAcl, String> {
        let acls = self.nacls.clone()?;
        acls.iter()
            .find(|a| a.subnet_ids.iter().any(|s| s == subnet_id))
            .or_else(|| {
                acls.iter()
                    .find(|a| a.is_default && a.vpc_id.as_deref().is_none_or(|v| v == self.vpc_id))
            })
            .ok_or_else(|| format!("no network ACL found for {subnet_id}"))
    }

    fn table_of(&self, subnet_id: &str) -> Result<(&'a RouteTable, bool), String> {
        let tables = self.tables.clone()?;
        effective_route_table(tables, subnet_id, &self.vpc_id).ok_or_else(|| {
            format!(
                "{subnet_id} has no explicit route table and the VPC's main table was not found"
            )
        })
    }
}

fn table_label(table: &RouteTable, explicit: bool) -> String {
    if explicit {
        table.id.clone()
    } else {
        format!("{} (main)", table.id)
    }
}

fn association_fact(subnet_id: &str, table: &RouteTable, explicit: bool) -> String {
    if explicit {
        format!("{subnet_id} is explicitly associated with {}", table.id)
    } else {
        format!(
            "{subnet_id} has no explicit route table association, so the VPC's main route table {} applies",
            table.id
        )
    }
}

/// One subnet's network ACL on a client connection: out on `port` to the
/// peer, back in on the client's ephemeral ports.
fn nacl_client_step(
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
fn nacl_server_step(net: &Net<'_>, subnet_id: &str, peer: &Peer, port: u16, role: &str) -> Step {
    nacl_step(
        net,
        subnet_id,
        &[(false, (port, port), peer), (true, ANY_EPHEMERAL, peer)],
        role,
    )
}

/// A NAT gateway's subnet forwards both ways: in from the task and out to
/// the internet on `port`, and the replies back on ephemeral ports.
fn nacl_nat_step(net: &Net<'_>, subnet_id: &str, task: &Peer, internet: &Peer, port: u16) -> Step {
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
fn nacl_step(
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
fn free_rule_number(acl: &NetworkAcl, egress: bool, blocking: i32) -> i32 {
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

fn sg_egress_step(net: &Net<'_>, peer: &Peer, port: u16) -> Step {
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

fn dns_steps(net: &Net<'_>, private_dns_endpoint: Option<&VpcEndpoint>) -> Vec<Step> {
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

fn matches_service(ep: &VpcEndpoint, service_name: &str) -> bool {
    ep.service_name.eq_ignore_ascii_case(service_name)
}

fn is_interface(ep: &VpcEndpoint) -> bool {
    ep.endpoint_type.eq_ignore_ascii_case("interface")
}

fn is_gateway(ep: &VpcEndpoint) -> bool {
    ep.endpoint_type.eq_ignore_ascii_case("gateway")
}

fn endpoint_available(ep: &VpcEndpoint) -> bool {
    ep.state
        .as_deref()
        .is_none_or(|s| s.eq_ignore_ascii_case("available"))
}

/// Does the VPC rely on interface endpoints for the services the task needs?
fn relies_on_endpoints(net: &Net<'_>, dests: &[Destination]) -> bool {
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

struct PathBuilder<'n, 'a> {
    net: &'n Net<'a>,
    subnet_id: String,
    dest: Destination,
    observed: Option<Observed>,
    reliant: bool,
}

impl PathBuilder<'_, '_> {
    fn eni_step(&self) -> Step {
        let p = self.net.placement;
        let (_, public) = self.net.public_ip();
        let mut parts = vec![self.subnet_id.clone()];
        if let Some(ip) = &p.private_ip {
            parts.push(ip.clone());
        }
        parts.push(public);
        let mut notes = Vec::new();
        if p.subnet_source == NetworkSource::User {
            notes.push("subnet assumed (--subnet)".to_string());
        } else if net_multi(self.net) {
            notes.push(format!(
                "one of the subnets in {}",
                source_label(p.subnet_source)
            ));
        }
        if p.public_ip.is_none() && p.assign_public_ip_source == NetworkSource::User {
            notes.push("assignPublicIp assumed (--assign-public-ip)".to_string());
        }
        if let Some(n) = &self.net.groups_note {
            notes.push(n.clone());
        }
        Step::ok(format!("task ENI ({})", parts.join(", ")), &[]).note(notes.join("; "))
    }

    fn egress(self) -> PathEval {
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
            self.route_path(interface)
        };
        steps.extend(rest);
        steps.push(Step::ok(format!("{}:{}", dest.host, dest.port), &[]));
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
    fn s3_gateway_route(
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

    fn s3_prefix_list(&self) -> Option<&PrefixList> {
        let name = self.dest.endpoint_service()?;
        self.net
            .prefix_lists
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(&name))
    }

    fn gateway_path(
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

    fn endpoint_path(&self, ep: &VpcEndpoint) -> Vec<Step> {
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
                    let source = task
                        .groups
                        .first()
                        .map(|g| format!("UserIdGroupPairs=[{{GroupId={g}}}]"))
                        .unwrap_or_else(|| {
                            format!(
                                "IpRanges=[{{CidrIp={}}}]",
                                net.subnet_net(&self.subnet_id)
                                    .map(|n| n.to_string())
                                    .unwrap_or_else(|| "<task subnet CIDR>".into())
                            )
                        });
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
    fn route_path(&self, interface: Option<&VpcEndpoint>) -> (Via, Vec<Step>) {
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
            crate::netpath::default_route(table)
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
                        Some(name) => format!("Or create the VPC endpoints the task needs, starting with {name}"),
                        None => format!("{} has no VPC endpoint: it needs a NAT gateway (or a public IP and an internet gateway route)", dest.host),
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
    fn endpoint_gap(
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

    fn igw_attached(&self, igw: &str) -> Result<bool, String> {
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

    fn nat_steps(&self, rlabel: String, assoc: String, nat_id: &str) -> Vec<Step> {
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
                match crate::netpath::default_route(table) {
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

fn net_multi(net: &Net<'_>) -> bool {
    net.placement.subnet_ids.len() > 1
}

/// Every egress path the task needed to start, per subnet and destination.
fn egress_scope(ev: &Evidence) -> Scope {
    match on_fargate(ev) {
        Some(false) => {
            return Scope::Skipped(
                "not a Fargate task: image, secret and log traffic goes through the container instance, not the task ENI".into(),
            )
        }
        None => return Scope::Unknown("the launch type is unknown".into()),
        Some(true) => {}
    }
    let net = match Net::new(ev) {
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
                observed: observed(ev, d),
                reliant,
            };
            paths.push(b.egress());
        }
    }
    Scope::Paths(paths)
}

/// A line like `listening on port 8080` / `:8080` in the container's logs.
fn logged_listen_port(ev: &Evidence, container: &str) -> Option<(u16, String)> {
    let re = regex::Regex::new(
        r"(?i)(?:listening|listens|running|started|serving|bound|server)\b[^\n]{0,40}?(?:port\s*[:=]?\s*|:)(\d{2,5})\b",
    )
    .expect("valid listen regex");
    ev.log_lines(container).iter().rev().find_map(|l| {
        let caps = re.captures(&l.message)?;
        let port: u16 = caps[1].parse().ok()?;
        Some((port, l.message.clone()))
    })
}

/// Inbound paths to a running task's container ports from `--from`.
fn inbound_scope(ev: &Evidence) -> Scope {
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
        if let Some((logged, line)) = logged_listen_port(ev, &container) {
            if logged != port {
                last = last.note(format!(
                    "the logs say the app listens on {logged}: \"{line}\""
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

/// Evaluate every path of the task.
pub fn evaluate(ev: &Evidence) -> Evaluation {
    Evaluation {
        egress: egress_scope(ev),
        inbound: inbound_scope(ev),
    }
}

/// The paths to show in a report: the egress paths when the network is
/// implicated (a blocked path, or a network failure in the stop texts), and
/// the inbound paths of a running task.
pub fn report_paths(ev: &Evidence) -> Vec<NetworkPath> {
    let eval = evaluate(ev);
    let mut out = Vec::new();
    let blocked = match &eval.egress {
        Scope::Paths(p) => p.iter().any(|p| p.steps.iter().any(Step::is_blocked)),
        _ => false,
    };
    if blocked || dest::any_network_failure(ev).is_some() {
        if let Scope::Paths(p) = &eval.egress {
            out.extend(p.iter().map(PathEval::to_network_path));
        }
    }
    if let Scope::Paths(p) = &eval.inbound {
        out.extend(p.iter().map(PathEval::to_network_path));
    }
    out
}

/// How strongly the task's own record supports `cause` blocking a path, the
/// lines that say so, and the facts against it.
pub fn support(
    ev: &Evidence,
    path: &PathEval,
    cause: Cause,
) -> (Strength, Vec<String>, Vec<String>) {
    let mut evidence = Vec::new();
    let mut against = Vec::new();
    if path.is_inbound() {
        return (Strength::Corroborating, evidence, against);
    }
    let mut strength = match StopCode::of(ev) {
        StopCode::TaskFailedToStart => Strength::Corroborating,
        _ => Strength::Circumstantial,
    };
    if let Some(o) = &path.observed {
        evidence.push(format!("stop reason: \"{}\"", o.text));
        strength = if o.names_destination || !o.dns {
            Strength::Direct
        } else {
            Strength::Corroborating
        };
        if let Some((ip, port)) = o.dialed {
            let private = is_private(&ip);
            let via_endpoint = matches!(path.via, Via::InterfaceEndpoint(_));
            match (private, via_endpoint) {
                (true, true) => evidence.push(format!(
                    "the connection went to private address {ip}:{port}: the endpoint answered DNS and the path to it is blocked"
                )),
                (false, false) => evidence.push(format!(
                    "the connection went to public address {ip}:{port}: the internet path"
                )),
                (true, false) => against.push(format!(
                    "the failed connection went to private address {ip}:{port} (a VPC endpoint), not along this path"
                )),
                (false, true) if cause == Cause::VpcDnsDisabled => evidence.push(format!(
                    "the connection went to public address {ip}:{port}: the host name did not resolve to the endpoint, so private DNS was not in effect"
                )),
                (false, true) => against.push(format!(
                    "the failed connection went to public address {ip}:{port}, so private DNS did not point at the endpoint"
                )),
            }
        }
    } else if dest::any_network_failure(ev).is_some() {
        // The failure named another service; this one would have failed next.
        strength = strength.max(Strength::Corroborating);
    }
    if let Some(started) = task_started(ev) {
        strength = Strength::Circumstantial;
        against.push(format!(
            "{started}, so this path worked at launch (or the configuration changed since)"
        ));
    }
    (strength, evidence, against)
}

fn push_unique(list: &mut Vec<String>, line: String) {
    if !line.is_empty() && !list.contains(&line) {
        list.push(line);
    }
}

/// The destinations of blocked paths, for a title: `ECR API, S3 and CloudWatch Logs`.
pub fn affected(blocked: &[(&PathEval, &Step)]) -> String {
    let mut names: Vec<String> = Vec::new();
    for (p, _) in blocked {
        let name = match &p.direction {
            Direction::Egress(d) => d.service.label().to_string(),
            Direction::Inbound { port, from, .. } => format!("tcp/{port} from {from}"),
        };
        push_unique(&mut names, name);
    }
    match names.len() {
        0 => String::new(),
        1 => names.remove(0),
        _ => {
            let last = names.pop().unwrap_or_default();
            format!("{} and {last}", names.join(", "))
        }
    }
}

/// A finding from the hops that block `cause`: the strongest support any
/// path has, the stop text, every hop's facts and fixes (once each), and the
/// blocked chain.
pub fn finding(
    ev: &Evidence,
    cause: Cause,
    title: impl Into<String>,
    blocked: &[(&PathEval, &Step)],
) -> crate::report::Finding {
    let mut best: Option<(Strength, Vec<String>, Vec<String>)> = None;
    for (p, _) in blocked {
        let s = support(ev, p, cause);
        if best.as_ref().is_none_or(|b| s.0 > b.0) {
            best = Some(s);
        }
    }
    let (strength, support_lines, against) =
        best.unwrap_or((Strength::Circumstantial, Vec::new(), Vec::new()));
    let mut evidence = Vec::new();
    for line in support_lines {
        push_unique(&mut evidence, line);
    }
    let mut fixes = Vec::new();
    for (_, step) in blocked {
        for f in &step.facts {
            push_unique(&mut evidence, f.clone());
        }
        for f in &step.fixes {
            push_unique(&mut fixes, f.clone());
        }
    }
    if let Some((p, _)) = blocked.first() {
        push_unique(
            &mut evidence,
            format!("path: {}", p.to_network_path().chain()),
        );
    }
    let mut f = crate::report::Finding::new(cause, strength, title);
    f.evidence = evidence;
    f.against = against;
    f.fix = fixes;
    f
}

/// The verdict of a network check: a finding built from the hops that block
/// `cause`, else inconclusive naming the missing fact, else a pass that says
/// what was looked at, else skipped.
pub fn check_verdict(
    ev: &Evidence,
    cause: Cause,
    passed: &str,
    make: impl FnOnce(&[(&PathEval, &Step)]) -> crate::report::Finding,
) -> crate::report::Verdict {
    use crate::report::Verdict;
    let eval = evaluate(ev);
    let o = eval.outcome(cause);
    if !o.blocked.is_empty() {
        return Verdict::Found(make(&o.blocked));
    }
    if let Some((p, s)) = o.unknown.first() {
        return Verdict::Inconclusive(format!("{}: {}", p.short(), s.explanation()));
    }
    if !o.paths.is_empty() {
        let mut names = Vec::new();
        for p in &o.paths {
            let name = match &p.direction {
                Direction::Egress(d) => d.service.label().to_string(),
                Direction::Inbound { port, from, .. } => format!("inbound tcp/{port} from {from}"),
            };
            push_unique(&mut names, name);
        }
        return Verdict::Pass(format!(
            "{passed} ({} path{}: {})",
            o.paths.len(),
            if o.paths.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
    if !o.missing.is_empty() {
        return Verdict::Inconclusive(o.missing.join("; "));
    }
    Verdict::Skipped(o.skipped.join("; "))
}

#[cfg(test)]
mod tests;
