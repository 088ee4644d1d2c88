//! Security group and network ACL evaluation.
//!
//! Security groups are stateful allow-lists: a connection passes when any
//! rule of any group attached to the ENI admits it (protocol, port range, and
//! a CIDR, prefix list or referenced group that covers the peer). Network
//! ACLs are stateless and ordered: the lowest-numbered rule that matches
//! decides, both ways, so the reply traffic on ephemeral ports needs its own
//! rule.

use super::addr::AddrSet;
use crate::evidence::{NetworkAcl, NetworkAclEntry, PrefixList, SecurityGroup, SecurityGroupRule};
use ipnet::Ipv4Net;

/// The other end of a connection, as far as rules can see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    /// How the report names it: `0.0.0.0/0`, `vpce-1 (10.0.2.0/24)`, `pl-63a5400a`.
    pub label: String,
    /// The addresses it may have (empty when unknown).
    pub addrs: AddrSet,
    /// A public AWS service whose addresses are not known offline: rules must
    /// admit the whole internet to be sure, and a rule for part of it leaves
    /// the answer open.
    pub anywhere: bool,
    /// Security groups on the peer's ENIs (an interface endpoint's, the task's).
    pub groups: Vec<String>,
    /// The managed prefix list that names the peer (S3's, for the gateway endpoint).
    pub prefix_list: Option<String>,
    /// A public service reached through the internet (even when one of its
    /// addresses is known): a fix opens `0.0.0.0/0`, not that address.
    pub public_service: bool,
}

impl Peer {
    /// A public service somewhere on the internet: any public IPv4 address
    /// (private, shared, loopback, link-local and multicast space excluded).
    pub fn internet(label: impl Into<String>) -> Peer {
        let reserved: Vec<Ipv4Net> = [
            "0.0.0.0/8",
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "224.0.0.0/3",
        ]
        .iter()
        .filter_map(|c| c.parse().ok())
        .collect();
        Peer {
            label: label.into(),
            addrs: AddrSet::any().subtract(&AddrSet::from_nets(&reserved)),
            anywhere: true,
            groups: Vec::new(),
            prefix_list: None,
            public_service: true,
        }
    }

    /// A known set of networks.
    pub fn nets(label: impl Into<String>, nets: &[Ipv4Net]) -> Peer {
        Peer {
            label: label.into(),
            addrs: AddrSet::from_nets(nets),
            anywhere: false,
            groups: Vec::new(),
            prefix_list: None,
            public_service: false,
        }
    }

    /// Mark the peer as one address of a public service.
    pub fn of_public_service(mut self) -> Peer {
        self.public_service = true;
        self
    }

    pub fn with_groups(mut self, groups: &[String]) -> Peer {
        self.groups = groups.to_vec();
        self
    }

    pub fn with_prefix_list(mut self, id: Option<String>) -> Peer {
        self.prefix_list = id;
        self
    }
}

/// What a rule set decided, with the sentence that explains it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDecision {
    /// `Some(true)` admits, `Some(false)` blocks, `None` cannot be told offline.
    pub allowed: Option<bool>,
    pub detail: String,
    /// The network ACL rule number that decided (32767 is the default `*` rule).
    pub rule_number: Option<i32>,
    /// The first port that was blocked, for port ranges.
    pub port: Option<u16>,
}

fn is_tcp(protocol: &str) -> bool {
    matches!(
        protocol.to_ascii_lowercase().as_str(),
        "-1" | "all" | "tcp" | "6"
    )
}

fn is_all_protocols(protocol: &str) -> bool {
    matches!(protocol.to_ascii_lowercase().as_str(), "-1" | "all")
}

