//! IAM: the task execution role, its trust policy, its attached and inline
//! policies (`policies`), and (when AWS allows it)
//! `iam:SimulatePrincipalPolicy` answers for exactly the actions and
//! resources the task needs (`simulate`); the caller's own permission to
//! open an ECS Exec session.

mod policies;
mod simulate;

use super::Collector;
use ecs_doctor_checks::arn::{self, Arn};
use ecs_doctor_checks::evidence::*;
use ecs_doctor_checks::iam::permissions;
use policies::{attached_policies, decode_policy, inline_policies, Entity};
pub(crate) use simulate::{simulate, SimulatorOutage};

/// The role name from its ARN (`arn:aws:iam::<acct>:role/<path>/<name>`).
pub fn role_name(role_arn: &str) -> &str {
    arn::name(role_arn)
}

/// The execution role: its trust policy and its attached and inline policies.
pub async fn execution_role(c: &Collector, td: Option<&TaskDefinition>) -> Fact<Role> {
    let Some(td) = td else {
        return Fact::not_applicable("the task definition could not be read");
    };
    let Some(arn) = td.execution_role_arn.clone() else {
        return Fact::not_applicable("the task definition has no executionRoleArn");
    };
    role(c, &arn, Whose::Execution).await
}

/// The task role, when a check needs its permissions: EFS IAM authorization
/// mounts with the task role's credentials, the ECS Exec agent runs with
/// them, and an app refused an AWS call as the task role calls with them.
/// `always`: the question reads the task role's permissions whatever the
/// volumes (see `Needs::task_role`).
pub async fn task_role(c: &Collector, td: Option<&TaskDefinition>, always: bool) -> Fact<Role> {
    let Some(td) = td else {
        return Fact::not_applicable("the task definition could not be read");
    };
    if !uses_efs_iam(td) && !always {
        return Fact::not_applicable("no check needs the task role's permissions");
    }
    let Some(arn) = td.task_role_arn.clone() else {
        return Fact::not_applicable("the task definition has no taskRoleArn");
    };
    role(c, &arn, Whose::Task).await
}

/// The infrastructure role of an ECS-managed EBS volume (`roleArn`).
pub async fn infrastructure_role(c: &Collector, arn: &str) -> Fact<Role> {
    role(c, arn, Whose::Infrastructure).await
}

/// Does an EFS volume of the task definition mount with the task role (IAM authorization)?
pub fn uses_efs_iam(td: &TaskDefinition) -> bool {
    td.volumes
        .iter()
        .filter_map(|v| v.efs.as_ref())
        .any(EfsVolume::uses_iam)
}

/// Which of the task's two roles, for the impact of a gap.
#[derive(Clone, Copy)]
enum Whose {
    Execution,
    Task,
    Caller,
    Infrastructure,
}

impl Whose {
    fn label(self) -> &'static str {
        match self {
            Whose::Execution => "execution role",
            Whose::Task => "task role",
            Whose::Caller => "caller's role",
            Whose::Infrastructure => "infrastructure role",
        }
    }
    fn checks(self) -> &'static str {
        match self {
            Whose::Execution => "the execution role checks (exists, trusted, permissions)",
            Whose::Task => {
                "the checks of the task role's permissions (EFS IAM authorization, ECS Exec, the app's refused AWS calls)"
            }
            Whose::Caller => "the caller's ecs:ExecuteCommand check",
            Whose::Infrastructure => "the EBS volume check (ebs-volume-failed)",
        }
    }
}

/// `iam:SimulatePrincipalPolicy` for exactly what the task needs, including
/// `kms:Decrypt` for secrets under customer-managed keys (hence after the
/// secrets' metadata is known).
pub async fn simulation(
    c: &Collector,
    td: Option<&TaskDefinition>,
    secrets: &[SecretEvidence],
) -> Fact<Vec<SimulationResult>> {
    let Some(td) = td else {
        return Fact::not_applicable("the task definition could not be read");
    };
    let Some(arn) = td.execution_role_arn.as_deref() else {
        return Fact::not_applicable("no execution role");
    };
    let account = c.account.clone().unwrap_or_default();
    let needed = permissions::required_with_secrets(td, secrets, &c.region, &account);
    let simulation = simulate(&c.iam(), &c.simulator, arn, &needed).await;
    simulator_gap(
        c,
        &simulation,
        "the execution role's permissions were decided by ecs-doctor's own evaluation of its policies, which does not see service control policies or resource control policies",
    );
    simulation
}

