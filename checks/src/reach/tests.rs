use super::*;
use crate::report::Strength;

/// Evaluate the paths of a task as a diagnosis does.
fn evaluate(ev: &Evidence) -> NetworkPaths {
    super::evaluate(ev, &StopTexts::of(ev))
}

fn support(ev: &Evidence, path: &PathEval, cause: Cause) -> (Strength, Vec<String>, Vec<String>) {
    crate::checks::findings::support(&crate::context::Ctx::new(ev), path, cause)
}

fn report_paths(ev: &Evidence) -> Vec<NetworkPath> {
    let ctx = crate::context::Ctx::new(ev);
    super::report_paths(&ctx.network, &ctx.stops)
}
use crate::evidence::{ContainerDefinition, NatGateway, SecretRef, SecurityGroupRule};
use crate::testkit::net::*;

/// (path title, blocking cause) for every blocked hop.
fn blocks(ev: &Evidence) -> Vec<(String, Cause)> {
    let eval = evaluate(ev);
    eval.paths()
        .flat_map(|p| {
            p.steps
                .iter()
                .filter(|s| s.is_blocked())
                .map(|s| (p.short(), s.causes[0]))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn egress(ev: &Evidence) -> Vec<PathEval> {
    match evaluate(ev).egress {
        Scope::Paths(p) => p,
        other => panic!("no egress paths: {other:?}"),
    }
}

fn chain_of(ev: &Evidence, service: AwsService) -> String {
    egress(ev)
        .iter()
        .find(|p| p.destination().map(|d| d.service) == Some(service))
        .map(|p| p.to_network_path().chain())
        .expect("path for service")
}

#[test]
fn destinations_follow_the_task_definition() {
    let mut fx = Fx::private_nat();
    fx.td.containers[0].secrets.push(SecretRef {
        name: "API_KEY".into(),
        value_from: "/prod/api-key".into(),
    });
    fx.td.containers.push(ContainerDefinition {
        name: "proxy".into(),
        image: "nginx:1.27".into(),
        essential: true,
        ..Default::default()
    });
    let d = destinations(&fx.ev()).unwrap();
    let got: Vec<(AwsService, String)> = d.iter().map(|d| (d.service, d.host.clone())).collect();
    assert_eq!(
        got,
        vec![
            (
                AwsService::EcrApi,
                "api.ecr.us-east-1.amazonaws.com".to_string()
            ),
            (
                AwsService::EcrRegistry,
                "123456789012.dkr.ecr.us-east-1.amazonaws.com".to_string()
            ),
            (
                AwsService::S3,
                "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com".to_string()
            ),
            (
                AwsService::SecretsManager,
                "secretsmanager.us-east-1.amazonaws.com".to_string()
            ),
            (AwsService::Ssm, "ssm.us-east-1.amazonaws.com".to_string()),
            (AwsService::Logs, "logs.us-east-1.amazonaws.com".to_string()),
            (AwsService::Registry, "registry-1.docker.io".to_string()),
        ]
    );
    assert_eq!(
        d[0].endpoint_service().as_deref(),
        Some("com.amazonaws.us-east-1.ecr.api")
    );
    assert_eq!(d[6].endpoint_service(), None);
}

#[test]
fn healthy_private_subnet_behind_a_nat() {
    let ev = Fx::private_nat().ev();
    assert_eq!(blocks(&ev), vec![]);
    let paths = egress(&ev);
    assert_eq!(paths.len(), 5);
    assert!(
        paths.iter().all(|p| p.to_network_path().outcome() == "ok"),
        "{paths:#?}"
    );
    let chain = chain_of(&ev, AwsService::EcrApi);
    assert!(
        chain.contains("rtb-main (main): 0.0.0.0/0 → nat-1 → nat-1 (available, in subnet-pub) → rtb-pub: 0.0.0.0/0 → igw-1"),
        "{chain}"
    );
}

#[test]
fn healthy_endpoints_only_vpc() {
    let ev = Fx::endpoints_only().ev();
    assert_eq!(blocks(&ev), vec![]);
    let paths = egress(&ev);
    assert!(
        paths.iter().all(|p| p.to_network_path().outcome() == "ok"),
        "{paths:#?}"
    );
    let s3 = paths
        .iter()
        .find(|p| p.destination().unwrap().service == AwsService::S3)
        .unwrap();
    assert_eq!(s3.via, Via::GatewayEndpoint("vpce-s3".into()));
    let api = paths
        .iter()
        .find(|p| p.destination().unwrap().service == AwsService::EcrApi)
        .unwrap();
    assert_eq!(api.via, Via::InterfaceEndpoint("vpce-api".into()));
    assert!(api
        .to_network_path()
        .chain()
        .contains("private DNS → vpce-api"));
}

#[test]
fn only_the_s3_gateway_is_missing() {
    let mut fx = Fx::endpoints_only();
    fx.endpoints.retain(|e| e.id != "vpce-s3");
    fx.table_mut("rtb-main")
        .routes
        .retain(|r| r.target != "vpce-s3");
    let ev = fx.ev();
    let b = blocks(&ev);
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(b[0].1, Cause::VpcEndpointMissing);
    assert!(b[0].0.starts_with("S3"));
    let s3 = egress(&ev)
        .into_iter()
        .find(|p| p.destination().unwrap().service == AwsService::S3)
        .unwrap();
    let step = s3.steps.iter().find(|s| s.is_blocked()).unwrap();
    assert!(
        step.facts
            .iter()
            .any(|f| f.contains("no S3 gateway endpoint (com.amazonaws.us-east-1.s3)")),
        "{:?}",
        step.facts
    );
    assert!(step.fixes[0].contains("--vpc-endpoint-type Gateway --service-name com.amazonaws.us-east-1.s3 --route-table-ids rtb-main"));
}

#[test]
fn s3_gateway_not_associated_with_the_table() {
    let mut fx = Fx::endpoints_only();
    fx.table_mut("rtb-main")
        .routes
        .retain(|r| r.target != "vpce-s3");
    fx.endpoint_mut("vpce-s3").route_table_ids = vec!["rtb-other".into()];
    let s3 = egress(&fx.ev())
        .into_iter()
        .find(|p| p.destination().unwrap().service == AwsService::S3)
        .unwrap();
    let step = s3.steps.iter().find(|s| s.is_blocked()).unwrap();
    assert_eq!(step.causes, vec![Cause::VpcEndpointMissing]);
    assert!(step.fixes[0]
        .contains("modify-vpc-endpoint --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-main"));
}

#[test]
fn public_subnet_without_public_ip_reads_as_a_chain() {
    let ev = Fx::public(false).ev();
    let b = blocks(&ev);
    assert_eq!(b.len(), 5);
    assert!(b.iter().all(|(_, c)| *c == Cause::NoPublicIp));
    let chain = chain_of(&ev, AwsService::EcrApi);
    assert!(
        chain.starts_with("task ENI (subnet-a, 10.0.1.25, no public IP)"),
        "{chain}"
    );
    assert!(
        chain.contains("rtb-a: 0.0.0.0/0 → igw-1 ✗ an IGW route needs a public IP"),
        "{chain}"
    );
    assert!(Fx::public(true).ev().network.placement.value().is_some());
    assert_eq!(blocks(&Fx::public(true).ev()), vec![]);
}

#[test]
fn public_ip_unknown_is_not_a_guess() {
    let mut fx = Fx::public(false);
    fx.placement.assign_public_ip = None;
    let eval = evaluate(&fx.ev());
    let o = eval.hops_for(Cause::NoPublicIp);
    assert!(o.blocked.is_empty());
    assert!(o.unknown[0].1.explanation().contains("--assign-public-ip"));
}

#[test]
fn main_route_table_applies_without_an_explicit_association() {
    let ev = Fx::private_nat().ev();
    let api = egress(&ev)
        .into_iter()
        .find(|p| p.destination().unwrap().service == AwsService::EcrApi)
        .unwrap();
    let route = api
        .steps
        .iter()
        .find(|s| s.hop.label.starts_with("rtb-main"))
        .unwrap();
    assert!(route.facts[0].contains(
        "no explicit route table association, so the VPC's main route table rtb-main applies"
    ));
    // An explicit association wins over the main table.
    let mut fx = Fx::private_nat();
    fx.tables.push(table("rtb-a", false, &["subnet-a"], vec![]));
    let b = blocks(&fx.ev());
    assert_eq!(b.len(), 5);
    assert!(b.iter().all(|(_, c)| *c == Cause::NoEgressRoute), "{b:?}");
}

#[test]
fn route_problems_table() {
    type Mutate = fn(&mut Fx);
    let cases: Vec<(&str, Mutate, Cause, &str)> = vec![
        (
            "no default route",
            |fx| {
                fx.table_mut("rtb-main")
                    .routes
                    .retain(|r| r.target == "local")
            },
            Cause::NoEgressRoute,
            "no route to 0.0.0.0/0",
        ),
        (
            "blackhole route",
            |fx| fx.table_mut("rtb-main").routes[1].state = Some("blackhole".into()),
            Cause::NoEgressRoute,
            "(blackhole)",
        ),
        (
            "NAT gateway deleted",
            |fx| fx.nats[0].state = Some("deleted".into()),
            Cause::NoEgressRoute,
            "nat-1 (deleted",
        ),
        (
            "NAT gateway missing",
            |fx| fx.nats.clear(),
            Cause::NoEgressRoute,
            "does not exist",
        ),
        (
            "private NAT gateway",
            |fx| fx.nats[0].connectivity_type = Some("private".into()),
            Cause::NoEgressRoute,
            "private NAT",
        ),
        (
            "NAT subnet without an IGW route",
            |fx| {
                fx.table_mut("rtb-pub")
                    .routes
                    .retain(|r| r.target == "local")
            },
            Cause::NoEgressRoute,
            "rtb-pub: no route to 0.0.0.0/0",
        ),
        (
            "NAT subnet routes to a detached IGW",
            |fx| fx.igws[0].attached_vpc_ids.clear(),
            Cause::NoEgressRoute,
            "does not route to an internet gateway",
        ),
    ];
    for (name, mutate, cause, text) in cases {
        let mut fx = Fx::private_nat();
        mutate(&mut fx);
        let ev = fx.ev();
        let b = blocks(&ev);
        assert_eq!(b.len(), 5, "{name}: {b:?}");
        assert!(b.iter().all(|(_, c)| *c == cause), "{name}: {b:?}");
        let chain = chain_of(&ev, AwsService::EcrApi);
        assert!(chain.contains(text), "{name}: {chain}");
    }
}

#[test]
fn longest_prefix_beats_the_default_route() {
    // The stop text dialed 52.46.157.21, and 52.46.0.0/16 goes to a peering connection.
    let mut fx = Fx::private_nat().stopped("TaskFailedToStart", ECR_API_TIMEOUT);
    fx.table_mut("rtb-main")
        .routes
        .push(route("52.46.0.0/16", "pcx-1"));
    let ev = fx.ev();
    let api = egress(&ev)
        .into_iter()
        .find(|p| p.destination().unwrap().service == AwsService::EcrApi)
        .unwrap();
    let hop = api
        .steps
        .iter()
        .find(|s| s.hop.label.contains("pcx-1"))
        .expect("peering route chosen");
    assert!(hop.is_unknown());
    // Other services still use the NAT.
    let logs = chain_of(&ev, AwsService::Logs);
    assert!(logs.contains("0.0.0.0/0 → nat-1"), "{logs}");
}

#[test]
fn security_group_egress_problems() {
    let mut fx = Fx::private_nat();
    fx.group_mut("sg-task").egress = vec![sg_rule("tcp", Some(80), "0.0.0.0/0")];
    let b = blocks(&fx.ev());
    assert_eq!(b.len(), 5);
    assert!(b
        .iter()
        .all(|(_, c)| *c == Cause::SecurityGroupEgressBlocked));

    // Endpoints only, egress limited to the VPC: fine for interface
    // endpoints, but S3 needs its prefix list.
    let mut fx = Fx::endpoints_only();
    fx.group_mut("sg-task").egress = vec![sg_rule("tcp", Some(443), "10.0.0.0/16")];
    let b = blocks(&fx.ev());
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(b[0].1, Cause::SecurityGroupEgressBlocked);
    assert!(b[0].0.starts_with("S3"));
    let s3 = egress(&fx.ev())
        .into_iter()
        .find(|p| p.destination().unwrap().service == AwsService::S3)
        .unwrap();
    let fix = &s3.steps.iter().find(|s| s.is_blocked()).unwrap().fixes[0];
    assert!(
        fix.contains("PrefixListIds=[{PrefixListId=pl-63a5400a}]"),
        "{fix}"
    );
    fx.group_mut("sg-task").egress.push(SecurityGroupRule {
        protocol: "tcp".into(),
        from_port: Some(443),
        to_port: Some(443),
        prefix_list_ids: vec![S3_PL.into()],
        ..Default::default()
    });
    assert_eq!(blocks(&fx.ev()), vec![]);
}

#[test]
fn default_security_group_when_none_is_configured() {
    let mut fx = Fx::private_nat();
    fx.placement.security_group_ids.clear();
    fx.groups[1].name = Some("default".into());
    fx.groups[1].egress.clear();
    let ev = fx.ev();
    let b = blocks(&ev);
    assert!(
        b.iter()
            .all(|(_, c)| *c == Cause::SecurityGroupEgressBlocked),
        "{b:?}"
    );
    let p = &egress(&ev)[0];
    let s = p.steps.iter().find(|s| s.is_blocked()).unwrap();
    assert!(
        s.facts
            .iter()
            .any(|f| f.contains("default group sg-default")),
        "{:?}",
        s.facts
    );
}

#[test]
fn endpoint_security_group_must_admit_the_task() {
    let mut fx = Fx::endpoints_only();
    fx.group_mut("sg-endpoints").ingress = vec![sg_rule("tcp", Some(443), "10.0.2.0/24")];
    let ev = fx.ev();
    let b = blocks(&ev);
    assert_eq!(b.len(), 4, "{b:?}");
    assert!(b
        .iter()
        .all(|(_, c)| *c == Cause::SecurityGroupIngressClosed));
    fx.group_mut("sg-endpoints").ingress = vec![sg_from_group(443, "sg-task")];
    assert_eq!(blocks(&fx.ev()), vec![]);
}

#[test]
fn endpoint_state_and_private_dns() {
    let mut fx = Fx::endpoints_only();
    fx.endpoint_mut("vpce-logs").state = Some("pending".into());
    let b = blocks(&fx.ev());
    assert_eq!(
        b,
        vec![(
            "CloudWatch Logs (logs.us-east-1.amazonaws.com)".to_string(),
            Cause::VpcEndpointMissing
        )]
    );

    let mut fx = Fx::endpoints_only();
    fx.endpoint_mut("vpce-sm").private_dns_enabled = Some(false);
    let ev = fx.ev();
    let b = blocks(&ev);
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(b[0].1, Cause::VpcEndpointMissing);
    let sm = egress(&ev)
        .into_iter()
        .find(|p| p.destination().unwrap().service == AwsService::SecretsManager)
        .unwrap();
    let step = sm.steps.iter().find(|s| s.is_blocked()).unwrap();
    assert!(
        step.fixes[0].contains("--private-dns-enabled"),
        "{:?}",
        step.fixes
    );
}

#[test]
fn network_acl_problems_name_the_rule() {
    let mut fx = Fx::private_nat();
    fx.acls = acls_denying_https_out();
    let ev = fx.ev();
    let b = blocks(&ev);
    assert_eq!(b.len(), 5);
    assert!(b.iter().all(|(_, c)| *c == Cause::NaclBlocked));
    let chain = chain_of(&ev, AwsService::EcrApi);
    assert!(
        chain.contains("acl-app (task subnet subnet-a) ✗"),
        "{chain}"
    );
    assert!(
        chain.contains("rule 90 (deny tcp/443 to 0.0.0.0/0) decides"),
        "{chain}"
    );

    // Outbound open, but the ephemeral return ports are not.
    fx.acls[0] = acl(
        "acl-app",
        false,
        &["subnet-a"],
        vec![
            acl_entry(100, true, "-1", "allow", "0.0.0.0/0", None),
            acl_entry(100, false, "6", "allow", "0.0.0.0/0", Some((443, 443))),
        ],
    );
    let ev = fx.ev();
    let api = egress(&ev)
        .into_iter()
        .find(|p| p.destination().unwrap().service == AwsService::EcrApi)
        .unwrap();
    let s = api.steps.iter().find(|s| s.is_blocked()).unwrap();
    assert!(
        s.hop
            .note
            .as_ref()
            .unwrap()
            .contains("inbound tcp/32768-60999"),
        "{:?}",
        s.hop.note
    );
    assert!(
        s.fixes[0].contains("--ingress --protocol tcp --port-range From=32768,To=60999"),
        "{}",
        s.fixes[0]
    );
}

#[test]
fn nat_subnet_acl_is_evaluated_too() {
    let mut fx = Fx::private_nat();
    fx.acls = vec![
        allow_all_acl("acl-default", true, &["subnet-a", "subnet-b"]),
        acl(
            "acl-pub",
            false,
            &["subnet-pub"],
            vec![
                acl_entry(100, true, "-1", "allow", "0.0.0.0/0", None),
                acl_entry(100, false, "6", "allow", "0.0.0.0/0", Some((1024, 65535))),
            ],
        ),
    ];
    // Inbound 443 from the task subnet is not allowed on the NAT subnet.
    let b = blocks(&fx.ev());
    assert_eq!(b.len(), 5, "{b:?}");
    assert!(b.iter().all(|(_, c)| *c == Cause::NaclBlocked));
    let chain = chain_of(&fx.ev(), AwsService::Logs);
    assert!(
        chain.contains("acl-pub (NAT subnet subnet-pub) ✗"),
        "{chain}"
    );
}

#[test]
fn vpc_dns_attributes() {
    let mut fx = Fx::endpoints_only();
    fx.vpc.enable_dns_hostnames = Fact::gathered(false);
    let b = blocks(&fx.ev());
    assert_eq!(b.len(), 4, "{b:?}");
    assert!(b.iter().all(|(_, c)| *c == Cause::VpcDnsDisabled));
    // Hostnames do not matter without private-DNS endpoints.
    let mut fx = Fx::private_nat();
    fx.vpc.enable_dns_hostnames = Fact::gathered(false);
    assert_eq!(blocks(&fx.ev()), vec![]);
    // DNS support off breaks every path.
    fx.vpc.enable_dns_support = Fact::gathered(false);
    let b = blocks(&fx.ev());
    assert_eq!(b.len(), 5);
    assert!(b.iter().all(|(_, c)| *c == Cause::VpcDnsDisabled));
}

#[test]
fn other_registries_need_the_internet() {
    let mut fx = Fx::endpoints_only();
    fx.td.containers[0].image = "nginx:1.27".into();
    let ev = fx.ev();
    let b = blocks(&ev);
    assert_eq!(
        b,
        vec![(
            "registry (registry-1.docker.io)".to_string(),
            Cause::NoEgressRoute
        )]
    );
}

#[test]
fn every_service_subnet_is_evaluated() {
    let mut fx = Fx::private_nat();
    fx.task.eni_attachment = None;
    fx.placement.subnet_ids = vec!["subnet-a".into(), "subnet-b".into()];
    fx.placement.subnet_source = NetworkSource::Service;
    fx.placement.private_ip = None;
    fx.tables.push(table("rtb-b", false, &["subnet-b"], vec![]));
    let ev = fx.ev();
    let paths = egress(&ev);
    assert_eq!(paths.len(), 10);
    let b = blocks(&ev);
    assert_eq!(b.len(), 5);
    assert!(paths
        .iter()
        .filter(|p| p.title.ends_with("from subnet-b"))
        .all(|p| p.to_network_path().outcome() == "blocked"));
    assert!(paths[0].steps[0]
        .hop
        .note
        .as_ref()
        .unwrap()
        .contains("one of the subnets in the service's networkConfiguration"));
}

#[test]
fn assumed_placement_is_marked() {
    let mut fx = Fx::public(false);
    fx.placement.subnet_source = NetworkSource::User;
    fx.placement.assign_public_ip_source = NetworkSource::User;
    let chain = chain_of(&fx.ev(), AwsService::EcrApi);
    assert!(chain.contains("subnet assumed (--subnet)"), "{chain}");
    assert!(
        chain.contains("assignPublicIp assumed (--assign-public-ip)"),
        "{chain}"
    );
}

#[test]
fn ec2_launch_type_skips_egress() {
    let mut fx = Fx::private_nat();
    fx.task.launch_type = Some("EC2".into());
    assert!(matches!(evaluate(&fx.ev()).egress, Scope::Skipped(_)));
}

#[test]
fn inbound_to_a_running_task() {
    // Without --from and without a load balancer there is no client to
    // check from: not a failure, and the scope says how to ask.
    let mut fx = Fx::public(true).running();
    match evaluate(&fx.ev()).inbound {
        Scope::Skipped(why) => assert!(why.contains("pass --from CIDR"), "{why}"),
        other => panic!("{other:?}"),
    }
    fx.from_cidr = Some("0.0.0.0/0".into());
    // No ingress rule for 3000.
    let ev = fx.ev();
    let eval = evaluate(&ev);
    let Scope::Paths(inbound) = &eval.inbound else {
        panic!("{:?}", eval.inbound)
    };
    assert_eq!(inbound.len(), 1);
    let chain = inbound[0].to_network_path().chain();
    assert!(
        chain.contains(
            "sg-task ingress tcp/3000 ✗ no ingress rule of sg-task allows tcp/3000 from 0.0.0.0/0"
        ),
        "{chain}"
    );
    assert!(chain.ends_with("container web:3000"), "{chain}");

    fx.group_mut("sg-task").ingress = vec![sg_rule("tcp", Some(3000), "0.0.0.0/0")];
    assert_eq!(blocks(&fx.ev()), vec![]);

    // Open only to one office network: closed to the whole internet.
    fx.group_mut("sg-task").ingress = vec![sg_rule("tcp", Some(3000), "203.0.113.0/24")];
    let b = blocks(&fx.ev());
    assert_eq!(
        b,
        vec![(
            "inbound tcp/3000 to web from 0.0.0.0/0".to_string(),
            Cause::SecurityGroupIngressClosed
        )]
    );
    fx.from_cidr = Some("203.0.113.7/32".into());
    assert_eq!(blocks(&fx.ev()), vec![]);

    // No public IP.
    let mut fx = Fx::public(false).running();
    fx.from_cidr = Some("0.0.0.0/0".into());
    fx.group_mut("sg-task").ingress = vec![sg_rule("tcp", Some(3000), "0.0.0.0/0")];
    let b: Vec<Cause> = blocks(&fx.ev()).into_iter().map(|b| b.1).collect();
    // Egress to the IGW also lacks the public IP (the task would not have started).
    assert!(b.iter().all(|c| *c == Cause::NoPublicIp), "{b:?}");
    assert_eq!(b.len(), 6);

    // Behind a NAT with a public IP: replies go out the NAT.
    let mut fx = Fx::private_nat().running();
    fx.from_cidr = Some("0.0.0.0/0".into());
    fx.placement.public_ip = Some("54.80.1.2".into());
    fx.group_mut("sg-task").ingress = vec![sg_rule("tcp", Some(3000), "0.0.0.0/0")];
    let b = blocks(&fx.ev());
    assert_eq!(
        b,
        vec![(
            "inbound tcp/3000 to web from 0.0.0.0/0".to_string(),
            Cause::NoEgressRoute
        )]
    );

    // The NACL must admit the port and let the replies out.
    let mut fx = Fx::public(true).running();
    fx.from_cidr = Some("0.0.0.0/0".into());
    fx.group_mut("sg-task").ingress = vec![sg_rule("tcp", Some(3000), "0.0.0.0/0")];
    fx.acls = vec![acl(
        "acl-default",
        true,
        &["subnet-a", "subnet-b", "subnet-pub"],
        vec![
            acl_entry(100, false, "-1", "allow", "0.0.0.0/0", None),
            acl_entry(100, true, "6", "allow", "0.0.0.0/0", Some((443, 443))),
        ],
    )];
    let b = blocks(&fx.ev());
    assert!(
        b.contains(&(
            "inbound tcp/3000 to web from 0.0.0.0/0".to_string(),
            Cause::NaclBlocked
        )),
        "{b:?}"
    );
}

#[test]
fn inbound_from_the_load_balancer() {
    // A private task behind its load balancer: the only source is the
    // load balancer, inside the VPC; no public address is involved.
    let fx = Fx::private_nat().running().behind_lb();
    let eval = evaluate(&fx.ev());
    let Scope::Paths(inbound) = &eval.inbound else {
        panic!("{:?}", eval.inbound)
    };
    assert_eq!(inbound.len(), 1);
    assert_eq!(
        inbound[0].title,
        "inbound tcp/3000 to web from load balancer web (sg-lb)"
    );
    let chain = inbound[0].to_network_path().chain();
    assert!(
        chain.starts_with("load balancer web (sg-lb) in subnet-pub → local route (inside the VPC)"),
        "{chain}"
    );
    assert!(
        chain.contains(
            "acl-default (task subnet subnet-a) → sg-task ingress tcp/3000 → container web:3000"
        ),
        "{chain}"
    );
    assert!(!chain.contains("public IP"), "{chain}");
    assert_eq!(blocks(&fx.ev()), vec![]);

    // The task's group admits another group only: the load balancer is shut out.
    let mut closed = fx.clone();
    closed.group_mut("sg-task").ingress = vec![sg_from_group(3000, "sg-bastion")];
    assert_eq!(
        blocks(&closed.ev()),
        vec![(
            "inbound tcp/3000 to web from load balancer web (sg-lb)".to_string(),
            Cause::SecurityGroupIngressClosed
        )]
    );

    // A rule for the load balancer's subnet admits it too.
    let mut by_range = fx.clone();
    by_range.group_mut("sg-task").ingress = vec![sg_rule("tcp", Some(3000), "10.0.0.0/24")];
    assert_eq!(blocks(&by_range.ev()), vec![]);

    // The load balancer's own subnet must let the probes out and the replies in.
    let mut acl_lb = fx.clone();
    acl_lb.acls = vec![
        allow_all_acl("acl-default", true, &["subnet-a", "subnet-b"]),
        acl(
            "acl-pub",
            false,
            &["subnet-pub"],
            vec![
                acl_entry(100, false, "-1", "allow", "0.0.0.0/0", None),
                acl_entry(100, true, "6", "allow", "0.0.0.0/0", Some((443, 443))),
            ],
        ),
    ];
    // (subnet-pub is the NAT's subnet too, so egress is blocked as well.)
    let b: Vec<_> = blocks(&acl_lb.ev())
        .into_iter()
        .filter(|(d, _)| d.starts_with("inbound"))
        .collect();
    assert_eq!(
        b,
        vec![(
            "inbound tcp/3000 to web from load balancer web (sg-lb)".to_string(),
            Cause::NaclBlocked
        )]
    );

    // With --from as well, both sources are checked.
    let mut both = fx.clone();
    both.from_cidr = Some("10.0.0.0/16".into());
    let Scope::Paths(p) = evaluate(&both.ev()).inbound else {
        panic!()
    };
    assert_eq!(p.len(), 2);

    // Load balancers that could not be read leave the question open.
    let mut unread = fx.ev();
    unread.load_balancing[0].load_balancers = Fact::Denied {
        action: "elasticloadbalancing:DescribeLoadBalancers".into(),
        error: "AccessDenied".into(),
    };
    match evaluate(&unread).inbound {
        Scope::Unknown(why) => {
            assert!(why.contains("DescribeLoadBalancers was denied"), "{why}");
            assert!(why.contains("pass --from CIDR"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    // The checks it decides say so, even though the egress paths passed.
    let ctx = crate::context::Ctx::new(&unread);
    match crate::checks::network::security_group_ingress_closed::check(&ctx) {
        crate::report::Verdict::Inconclusive(d) => {
            assert!(d.contains("DescribeLoadBalancers was denied"), "{d}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn report_paths_only_when_the_network_is_implicated() {
    let fx = Fx::private_nat().stopped(
        "EssentialContainerExited",
        "Essential container in task exited",
    );
    assert!(report_paths(&fx.ev()).is_empty());
    let fx = Fx::private_nat().stopped("TaskFailedToStart", ECR_API_TIMEOUT);
    assert_eq!(report_paths(&fx.ev()).len(), 5);
    let fx = Fx::public(false).stopped("TaskFailedToStart", "Task failed to start");
    assert_eq!(report_paths(&fx.ev()).len(), 5, "blocked paths are shown");
    let mut fx = Fx::public(true).running();
    assert_eq!(
        report_paths(&fx.ev()).len(),
        0,
        "no source of inbound traffic"
    );
    fx.from_cidr = Some("198.51.100.0/24".into());
    assert_eq!(report_paths(&fx.ev()).len(), 1);
    let fx = Fx::private_nat().running().behind_lb();
    assert_eq!(report_paths(&fx.ev()).len(), 1);
}

#[test]
fn support_reads_the_stop_text() {
    let fx = Fx::public(false).stopped("TaskFailedToStart", ECR_API_TIMEOUT);
    let ev = fx.ev();
    let paths = egress(&ev);
    let api = paths
        .iter()
        .find(|p| p.destination().unwrap().service == AwsService::EcrApi)
        .unwrap();
    let (strength, evidence, against) = support(&ev, api, Cause::NoPublicIp);
    assert_eq!(strength, Strength::Direct);
    assert!(evidence
        .iter()
        .any(|e| e.contains("public address 52.46.157.21:443")));
    assert!(against.is_empty());
    let logs = paths
        .iter()
        .find(|p| p.destination().unwrap().service == AwsService::Logs)
        .unwrap();
    assert_eq!(
        support(&ev, logs, Cause::NoPublicIp).0,
        Strength::Corroborating
    );

    // A task whose container ran cannot have been blocked at start.
    let mut fx = Fx::public(false).stopped(
        "EssentialContainerExited",
        "Essential container in task exited",
    );
    fx.task.containers[0].exit_code = Some(1);
    let ev = fx.ev();
    let (strength, _, against) = support(&ev, &egress(&ev)[0], Cause::NoPublicIp);
    assert_eq!(strength, Strength::Circumstantial);
    assert!(against[0].contains("exited with code 1"));
}

#[test]
fn missing_facts_leave_hops_unknown() {
    let mut fx = Fx::private_nat();
    fx.td.containers[0].secrets.clear();
    let mut ev = fx.ev();
    ev.network.route_tables = Fact::Denied {
        action: "ec2:DescribeRouteTables".into(),
        error: "UnauthorizedOperation".into(),
    };
    let eval = evaluate(&ev);
    let o = eval.hops_for(Cause::NoEgressRoute);
    assert!(o.blocked.is_empty());
    assert!(o.unknown[0]
        .1
        .explanation()
        .contains("ec2:DescribeRouteTables was denied"));
    let _ = NatGateway::default();
}

#[test]
fn chains_read_hop_by_hop() {
    let mut no_s3 = Fx::endpoints_only().stopped("TaskFailedToStart", ECR_API_TIMEOUT);
    no_s3.endpoints.retain(|e| e.id != "vpce-s3");
    no_s3
        .table_mut("rtb-main")
        .routes
        .retain(|r| r.target != "vpce-s3");
    let mut open = Fx::public(true).running();
    open.from_cidr = Some("0.0.0.0/0".into());
    open.group_mut("sg-task").ingress = vec![sg_rule("tcp", Some(3000), "0.0.0.0/0")];
    let mut lb_closed = Fx::private_nat().running().behind_lb();
    lb_closed.group_mut("sg-task").ingress = vec![sg_from_group(3000, "sg-bastion")];
    let mut out = String::new();
    for (name, fx) in [
        ("private subnet behind a NAT", Fx::private_nat()),
        ("endpoints only, no S3 gateway", no_s3),
        ("public subnet without a public IP", Fx::public(false)),
        ("running task reachable on 3000", open),
        ("running task its load balancer cannot reach", lb_closed),
    ] {
        out.push_str(&format!("## {name}\n"));
        for p in evaluate(&fx.ev()).paths() {
            let np = p.to_network_path();
            out.push_str(&format!(
                "- {} ({}): {}\n",
                np.destination,
                np.outcome(),
                np.chain()
            ));
        }
    }
    insta::assert_snapshot!("network_chains", out);
}

#[test]
fn an_env_file_bucket_of_unknown_region_says_the_tasks_region_is_assumed() {
    use crate::evidence::EnvFileEvidence;
    let arn = "arn:aws:s3:::app-config/prod/web.env";
    let mut fx = Fx::private_nat();
    fx.td.containers[0].environment_files = vec![arn.into()];
    let mut ev = fx.ev();
    let file = |region: Fact<String>| EnvFileEvidence {
        container: fx.td.containers[0].name.clone(),
        arn: arn.into(),
        bucket_region: region,
        ..Default::default()
    };
    ev.env_files = vec![file(Fact::Denied {
        action: "s3:GetBucketLocation".into(),
        error: "AccessDenied".into(),
    })];
    let s3 = destinations(&ev)
        .unwrap()
        .into_iter()
        .find(|d| d.reasons.iter().any(|r| r.starts_with("environmentFiles")))
        .unwrap();
    assert_eq!(s3.region, "us-east-1");
    let why = s3.assumed.clone().unwrap_or_default();
    assert!(
        why.contains("the task's Region us-east-1 assumed")
            && why.contains("s3:GetBucketLocation was denied"),
        "{why}"
    );
    // The path says so where a finding quotes it.
    let chain = chain_of(&ev, AwsService::S3);
    assert!(
        chain.contains("the task's Region us-east-1 assumed"),
        "{chain}"
    );
    // A Region S3 named is no assumption; nor is a bucket that does not exist.
    for known in [
        Fact::gathered("eu-west-1".to_string()),
        Fact::absent("NoSuchBucket"),
    ] {
        ev.env_files = vec![file(known)];
        let d = destinations(&ev).unwrap();
        assert!(d.iter().all(|d| d.assumed.is_none()), "{d:?}");
    }
}
