//! ## What it detects
//! A security group does not admit traffic the task depends on:
//! - for a running task behind a load balancer, none of the task's groups
//!   admits the load balancer's security groups (or, for a load balancer
//!   without groups, its subnets) on the container port it sends to: the
//!   load balancer cannot reach the task, and its health checks fail;
//! - for a running task and a network named with `--from`, none of the
//!   task's groups admits TCP on the container port from it, the "I can't
//!   open http://<public-ip>:3000" case (without `--from` and without a
//!   load balancer there is no client to check from, and nothing is said);
//! - for start-up traffic through an interface VPC endpoint, the endpoint's
//!   own security groups do not admit TCP 443 from the task (its address,
//!   its subnet or its security group).
//!
//! ## Why it matters
//! Security groups deny everything inbound unless a rule admits it. A task
//! can be healthy, have a public IP and a route to an internet gateway, and
//! still be unreachable because its group only admits port 80 while the app
//! listens on 3000. On the endpoint side, a `secretsmanager` or `ecr.api`
//! endpoint whose group admits only the VPC's old CIDR, or another group,
//! makes the task's start-up calls time out on a private address (`dial tcp
//! 10.0.x.x:443: i/o timeout`): DNS answered with the endpoint, and the
//! endpoint's group dropped the connection.
//!
//! ## Example
//! ```text
//! inbound tcp/3000 to web from load balancer web (sg-alb): load balancer web (sg-alb) →
//!   local route (inside the VPC) → acl-1 → sg-web ingress tcp/3000 ✗
//!   no ingress rule of sg-web allows tcp/3000 from load balancer web (sg-alb)
//! ```
//!
//! ## How to fix
//! Behind a load balancer, admit its security group on the container port:
//! `aws ec2 authorize-security-group-ingress --group-id sg-… --protocol tcp
//! --port 3000 --source-group <the load balancer's sg-…>` — never a CIDR.
//! For a network given with `--from`, admit that network (`--cidr <it>`);
//! ecs-doctor offers `0.0.0.0/0` only when that is what `--from` asked
//! about, and says that it exposes the task to the whole internet. For an
//! endpoint, admit TCP 443 from the task's security group on the
//! endpoint's group.
//!
//! ## References
//! - https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
//! - https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/networking-inbound.html

