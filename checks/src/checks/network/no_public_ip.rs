//! ## What it detects
//! The task sits in a subnet whose route table sends `0.0.0.0/0` to an
//! internet gateway, but the task has no public IP (`assignPublicIp =
//! DISABLED` and no public address on its ENI). An internet gateway only
//! carries traffic for addresses that have a public IP, so the task cannot
//! reach ECR, S3, Secrets Manager or CloudWatch Logs, and nothing on the
//! internet can reach it. For a running task it also fires when someone
//! outside the VPC (`--from`, default anywhere) tries to reach a task that
//! has no public IP at all.
//!
//! ## Why it matters
//! On Fargate platform version 1.4 the image pull, secret retrieval and log
//! set-up all go through the task's own ENI. Without a public IP the pull
//! times out (`dial tcp <public ip>:443: i/o timeout`) and the task stops
//! with `TaskFailedToStart`. A running task in the same position cannot be
//! reached on a public address because it has none. Services that use an
//! interface endpoint with private DNS for a destination do not need the
//! internet for it, so only destinations that take the internet gateway
//! route count.
//!
//! ## Example
//! ```text
//! stoppedReason = ResourceInitializationError: unable to pull secrets or registry auth: …
//!                 dial tcp 52.46.157.21:443: i/o timeout
//! path: task ENI (subnet-0a1, no public IP) → rtb-1: 0.0.0.0/0 → igw-1 ✗ an IGW route needs a public IP
//! service web: assignPublicIp = DISABLED
//! ```
//!
//! ## How to fix
//! Either set `assignPublicIp=ENABLED` in the service's (or `run-task`'s)
//! `awsvpcConfiguration`, or move the task to private subnets whose default
//! route goes to a NAT gateway (or give the VPC the endpoints it needs). To
//! reach a running task from the internet, put it behind a load balancer, or
//! in a public subnet with a public IP.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html
//! - https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html

