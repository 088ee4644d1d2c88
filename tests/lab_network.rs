//! End-to-end: the network family through the real binary against the AWS lab.
//! Every network cause code has a scenario; two healthy layouts (a private
//! subnet behind a NAT gateway, an endpoints-only VPC) must produce no network
//! candidate; a VPC that lacks only the S3 gateway endpoint is diagnosed as
//! exactly that; the main-route-table case is covered.

mod common;

use common::{snapshot_settings, top_code, top_evidence, Lab};
use serde_json::Value;

const NETWORK_CODES: &[&str] = &[
    "no-public-ip",
    "no-egress-route",
    "vpc-endpoint-missing",
    "security-group-egress-blocked",
    "security-group-ingress-closed",
    "nacl-blocked",
    "vpc-dns-disabled",
    "subnet-ip-exhausted",
];

fn network_candidates(report: &Value) -> Vec<String> {
    report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["family"] == "network")
        .map(|c| c["code"].as_str().unwrap().to_string())
        .collect()
}

fn check_status<'a>(report: &'a Value, id: &str) -> &'a str {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .and_then(|c| c["status"].as_str())
        .unwrap_or("missing")
}

/// (destination, outcome) of each network path in the JSON report.
fn paths(report: &Value) -> Vec<(String, String)> {
    report["network_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let hops = p["hops"].as_array().unwrap();
            let outcome = if hops.iter().any(|h| h["ok"] == false) {
                "blocked"
            } else if hops.iter().all(|h| h["ok"] == true) {
                "ok"
            } else {
                "unknown"
            };
            (
                p["destination"].as_str().unwrap().to_string(),
                outcome.to_string(),
            )
        })
        .collect()
}

fn snapshot(name: &str, lab: &Lab) {
    snapshot_settings().bind(|| insta::assert_snapshot!(name, lab.diagnose_markdown()));
}

/// A healthy layout: the app's own failure leads, every network check passed.
fn assert_network_healthy(report: &Value) {
    // The app's own failure ranks first (its log names a missing setting, so
    // app-missing-config may outrank the generic app-exit-error).
    assert_eq!(report["candidates"][0]["family"], "app", "{report:#}");
    assert_eq!(
        network_candidates(report),
        Vec::<String>::new(),
        "{report:#}"
    );
    for code in NETWORK_CODES {
        assert_eq!(check_status(report, code), "pass", "{code}: {report:#}");
    }
    assert_eq!(check_status(report, "eni-provisioning-timeout"), "pass");
}

#[test]
fn private_subnet_behind_a_nat_is_healthy() {
    let lab = Lab::start("net-private-nat-healthy");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "the app failed: {report:#}");
    assert_network_healthy(&report);
    common::assert_contract(&report);
    snapshot("network_private_nat_healthy", &lab);
}

#[test]
fn endpoints_only_vpc_is_healthy() {
    let lab = Lab::start("net-endpoints-healthy");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "the app failed: {report:#}");
    assert_network_healthy(&report);
    let detail = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "vpc-endpoint-missing")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("4 paths: ECR API, ECR registry, S3, CloudWatch Logs"),
        "{detail}"
    );
    snapshot("network_endpoints_healthy", &lab);
}

#[test]
fn only_the_s3_gateway_endpoint_is_missing() {
    let lab = Lab::start("net-s3-gateway-missing");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "vpc-endpoint-missing", "{report:#}");
    assert_eq!(
        network_candidates(&report),
        vec!["vpc-endpoint-missing"],
        "exactly that: {report:#}"
    );
    assert_eq!(
        report["candidates"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("com.amazonaws.us-east-1.s3 (gateway)"),
        "{evidence}"
    );
    assert!(evidence.contains(lab.get("route_table_id")), "{evidence}");
    let fix = report["candidates"][0]["fix"][0].as_str().unwrap();
    assert!(
        fix.contains("--vpc-endpoint-type Gateway --service-name com.amazonaws.us-east-1.s3"),
        "{fix}"
    );
    let p = paths(&report);
    let blocked: Vec<&str> = p
        .iter()
        .filter(|(_, o)| o == "blocked")
        .map(|(d, _)| d.as_str())
        .collect();
    assert_eq!(blocked.len(), 1, "{p:?}");
    assert!(blocked[0].starts_with("egress to S3"), "{p:?}");
    assert_eq!(
        p.iter().filter(|(_, o)| o == "ok").count(),
        3,
        "ECR API, registry and Logs through their endpoints: {p:?}"
    );
    common::assert_contract(&report);
    snapshot("network_s3_gateway_missing", &lab);
}

