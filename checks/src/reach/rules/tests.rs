use super::*;
use crate::testkit::net::acl_entry;

fn net(s: &str) -> Ipv4Net {
    s.parse().unwrap()
}

fn rule(proto: &str, from: Option<i32>, to: Option<i32>, cidrs: &[&str]) -> SecurityGroupRule {
    SecurityGroupRule {
        protocol: proto.into(),
        from_port: from,
        to_port: to,
        ipv4_ranges: cidrs.iter().map(|c| c.to_string()).collect(),
        ..Default::default()
    }
}

fn sg(id: &str, egress: Vec<SecurityGroupRule>) -> SecurityGroup {
    SecurityGroup {
        id: id.into(),
        egress: egress.clone(),
        ingress: egress,
        ..Default::default()
    }
}

fn s3_list() -> Vec<PrefixList> {
    vec![PrefixList {
        id: "pl-s3".into(),
        name: "com.amazonaws.us-east-1.s3".into(),
        cidrs: vec!["52.216.0.0/15".into(), "54.231.0.0/16".into()],
    }]
}

#[test]
fn security_group_table() {
    let internet = Peer::internet("0.0.0.0/0");
    let endpoint = Peer::nets("vpce-1", &[net("10.0.2.0/24"), net("10.0.3.0/24")])
        .with_groups(&["sg-ep".to_string()]);
    let s3 = Peer::nets("S3", &[net("52.216.0.0/15"), net("54.231.0.0/16")])
        .with_prefix_list(Some("pl-s3".into()));
    let pls = s3_list();
    // (case, rules, peer, expected)
    let cases: Vec<(&str, Vec<SecurityGroupRule>, &Peer, Option<bool>)> = vec![
        (
            "all traffic (-1) anywhere",
            vec![rule("-1", None, None, &["0.0.0.0/0"])],
            &internet,
            Some(true),
        ),
        (
            "tcp 443 anywhere",
            vec![rule("tcp", Some(443), Some(443), &["0.0.0.0/0"])],
            &internet,
            Some(true),
        ),
        (
            "protocol number 6",
            vec![rule("6", Some(400), Some(500), &["0.0.0.0/0"])],
            &internet,
            Some(true),
        ),
        (
            "port range misses 443",
            vec![rule("tcp", Some(80), Some(442), &["0.0.0.0/0"])],
            &internet,
            Some(false),
        ),
        (
            "udp only",
            vec![rule("udp", Some(443), Some(443), &["0.0.0.0/0"])],
            &internet,
            Some(false),
        ),
        ("no rules at all", vec![], &internet, Some(false)),
        (
            "part of the internet only",
            vec![rule("tcp", Some(443), Some(443), &["52.0.0.0/8"])],
            &internet,
            None,
        ),
        (
            "VPC CIDR covers the endpoint subnets",
            vec![rule("tcp", Some(443), Some(443), &["10.0.0.0/16"])],
            &endpoint,
            Some(true),
        ),
        (
            "two overlapping CIDRs cover both subnets",
            vec![rule(
                "tcp",
                Some(443),
                Some(443),
                &["10.0.2.0/24", "10.0.2.0/23"],
            )],
            &endpoint,
            Some(true),
        ),
        (
            "one endpoint subnet uncovered",
            vec![rule("tcp", Some(443), Some(443), &["10.0.2.0/24"])],
            &endpoint,
            Some(false),
        ),
        (
            "referenced endpoint group",
            vec![SecurityGroupRule {
                protocol: "tcp".into(),
                from_port: Some(443),
                to_port: Some(443),
                group_ids: vec!["sg-ep".into()],
                ..Default::default()
            }],
            &endpoint,
            Some(true),
        ),
        (
            "referenced other group",
            vec![SecurityGroupRule {
                protocol: "tcp".into(),
                from_port: Some(443),
                to_port: Some(443),
                group_ids: vec!["sg-other".into()],
                ..Default::default()
            }],
            &endpoint,
            Some(false),
        ),
        (
            "S3 prefix list rule",
            vec![SecurityGroupRule {
                protocol: "tcp".into(),
                from_port: Some(443),
                to_port: Some(443),
                prefix_list_ids: vec!["pl-s3".into()],
                ..Default::default()
            }],
            &s3,
            Some(true),
        ),
        (
            "S3 via a rule on the internet",
            vec![rule("tcp", Some(443), Some(443), &["0.0.0.0/0"])],
            &s3,
            Some(true),
        ),
        (
            "S3 with only the VPC CIDR",
            vec![rule("tcp", Some(443), Some(443), &["10.0.0.0/16"])],
            &s3,
            Some(false),
        ),
        (
            "S3 covered by CIDRs of the list",
            vec![rule(
                "tcp",
                Some(443),
                Some(443),
                &["52.216.0.0/15", "54.231.0.0/16"],
            )],
            &s3,
            Some(true),
        ),
    ];
    for (name, rules, peer, expected) in cases {
        let g = sg("sg-1", rules);
        let d = sg_decide(&[&g], true, 443, peer, &pls);
        assert_eq!(d.allowed, expected, "{name}: {}", d.detail);
    }
}