/// `tcp/443`, `tcp/1024-65535`, `all traffic`.
pub fn ports_label(protocol: &str, from: Option<i32>, to: Option<i32>) -> String {
    if is_all_protocols(protocol) {
        return "all traffic".into();
    }
    let proto = match protocol {
        "6" => "tcp",
        "17" => "udp",
        "1" => "icmp",
        p => p,
    };
    match (from, to) {
        (Some(a), Some(b)) if a == b => format!("{proto}/{a}"),
        (Some(0), Some(65535)) | (Some(-1), _) | (None, _) | (_, None) => {
            format!("{proto} (all ports)")
        }
        (Some(a), Some(b)) => format!("{proto}/{a}-{b}"),
    }
}

fn range_label(lo: u16, hi: u16) -> String {
    if lo == hi {
        format!("tcp/{lo}")
    } else {
        format!("tcp/{lo}-{hi}")
    }
}

/// `tcp/443 to 0.0.0.0/0, pl-1` (egress) or `all traffic from sg-2` (ingress).
pub fn describe_sg_rule(rule: &SecurityGroupRule, egress: bool) -> String {
    let mut peers: Vec<String> = rule.ipv4_ranges.clone();
    peers.extend(rule.ipv6_ranges.iter().cloned());
    peers.extend(rule.prefix_list_ids.iter().cloned());
    peers.extend(rule.group_ids.iter().cloned());
    format!(
        "{} {} {}",
        ports_label(&rule.protocol, rule.from_port, rule.to_port),
        if egress { "to" } else { "from" },
        if peers.is_empty() {
            "(nothing)".to_string()
        } else {
            peers.join(", ")
        }
    )
}

fn sg_rule_covers_port(rule: &SecurityGroupRule, port: u16) -> bool {
    if !is_tcp(&rule.protocol) {
        return false;
    }
    if is_all_protocols(&rule.protocol) {
        return true;
    }
    let from = rule.from_port.unwrap_or(0);
    let to = rule.to_port.unwrap_or(65535);
    // `-1` ports on a TCP rule mean every port.
    if from < 0 || to < 0 {
        return true;
    }
    from <= port as i32 && port as i32 <= to
}

fn parse_v4(cidr: &str) -> Option<Ipv4Net> {
    cidr.parse::<Ipv4Net>().ok().map(|n| n.trunc())
}