#[test]
fn main_route_table_without_a_default_route() {
    let lab = Lab::start("net-no-egress-route-main-table");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "no-egress-route", "{report:#}");
    assert_eq!(
        network_candidates(&report),
        vec!["no-egress-route"],
        "{report:#}"
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains(&format!(
            "has no explicit route table association, so the VPC's main route table {} applies",
            lab.get("route_table_id")
        )),
        "{evidence}"
    );
    assert!(
        evidence.contains("(main): no route to 0.0.0.0/0 ✗"),
        "{evidence}"
    );
    common::assert_contract(&report);
    snapshot("network_no_egress_route_main_table", &lab);
}

#[test]
fn nat_gateway_in_a_subnet_without_an_internet_route() {
    let lab = Lab::start("net-nat-subnet-without-igw");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "no-egress-route", "{report:#}");
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains(&format!(
            "{} sits in {}, whose route table {} has no route to 0.0.0.0/0",
            lab.get("nat_gateway_id"),
            lab.get("nat_subnet_id"),
            lab.get("nat_route_table_id")
        )),
        "{evidence}"
    );
    snapshot("network_nat_subnet_without_igw", &lab);
}

#[test]
fn security_group_blocks_https_out() {
    let lab = Lab::start("net-sg-egress-blocked");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        top_code(&report),
        "security-group-egress-blocked",
        "{report:#}"
    );
    assert_eq!(
        network_candidates(&report),
        vec!["security-group-egress-blocked"],
        "{report:#}"
    );
    let evidence = top_evidence(&report);
    let sg = lab.get("security_group_id");
    assert!(
        evidence.contains(&format!("no egress rule of {sg} allows tcp/443")),
        "{evidence}"
    );
    let fix = report["candidates"][0]["fix"][0].as_str().unwrap();
    assert!(
        fix.contains(&format!("authorize-security-group-egress --group-id {sg}")),
        "{fix}"
    );
    snapshot("network_sg_egress_blocked", &lab);
}

/// The candidates' fixes, one per line.
fn all_fixes(report: &Value) -> String {
    report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["fix"].as_array().unwrap().iter())
        .filter_map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The detail of check `id`.
fn check_detail<'a>(report: &'a Value, id: &str) -> &'a str {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .and_then(|c| c["detail"].as_str())
        .unwrap_or("missing")
}

/// A running task nobody named a client for, behind no load balancer: no
/// inbound candidate, no inbound path, and the inbound checks say how to ask.
fn assert_no_source_no_failure(code: i32, report: &Value) {
    assert_eq!(report["task"]["last_status"], "RUNNING");
    assert_eq!(
        network_candidates(report),
        Vec::<String>::new(),
        "{report:#}"
    );
    assert_eq!(code, 0, "a healthy running task is no failure: {report:#}");
    assert!(
        paths(report).iter().all(|(d, _)| !d.starts_with("inbound")),
        "{report:#}"
    );
    for id in ["no-public-ip", "security-group-ingress-closed"] {
        let detail = check_detail(report, id);
        assert!(
            detail.contains("no source of inbound traffic was given")
                && detail.contains("pass --from CIDR"),
            "{id}: {detail}"
        );
    }
}

#[test]
fn running_task_security_group_closed_on_the_app_port() {
    let lab = Lab::start("net-sg-ingress-closed");
    // No --from and no load balancer: nothing to check inbound traffic from.
    let (code, report) = lab.diagnose_json(&[]);
    assert_no_source_no_failure(code, &report);
    // The whole internet, asked for explicitly: closed, and the fix says what it exposes.
    let (code, report) = lab.diagnose_json(&["--from", "0.0.0.0/0"]);
    assert_eq!(code, 1);
    assert_eq!(
        top_code(&report),
        "security-group-ingress-closed",
        "{report:#}"
    );
    assert_eq!(
        network_candidates(&report),
        vec!["security-group-ingress-closed"],
        "{report:#}"
    );
    let evidence = top_evidence(&report);
    let sg = lab.get("security_group_id");
    assert!(
        evidence.contains(&format!(
            "no ingress rule of {sg} allows tcp/3000 from 0.0.0.0/0"
        )),
        "{evidence}"
    );
    assert!(
        evidence.contains(&format!("public IP {}", lab.get("public_ip"))),
        "{evidence}"
    );
    let fix = report["candidates"][0]["fix"][0].as_str().unwrap();
    assert!(
        fix.contains("--cidr 0.0.0.0/0 — this exposes the task itself to the whole internet"),
        "{fix}"
    );
    // Only the inbound path is shown: the egress paths evidently worked.
    assert_eq!(
        paths(&report),
        vec![(
            "inbound tcp/3000 to web from 0.0.0.0/0".to_string(),
            "blocked".to_string()
        )]
    );
    // From a narrower client network the port is still closed: only 80 is
    // open; the fix admits exactly that network.
    let (code, report) = lab.diagnose_json(&["--from", "198.51.100.0/24"]);
    assert_eq!(
        network_candidates(&report),
        vec!["security-group-ingress-closed"],
        "still only 80 is open"
    );
    assert_eq!(code, 1);
    let fixes = all_fixes(&report);
    assert!(fixes.contains("--cidr 198.51.100.0/24"), "{fixes}");
    assert!(!fixes.contains("0.0.0.0/0"), "{fixes}");
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "network_sg_ingress_closed",
            lab.markdown_with("task", &["--from", "198.51.100.0/24"])
        )
    });
}

