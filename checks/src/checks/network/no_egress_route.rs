//! ## What it detects
//! The task's subnet has no working way out to a service it needs to start:
//! its effective route table (the explicit association, else the VPC's main
//! table) has no `0.0.0.0/0` route, the route is a `blackhole`, the route's
//! internet gateway is not attached to the VPC, or the route's NAT gateway
//! is missing, not `available`, private, or sits in a subnet that does not
//! itself route to an internet gateway — and no VPC endpoint serves the
//! destination instead. For a running task reached from the internet it
//! also fires when the replies leave through something other than an
//! internet gateway (a NAT gateway, for instance).
//!
//! ## Why it matters
//! Fargate (platform version 1.4 and later) pulls images, fetches secrets
//! and sets up logging through the task's ENI, inside your VPC. With no path
//! to ECR, S3, Secrets Manager, Parameter Store or CloudWatch Logs the task
//! never starts: `TaskFailedToStart` with `ResourceInitializationError` or
//! `CannotPullContainerError` and a timeout (`i/o timeout`, `context
//! deadline exceeded`, `request canceled while waiting for connection`).
//! When the VPC deliberately uses endpoints instead of a NAT gateway, a
//! missing endpoint is reported as `vpc-endpoint-missing` instead.
//!
//! ## Example
//! ```text
//! stoppedReason = CannotPullContainerError: … dial tcp 3.5.9.10:443: i/o timeout
//! path: task ENI (subnet-a, no public IP) → rtb-main (main): 0.0.0.0/0 → nat-1 →
//!       nat-1 (available, in subnet-p) → rtb-p: no route to 0.0.0.0/0 ✗
//!       the NAT gateway's subnet subnet-p does not route to an internet gateway
//! ```
//!
//! ## How to fix
//! Give the subnet a default route to a NAT gateway that is `available`,
//! has public connectivity and sits in a public subnet (`0.0.0.0/0 →
//! igw-…`); or, for a public subnet, route to an attached internet gateway
//! and enable `assignPublicIp`; or create the VPC endpoints the task needs
//! (`ecr.api`, `ecr.dkr`, the S3 gateway, `logs`, `secretsmanager`, `ssm`).
//! Registries outside AWS (Docker Hub, ECR Public) always need the internet.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html
//! - https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html
//! - https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html
//! - https://repost.aws/knowledge-center/ecs-fargate-pull-container-error

use crate::context::Ctx;
use crate::codes::Cause;
use crate::checks::findings::{affected, check_verdict, finding};
use crate::report::Verdict;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let _ev = ctx.ev;
    check_verdict(
        ctx,
        Cause::NoEgressRoute,
        "every needed destination has a route out",
        |blocked| {
            let (path, step) = blocked[0];
            let reason = step.hop.note.clone().unwrap_or_default();
            let title = if path.is_inbound() {
                format!("Replies to {} cannot get back: {reason}", affected(blocked))
            } else {
                format!(
                    "No route from {} to {}: {}",
                    path.subnet_id,
                    affected(blocked),
                    if reason.is_empty() {
                        step.hop.label.clone()
                    } else {
                        format!("{reason} ({})", step.hop.label)
                    }
                )
            };
            let f = finding(ctx, Cause::NoEgressRoute, title, blocked);
            if path.is_inbound() {
                return f.doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/networking-inbound.html");
            }
            f.doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html")
                .doc("https://repost.aws/knowledge-center/ecs-fargate-pull-container-error")
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


    const PULL_TIMEOUT: &str = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4: failed to do request: Head \"https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/web/manifests/1.4\": dial tcp 3.5.9.10:443: i/o timeout";

    #[test]
    fn nat_in_a_subnet_without_an_internet_gateway_route() {
        let mut fx = Fx::private_nat().stopped("TaskFailedToStart", PULL_TIMEOUT);
        fx.table_mut("rtb-pub").routes.retain(|r| r.target == "local");
        let f = found(check(&fx.ev()));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("the NAT gateway's subnet subnet-pub does not route to an internet gateway"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("nat-1 sits in subnet-pub, whose route table rtb-pub has no route to 0.0.0.0/0")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("create-route --route-table-id rtb-pub"));
    }

    #[test]
    fn main_table_without_default_route() {
        let mut fx = Fx::private_nat().stopped("TaskFailedToStart", PULL_TIMEOUT);
        fx.table_mut("rtb-main").routes.retain(|r| r.target == "local");
        let f = found(check(&fx.ev()));
        assert!(f.title.starts_with("No route from subnet-a to ECR API, ECR registry, S3, Secrets Manager and CloudWatch Logs"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("the VPC's main route table rtb-main applies")));
        assert!(f.fix.iter().any(|x| x.contains("--nat-gateway-id")));
    }

    #[test]
    fn blackhole_after_the_nat_was_deleted() {
        let mut fx = Fx::private_nat().stopped("TaskFailedToStart", PULL_TIMEOUT);
        fx.table_mut("rtb-main").routes[1].state = Some("blackhole".into());
        fx.nats.clear();
        let f = found(check(&fx.ev()));
        assert!(f.evidence.iter().any(|e| e.contains("the route 0.0.0.0/0 → nat-1 is a blackhole route")), "{:?}", f.evidence);
    }

    #[test]
    fn passes_on_healthy_paths() {
        assert!(matches!(check(&Fx::private_nat().ev()), Verdict::Pass(_)));
        assert!(matches!(check(&Fx::endpoints_only().ev()), Verdict::Pass(_)));
        assert!(matches!(check(&Fx::public(true).ev()), Verdict::Pass(_)));
    }

    #[test]
    fn endpoint_vpcs_report_missing_endpoints_instead() {
        let mut fx = Fx::endpoints_only();
        fx.endpoints.retain(|e| e.id != "vpce-logs");
        assert!(matches!(check(&fx.ev()), Verdict::Pass(_)));
    }

    #[test]
    fn transit_gateway_is_inconclusive() {
        let mut fx = Fx::private_nat();
        fx.table_mut("rtb-main").routes[1].target = "tgw-1".into();
        match check(&fx.ev()) {
            Verdict::Inconclusive(d) => assert!(d.contains("cannot see past it"), "{d}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn running_task_behind_a_nat_cannot_answer_the_internet() {
        let mut fx = Fx::private_nat().running();
        fx.from_cidr = Some("0.0.0.0/0".into());
        fx.placement.public_ip = Some("54.80.1.2".into());
        fx.group_mut("sg-task").ingress = vec![sg_rule("tcp", Some(3000), "0.0.0.0/0")];
        let f = found(check(&fx.ev()));
        assert!(f.title.starts_with("Replies to tcp/3000 from 0.0.0.0/0 cannot get back"), "{}", f.title);
    }

    #[test]
    fn unreadable_endpoints_leave_a_missing_route_undecided() {
        // A private subnet without a NAT: endpoints would be its only way out.
        let mut ev = Fx::endpoints_only().stopped("TaskFailedToStart", ECR_API_TIMEOUT).ev();
        ev.network.vpc_endpoints = crate::evidence::Fact::Denied {
            action: "ec2:DescribeVpcEndpoints".into(),
            error: "UnauthorizedOperation".into(),
        };
        match check(&ev) {
            Verdict::Inconclusive(d) => assert!(d.contains("ec2:DescribeVpcEndpoints"), "{d}"),
            other => panic!("convicted without the endpoints: {other:?}"),
        }
    }
}
