//! ## What it detects
//! A network ACL on the way denies traffic the task needs. ACLs are
//! evaluated the way AWS does: the lowest-numbered rule that matches the
//! protocol, port and address decides (so a `deny` before an `allow` wins),
//! nothing matching falls to the default `*` deny, and because ACLs are
//! stateless both directions are checked: outbound TCP 443 and the inbound
//! ephemeral return ports (32768-60999 on Linux) on the task's subnet, and
//! the mirror image on the subnets of the interface endpoints and the NAT
//! gateway it goes through. For a running task, inbound on the container
//! port and the replies outbound. The finding names the rule that decides.
//!
//! ## Why it matters
//! A custom ACL that opens 443 outbound but forgets the return ports (or
//! admits only 1024-32767) makes every TLS connection hang: the request
//! leaves, the answer is dropped. The task stops with an `i/o timeout` that
//! looks exactly like a missing route.
//!
//! ## Example
//! ```text
//! path: task ENI (subnet-a) → sg-1 egress tcp/443 → acl-0app (task subnet subnet-a) ✗
//!       acl-0app inbound tcp/32768-60999 from api.ecr.us-east-1.amazonaws.com (internet):
//!       no numbered rule matches, so the default rule * denies
//! ```
//!
//! ## How to fix
//! Add the missing rule with a number below the rule that denies, e.g.
//! `aws ec2 create-network-acl-entry --network-acl-id acl-… --rule-number 110
//! --ingress --protocol tcp --port-range From=1024,To=65535 --cidr-block
//! 0.0.0.0/0 --rule-action allow`, or associate the subnet with an ACL that
//! allows the traffic.
//!
//! ## References
//! - https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html
//! - https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html
//! - https://docs.aws.amazon.com/vpc/latest/userguide/nacl-ephemeral-ports.html

use crate::context::Ctx;
use crate::codes::Cause;
use crate::checks::findings::{affected, check_verdict, finding};
use crate::report::Verdict;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let _ev = ctx.ev;
    check_verdict(
        ctx,
        Cause::NaclBlocked,
        "the network ACLs on the way allow the traffic both ways",
        |blocked| {
            let (_, step) = blocked[0];
            let what = step.hint.clone().unwrap_or_else(|| step.hop.label.clone());
            let title = format!(
                "Network ACL {what}, so the task cannot reach {}",
                affected(blocked)
            );
            finding(ctx, Cause::NaclBlocked, title, blocked)
                .doc("https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html")
                .doc("https://docs.aws.amazon.com/vpc/latest/userguide/nacl-ephemeral-ports.html")
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    
    use crate::testkit::found;

    crate::check_under_test!();
    use crate::testkit::net::*;
    use crate::report::Strength;


    #[test]
    fn deny_before_allow_names_the_rule() {
        let mut fx = Fx::private_nat().stopped("TaskFailedToStart", ECR_API_TIMEOUT);
        fx.acls = acls_denying_https_out();
        let f = found(check(&fx.ev()));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.starts_with("Network ACL acl-app (task subnet subnet-a) denies outbound tcp/443 by rule 90, so the task cannot reach ECR API"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("rule 90 (deny tcp/443 to 0.0.0.0/0) decides")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("--network-acl-id acl-app --rule-number 89 --egress --protocol tcp --port-range From=443,To=443"), "{}", f.fix[0]);
    }

    #[test]
    fn missing_return_ports() {
        let mut fx = Fx::private_nat();
        fx.acls = vec![
            acl(
                "acl-app",
                false,
                &["subnet-a"],
                vec![
                    acl_entry(100, true, "6", "allow", "0.0.0.0/0", Some((443, 443))),
                    acl_entry(100, false, "6", "allow", "10.0.0.0/16", Some((0, 65535))),
                ],
            ),
            allow_all_acl("acl-default", true, &["subnet-pub", "subnet-b"]),
        ];
        let f = found(check(&fx.ev()));
        assert!(f.title.contains("denies inbound tcp/32768-60999 (the replies) by the default rule * (no numbered rule matches)"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("inbound tcp/32768-60999")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("--rule-number 110 --ingress"), "{}", f.fix[0]);
    }

    #[test]
    fn endpoint_subnet_acl_must_admit_443() {
        let mut fx = Fx::endpoints_only();
        fx.acls = vec![
            allow_all_acl("acl-default", true, &["subnet-a", "subnet-pub"]),
            acl(
                "acl-endpoints",
                false,
                &["subnet-b"],
                vec![
                    acl_entry(100, false, "6", "allow", "10.0.2.0/24", Some((443, 443))),
                    acl_entry(100, true, "-1", "allow", "0.0.0.0/0", None),
                ],
            ),
        ];
        let f = found(check(&fx.ev()));
        assert!(f.title.starts_with("Network ACL acl-endpoints (endpoint subnet subnet-b) denies inbound tcp/443 by"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("subnet-b (endpoint subnet) uses network ACL acl-endpoints")), "{:?}", f.evidence);
    }

    #[test]
    fn passes_with_default_acls() {
        assert!(matches!(check(&Fx::private_nat().ev()), Verdict::Pass(_)));
        assert!(matches!(check(&Fx::endpoints_only().ev()), Verdict::Pass(_)));
    }

    #[test]
    fn denied_describe_is_inconclusive() {
        let mut ev = Fx::private_nat().ev();
        ev.network.network_acls = crate::evidence::Fact::Denied {
            action: "ec2:DescribeNetworkAcls".into(),
            error: "UnauthorizedOperation".into(),
        };
        match check(&ev) {
            Verdict::Inconclusive(d) => assert!(d.contains("ec2:DescribeNetworkAcls was denied"), "{d}"),
            other => panic!("{other:?}"),
        }
    }
}
