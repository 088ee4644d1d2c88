//! ## What it detects
//! The task sits in a subnet whose route table sends `0.0.0.0/0` to an
//! internet gateway, but the task has no public IP (`assignPublicIp =
//! DISABLED` and no public address on its ENI). An internet gateway only
//! carries traffic for addresses that have a public IP, so the task cannot
//! reach ECR, S3, Secrets Manager or CloudWatch Logs. For a running task it
//! is only about inbound traffic, and only when asked: `--from` names a
//! public network outside the VPC (`--from 0.0.0.0/0` for the whole
//! internet) and the task has no public IP to be reached at. A running task
//! in a private subnet, reached through its load balancer or not meant to
//! be reached at all, is not a failure: without `--from` the question is
//! not asked.
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
//! reach a running task from outside the VPC, put an internet-facing load
//! balancer in front of it (the task stays private), or reach it from inside
//! the VPC (VPN, peering, a bastion). A public IP on the task itself is
//! offered only for `--from 0.0.0.0/0`, with what it exposes.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html
//! - https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/networking-inbound.html

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
            if inbound {
                // Only a network the user named with --from (outside the VPC,
                // public) asks for a public address; its hops carry the fixes.
                let from = blocked[0].0.from_cidr().unwrap_or_default().to_string();
                let title = if from == "0.0.0.0/0" {
                    "The running task has no public IP, so nothing on the internet (--from 0.0.0.0/0) can reach it directly".to_string()
                } else {
                    format!("The running task has no public IP, so clients in {from} (--from, outside the VPC) cannot reach it directly")
                };
                return finding(ctx, Cause::NoPublicIp, title, blocked)
                    .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/networking-inbound.html");
            }
            let route = blocked
                .iter()
                .find(|(p, _)| !p.is_inbound())
                .map(|(_, s)| s.hop.label.clone())
                .unwrap_or_default();
            let title = format!(
                "The task is in a public subnet ({route}) without a public IP, so it cannot reach {}",
                affected(blocked)
            );
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
            f.fix(format!("Give the task a public IP: {update}"))
                .fix("Or move the task to private subnets whose 0.0.0.0/0 route goes to a NAT gateway (or to VPC endpoints for ECR, S3, Logs and Secrets Manager).")
                .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html")
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
    fn a_private_running_task_is_not_convicted_without_a_source() {
        // The reported harm: a healthy private task, nobody asked about the internet.
        let mut fx = Fx::private_nat().running();
        fx.group_mut("sg-task").ingress = vec![sg_rule("tcp", Some(3000), "0.0.0.0/0")];
        match check(&fx.ev()) {
            Verdict::Pass(d) => assert!(d.contains("inbound not checked") && d.contains("pass --from CIDR"), "{d}"),
            other => panic!("{other:?}"),
        }
        // Behind its load balancer: reached from inside the VPC, no public IP needed.
        let lb = Fx::private_nat().running().behind_lb();
        assert!(matches!(check(&lb.ev()), Verdict::Pass(_)), "{:?}", check(&lb.ev()));
        // From inside the VPC no public IP is needed either.
        fx.from_cidr = Some("10.0.0.0/16".into());
        assert!(matches!(check(&fx.ev()), Verdict::Pass(_)));
    }

    #[test]
    fn the_internet_asked_about_explicitly() {
        let mut fx = Fx::private_nat().running();
        fx.group_mut("sg-task").ingress = vec![sg_rule("tcp", Some(3000), "0.0.0.0/0")];
        fx.from_cidr = Some("0.0.0.0/0".into());
        let f = found(check(&fx.ev()));
        assert!(f.title.contains("nothing on the internet (--from 0.0.0.0/0) can reach it directly"), "{}", f.title);
        assert!(f.fix[0].contains("load balancer"), "{:?}", f.fix);
        let public = f.fix.iter().find(|x| x.contains("assignPublicIp=ENABLED")).expect("offered for --from 0.0.0.0/0");
        assert!(public.contains("exposes the task itself to the whole internet"), "{public}");
        assert_eq!(f.docs, vec!["https://docs.aws.amazon.com/AmazonECS/latest/developerguide/networking-inbound.html"]);
    }

    #[test]
    fn a_narrower_public_network_gets_no_public_ip_advice() {
        let mut fx = Fx::private_nat().running();
        fx.group_mut("sg-task").ingress = vec![sg_rule("tcp", Some(3000), "198.51.100.0/24")];
        fx.from_cidr = Some("198.51.100.0/24".into());
        let f = found(check(&fx.ev()));
        assert!(f.title.contains("clients in 198.51.100.0/24 (--from, outside the VPC)"), "{}", f.title);
        assert!(f.fix.iter().all(|x| !x.contains("assignPublicIp") && !x.contains("0.0.0.0/0")), "{:?}", f.fix);
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
