//! A task behind a load balancer: service `web` sends to container `web` on
//! port 8080 through target group `web` (HTTP /health, every 30s, unhealthy
//! after 2); the task's own target is unhealthy.

use super::{stopped, EvidenceExt};
use crate::evidence::*;

pub const TG: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef";

pub const LB: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";

pub fn lb_task(reason: &str, task_sg_ingress: Vec<SecurityGroupRule>) -> Evidence {
    let mut ev = stopped("ServiceSchedulerInitiated", reason).svc(|s| {
        s.load_balancers.push(ServiceLoadBalancer {
            target_group_arn: Some(TG.into()),
            container_name: Some("web".into()),
            container_port: Some(8080),
            ..Default::default()
        });
        s.health_check_grace_period_seconds = Some(0);
    });
    ev.task.eni_attachment = Some(EniAttachment {
        private_ip: Some("10.0.1.23".into()),
        ..Default::default()
    });
    ev.network.placement = Fact::gathered(TaskPlacement {
        security_group_ids: vec!["sg-task".into()],
        private_ip: Some("10.0.1.23".into()),
        ..Default::default()
    });
    ev.network.vpc = Fact::gathered(Vpc {
        id: "vpc-1".into(),
        cidr_blocks: vec!["10.0.0.0/16".into()],
        ..Default::default()
    });
    ev.network.security_groups = Fact::gathered(vec![
        SecurityGroup {
            id: "sg-task".into(),
            ingress: task_sg_ingress,
            ..Default::default()
        },
        SecurityGroup {
            id: "sg-lb".into(),
            ..Default::default()
        },
    ]);
    ev.network.network_acls = Fact::gathered(Vec::<NetworkAcl>::new());
    ev.load_balancing.push(TargetGroupEvidence {
        arn: TG.into(),
        target_group: Fact::gathered(TargetGroup {
            name: "web".into(),
            protocol: Some("HTTP".into()),
            port: Some(80),
            health_check_protocol: Some("HTTP".into()),
            health_check_port: Some("traffic-port".into()),
            health_check_path: Some("/health".into()),
            health_check_interval_seconds: Some(30),
            health_check_timeout_seconds: Some(5),
            healthy_threshold_count: Some(5),
            unhealthy_threshold_count: Some(2),
            matcher: Some("200".into()),
            ..Default::default()
        }),
        target_health: Fact::gathered(vec![TargetHealth {
            target_id: "10.0.1.23".into(),
            port: Some(8080),
            state: Some("unhealthy".into()),
            reason: Some("Target.ResponseCodeMismatch".into()),
            description: Some("Health checks failed with these codes: [404]".into()),
        }]),
        load_balancer_security_groups: Fact::gathered(vec!["sg-lb".into()]),
        load_balancers: Fact::gathered(vec![LoadBalancer {
            arn: LB.into(),
            name: "web".into(),
            lb_type: Some("application".into()),
            scheme: Some("internet-facing".into()),
            security_groups: vec!["sg-lb".into()],
            subnet_ids: vec!["subnet-pub".into()],
        }]),
    });
    ev
}

pub fn from_lb() -> Vec<SecurityGroupRule> {
    vec![SecurityGroupRule {
        protocol: "tcp".into(),
        from_port: Some(8080),
        to_port: Some(8080),
        group_ids: vec!["sg-lb".into()],
        ..Default::default()
    }]
}

pub fn reason() -> String {
    format!("Task failed ELB health checks in (target-group {TG})")
}
