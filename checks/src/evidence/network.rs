//! The task's place in the VPC: subnets, route tables, gateways, endpoints,
//! security groups, network ACLs and prefix lists.

use super::Fact;
use serde::{Deserialize, Serialize};

/// Where the task's network settings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkSource {
    /// The task's ENI still exists.
    Eni,
    /// The service's network configuration.
    Service,
    /// The task's ENI attachment details.
    TaskAttachment,
    /// Given on the command line (assumed, not read from AWS).
    User,
    #[default]
    Unknown,
}

/// The task's own place in the network, as far as it could be recovered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TaskPlacement {
    pub subnet_ids: Vec<String>,
    pub subnet_source: NetworkSource,
    pub security_group_ids: Vec<String>,
    pub security_groups_source: NetworkSource,
    pub assign_public_ip: Option<bool>,
    pub assign_public_ip_source: NetworkSource,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
}

impl TaskPlacement {
    /// `--assign-public-ip`, where AWS no longer says: marked as assumed.
    /// What AWS says always wins.
    pub fn assume_public_ip(&mut self, flag: Option<bool>) {
        if let (Some(flag), None) = (flag, self.assign_public_ip) {
            self.assign_public_ip = Some(flag);
            self.assign_public_ip_source = NetworkSource::User;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Network {
    /// Not applicable for tasks outside `awsvpc`.
    pub placement: Fact<TaskPlacement>,
    pub eni: Fact<NetworkInterface>,
    pub vpc: Fact<Vpc>,
    /// The task's subnets first, then the VPC's other subnets (where NAT
    /// gateways and interface endpoints sit), as far as they could be read.
    pub subnets: Fact<Vec<Subnet>>,
    /// Every route table of the VPC (the main one included).
    pub route_tables: Fact<Vec<RouteTable>>,
    pub internet_gateways: Fact<Vec<InternetGateway>>,
    pub nat_gateways: Fact<Vec<NatGateway>>,
    pub vpc_endpoints: Fact<Vec<VpcEndpoint>>,
    pub security_groups: Fact<Vec<SecurityGroup>>,
    pub network_acls: Fact<Vec<NetworkAcl>>,
    pub prefix_lists: Fact<Vec<PrefixList>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NetworkInterface {
    pub id: String,
    pub status: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub security_group_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Vpc {
    pub id: String,
    pub cidr_blocks: Vec<String>,
    pub enable_dns_support: Fact<bool>,
    pub enable_dns_hostnames: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub availability_zone: Option<String>,
    pub cidr_block: Option<String>,
    pub available_ip_address_count: Option<i32>,
    pub map_public_ip_on_launch: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    pub main: bool,
    /// Subnets explicitly associated with this table.
    pub subnet_ids: Vec<String>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Route {
    pub destination_cidr: Option<String>,
    pub destination_ipv6_cidr: Option<String>,
    pub destination_prefix_list_id: Option<String>,
    /// `igw-…`, `nat-…`, `vpce-…`, `tgw-…`, `pcx-…`, `eni-…`, `local`, …
    pub target: String,
    /// `active` or `blackhole`.
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct InternetGateway {
    pub id: String,
    pub attached_vpc_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NatGateway {
    pub id: String,
    pub subnet_id: Option<String>,
    pub state: Option<String>,
    /// `public` or `private`.
    pub connectivity_type: Option<String>,
    pub public_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct VpcEndpoint {
    pub id: String,
    pub service_name: String,
    /// `Interface` or `Gateway`.
    pub endpoint_type: String,
    pub state: Option<String>,
    pub private_dns_enabled: Option<bool>,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub route_table_ids: Vec<String>,
    pub policy: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SecurityGroup {
    pub id: String,
    pub name: Option<String>,
    pub vpc_id: Option<String>,
    pub ingress: Vec<SecurityGroupRule>,
    pub egress: Vec<SecurityGroupRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SecurityGroupRule {
    /// `-1` (all), `tcp`, `udp`, `icmp`, or a protocol number.
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub ipv4_ranges: Vec<String>,
    pub ipv6_ranges: Vec<String>,
    pub prefix_list_ids: Vec<String>,
    pub group_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NetworkAcl {
    pub id: String,
    pub vpc_id: Option<String>,
    pub is_default: bool,
    pub subnet_ids: Vec<String>,
    pub entries: Vec<NetworkAclEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NetworkAclEntry {
    pub rule_number: i32,
    pub egress: bool,
    /// `-1` (all), or a protocol number such as `6` (TCP).
    pub protocol: String,
    /// `allow` or `deny`.
    pub action: String,
    pub cidr_block: Option<String>,
    pub ipv6_cidr_block: Option<String>,
    pub port_from: Option<i32>,
    pub port_to: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PrefixList {
    pub id: String,
    pub name: String,
    pub cidrs: Vec<String>,
}
