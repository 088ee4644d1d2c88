//! ## What it detects
//! A running task whose network cannot carry an ECS Exec session. The
//! agent in the container dials `ssmmessages.<region>.amazonaws.com:443`
//! (and KMS when the cluster encrypts sessions with its key, CloudWatch
//! Logs or S3 where sessions are logged). Each path is followed like a
//! start-up path by the one path evaluator: the subnet's route table, a NAT
//! gateway, an internet gateway with a public IP, or an interface endpoint
//! (`com.amazonaws.<region>.ssmmessages`, private DNS on, its security
//! groups admitting 443 from the task), then the task's security groups
//! and the network ACLs both ways.
//!
//! ## Why it matters
//! A task can start from a VPC with ECR, Logs and Secrets Manager endpoints
//! and still have no way to `ssmmessages`: the task runs, but every
//! `execute-command` ends in `TargetNotConnectedException`. Private
//! subnets built for endpoints alone are where this happens most.
//!
//! ## Example
//! ```text
//! subnet-0a1b (private) → route table rtb-09 has no default route
//!   → no interface endpoint com.amazonaws.us-east-1.ssmmessages
//! ```
//!
//! ## How to fix
//! Create an interface endpoint for `com.amazonaws.<region>.ssmmessages`
//! in the task's subnets with private DNS on and a security group that
//! admits 443 from the task (add `kms` and `logs` endpoints when the
//! cluster's exec configuration uses them), or give the subnet a NAT
//! gateway route. Security group and ACL fixes are named per hop.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
//! - https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::checks::findings::{affected, assemble};
use crate::report::{Strength, Verdict};

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let o = ctx.network.hops_for(Cause::ExecNoSsmPath);
    if let Some((_, step)) = o.blocked.first() {
        let what = step.hint.clone().unwrap_or_else(|| step.hop.label.clone());
        let title = format!("The task cannot reach {} for ECS Exec: {what}", affected(&o.blocked));
        return assemble(Cause::ExecNoSsmPath, Strength::Corroborating, title, Vec::new(), Vec::new(), &o.blocked)
            .doc("https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html")
            .into_verdict();
    }
    if let Some((p, s)) = o.unknown.first() {
        return Verdict::Inconclusive(format!("{}: {}", p.short(), s.explanation()));
    }
    if !o.missing.is_empty() {
        return Verdict::Inconclusive(o.missing.join("; "));
    }
    if !o.paths.is_empty() {
        let mut names: Vec<String> = Vec::new();
        for p in &o.paths {
            let name = p.short();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        return Verdict::Pass(format!(
            "the task reaches what an ECS Exec session dials ({} path{}: {})",
            o.paths.len(),
            if o.paths.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
    Verdict::Skipped(o.skipped.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::exec::*;
    use crate::testkit::found;
    use crate::testkit::net::*;
    crate::check_under_test!();

    #[test]
    fn a_nat_route_passes() {
        match check(&ready()) {
            Verdict::Pass(d) => assert!(d.contains("ssmmessages.us-east-1.amazonaws.com"), "{d}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn endpoints_without_ssmmessages_block_the_session() {
        let ev = exec_ready(Fx::endpoints_only());
        let f = found(check(&ev));
        assert!(f.title.starts_with("The task cannot reach SSM messages for ECS Exec"), "{}", f.title);
        assert!(f.fix.iter().any(|x| x.contains("com.amazonaws.us-east-1.ssmmessages")), "{:?}", f.fix);
    }

    #[test]
    fn an_ssmmessages_endpoint_opens_it() {
        let mut fx = Fx::endpoints_only();
        fx.endpoints.push(interface_endpoint("vpce-ssmmsg", "ssmmessages", &["subnet-a", "subnet-b"], &["sg-endpoints"]));
        assert!(matches!(check(&exec_ready(fx)), Verdict::Pass(_)));
    }

    #[test]
    fn unreadable_routes_are_inconclusive() {
        let mut ev = ready();
        ev.network.route_tables = crate::evidence::Fact::Denied { action: "ec2:DescribeRouteTables".into(), error: "UnauthorizedOperation".into() };
        match check(&ev) {
            Verdict::Inconclusive(d) => assert!(d.contains("ec2:DescribeRouteTables"), "{d}"),
            other => panic!("{other:?}"),
        }
    }
}
