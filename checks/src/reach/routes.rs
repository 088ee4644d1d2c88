//! Route-table resolution and route selection: the parts of the network
//! path every network check shares.

use crate::evidence::{Evidence, PrefixList, Route, RouteTable, Subnet};
use ipnet::IpNet;
use std::net::IpAddr;

/// What a route points at, from its target id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    InternetGateway,
    EgressOnlyInternetGateway,
    NatGateway,
    VpcEndpoint,
    TransitGateway,
    PeeringConnection,
    NetworkInterface,
    Instance,
    Local,
    Other,
}

pub fn target_kind(target: &str) -> TargetKind {
    match target {
        "local" => TargetKind::Local,
        t if t.starts_with("igw-") => TargetKind::InternetGateway,
        t if t.starts_with("eigw-") => TargetKind::EgressOnlyInternetGateway,
        t if t.starts_with("nat-") => TargetKind::NatGateway,
        t if t.starts_with("vpce-") => TargetKind::VpcEndpoint,
        t if t.starts_with("tgw-") => TargetKind::TransitGateway,
        t if t.starts_with("pcx-") => TargetKind::PeeringConnection,
        t if t.starts_with("eni-") => TargetKind::NetworkInterface,
        t if t.starts_with("i-") => TargetKind::Instance,
        _ => TargetKind::Other,
    }
}

/// The route table that governs a subnet: its explicit association, else the
/// VPC's main table. The flag says whether the association is explicit.
pub fn effective_route_table<'a>(
    tables: &'a [RouteTable],
    subnet_id: &str,
    vpc_id: &str,
) -> Option<(&'a RouteTable, bool)> {
    tables
        .iter()
        .find(|t| t.subnet_ids.iter().any(|s| s == subnet_id))
        .map(|t| (t, true))
        .or_else(|| {
            tables
                .iter()
                .find(|t| t.main && t.vpc_id == vpc_id)
                .map(|t| (t, false))
        })
}

/// The destination networks a route covers (a prefix list expands to its CIDRs).
fn route_destinations(route: &Route, prefix_lists: &[PrefixList]) -> Vec<IpNet> {
    let mut nets: Vec<IpNet> = Vec::new();
    for cidr in [&route.destination_cidr, &route.destination_ipv6_cidr]
        .into_iter()
        .flatten()
    {
        if let Ok(n) = cidr.parse() {
            nets.push(n);
        }
    }
    if let Some(pl) = &route.destination_prefix_list_id {
        if let Some(list) = prefix_lists.iter().find(|p| &p.id == pl) {
            nets.extend(list.cidrs.iter().filter_map(|c| c.parse::<IpNet>().ok()));
        }
    }
    nets
}

/// The route a packet to `dest` takes: longest prefix wins (prefix-list
/// routes included, as for the S3 gateway endpoint).
pub fn select_route<'a>(
    table: &'a RouteTable,
    dest: IpAddr,
    prefix_lists: &[PrefixList],
) -> Option<&'a Route> {
    table
        .routes
        .iter()
        .filter_map(|r| {
            route_destinations(r, prefix_lists)
                .into_iter()
                .filter(|n| n.contains(&dest))
                .map(|n| n.prefix_len())
                .max()
                .map(|len| (len, r))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, r)| r)
}

/// The IPv4 default route (`0.0.0.0/0`) of a table, if any.
pub fn default_route(table: &RouteTable) -> Option<&Route> {
    table
        .routes
        .iter()
        .find(|r| r.destination_cidr.as_deref() == Some("0.0.0.0/0"))
}

pub fn is_active(route: &Route) -> bool {
    route
        .state
        .as_deref()
        .map(|s| s.eq_ignore_ascii_case("active"))
        .unwrap_or(true)
}

/// How a route reads in a report: `0.0.0.0/0 → igw-1 (blackhole)`.
pub fn describe_route(route: &Route) -> String {
    let dest = route
        .destination_cidr
        .clone()
        .or_else(|| route.destination_ipv6_cidr.clone())
        .or_else(|| route.destination_prefix_list_id.clone())
        .unwrap_or_else(|| "?".into());
    let state = if is_active(route) {
        String::new()
    } else {
        format!(" ({})", route.state.clone().unwrap_or_default())
    };
    format!("{dest} → {}{state}", route.target)
}