#[test]
fn running_task_without_a_public_ip() {
    let lab = Lab::start("net-running-no-public-ip");
    // The reported harm: a healthy private task, nobody asked about the internet.
    let (code, report) = lab.diagnose_json(&[]);
    assert_no_source_no_failure(code, &report);
    common::assert_contract(&report);
    // From inside the VPC (a load balancer, say) the task is reachable.
    let (code, report) = lab.diagnose_json(&["--from", lab.get("vpc_cidr")]);
    assert_eq!(
        network_candidates(&report),
        Vec::<String>::new(),
        "{report:#}"
    );
    assert_eq!(code, 0, "{report:#}");
    let inbound: Vec<(String, String)> = paths(&report)
        .into_iter()
        .filter(|(d, _)| d.starts_with("inbound"))
        .collect();
    assert_eq!(
        inbound,
        vec![(
            format!("inbound tcp/3000 to web from {}", lab.get("vpc_cidr")),
            "ok".to_string()
        )]
    );
    // The whole internet, asked for explicitly: no public IP, and a public IP
    // is offered only with what it exposes, after the load balancer.
    let (code, report) = lab.diagnose_json(&["--from", "0.0.0.0/0"]);
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "no-public-ip", "{report:#}");
    assert!(common::top_title(&report).contains("nothing on the internet (--from 0.0.0.0/0)"));
    let fix = &report["candidates"][0]["fix"];
    assert!(fix[0].as_str().unwrap().contains("load balancer"), "{fix}");
    assert!(
        fix[1].as_str().unwrap().contains("assignPublicIp=ENABLED")
            && fix[1]
                .as_str()
                .unwrap()
                .contains("exposes the task itself to the whole internet"),
        "{fix}"
    );
    assert_eq!(
        report["candidates"][0]["docs"][0],
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/networking-inbound.html"
    );
    // A narrower public network: never a public IP nor 0.0.0.0/0.
    let (code, report) = lab.diagnose_json(&["--from", "198.51.100.0/24"]);
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "no-public-ip", "{report:#}");
    let fixes = all_fixes(&report);
    assert!(
        !fixes.contains("assignPublicIp") && !fixes.contains("0.0.0.0/0"),
        "{fixes}"
    );
}

#[test]
fn healthy_private_task_behind_its_load_balancer() {
    let lab = Lab::start("net-lb-private-healthy");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(report["task"]["last_status"], "RUNNING");
    assert_eq!(
        report["candidates"].as_array().unwrap().len(),
        0,
        "{report:#}"
    );
    assert_eq!(code, 0, "{report:#}");
    common::assert_contract(&report);
    // Inbound is checked from the load balancer, inside the VPC.
    let lb = format!("load balancer web ({})", lab.get("lb_security_group"));
    assert_eq!(
        paths(&report),
        vec![(
            format!("inbound tcp/3000 to web from {lb}"),
            "ok".to_string()
        )]
    );
    assert_eq!(
        check_status(&report, "security-group-ingress-closed"),
        "pass"
    );
    assert_eq!(check_status(&report, "no-public-ip"), "pass");
    snapshot("network_lb_private_healthy", &lab);
}

