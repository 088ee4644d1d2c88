//! ## What it detects
//! The task's security groups do not allow the outbound traffic it needs to
//! start: TCP 443 to the internet (through an internet or NAT gateway), to
//! the network interfaces of the interface endpoints it uses (their subnets'
//! CIDRs or their security groups), or to the S3 prefix list behind the S3
//! gateway endpoint. Rules are evaluated properly: protocol (`-1` is all
//! traffic), port range, CIDR, managed prefix list and referenced group,
//! across every group attached to the task (an allow in any group is
//! enough). When the task names no group, the VPC's default group applies.
//!
//! ## Why it matters
//! Security groups are stateful, so no inbound rule is needed for the
//! replies, but a group whose outbound rules were narrowed (a common
//! hardening step) silently drops image pulls, secret fetches and log set-up.
//! A frequent case: egress limited to the VPC CIDR works for interface
//! endpoints but not for S3, which sits behind a gateway endpoint at public
//! addresses and needs a rule for its prefix list.
//!
//! ## Example
//! ```text
//! path: task ENI (subnet-a) → sg-0app egress tcp/443 ✗ sg-0app admits tcp/443 to pl-63a5400a
//!       (com.amazonaws.us-east-1.s3) only in part: nothing admits 52.216.0.0/15, 54.231.0.0/16
//! ```
//!
//! ## How to fix
//! Add an outbound rule for TCP 443: to `0.0.0.0/0` for the internet path,
//! to the endpoints' security group (or subnets) for interface endpoints,
//! and to the S3 prefix list for the gateway endpoint:
//! `aws ec2 authorize-security-group-egress --group-id sg-… --ip-permissions
//! 'IpProtocol=tcp,FromPort=443,ToPort=443,PrefixListIds=[{PrefixListId=pl-…}]'`.
//!
//! ## References
//! - https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
//! - https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
//! - https://repost.aws/knowledge-center/ecs-fargate-pull-container-error

use crate::context::Ctx;
use crate::codes::Cause;
use crate::checks::findings::{affected, check_verdict, finding};
use crate::report::Verdict;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let _ev = ctx.ev;
    check_verdict(
        ctx,
        Cause::SecurityGroupEgressBlocked,
        "the task's security groups allow the outbound traffic it needs",
        |blocked| {
            let groups = blocked[0]
                .1
                .hop
                .label
                .split(" egress")
                .next()
                .unwrap_or_default()
                .to_string();
            let title = format!(
                "Security group {groups} blocks outbound TCP 443 to {}",
                affected(blocked)
            );
            finding(ctx, Cause::SecurityGroupEgressBlocked, title, blocked)
                .doc("https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html")
                .doc("https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html")
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    
    use crate::testkit::found;

    crate::check_under_test!();
    use crate::evidence::SecurityGroupRule;
    use crate::testkit::net::*;
    use crate::report::Strength;


    #[test]
    fn egress_narrowed_to_http() {
        let mut fx = Fx::private_nat().stopped("TaskFailedToStart", ECR_API_TIMEOUT);
        fx.group_mut("sg-task").egress = vec![sg_rule("tcp", Some(80), "0.0.0.0/0")];
        let f = found(check(&fx.ev()));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.starts_with("Security group sg-task blocks outbound TCP 443 to ECR API, ECR registry, S3"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("no egress rule of sg-task allows tcp/443")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("authorize-security-group-egress --group-id sg-task") && f.fix[0].contains("CidrIp=0.0.0.0/0"), "{}", f.fix[0]);
    }

    #[test]
    fn vpc_only_egress_misses_the_s3_prefix_list() {
        let mut fx = Fx::endpoints_only();
        fx.group_mut("sg-task").egress = vec![sg_rule("tcp", Some(443), "10.0.0.0/16")];
        let f = found(check(&fx.ev()));
        assert!(f.title.ends_with("to S3"), "{}", f.title);
        assert!(f.fix[0].contains("PrefixListIds=[{PrefixListId=pl-63a5400a}]"));
    }

    #[test]
    fn passes_with_all_traffic_or_the_right_rules() {
        assert!(matches!(check(&Fx::private_nat().ev()), Verdict::Pass(_)));
        let mut fx = Fx::endpoints_only();
        fx.group_mut("sg-task").egress = vec![
            sg_from_group(443, "sg-endpoints"),
            SecurityGroupRule {
                protocol: "tcp".into(),
                from_port: Some(443),
                to_port: Some(443),
                prefix_list_ids: vec![S3_PL.into()],
                ..Default::default()
            },
        ];
        assert!(matches!(check(&fx.ev()), Verdict::Pass(_)), "{:?}", check(&fx.ev()));
    }

    #[test]
    fn unknown_groups_are_inconclusive() {
        let mut fx = Fx::private_nat();
        fx.placement.security_group_ids.clear();
        fx.placement.security_groups_source = crate::evidence::NetworkSource::Unknown;
        match check(&fx.ev()) {
            Verdict::Inconclusive(d) => assert!(d.contains("--security-group"), "{d}"),
            other => panic!("{other:?}"),
        }
    }
}