/// A simulator that did not answer is a gap like any other call: the
/// permission checks still decide (by evaluating the policies), and the
/// gap says what that evaluation cannot see.
fn simulator_gap(c: &Collector, simulation: &Fact<Vec<SimulationResult>>, impact: &str) {
    if let Fact::Failed { action, error } | Fact::Denied { action, error } = simulation {
        c.gap(action, error, impact);
    }
}

async fn role(c: &Collector, arn: &str, whose: Whose) -> Fact<Role> {
    let iam = c.iam();
    let name = role_name(arn).to_string();
    let impact = whose.checks();
    // The role's name is in its ARN: its policies are listed while GetRole
    // is under way, not after it (one round trip fewer).
    let (got, attached, inline) = tokio::join!(
        iam.get_role().role_name(&name).send(),
        attached_policies(c, &iam, Entity::Role(&name), whose.label()),
        inline_policies(c, &iam, Entity::Role(&name), whose.label())
    );
    let role = match c.fact("iam:GetRole", impact, got) {
        Fact::Gathered { value } => value,
        Fact::Absent { .. } => return Fact::absent(format!("role {name} does not exist")),
        other => return other.map(|_| Role::default()),
    };
    let Some(r) = role.role() else {
        return Fact::absent(format!("role {name} does not exist"));
    };
    let trust_policy = r
        .assume_role_policy_document()
        .map(decode_policy)
        .and_then_value()
        .unwrap_or(serde_json::Value::Null);

    Fact::gathered(Role {
        arn: r.arn().to_string(),
        name: r.role_name().to_string(),
        trust_policy,
        attached_policies: attached,
        inline_policies: inline,
        permissions_boundary_arn: r
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string),
    })
}

trait FactValue<T> {
    fn and_then_value(self) -> Option<T>;
}
impl<T> FactValue<T> for Option<Fact<T>> {
    fn and_then_value(self) -> Option<T> {
        match self {
            Some(Fact::Gathered { value }) => Some(value),
            _ => None,
        }
    }
}

/// The caller's permission to open an ECS Exec session: the simulator's
/// answer for `ecs:ExecuteCommand` on the task, and the principal's own
/// policies for ecs-doctor's evaluation when the simulator does not answer.
pub async fn caller(c: &Collector, task_arn: &str) -> Fact<Caller> {
    let sts = c.sts();
    let got = sts.get_caller_identity().send().await;
    let identity = match c.fact(
        "sts:GetCallerIdentity",
        "the caller's ecs:ExecuteCommand check",
        got,
    ) {
        Fact::Gathered { value } => value.arn().unwrap_or_default().to_string(),
        other => return other.map(|_| Caller::default()),
    };
    let principal_arn = principal_of(&identity);
    let Some(principal) = principal_arn.clone() else {
        return Fact::gathered(Caller {
            arn: identity,
            principal_arn: None,
            simulation: Fact::not_applicable("not an IAM role or user"),
            policies: Fact::not_applicable("not an IAM role or user"),
        });
    };
    let policies = if principal.contains(":user/") {
        user(c, role_name(&principal)).await
    } else {
        role(c, &principal, Whose::Caller).await
    };
    // The role's ARN with its path (an SSO role's is /aws-reserved/…), as the simulator needs it.
    let principal = policies.value().map(|p| p.arn.clone()).unwrap_or(principal);
    let simulation = simulate(
        &c.iam(),
        &c.simulator,
        &principal,
        &permissions::exec_caller(task_arn),
    )
    .await;
    simulator_gap(
        c,
        &simulation,
        "your permission to start an ECS Exec session was decided by ecs-doctor's own evaluation of your policies, which does not see service control policies or resource control policies",
    );
    Fact::gathered(Caller {
        arn: identity,
        principal_arn: Some(principal),
        simulation,
        policies,
    })
}

