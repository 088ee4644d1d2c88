//! ## What it detects
//! The VPC's DNS attributes stop the task from resolving the services it
//! needs: `enableDnsSupport` is false (the Amazon DNS server does not
//! answer, so no AWS host name resolves), or `enableDnsHostnames` is false
//! while the task relies on an interface endpoint with private DNS (the
//! endpoint's private host names then do not take effect).
//!
//! ## Why it matters
//! AWS documents "a VPC that doesn't have DNS resolution enabled" as a
//! common cause of `ResourceInitializationError`. Private DNS for interface
//! endpoints needs both attributes; when one is switched off after the
//! endpoints were created, `api.ecr.<region>.amazonaws.com` resolves to public
//! addresses again (or not at all), and a VPC without a NAT gateway can no
//! longer pull images, fetch secrets or create log streams.
//!
//! ## Example
//! ```text
//! vpc-0abc: enableDnsHostnames = false, but vpce-0api (com.amazonaws.us-east-1.ecr.api)
//! relies on private DNS
//! path: task ENI (subnet-a) → vpc-0abc private DNS of vpce-0api ✗ …
//! ```
//!
//! ## How to fix
//! `aws ec2 modify-vpc-attribute --vpc-id vpc-… --enable-dns-support
//! '{"Value":true}'` and `aws ec2 modify-vpc-attribute --vpc-id vpc-…
//! --enable-dns-hostnames '{"Value":true}'` (one attribute per call). With
//! a custom DNS server in the DHCP options, forward the AWS service names to
//! the VPC resolver.
//!
//! ## References
//! - https://docs.aws.amazon.com/vpc/latest/userguide/vpc-dns.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html
//! - https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html

use crate::context::Ctx;
use crate::codes::Cause;
use crate::checks::findings::{affected, check_verdict, finding};
use crate::report::Verdict;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let _ev = ctx.ev;
    check_verdict(
        ctx,
        Cause::VpcDnsDisabled,
        "VPC DNS support (and hostnames, where endpoints rely on private DNS) is on",
        |blocked| {
            let support_off = blocked
                .iter()
                .any(|(_, s)| s.hop.note.as_deref().is_some_and(|n| n.contains("enableDnsSupport")));
            let vpc = blocked[0].1.hop.label.split(' ').next().unwrap_or_default();
            let title = if support_off {
                format!("DNS resolution is disabled in {vpc} (enableDnsSupport = false): the task cannot resolve {}", affected(blocked))
            } else {
                format!(
                    "DNS hostnames are disabled in {vpc} (enableDnsHostnames = false), so the private DNS of the endpoints for {} does not work",
                    affected(blocked)
                )
            };
            finding(ctx, Cause::VpcDnsDisabled, title, blocked)
                .doc("https://docs.aws.amazon.com/vpc/latest/userguide/vpc-dns.html")
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    
    use crate::testkit::found;

    crate::check_under_test!();
    use crate::evidence::Fact;
    use crate::testkit::net::*;
    use crate::report::Strength;


    #[test]
    fn hostnames_off_with_private_dns_endpoints() {
        let mut fx = Fx::endpoints_only().stopped(
            "TaskFailedToStart",
            "ResourceInitializationError: unable to pull secrets or registry auth: Post \"https://api.ecr.us-east-1.amazonaws.com/\": dial tcp 52.46.157.21:443: i/o timeout",
        );
        fx.vpc.enable_dns_hostnames = Fact::gathered(false);
        let f = found(check(&fx.ev()));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.starts_with("DNS hostnames are disabled in vpc-1"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("enableDnsHostnames = false, but vpce-api")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("--enable-dns-hostnames"));
    }

    #[test]
    fn support_off_breaks_everything() {
        let reason = "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: dial tcp: lookup logs.us-east-1.amazonaws.com: no such host";
        let mut fx = Fx::private_nat().stopped("TaskFailedToStart", reason);
        fx.vpc.enable_dns_support = Fact::gathered(false);
        let f = found(check(&fx.ev()));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("enableDnsSupport = false"), "{}", f.title);
        assert!(f.fix[0].contains("--enable-dns-support"));
    }

    #[test]
    fn passes_when_on_or_not_needed() {
        assert!(matches!(check(&Fx::endpoints_only().ev()), Verdict::Pass(_)));
        let mut fx = Fx::private_nat();
        fx.vpc.enable_dns_hostnames = Fact::gathered(false);
        assert!(matches!(check(&fx.ev()), Verdict::Pass(_)));
    }

    #[test]
    fn unknown_attribute_is_inconclusive() {
        let mut fx = Fx::endpoints_only();
        fx.vpc.enable_dns_hostnames = Fact::Denied {
            action: "ec2:DescribeVpcAttribute".into(),
            error: "UnauthorizedOperation".into(),
        };
        assert!(matches!(check(&fx.ev()), Verdict::Inconclusive(_)));
    }
}