use crate::context::Ctx;
use crate::codes::Cause;
use crate::checks::findings::{affected, check_verdict, finding};
use crate::report::{HealthChecks, Strength, Verdict};

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    check_verdict(
        ctx,
        Cause::SecurityGroupIngressClosed,
        "the security groups on the way admit the traffic",
        |blocked| {
            // The load balancer's paths first: where the traffic really comes from.
            let mut blocked = blocked.to_vec();
            blocked.sort_by_key(|(p, _)| p.from_load_balancer().is_none());
            let (path, step) = blocked[0];
            let groups = step.hop.label.split(" ingress").next().unwrap_or_default();
            if let Some((name, lb_groups)) = path.from_load_balancer() {
                let from = if lb_groups.is_empty() {
                    format!("load balancer {name}")
                } else {
                    format!("load balancer {name}'s security group {}", lb_groups.join(", "))
                };
                let port = match &path.direction {
                    crate::reach::Direction::Inbound { port, .. } => *port,
                    _ => 0,
                };
                let title = format!(
                    "Security group {groups} does not admit {from} on tcp/{port}, so the load balancer cannot reach the running task"
                );
                let mut f = finding(ctx, Cause::SecurityGroupIngressClosed, title, &blocked)
                    .health_checks(HealthChecks::FailForever);
                // The load balancer itself says its probes get no answer.
                if let Some((_, t)) = crate::lb::symptoms(ctx).unhealthy_target {
                    if matches!(
                        t.reason.as_deref(),
                        Some("Target.Timeout" | "Target.FailedHealthChecks")
                    ) {
                        f.strength = Strength::Direct;
                        f.evidence.insert(
                            0,
                            format!(
                                "the load balancer reports the task's target unhealthy: {}{}",
                                t.reason.as_deref().unwrap_or_default(),
                                t.description
                                    .as_deref()
                                    .map(|d| format!(" \"{d}\""))
                                    .unwrap_or_default()
                            ),
                        );
                    }
                }
                return f
                    .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html");
            }
            if path.is_inbound() {
                let title = format!(
                    "Security group {groups} does not admit {} to the running task",
                    affected(&blocked)
                );
                let mut f = finding(ctx, Cause::SecurityGroupIngressClosed, title, &blocked);
                if path.from_cidr() == Some("0.0.0.0/0") {
                    f = f.fix("If clients come from a narrower network, run again with --from <CIDR> to check exactly that network.");
                }
                return f.doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/networking-inbound.html");
            }
            let endpoint = step
                .hop
                .label
                .split("(endpoint ")
                .nth(1)
                .map(|s| s.trim_end_matches(')').to_string())
                .unwrap_or_default();
            let title = format!(
                "The security group {groups} of VPC endpoint {endpoint} does not admit TCP 443 from the task, so it cannot reach {}",
                affected(&blocked)
            );
            finding(ctx, Cause::SecurityGroupIngressClosed, title, &blocked)
                .doc("https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html")
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::evidence::LogLine;
    use crate::testkit::found;

    crate::check_under_test!();
    use crate::testkit::net::*;
    use crate::report::Strength;


    #[test]
    fn running_task_port_not_open() {
        let mut fx = Fx::public(true).running();
        fx.group_mut("sg-task").ingress = vec![sg_rule("tcp", Some(80), "0.0.0.0/0")];
        // No client named and no load balancer: nothing to check from.
        assert!(matches!(check(&fx.ev()), Verdict::Pass(_)));
        fx.from_cidr = Some("198.51.100.0/24".into());
        let f = found(check(&fx.ev()));
        assert_eq!(f.strength, Strength::Corroborating);
        assert_eq!(
            f.title,
            "Security group sg-task does not admit tcp/3000 from 198.51.100.0/24 to the running task"
        );
        assert_eq!(f.fix, vec!["aws ec2 authorize-security-group-ingress --group-id sg-task --protocol tcp --port 3000 --cidr 198.51.100.0/24"]);
        assert!(f.evidence.iter().any(|e| e.starts_with("path: client 198.51.100.0/24 → public IP 54.80.1.2")), "{:?}", f.evidence);
        assert_eq!(f.docs, vec!["https://docs.aws.amazon.com/AmazonECS/latest/developerguide/networking-inbound.html"]);
        // The whole internet only when asked, and the fix says what it exposes.
        fx.from_cidr = Some("0.0.0.0/0".into());
        let f = found(check(&fx.ev()));
        assert!(f.fix[0].contains("--cidr 0.0.0.0/0 — this exposes the task itself to the whole internet"), "{}", f.fix[0]);
    }

    #[test]
    fn the_load_balancer_is_not_admitted() {
        let mut fx = Fx::private_nat().running().behind_lb();
        fx.group_mut("sg-task").ingress = vec![sg_from_group(3000, "sg-bastion")];
        let f = found(check(&fx.ev()));
        assert_eq!(
            f.title,
            "Security group sg-task does not admit load balancer web's security group sg-lb on tcp/3000, so the load balancer cannot reach the running task"
        );
        assert_eq!(f.health_checks, crate::report::HealthChecks::FailForever);
        assert_eq!(f.fix, vec!["aws ec2 authorize-security-group-ingress --group-id sg-task --protocol tcp --port 3000 --source-group sg-lb"]);
        assert!(f.evidence.iter().any(|e| e == "load balancer web sends to container web on tcp/3000 from its security group sg-lb"), "{:?}", f.evidence);
        assert_eq!(f.docs, vec!["https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html"]);
        // The load balancer's own word makes it direct (ELB's reason code and
        // description for a probe that got no answer).
        let mut unhealthy = fx.clone();
        unhealthy.load_balancing[0].target_health = crate::evidence::Fact::gathered(vec![crate::evidence::TargetHealth {
            target_id: "10.0.1.25".into(),
            port: Some(3000),
            state: Some("unhealthy".into()),
            reason: Some("Target.Timeout".into()),
            description: Some("Request timed out".into()),
        }]);
        let f = found(check(&unhealthy.ev()));
        assert_eq!(f.strength, Strength::Direct);
        assert_eq!(f.evidence[0], "the load balancer reports the task's target unhealthy: Target.Timeout \"Request timed out\"");
        // A rule that also admits the load balancer (here: anywhere) lets it through.
        fx.group_mut("sg-task").ingress = vec![sg_from_group(3000, "sg-bastion"), sg_rule("tcp", Some(3000), "0.0.0.0/0")];
        assert!(matches!(check(&fx.ev()), Verdict::Pass(_)));
    }

    #[test]
    fn endpoint_group_does_not_admit_the_task() {
        let reason = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch secret arn:aws:secretsmanager:us-east-1:123456789012:secret:db-url-AbCdEf from secrets manager: RequestCanceled: request context canceled caused by: context deadline exceeded: Post \"https://secretsmanager.us-east-1.amazonaws.com/\": dial tcp 10.0.2.45:443: i/o timeout";
        let mut fx = Fx::endpoints_only().stopped("TaskFailedToStart", reason);
        fx.group_mut("sg-endpoints").ingress = vec![sg_from_group(443, "sg-other")];
        let f = found(check(&fx.ev()));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.starts_with("The security group sg-endpoints of VPC endpoint vpce-api does not admit TCP 443 from the task"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("private address 10.0.2.45:443: the endpoint answered DNS")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("--group-id sg-endpoints") && f.fix[0].contains("GroupId=sg-task"), "{}", f.fix[0]);
    }

    #[test]
    fn passes_when_open() {
        let mut fx = Fx::public(true).running();
        fx.group_mut("sg-task").ingress = vec![sg_rule("-1", None, "0.0.0.0/0")];
        fx.task.containers[0].name = "web".into();
        assert!(matches!(check(&fx.ev()), Verdict::Pass(_)));
        assert!(matches!(check(&Fx::endpoints_only().ev()), Verdict::Pass(_)));
    }

    #[test]
    fn skipped_for_a_stopped_task_without_endpoints() {
        assert!(matches!(check(&Fx::private_nat().ev()), Verdict::Pass(_) | Verdict::Skipped(_)));
        let mut ev = Fx::private_nat().ev();
        ev.task.launch_type = Some("EC2".into());
        assert!(matches!(check(&ev), Verdict::Skipped(_)));
    }

    #[test]
    fn the_logged_listen_port_is_shown_on_the_path() {
        let mut fx = Fx::public(true).running();
        fx.from_cidr = Some("0.0.0.0/0".into());
        let mut ev = fx.ev();
        ev.logs = vec![crate::evidence::ContainerLogs {
            container: "web".into(),
            driver: "awslogs".into(),
            lines: crate::evidence::Fact::gathered(vec![LogLine {
                timestamp: None,
                message: "Server listening on port 8080".into(),
            }]),
            ..Default::default()
        }];
        let f = found(check(&ev));
        assert!(f.evidence.iter().any(|e| e.contains("the logs say the app listens on 8080")), "{:?}", f.evidence);
    }
}
