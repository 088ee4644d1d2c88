//! ## What it detects
//! A security group does not admit traffic the task depends on:
//! - for a running task, none of the task's groups admits TCP on the
//!   container port from `--from` (default `0.0.0.0/0`: anywhere), the
//!   "I can't open http://<public-ip>:3000" case;
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
//! inbound tcp/3000 to web from 0.0.0.0/0: client 0.0.0.0/0 → public IP 54.80.1.2 →
//!   rtb-a: 0.0.0.0/0 → igw-1 (replies) → acl-1 → sg-web ingress tcp/3000 ✗
//!   no ingress rule of sg-web allows tcp/3000 from 0.0.0.0/0 (--from)
//! ```
//!
//! ## How to fix
//! Add the inbound rule: `aws ec2 authorize-security-group-ingress
//! --group-id sg-… --protocol tcp --port 3000 --cidr <your network>` (prefer
//! a load balancer's security group over `0.0.0.0/0`). For an endpoint,
//! admit TCP 443 from the task's security group on the endpoint's group.
//!
//! ## References
//! - https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
//! - https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html
//! - https://repost.aws/knowledge-center/ecs-fargate-container-reachability

use crate::context::Ctx;
use crate::codes::Cause;
use crate::checks::findings::{affected, check_verdict, finding};
use crate::report::Verdict;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let _ev = ctx.ev;
    check_verdict(
        ctx,
        Cause::SecurityGroupIngressClosed,
        "the security groups on the way admit the traffic",
        |blocked| {
            let (path, step) = blocked[0];
            let groups = step.hop.label.split(" ingress").next().unwrap_or_default();
            let title = if path.is_inbound() {
                format!(
                    "Security group {groups} does not admit {} to the running task",
                    affected(blocked)
                )
            } else {
                let endpoint = step
                    .hop
                    .label
                    .split("(endpoint ")
                    .nth(1)
                    .map(|s| s.trim_end_matches(')').to_string())
                    .unwrap_or_default();
                format!(
                    "The security group {groups} of VPC endpoint {endpoint} does not admit TCP 443 from the task, so it cannot reach {}",
                    affected(blocked)
                )
            };
            let mut f = finding(ctx, Cause::SecurityGroupIngressClosed, title, blocked);
            if path.is_inbound() {
                f = f.fix("If clients come from a narrower network, run again with --from <CIDR> to check exactly that network.");
            }
            f.doc("https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html")
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
        let f = found(check(&fx.ev()));
        assert_eq!(f.strength, Strength::Corroborating);
        assert_eq!(
            f.title,
            "Security group sg-task does not admit tcp/3000 from 0.0.0.0/0 to the running task"
        );
        assert!(f.fix[0].contains("authorize-security-group-ingress --group-id sg-task --protocol tcp --port 3000 --cidr 0.0.0.0/0"));
        assert!(f.evidence.iter().any(|e| e.starts_with("path: client 0.0.0.0/0 → public IP 54.80.1.2")), "{:?}", f.evidence);
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
        let fx = Fx::public(true).running();
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