#[test]
fn security_groups_are_a_union() {
    let a = sg(
        "sg-a",
        vec![rule("tcp", Some(80), Some(80), &["0.0.0.0/0"])],
    );
    let b = sg(
        "sg-b",
        vec![rule("tcp", Some(443), Some(443), &["0.0.0.0/0"])],
    );
    let d = sg_decide(&[&a, &b], true, 443, &Peer::internet("the internet"), &[]);
    assert_eq!(d.allowed, Some(true));
    assert!(d.detail.contains("sg-b"), "{}", d.detail);
    let d = sg_decide(&[&a], true, 443, &Peer::internet("the internet"), &[]);
    assert_eq!(d.allowed, Some(false));
    assert!(
        d.detail.contains("no egress rule of sg-a allows tcp/443"),
        "{}",
        d.detail
    );
}

fn acl(entries: Vec<NetworkAclEntry>) -> NetworkAcl {
    crate::testkit::net::acl("acl-1", false, &[], entries)
}

#[test]
fn network_acl_table() {
    let internet = Peer::internet("0.0.0.0/0");
    let endpoint = Peer::nets("vpce subnets", &[net("10.0.2.0/24")]);
    let eph = (32768u16, 60999u16);
    // (case, entries, egress?, ports, peer, expected allowed, expected deciding rule)
    type Case<'a> = (
        &'a str,
        Vec<NetworkAclEntry>,
        bool,
        (u16, u16),
        &'a Peer,
        Option<bool>,
        Option<i32>,
    );
    let cases: Vec<Case> = vec![
        (
            "default NACL allows all",
            vec![acl_entry(100, true, "-1", "allow", "0.0.0.0/0", None)],
            true,
            (443, 443),
            &internet,
            Some(true),
            Some(100),
        ),
        (
            "only the * rule",
            vec![],
            true,
            (443, 443),
            &internet,
            Some(false),
            Some(32767),
        ),
        (
            "deny before allow",
            vec![
                acl_entry(90, true, "6", "deny", "0.0.0.0/0", Some((443, 443))),
                acl_entry(100, true, "-1", "allow", "0.0.0.0/0", None),
            ],
            true,
            (443, 443),
            &internet,
            Some(false),
            Some(90),
        ),
        (
            "allow before deny",
            vec![
                acl_entry(80, true, "6", "allow", "0.0.0.0/0", Some((443, 443))),
                acl_entry(90, true, "-1", "deny", "0.0.0.0/0", None),
            ],
            true,
            (443, 443),
            &internet,
            Some(true),
            Some(80),
        ),
        (
            "rule order is by number, not by list position",
            vec![
                acl_entry(200, true, "-1", "allow", "0.0.0.0/0", None),
                acl_entry(100, true, "-1", "deny", "0.0.0.0/0", None),
            ],
            true,
            (443, 443),
            &internet,
            Some(false),
            Some(100),
        ),
        (
            "a deny list of one bad network, then allow all",
            vec![
                acl_entry(50, true, "-1", "deny", "198.51.100.0/24", None),
                acl_entry(100, true, "-1", "allow", "0.0.0.0/0", None),
            ],
            true,
            (443, 443),
            &internet,
            Some(true),
            Some(100),
        ),
        (
            "that deny list hits a known peer inside it",
            vec![
                acl_entry(50, true, "-1", "deny", "10.0.2.0/25", None),
                acl_entry(100, true, "-1", "allow", "0.0.0.0/0", None),
            ],
            true,
            (443, 443),
            &endpoint,
            Some(false),
            Some(50),
        ),
        (
            "ephemeral return fully allowed",
            vec![acl_entry(
                100,
                false,
                "6",
                "allow",
                "0.0.0.0/0",
                Some((1024, 65535)),
            )],
            false,
            eph,
            &internet,
            Some(true),
            Some(100),
        ),
        (
            "ephemeral range only half open",
            vec![acl_entry(
                100,
                false,
                "6",
                "allow",
                "0.0.0.0/0",
                Some((49152, 65535)),
            )],
            false,
            eph,
            &internet,
            Some(false),
            Some(32767),
        ),
        (
            "inbound 443 only: replies blocked",
            vec![acl_entry(
                100,
                false,
                "6",
                "allow",
                "0.0.0.0/0",
                Some((443, 443)),
            )],
            false,
            eph,
            &internet,
            Some(false),
            Some(32767),
        ),
        (
            "udp does not carry tcp",
            vec![acl_entry(
                100,
                true,
                "17",
                "allow",
                "0.0.0.0/0",
                Some((443, 443)),
            )],
            true,
            (443, 443),
            &internet,
            Some(false),
            Some(32767),
        ),
        (
            "part of the internet only",
            vec![acl_entry(
                100,
                true,
                "6",
                "allow",
                "52.0.0.0/8",
                Some((443, 443)),
            )],
            true,
            (443, 443),
            &internet,
            None,
            None,
        ),
        (
            "VPC CIDR admits the endpoint subnet",
            vec![acl_entry(
                100,
                true,
                "6",
                "allow",
                "10.0.0.0/16",
                Some((443, 443)),
            )],
            true,
            (443, 443),
            &endpoint,
            Some(true),
            Some(100),
        ),
        (
            "two rules split the endpoint subnet",
            vec![
                acl_entry(100, true, "-1", "allow", "10.0.2.0/25", None),
                acl_entry(110, true, "-1", "allow", "10.0.2.128/25", None),
            ],
            true,
            (443, 443),
            &endpoint,
            Some(true),
            Some(110),
        ),
    ];
    for (name, entries, egress, ports, peer, expected, rule_no) in cases {
        let a = acl(entries);
        let d = nacl_decide(&a, egress, ports, peer);
        assert_eq!(d.allowed, expected, "{name}: {}", d.detail);
        assert_eq!(d.rule_number, rule_no, "{name}: {}", d.detail);
    }
}

#[test]
fn blocked_port_in_a_range_is_named() {
    let a = acl(vec![
        acl_entry(100, false, "6", "allow", "0.0.0.0/0", Some((32768, 40000))),
        acl_entry(110, false, "6", "deny", "0.0.0.0/0", Some((40001, 50000))),
        acl_entry(120, false, "-1", "allow", "0.0.0.0/0", None),
    ]);
    let d = nacl_decide(&a, false, (32768, 60999), &Peer::internet("0.0.0.0/0"));
    assert_eq!(d.allowed, Some(false));
    assert_eq!(d.rule_number, Some(110));
    assert_eq!(d.port, Some(40001));
    assert!(
        d.detail
            .contains("rule 110 (deny tcp/40001-50000 from 0.0.0.0/0)"),
        "{}",
        d.detail
    );
}

#[test]
fn labels() {
    assert_eq!(ports_label("-1", None, None), "all traffic");
    assert_eq!(ports_label("6", Some(443), Some(443)), "tcp/443");
    assert_eq!(ports_label("tcp", Some(0), Some(65535)), "tcp (all ports)");
    assert_eq!(rule_label(32767), "*");
}