use crate::context::Ctx;
use crate::codes::Cause;
use crate::evidence::NetworkSource;
use crate::checks::findings::{affected, check_verdict, finding};
use crate::report::Verdict;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    check_verdict(
        ctx,
        Cause::NoPublicIp,
        "no path needs a public IP the task lacks",
        |blocked| {
            let inbound = blocked.iter().all(|(p, _)| p.is_inbound());
            let title = if inbound {
                "The running task has no public IP, so nothing outside the VPC can reach it".to_string()
            } else {
                let route = blocked
                    .iter()
                    .find(|(p, _)| !p.is_inbound())
                    .map(|(_, s)| s.hop.label.clone())
                    .unwrap_or_default();
                format!(
                    "The task is in a public subnet ({route}) without a public IP, so it cannot reach {}",
                    affected(blocked)
                )
            };
            let mut f = finding(ctx, Cause::NoPublicIp, title, blocked);
            let placement = ev.network.placement.value();
            if placement.is_some_and(|p| p.assign_public_ip_source == NetworkSource::User) {
                f = f.against("assignPublicIp was supplied on the command line, not read from AWS");
            }
            let (subnets, groups) = placement
                .map(|p| (p.subnet_ids.join(","), p.security_group_ids.join(",")))
                .unwrap_or_default();
            let update = match (ev.service_name(), Some(crate::task::cluster_name(ev))) {
                (Some(svc), Some(cluster)) => format!(
                    "aws ecs update-service --cluster {cluster} --service {svc} --network-configuration 'awsvpcConfiguration={{subnets=[{subnets}],securityGroups=[{groups}],assignPublicIp=ENABLED}}'"
                ),
                _ => format!(
                    "aws ecs run-task … --network-configuration 'awsvpcConfiguration={{subnets=[{subnets}],securityGroups=[{groups}],assignPublicIp=ENABLED}}'"
                ),
            };
            f = f.fix(format!("Give the task a public IP: {update}"));
            if inbound {
                f = f.fix("Or put an Application Load Balancer in public subnets in front of the service and reach the task through it.");
            } else {
                f = f.fix("Or move the task to private subnets whose 0.0.0.0/0 route goes to a NAT gateway (or to VPC endpoints for ECR, S3, Logs and Secrets Manager).");
            }
            f.doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html")
                .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html")
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
    fn public_subnet_without_public_ip_at_start() {
        let ev = Fx::public(false).stopped("TaskFailedToStart", ECR_API_TIMEOUT).ev();
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("rtb-a: 0.0.0.0/0 → igw-1"), "{}", f.title);
        assert!(f.evidence[0].starts_with("stop reason: \"ResourceInitializationError"));
        assert!(f.evidence.iter().any(|e| e.contains("public address 52.46.157.21:443")));
        assert!(f.evidence.iter().any(|e| e == "assignPublicIp = DISABLED (from the service's networkConfiguration)"));
        assert!(f.fix[0].contains("--service web") && f.fix[0].contains("assignPublicIp=ENABLED"), "{}", f.fix[0]);
        assert!(f.against.is_empty());
    }

    #[test]
    fn passes_with_a_public_ip_or_behind_a_nat() {
        assert!(matches!(check(&Fx::public(true).ev()), Verdict::Pass(_)));
        assert!(matches!(check(&Fx::private_nat().ev()), Verdict::Pass(_)));
        assert!(matches!(check(&Fx::endpoints_only().ev()), Verdict::Pass(_)));
    }

    #[test]
    fn endpoints_with_private_dns_do_not_need_a_public_ip() {
        // Public subnet, no public IP, but every needed service has an
        // endpoint: the internet gateway route is never used.
        let mut fx = Fx::endpoints_only();
        fx.table_mut("rtb-main").routes.push(route("0.0.0.0/0", "igw-1"));
        assert!(matches!(check(&fx.ev()), Verdict::Pass(_)));
    }

    #[test]
    fn unknown_public_ip_is_inconclusive() {
        let mut fx = Fx::public(false);
        fx.placement.assign_public_ip = None;
        match check(&fx.ev()) {
            Verdict::Inconclusive(d) => assert!(d.contains("--assign-public-ip"), "{d}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_task_that_ran_had_what_it_needed() {
        let mut fx = Fx::public(false).stopped("EssentialContainerExited", "Essential container in task exited");
        fx.placement.assign_public_ip = None;
        fx.task.containers[0].exit_code = Some(1);
        match check(&fx.ev()) {
            Verdict::Pass(d) => assert!(d.starts_with("container web ran and exited with code 1, so its start-up traffic got through"), "{d}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn assumed_flag_lowers_confidence() {
        let mut fx = Fx::public(false).stopped("TaskFailedToStart", ECR_API_TIMEOUT);
        fx.placement.assign_public_ip_source = NetworkSource::User;
        let f = found(check(&fx.ev()));
        assert_eq!(f.against.len(), 1);
    }

    #[test]
    fn running_task_without_public_ip_cannot_be_reached() {
        let mut fx = Fx::private_nat().running();
        fx.group_mut("sg-task").ingress = vec![sg_rule("tcp", Some(3000), "0.0.0.0/0")];
        let f = found(check(&fx.ev()));
        assert!(f.title.contains("nothing outside the VPC can reach it"), "{}", f.title);
        assert!(f.fix.iter().any(|x| x.contains("Load Balancer")));
        // From inside the VPC no public IP is needed.
        fx.from_cidr = Some("10.0.0.0/16".into());
        assert!(matches!(check(&fx.ev()), Verdict::Pass(_)));
    }

    #[test]
    fn skipped_outside_awsvpc() {
        let mut ev = Fx::public(false).ev();
        ev.network.placement = crate::evidence::Fact::not_applicable("the task does not use awsvpc networking");
        ev.task.eni_attachment = None;
        if let crate::evidence::Fact::Gathered { value } = &mut ev.task_definition {
            value.network_mode = Some("bridge".into());
        }
        assert!(matches!(check(&ev), Verdict::Skipped(_)));
    }
}
