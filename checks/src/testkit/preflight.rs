//! Preflight fixtures: the kit's task definition (ECR image that exists,
//! an execution role that may pull and log, a log group that exists) for
//! service `web`, in private subnets behind a NAT gateway, before any task
//! of it runs.

use super::net::Fx;
use crate::evidence::*;

/// A task definition every preflight check passes.
pub fn clean() -> Evidence {
    let mut ev = super::image::healthy();
    let net = Fx::private_nat().ev();
    ev.network = net.network;
    ev.purpose = Question::Preflight;
    ev.task = Task {
        cluster_arn: ev.task.cluster_arn.clone(),
        task_definition_arn: ev.task.task_definition_arn.clone(),
        last_status: "PREFLIGHT".into(),
        launch_type: Some("FARGATE".into()),
        platform_version: Some("LATEST".into()),
        group: Some("service:web".into()),
        ..Default::default()
    };
    ev.service = Fact::gathered(Service {
        name: "web".into(),
        arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
        desired_count: 2,
        network_configuration: Some(AwsVpcConfiguration {
            subnets: vec!["subnet-a".into()],
            security_groups: vec!["sg-task".into()],
            assign_public_ip: Some(false),
        }),
        ..Default::default()
    });
    if let Some(td) = ev.task_definition.value_mut() {
        td.containers[0].port_mappings = vec![PortMapping {
            container_port: Some(8080),
            host_port: Some(8080),
            protocol: Some("tcp".into()),
        }];
    }
    ev.logs = Vec::new();
    ev
}
