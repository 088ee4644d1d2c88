//! Elastic Load Balancing v2: target groups, target health and the load
//! balancers in front of them (their security groups and subnets), for
//! services behind a load balancer.

use super::Collector;
use ecs_doctor_checks::evidence::*;

pub async fn load_balancing(c: &Collector, service: Option<&Service>) -> Vec<TargetGroupEvidence> {
    let Some(service) = service else {
        return Vec::new();
    };
    let arns: Vec<String> = service
        .load_balancers
        .iter()
        .filter_map(|lb| lb.target_group_arn.clone())
        .collect();
    let elb = c.elb();
    let futures = arns.into_iter().map(|arn| {
        let elb = elb.clone();
        async move {
            let (tg, health) = tokio::join!(
                elb.describe_target_groups().target_group_arns(&arn).send(),
                elb.describe_target_health().target_group_arn(&arn).send(),
            );
            let target_group = match c.fact(
                "elasticloadbalancing:DescribeTargetGroups",
                "the load balancer health-check checks",
                tg,
            ) {
                Fact::Gathered { value } => match value.target_groups().first() {
                    Some(t) => Fact::gathered(TargetGroup {
                        name: t.target_group_name().unwrap_or_default().to_string(),
                        protocol: t.protocol().map(|p| p.as_str().to_string()),
                        port: t.port(),
                        target_type: t.target_type().map(|p| p.as_str().to_string()),
                        health_check_protocol: t
                            .health_check_protocol()
                            .map(|p| p.as_str().to_string()),
                        health_check_port: t.health_check_port().map(str::to_string),
                        health_check_path: t.health_check_path().map(str::to_string),
                        health_check_interval_seconds: t.health_check_interval_seconds(),
                        health_check_timeout_seconds: t.health_check_timeout_seconds(),
                        healthy_threshold_count: t.healthy_threshold_count(),
                        unhealthy_threshold_count: t.unhealthy_threshold_count(),
                        matcher: t.matcher().and_then(|m| m.http_code()).map(str::to_string),
                        load_balancer_arns: t.load_balancer_arns().to_vec(),
                    }),
                    None => Fact::absent(format!("target group {arn} does not exist")),
                },
                other => other.map(|_| TargetGroup::default()),
            };
            let target_health = c
                .fact(
                    "elasticloadbalancing:DescribeTargetHealth",
                    "the load balancer health-check checks",
                    health,
                )
                .map(|out| {
                    out.target_health_descriptions()
                        .iter()
                        .map(|d| TargetHealth {
                            target_id: d
                                .target()
                                .and_then(|t| t.id())
                                .unwrap_or_default()
                                .to_string(),
                            port: d.target().and_then(|t| t.port()),
                            state: d
                                .target_health()
                                .and_then(|h| h.state())
                                .map(|s| s.as_str().to_string()),
                            reason: d
                                .target_health()
                                .and_then(|h| h.reason())
                                .map(|s| s.as_str().to_string()),
                            description: d
                                .target_health()
                                .and_then(|h| h.description())
                                .map(str::to_string),
                        })
                        .collect()
                });
            let lb_arns = target_group
                .value()
                .map(|t| t.load_balancer_arns.clone())
                .unwrap_or_default();
            let load_balancers: Fact<Vec<LoadBalancer>> = if lb_arns.is_empty() {
                match &target_group {
                    Fact::Gathered { .. } => {
                        Fact::not_applicable("the target group is not attached to a load balancer")
                    }
                    other => other.clone().map(|_| Vec::new()),
                }
            } else {
                let r = elb
                    .describe_load_balancers()
                    .set_load_balancer_arns(Some(lb_arns))
                    .send()
                    .await;
                c.fact(
                    "elasticloadbalancing:DescribeLoadBalancers",
                    "whether the task admits the load balancer (its security groups and subnets)",
                    r,
                )
                .map(|out| {
                    out.load_balancers()
                        .iter()
                        .map(|lb| LoadBalancer {
                            arn: lb.load_balancer_arn().unwrap_or_default().to_string(),
                            name: lb.load_balancer_name().unwrap_or_default().to_string(),
                            lb_type: lb.r#type().map(|t| t.as_str().to_string()),
                            scheme: lb.scheme().map(|t| t.as_str().to_string()),
                            security_groups: lb.security_groups().to_vec(),
                            subnet_ids: lb
                                .availability_zones()
                                .iter()
                                .filter_map(|z| z.subnet_id().map(str::to_string))
                                .collect(),
                        })
                        .collect()
                })
            };
            let load_balancer_security_groups = load_balancers.clone().map(|lbs| {
                lbs.iter()
                    .flat_map(|lb| lb.security_groups.iter().cloned())
                    .collect()
            });
            TargetGroupEvidence {
                arn,
                target_group,
                target_health,
                load_balancer_security_groups,
                load_balancers,
            }
        }
    });
    futures::future::join_all(futures).await
}