/// The task's subnets, with their facts, as far as they are known.
pub fn task_subnets(ev: &Evidence) -> Vec<&Subnet> {
    let Some(placement) = ev.network.placement.value() else {
        return Vec::new();
    };
    let Some(subnets) = ev.network.subnets.value() else {
        return Vec::new();
    };
    placement
        .subnet_ids
        .iter()
        .filter_map(|id| subnets.iter().find(|s| &s.id == id))
        .collect()
}

/// Whether an internet gateway with this id is attached to the VPC.
pub fn igw_attached(ev: &Evidence, igw_id: &str, vpc_id: &str) -> Option<bool> {
    ev.network.internet_gateways.value().map(|igws| {
        igws.iter()
            .any(|g| g.id == igw_id && g.attached_vpc_ids.iter().any(|v| v == vpc_id))
    })
}

/// The `dial tcp <ip>:<port>` addresses named in stop texts.
pub fn dialed_addresses(text: &str) -> Vec<(IpAddr, u16)> {
    let re =
        regex::Regex::new(r"dial tcp \[?([0-9a-fA-F:.]+?)\]?:(\d+)").expect("valid dial regex");
    re.captures_iter(text)
        .filter_map(|c| Some((c[1].parse().ok()?, c[2].parse().ok()?)))
        .collect()
}

/// Private (RFC 1918 / ULA) addresses mean a VPC endpoint answered DNS.
pub fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(id: &str, main: bool, subnets: &[&str], routes: Vec<Route>) -> RouteTable {
        RouteTable {
            id: id.into(),
            vpc_id: "vpc-1".into(),
            main,
            subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
            routes,
        }
    }
    fn route(cidr: &str, target: &str) -> Route {
        Route {
            destination_cidr: Some(cidr.into()),
            target: target.into(),
            state: Some("active".into()),
            ..Default::default()
        }
    }

    #[test]
    fn explicit_association_beats_main_table() {
        let tables = vec![
            rt("rtb-main", true, &[], vec![]),
            rt("rtb-a", false, &["subnet-a"], vec![]),
        ];
        assert_eq!(
            effective_route_table(&tables, "subnet-a", "vpc-1").map(|(t, e)| (t.id.as_str(), e)),
            Some(("rtb-a", true))
        );
        assert_eq!(
            effective_route_table(&tables, "subnet-b", "vpc-1").map(|(t, e)| (t.id.as_str(), e)),
            Some(("rtb-main", false))
        );
    }

    #[test]
    fn longest_prefix_wins_including_prefix_lists() {
        let mut pl_route = Route {
            destination_prefix_list_id: Some("pl-s3".into()),
            target: "vpce-s3".into(),
            ..Default::default()
        };
        pl_route.state = Some("active".into());
        let table = rt(
            "rtb",
            false,
            &[],
            vec![
                route("10.0.0.0/16", "local"),
                route("0.0.0.0/0", "nat-1"),
                pl_route,
            ],
        );
        let pls = vec![PrefixList {
            id: "pl-s3".into(),
            name: "com.amazonaws.us-east-1.s3".into(),
            cidrs: vec!["52.216.0.0/15".into()],
        }];
        assert_eq!(
            select_route(&table, "52.217.1.1".parse().unwrap(), &pls)
                .unwrap()
                .target,
            "vpce-s3"
        );
        assert_eq!(
            select_route(&table, "8.8.8.8".parse().unwrap(), &pls)
                .unwrap()
                .target,
            "nat-1"
        );
        assert_eq!(
            select_route(&table, "10.0.3.4".parse().unwrap(), &pls)
                .unwrap()
                .target,
            "local"
        );
    }

    #[test]
    fn dial_addresses_and_privacy() {
        let a = dialed_addresses("Post \"https://api.ecr.us-east-1.amazonaws.com/\": dial tcp 52.46.157.21:443: i/o timeout");
        assert_eq!(a, vec![("52.46.157.21".parse().unwrap(), 443)]);
        assert!(!is_private(&a[0].0));
        assert!(is_private(&"10.0.1.5".parse().unwrap()));
    }
}
