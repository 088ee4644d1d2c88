//! ## What it detects
//! The VPC relies on VPC endpoints (the task's subnet has no internet path,
//! and interface endpoints exist for some of the services the task needs),
//! but an endpoint the task needs is missing or unusable: no interface
//! endpoint for `com.amazonaws.<region>.ecr.api`, `ecr.dkr`, `logs`,
//! `secretsmanager` or `ssm`; no S3 gateway endpoint
//! (`com.amazonaws.<region>.s3`) on the subnet's route table; an endpoint
//! whose state is not `available`; an interface endpoint with private DNS
//! disabled (so the service's host name still resolves to public
//! addresses). It names the missing service names.
//!
//! ## Why it matters
//! Without a NAT gateway, each AWS service the task talks to at start needs
//! its own endpoint. ECR image layers live in S3, and ECR cannot use an S3
//! interface endpoint: only the S3 gateway endpoint works, as a route in the
//! subnet's route table. The classic symptom is a pull that gets the
//! manifest (through `ecr.dkr`) and then times out downloading layers.
//!
//! ## Example
//! ```text
//! stoppedReason = CannotPullContainerError: ref pull has been retried 1 time(s):
//!                 failed to copy: httpReadSeeker: failed open: … dial tcp 52.217.1.1:443: i/o timeout
//! path: task ENI (subnet-a) → rtb-main (main): no route to 0.0.0.0/0 ✗
//!       no S3 gateway endpoint (com.amazonaws.us-east-1.s3): ECR image layers are stored in S3
//! ```
//!
//! ## How to fix
//! Create the missing endpoints (interface endpoints with private DNS in the
//! task's subnets, with a security group admitting TCP 443 from the task),
//! and the S3 gateway endpoint associated with the task subnet's route
//! table: `aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway
//! --service-name com.amazonaws.<region>.s3 --route-table-ids rtb-…`.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html
//! - https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html

use crate::context::Ctx;
use crate::codes::Cause;
use crate::checks::findings::{affected, check_verdict, finding};
use crate::report::Verdict;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let _ev = ctx.ev;
    check_verdict(
        ctx,
        Cause::VpcEndpointMissing,
        "every endpoint the task relies on exists and is usable",
        |blocked| {
            let mut names: Vec<String> = Vec::new();
            for (p, _) in blocked {
                if let Some(name) = p.destination().and_then(|d| {
                    d.endpoint_service().map(|n| {
                        if d.is_gateway_service() {
                            format!("{n} (gateway)")
                        } else {
                            n
                        }
                    })
                }) {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
            let only_s3 = blocked
                .iter()
                .all(|(p, _)| p.destination().is_some_and(|d| d.is_gateway_service()));
            let title = if only_s3 {
                format!(
                    "The S3 gateway endpoint is missing for {}: image layers (S3) cannot be downloaded",
                    blocked[0].0.subnet_id
                )
            } else {
                format!(
                    "The VPC relies on endpoints but {} cannot reach {}: {}",
                    blocked[0].0.subnet_id,
                    affected(blocked),
                    names.join(", ")
                )
            };
            let mut f = finding(ctx, Cause::VpcEndpointMissing, title, blocked);
            f.evidence
                .insert(0, format!("needed endpoint service names: {}", names.join(", ")));
            f.doc("https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html")
                .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html")
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


    const LAYER_TIMEOUT: &str = "CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy: httpReadSeeker: failed open: failed to do request: Get \"https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/abc\": dial tcp 52.217.1.1:443: i/o timeout";

    fn no_s3_gateway() -> Fx {
        let mut fx = Fx::endpoints_only();
        fx.endpoints.retain(|e| e.id != "vpce-s3");
        fx.table_mut("rtb-main").routes.retain(|r| r.target != "vpce-s3");
        fx
    }

    #[test]
    fn only_the_s3_gateway_is_missing() {
        let ev = no_s3_gateway().stopped("TaskFailedToStart", LAYER_TIMEOUT).ev();
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.starts_with("The S3 gateway endpoint is missing for subnet-a"), "{}", f.title);
        assert_eq!(f.evidence[0], "needed endpoint service names: com.amazonaws.us-east-1.s3 (gateway)");
        assert!(f.fix[0].contains("--service-name com.amazonaws.us-east-1.s3 --route-table-ids rtb-main"));
    }

    #[test]
    fn several_interface_endpoints_missing() {
        let mut fx = Fx::endpoints_only();
        fx.endpoints.retain(|e| e.id != "vpce-logs" && e.id != "vpce-sm");
        let f = found(check(&fx.ev()));
        assert!(f.title.contains("Secrets Manager and CloudWatch Logs"), "{}", f.title);
        assert!(f.evidence[0].contains("com.amazonaws.us-east-1.secretsmanager, com.amazonaws.us-east-1.logs"), "{}", f.evidence[0]);
        assert!(f.fix.iter().any(|x| x.contains("--service-name com.amazonaws.us-east-1.logs") && x.contains("--private-dns-enabled")));
    }

    #[test]
    fn passes_when_every_endpoint_exists_or_a_nat_serves() {
        assert!(matches!(check(&Fx::endpoints_only().ev()), Verdict::Pass(_)));
        assert!(matches!(check(&Fx::private_nat().ev()), Verdict::Pass(_)));
        // With a NAT gateway, a missing S3 gateway endpoint is no problem.
        let mut fx = no_s3_gateway();
        fx.table_mut("rtb-main").routes.push(route("0.0.0.0/0", "nat-1"));
        fx.nats = Fx::private_nat().nats;
        fx.tables.push(Fx::private_nat().tables[1].clone());
        assert!(matches!(check(&fx.ev()), Verdict::Pass(_)), "{:?}", check(&fx.ev()));
    }

    #[test]
    fn a_vpc_without_any_endpoint_is_a_routing_problem_not_this() {
        let mut fx = Fx::private_nat();
        fx.table_mut("rtb-main").routes.retain(|r| r.target == "local");
        assert!(matches!(check(&fx.ev()), Verdict::Pass(_)));
    }
}
