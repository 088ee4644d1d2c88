//! ECS Exec fixtures: a running Fargate task of service `web`, ready for
//! `execute-command` (exec enabled, agent running, a task role allowing the
//! Session Manager channels, a NAT route, a caller role allowed
//! `ecs:ExecuteCommand`); the setters below break one thing each.

use super::net::Fx;
use crate::evidence::*;

pub const TASK_ARN: &str =
    "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef";
pub const TASK_ROLE: &str = "arn:aws:iam::123456789012:role/web-task";
pub const CALLER_ROLE: &str = "arn:aws:iam::123456789012:role/oncall";

fn role(arn: &str, document: serde_json::Value) -> Role {
    Role {
        arn: arn.into(),
        name: arn.rsplit('/').next().unwrap_or_default().into(),
        trust_policy: serde_json::Value::Null,
        attached_policies: Fact::gathered(Vec::new()),
        inline_policies: Fact::gathered(vec![InlinePolicy {
            name: format!("{}-policy", arn.rsplit('/').next().unwrap_or_default()),
            document: Fact::gathered(document),
        }]),
        permissions_boundary_arn: None,
    }
}

/// A task of `fx`, running and ready for ECS Exec.
pub fn exec_ready(fx: Fx) -> Evidence {
    let mut ev = fx.running().ev();
    ev.purpose = Question::Exec;
    ev.task.enable_execute_command = Some(true);
    ev.task.containers[0].managed_agents = vec![ManagedAgent {
        name: crate::exec::AGENT.into(),
        last_status: Some("RUNNING".into()),
        ..Default::default()
    }];
    ev.service = Fact::gathered(Service {
        name: "web".into(),
        arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
        desired_count: 1,
        running_count: 1,
        enable_execute_command: Some(true),
        ..Default::default()
    });
    if let Some(td) = ev.task_definition.value_mut() {
        td.task_role_arn = Some(TASK_ROLE.into());
    }
    ev.task_role = Fact::gathered(role(
        TASK_ROLE,
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                       "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
            "Resource": "*"}]}),
    ));
    ev.exec = Fact::gathered(ExecEvidence {
        cluster: Fact::gathered(ExecConfiguration {
            cluster_arn: ev.task.cluster_arn.clone(),
            logging: Some("NONE".into()),
            ..Default::default()
        }),
        caller: Fact::gathered(Caller {
            arn: "arn:aws:sts::123456789012:assumed-role/oncall/alice".into(),
            principal_arn: Some(CALLER_ROLE.into()),
            simulation: Fact::Failed {
                action: "iam:SimulatePrincipalPolicy".into(),
                error: "not answered".into(),
            },
            policies: Fact::gathered(role(
                CALLER_ROLE,
                serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Action": "ecs:ExecuteCommand", "Resource": "arn:aws:ecs:us-east-1:123456789012:task/prod/*"}]}),
            )),
        }),
    });
    ev
}

/// The kit's task in private subnets behind a NAT gateway, ready for ECS Exec.
pub fn ready() -> Evidence {
    exec_ready(Fx::private_nat())
}

/// Every container's ECS Exec agent in `status`.
pub fn set_agent(ev: &mut Evidence, status: &str, reason: Option<&str>) {
    for c in &mut ev.task.containers {
        for a in &mut c.managed_agents {
            a.last_status = Some(status.into());
            a.reason = reason.map(str::to_string);
        }
    }
}

/// The task role's one policy document.
pub fn set_task_role_policy(ev: &mut Evidence, document: serde_json::Value) {
    ev.task_role = Fact::gathered(role(TASK_ROLE, document));
}

/// The caller role's one policy document.
pub fn set_caller_policy(ev: &mut Evidence, document: serde_json::Value) {
    if let Some(caller) = ev.exec.value_mut().and_then(|e| e.caller.value_mut()) {
        caller.policies = Fact::gathered(role(CALLER_ROLE, document));
    }
}

/// The cluster encrypts exec sessions with `key`.
pub fn set_cluster_key(ev: &mut Evidence, key: &str) {
    if let Some(config) = ev.exec.value_mut().and_then(|e| e.cluster.value_mut()) {
        config.kms_key_id = Some(key.into());
    }
}