/// The IAM principal behind a caller ARN: the role of an assumed-role
/// session (its path is unknown here; `iam:GetRole` by name finds it), the user.
fn principal_of(caller_arn: &str) -> Option<String> {
    let parsed = Arn::parse(caller_arn)?;
    match (parsed.service, parsed.resource_type()) {
        ("sts", ("assumed-role", rest)) => {
            let role = rest.split('/').next()?;
            Some(arn::format(
                parsed.partition,
                "iam",
                "",
                parsed.account()?,
                &format!("role/{role}"),
            ))
        }
        ("iam", ("user", _)) | ("iam", ("role", _)) => Some(caller_arn.to_string()),
        _ => None,
    }
}

/// A user's policies with its groups' folded in, as one identity to evaluate.
async fn user(c: &Collector, name: &str) -> Fact<Role> {
    let iam = c.iam();
    let impact = "the caller's ecs:ExecuteCommand check";
    let got = iam.get_user().user_name(name).send().await;
    let user = match c.fact("iam:GetUser", impact, got) {
        Fact::Gathered { value } => value,
        Fact::Absent { .. } => return Fact::absent(format!("user {name} does not exist")),
        other => return other.map(|_| Role::default()),
    };
    let Some(u) = user.user() else {
        return Fact::absent(format!("user {name} does not exist"));
    };
    let pages = iam
        .list_groups_for_user()
        .user_name(name)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let groups = c.listed("iam:ListGroupsForUser", impact, pages, |out| {
        out.groups()
            .iter()
            .map(|g| g.group_name().to_string())
            .collect::<Vec<_>>()
    });
    let (mut attached, mut inline) = tokio::join!(
        attached_policies(c, &iam, Entity::User(name), "caller"),
        inline_policies(c, &iam, Entity::User(name), "caller"),
    );
    match &groups {
        Fact::Gathered { value } => {
            for group in value {
                let (a, i) = tokio::join!(
                    attached_policies(c, &iam, Entity::Group(group), "caller's group"),
                    inline_policies(c, &iam, Entity::Group(group), "caller's group"),
                );
                // Name the group, so a decision says where the statement lives.
                let a = a.map(|list| {
                    list.into_iter()
                        .map(|p| AttachedPolicy {
                            name: format!("{} (group {group})", p.name),
                            ..p
                        })
                        .collect()
                });
                let i = i.map(|list| {
                    list.into_iter()
                        .map(|p| InlinePolicy {
                            name: format!("{} (group {group})", p.name),
                            ..p
                        })
                        .collect()
                });
                attached = merge(attached, a);
                inline = merge(inline, i);
            }
        }
        other => {
            // Without the groups, the policies seen are not all the user has.
            attached = other.clone().map(|_| Vec::new());
        }
    }
    Fact::gathered(Role {
        arn: u.arn().to_string(),
        name: u.user_name().to_string(),
        trust_policy: serde_json::Value::Null,
        attached_policies: attached,
        inline_policies: inline,
        permissions_boundary_arn: u
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string),
    })
}

/// Two listings as one: a gap in either is a gap of the whole.
fn merge<T>(a: Fact<Vec<T>>, b: Fact<Vec<T>>) -> Fact<Vec<T>> {
    match (a, b) {
        (Fact::Gathered { value: mut x }, Fact::Gathered { value: y }) => {
            x.extend(y);
            Fact::gathered(x)
        }
        (Fact::Gathered { .. }, gap) | (gap, _) => gap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_arn_names_its_principal() {
        assert_eq!(
            principal_of("arn:aws:sts::123456789012:assumed-role/Admin/alice").as_deref(),
            Some("arn:aws:iam::123456789012:role/Admin")
        );
        assert_eq!(
            principal_of("arn:aws-cn:sts::123456789012:assumed-role/Admin/alice").as_deref(),
            Some("arn:aws-cn:iam::123456789012:role/Admin")
        );
        let user = "arn:aws:iam::123456789012:user/ops/bob";
        assert_eq!(principal_of(user).as_deref(), Some(user));
        assert_eq!(
            principal_of("arn:aws:sts::123456789012:federated-user/bob"),
            None
        );
        assert_eq!(principal_of("not an arn"), None);
        assert_eq!(role_name("arn:aws:iam::123456789012:role/path/app"), "app");
    }
}