/// Do the security groups admit TCP `port` to (egress) or from (ingress) `peer`?
pub fn sg_decide(
    groups: &[&SecurityGroup],
    egress: bool,
    port: u16,
    peer: &Peer,
    prefix_lists: &[PrefixList],
) -> RuleDecision {
    let ids: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    let direction = if egress { "egress" } else { "ingress" };
    let toward = if egress { "to" } else { "from" };
    let mut covered = AddrSet::empty();
    let mut covering_rules: Vec<String> = Vec::new();
    let mut unknown_lists: Vec<String> = Vec::new();
    for group in groups {
        let rules = if egress {
            &group.egress
        } else {
            &group.ingress
        };
        for rule in rules.iter().filter(|r| sg_rule_covers_port(r, port)) {
            let text = format!("{} {}", group.id, describe_sg_rule(rule, egress));
            let whole = rule.group_ids.iter().any(|g| peer.groups.contains(g))
                || peer
                    .prefix_list
                    .as_ref()
                    .is_some_and(|pl| rule.prefix_list_ids.contains(pl))
                || rule
                    .ipv4_ranges
                    .iter()
                    .filter_map(|c| parse_v4(c))
                    .any(|n| n.prefix_len() == 0);
            if whole {
                return RuleDecision {
                    allowed: Some(true),
                    detail: format!("allowed by {text}"),
                    rule_number: None,
                    port: None,
                };
            }
            let mut nets: Vec<Ipv4Net> = rule
                .ipv4_ranges
                .iter()
                .filter_map(|c| parse_v4(c))
                .collect();
            for pl in &rule.prefix_list_ids {
                match prefix_lists.iter().find(|p| &p.id == pl) {
                    Some(list) => nets.extend(list.cidrs.iter().filter_map(|c| parse_v4(c))),
                    None => unknown_lists.push(pl.clone()),
                }
            }
            let set = AddrSet::from_nets(&nets);
            if !set.intersect(&peer.addrs).is_empty() {
                covering_rules.push(text);
                covered = covered.union(&set);
            }
        }
    }
    let need = format!("{} {toward} {}", range_label(port, port), peer.label);
    if !peer.anywhere && !peer.addrs.is_empty() && covered.covers(&peer.addrs) {
        return RuleDecision {
            allowed: Some(true),
            detail: format!("allowed by {}", covering_rules.join("; ")),
            rule_number: None,
            port: None,
        };
    }
    if !covering_rules.is_empty() {
        let missing = peer.addrs.subtract(&covered);
        return RuleDecision {
            allowed: if peer.anywhere { None } else { Some(false) },
            detail: if peer.anywhere {
                format!(
                    "{} allow{} {need} only for {covered}; whether the service's addresses fall in it cannot be told offline",
                    covering_rules.join("; "),
                    if covering_rules.len() == 1 { "s" } else { "" }
                )
            } else {
                format!(
                    "{} admit{} {need} only in part: nothing admits {missing}",
                    covering_rules.join("; "),
                    if covering_rules.len() == 1 { "s" } else { "" }
                )
            },
            rule_number: None,
            port: None,
        };
    }
    if !unknown_lists.is_empty()
        || (peer.addrs.is_empty() && !peer.anywhere && peer.groups.is_empty())
    {
        return RuleDecision {
            allowed: None,
            detail: format!(
                "whether {} allow {need} is unknown{}",
                ids.join(", "),
                if unknown_lists.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (prefix lists {} could not be read)",
                        unknown_lists.join(", ")
                    )
                }
            ),
            rule_number: None,
            port: None,
        };
    }
    RuleDecision {
        allowed: Some(false),
        detail: format!(
            "no {direction} rule of {} allows {need}",
            if ids.is_empty() {
                "(no groups)".to_string()
            } else {
                ids.join(", ")
            }
        ),
        rule_number: None,
        port: None,
    }
}

/// `100` or `*` for the default rule.
pub fn rule_label(number: i32) -> String {
    if number >= 32767 {
        "*".into()
    } else {
        number.to_string()
    }
}

/// `rule 100 (allow tcp/443 to 0.0.0.0/0)`.
pub fn describe_nacl_entry(e: &NetworkAclEntry) -> String {
    if e.rule_number >= 32767 {
        return "no numbered rule matches, so the default rule *".into();
    }
    format!(
        "rule {} ({} {} {} {})",
        rule_label(e.rule_number),
        e.action.to_ascii_lowercase(),
        ports_label(&e.protocol, e.port_from, e.port_to),
        if e.egress { "to" } else { "from" },
        e.cidr_block
            .clone()
            .or_else(|| e.ipv6_cidr_block.clone())
            .unwrap_or_default()
    )
}

fn entry_covers_port(e: &NetworkAclEntry, port: u16) -> bool {
    if !is_tcp(&e.protocol) {
        return false;
    }
    if is_all_protocols(&e.protocol) {
        return true;
    }
    let from = e.port_from.unwrap_or(0);
    let to = e.port_to.unwrap_or(65535);
    from <= port as i32 && port as i32 <= to
}