#[test]
fn running_task_its_load_balancer_cannot_reach() {
    let lab = Lab::start("net-lb-ingress-closed");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    common::assert_contract(&report);
    assert_eq!(
        top_code(&report),
        "security-group-ingress-closed",
        "{report:#}"
    );
    let lb_sg = lab.get("lb_security_group");
    let sg = lab.get("security_group_id");
    let title = common::top_title(&report);
    assert!(title.contains(lb_sg) && title.contains(sg), "{title}");
    let fix = common::top_lines(&report, "fix");
    assert!(
        fix.contains(&format!(
            "authorize-security-group-ingress --group-id {sg} --protocol tcp --port 3000 --source-group {lb_sg}"
        )),
        "{fix}"
    );
    assert!(!all_fixes(&report).contains("0.0.0.0/0"), "{report:#}");
    assert!(!all_fixes(&report).contains("--cidr"), "{report:#}");
    assert!(
        top_evidence(&report).contains("Target.Timeout"),
        "{report:#}"
    );
    assert_eq!(
        network_candidates(&report),
        vec!["security-group-ingress-closed"],
        "no public IP is asked for: {report:#}"
    );
    snapshot("network_lb_ingress_closed", &lab);
}

#[test]
fn network_acl_drops_the_replies() {
    let lab = Lab::start("net-nacl-blocked");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "nacl-blocked", "{report:#}");
    assert_eq!(
        network_candidates(&report),
        vec!["nacl-blocked"],
        "{report:#}"
    );
    let title = report["candidates"][0]["title"].as_str().unwrap();
    assert!(
        title.contains(&format!(
            "{} (task subnet {}) denies inbound tcp/32768-60999 (the replies) by the default rule *",
            lab.get("network_acl_id"),
            lab.get("subnet_id")
        )),
        "{title}"
    );
    let fix = report["candidates"][0]["fix"][0].as_str().unwrap();
    assert!(
        fix.contains("--ingress --protocol tcp --port-range From=32768,To=60999"),
        "{fix}"
    );
    snapshot("network_nacl_blocked", &lab);
}

#[test]
fn vpc_dns_hostnames_off_with_private_dns_endpoints() {
    let lab = Lab::start("net-vpc-dns-disabled");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "vpc-dns-disabled", "{report:#}");
    assert_eq!(
        network_candidates(&report),
        vec!["vpc-dns-disabled"],
        "{report:#}"
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains(&format!(
            "{}: enableDnsHostnames = false",
            lab.get("vpc_id")
        )),
        "{evidence}"
    );
    assert!(
        evidence.contains("private DNS was not in effect"),
        "the public address in the stop reason supports it: {evidence}"
    );
    snapshot("network_vpc_dns_disabled", &lab);
}

#[test]
fn subnet_out_of_addresses() {
    let lab = Lab::start("net-subnet-ip-exhausted");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "subnet-ip-exhausted", "{report:#}");
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains(&format!(
            "{} (10.0.200.0/28): AvailableIpAddressCount = 0",
            lab.get("subnet_id")
        )),
        "{evidence}"
    );
    snapshot("network_subnet_ip_exhausted", &lab);
}

#[test]
fn eni_provisioning_timeout_is_not_a_network_fault() {
    let lab = Lab::start("net-eni-provisioning-timeout");
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "eni-provisioning-timeout", "{report:#}");
    assert_eq!(
        network_candidates(&report),
        Vec::<String>::new(),
        "{report:#}"
    );
    assert!(top_evidence(&report).contains("Timeout waiting for network interface provisioning"));
    snapshot("network_eni_provisioning_timeout", &lab);
}

#[test]
fn standalone_task_needs_the_flags_and_says_they_are_assumed() {
    let lab = Lab::start("net-standalone-no-public-ip");
    // AWS holds neither the security groups nor assignPublicIp of a stopped standalone task.
    // The task failed to start, and what would say why is missing: unknown, not healthy.
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "unknown", "{report:#}");
    assert!(
        top_evidence(&report).contains("could not decide: no-public-ip"),
        "{report:#}"
    );
    assert_eq!(check_status(&report, "no-public-ip"), "inconclusive");
    assert_eq!(
        check_status(&report, "security-group-egress-blocked"),
        "inconclusive"
    );
    let sg = lab.get("security_group_id");
    let (code, report) =
        lab.diagnose_json(&["--assign-public-ip", "DISABLED", "--security-group", sg]);
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "no-public-ip", "{report:#}");
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("assignPublicIp = DISABLED (from the command line, assumed)"),
        "{evidence}"
    );
    assert!(
        evidence.contains("assignPublicIp assumed (--assign-public-ip)"),
        "{evidence}"
    );
    assert!(
        evidence.contains("security groups given with --security-group (assumed)"),
        "{evidence}"
    );
    assert_eq!(
        check_status(&report, "security-group-egress-blocked"),
        "pass"
    );
    let against = report["candidates"][0]["against"].as_array().unwrap();
    assert!(against
        .iter()
        .any(|a| a.as_str().unwrap().contains("supplied on the command line")));
}