enum PortOutcome<'a> {
    Allowed(&'a NetworkAclEntry),
    Blocked(Option<&'a NetworkAclEntry>),
    Unknown(&'a NetworkAclEntry, Option<&'a NetworkAclEntry>),
}

fn decide_port<'a>(entries: &[&'a NetworkAclEntry], port: u16, peer: &Peer) -> PortOutcome<'a> {
    let lenient = peer.anywhere || peer.addrs.is_empty();
    let mut remaining = if peer.addrs.is_empty() {
        AddrSet::any()
    } else {
        peer.addrs.clone()
    };
    let mut partial_allow: Option<&NetworkAclEntry> = None;
    for e in entries
        .iter()
        .copied()
        .filter(|e| entry_covers_port(e, port))
    {
        let Some(net) = e.cidr_block.as_deref().and_then(parse_v4) else {
            continue;
        };
        let hit = remaining.intersect(&AddrSet::from_net(&net));
        if hit.is_empty() {
            continue;
        }
        let whole = hit == remaining;
        let deny = e.action.eq_ignore_ascii_case("deny");
        match (deny, whole) {
            (true, true) => {
                return match partial_allow {
                    Some(a) => PortOutcome::Unknown(a, Some(e)),
                    None => PortOutcome::Blocked(Some(e)),
                }
            }
            (true, false) if !lenient => return PortOutcome::Blocked(Some(e)),
            (false, true) => return PortOutcome::Allowed(e),
            (false, false) if lenient && partial_allow.is_none() => partial_allow = Some(e),
            _ => {}
        }
        remaining = remaining.subtract(&hit);
    }
    match partial_allow {
        Some(a) => PortOutcome::Unknown(a, None),
        None => PortOutcome::Blocked(None),
    }
}

/// The network ACL's decision for TCP `ports` leaving to (egress) or
/// arriving from (ingress) `peer`, rules taken in number order.
pub fn nacl_decide(acl: &NetworkAcl, egress: bool, ports: (u16, u16), peer: &Peer) -> RuleDecision {
    let mut entries: Vec<&NetworkAclEntry> =
        acl.entries.iter().filter(|e| e.egress == egress).collect();
    entries.sort_by_key(|e| e.rule_number);
    let (lo, hi) = ports;
    // Ports behave alike between rule boundaries: test one port per segment.
    let mut cuts: Vec<u32> = vec![lo as u32];
    for e in &entries {
        if let (Some(f), Some(t)) = (e.port_from, e.port_to) {
            for c in [f as i64, t as i64 + 1] {
                if c > lo as i64 && c <= hi as i64 {
                    cuts.push(c as u32);
                }
            }
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let direction = if egress { "outbound" } else { "inbound" };
    let toward = if egress { "to" } else { "from" };
    let need = format!(
        "{direction} {} {toward} {}",
        range_label(lo, hi),
        peer.label
    );
    let mut unknown: Option<String> = None;
    let mut deciding: Option<&NetworkAclEntry> = None;
    for port in cuts {
        let port = port as u16;
        match decide_port(&entries, port, peer) {
            PortOutcome::Blocked(e) => {
                let at = if lo == hi {
                    String::new()
                } else {
                    format!(" (port {port})")
                };
                return RuleDecision {
                    allowed: Some(false),
                    detail: match e {
                        Some(e) if e.rule_number < 32767 => {
                            format!("{} {need}{at}: {} decides", acl.id, describe_nacl_entry(e))
                        }
                        _ => format!(
                            "{} {need}{at}: no numbered rule matches, so the default rule * denies",
                            acl.id
                        ),
                    },
                    rule_number: Some(e.map(|e| e.rule_number).unwrap_or(32767)),
                    port: Some(port),
                };
            }
            PortOutcome::Unknown(a, d) => {
                unknown.get_or_insert_with(|| {
                    format!(
                        "{} {need}: {} admits only part of the internet{}; whether the service's addresses fall in it cannot be told offline",
                        acl.id,
                        describe_nacl_entry(a),
                        d.map(|d| format!(" and {} denies the rest", describe_nacl_entry(d)))
                            .unwrap_or_default()
                    )
                });
            }
            PortOutcome::Allowed(e) => {
                deciding.get_or_insert(e);
            }
        }
    }
    if let Some(detail) = unknown {
        return RuleDecision {
            allowed: None,
            detail,
            rule_number: None,
            port: None,
        };
    }
    RuleDecision {
        allowed: Some(true),
        detail: format!(
            "{} {need}: {} allows",
            acl.id,
            deciding.map(describe_nacl_entry).unwrap_or_default()
        ),
        rule_number: deciding.map(|e| e.rule_number),
        port: None,
    }
}

#[cfg(test)]
mod tests;
