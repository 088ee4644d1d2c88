//! IAM: the task execution role, its trust policy, its attached and inline
//! policies, and (when AWS allows it) `iam:SimulatePrincipalPolicy` answers
//! for exactly the actions and resources the task needs.

use super::Collector;
use ecs_doctor_checks::evidence::*;
use ecs_doctor_checks::iam::permissions;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// Policy documents come URL-encoded from IAM.
fn decode_policy(doc: &str) -> Fact<serde_json::Value> {
    let decoded = percent_encoding::percent_decode_str(doc)
        .decode_utf8_lossy()
        .to_string();
    match serde_json::from_str(&decoded).or_else(|_| serde_json::from_str(doc)) {
        Ok(v) => Fact::gathered(v),
        Err(e) => Fact::Failed {
            action: "iam:GetPolicyVersion".into(),
            error: format!("policy is not JSON: {e}"),
        },
    }
}

/// AWS managed policies an execution role usually carries, by the version
/// whose document is written here. A published policy version never
/// changes, so when `GetPolicy` names one of these as the default version,
/// `GetPolicyVersion` would only return this document: the read (a round
/// trip at the end of the longest chain) is saved. Any other version is read.
const KNOWN_POLICY_VERSIONS: &[(&str, &str, &str)] = &[(
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    "v1",
    include_str!("../aws-managed-policies/AmazonECSTaskExecutionRolePolicy.v1.json"),
)];

/// The document of a known managed policy version, if it is one.
fn known_policy_version(arn: &str, version: &str) -> Option<serde_json::Value> {
    KNOWN_POLICY_VERSIONS
        .iter()
        .find(|(a, v, _)| *a == arn && *v == version)
        .map(|(_, _, doc)| serde_json::from_str(doc).expect("a known policy is JSON"))
}

/// The role name from its ARN (`arn:aws:iam::<acct>:role/<path>/<name>`).
pub fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
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
/// mounts with the task role's credentials, and the ECS Exec agent runs with them.
pub async fn task_role(
    c: &Collector,
    td: Option<&TaskDefinition>,
    purpose: Question,
) -> Fact<Role> {
    let Some(td) = td else {
        return Fact::not_applicable("the task definition could not be read");
    };
    let efs_iam = td
        .volumes
        .iter()
        .filter_map(|v| v.efs.as_ref())
        .any(EfsVolume::uses_iam);
    if !efs_iam && purpose != Question::Exec {
        return Fact::not_applicable("no check needs the task role's permissions");
    }
    let Some(arn) = td.task_role_arn.clone() else {
        return Fact::not_applicable("the task definition has no taskRoleArn");
    };
    role(c, &arn, Whose::Task).await
}

/// Which of the task's two roles, for the impact of a gap.
#[derive(Clone, Copy)]
enum Whose {
    Execution,
    Task,
    Caller,
}

impl Whose {
    fn label(self) -> &'static str {
        match self {
            Whose::Execution => "execution role",
            Whose::Task => "task role",
            Whose::Caller => "caller's role",
        }
    }
    fn checks(self) -> &'static str {
        match self {
            Whose::Execution => "the execution role checks (exists, trusted, permissions)",
            Whose::Task => {
                "the checks of the task role's permissions (EFS IAM authorization, ECS Exec)"
            }
            Whose::Caller => "the caller's ecs:ExecuteCommand check",
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
    simulate(&c.iam(), &c.simulator, arn, &needed).await
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

/// An IAM identity whose policies are read: a role, a user, or a user's group.
#[derive(Clone, Copy)]
enum Entity<'a> {
    Role(&'a str),
    User(&'a str),
    Group(&'a str),
}

/// The managed policies attached to `entity`, each with its default version's document.
async fn attached_policies(
    c: &Collector,
    iam: &aws_sdk_iam::Client,
    entity: Entity<'_>,
    whose: &str,
) -> Fact<Vec<AttachedPolicy>> {
    let impact = format!("evaluating the {whose}'s managed policies");
    let impact = impact.as_str();
    fn pairs(list: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<(String, String)> {
        list.iter()
            .map(|p| {
                (
                    p.policy_arn().unwrap_or_default().to_string(),
                    p.policy_name().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
    let listed = match entity {
        Entity::Role(name) => {
            let pages = iam
                .list_attached_role_policies()
                .role_name(name)
                .into_paginator()
                .send()
                .collect::<Vec<_>>()
                .await;
            c.listed("iam:ListAttachedRolePolicies", impact, pages, |out| {
                pairs(out.attached_policies())
            })
        }
        Entity::User(name) => {
            let pages = iam
                .list_attached_user_policies()
                .user_name(name)
                .into_paginator()
                .send()
                .collect::<Vec<_>>()
                .await;
            c.listed("iam:ListAttachedUserPolicies", impact, pages, |out| {
                pairs(out.attached_policies())
            })
        }
        Entity::Group(name) => {
            let pages = iam
                .list_attached_group_policies()
                .group_name(name)
                .into_paginator()
                .send()
                .collect::<Vec<_>>()
                .await;
            c.listed("iam:ListAttachedGroupPolicies", impact, pages, |out| {
                pairs(out.attached_policies())
            })
        }
    };
    let listed = match listed.gathered_or_gap() {
        Ok(value) => value,
        Err(gap) => return gap,
    };
    let futures = listed.into_iter().map(|(arn, name)| async move {
        let document = async {
            let policy = iam.get_policy().policy_arn(&arn).send().await;
            let version = match c.fact("iam:GetPolicy", impact, policy) {
                Fact::Gathered { value } => value
                    .policy()
                    .and_then(|p| p.default_version_id())
                    .map(str::to_string),
                other => return other.map(|_| serde_json::Value::Null),
            };
            let Some(version) = version else {
                return Fact::absent(format!("policy {arn} has no default version"));
            };
            if let Some(document) = known_policy_version(&arn, &version) {
                return Fact::gathered(document);
            }
            let got = iam
                .get_policy_version()
                .policy_arn(&arn)
                .version_id(&version)
                .send()
                .await;
            match c.fact("iam:GetPolicyVersion", impact, got) {
                Fact::Gathered { value } => match value.policy_version().and_then(|v| v.document())
                {
                    Some(doc) => decode_policy(doc),
                    None => Fact::absent("the policy version has no document"),
                },
                other => other.map(|_| serde_json::Value::Null),
            }
        }
        .await;
        AttachedPolicy {
            arn,
            name,
            document,
        }
    });
    Fact::gathered(futures::future::join_all(futures).await)
}

/// The inline policies of `entity`, each with its document.
async fn inline_policies(
    c: &Collector,
    iam: &aws_sdk_iam::Client,
    entity: Entity<'_>,
    whose: &str,
) -> Fact<Vec<InlinePolicy>> {
    let impact = format!("evaluating the {whose}'s inline policies");
    let impact = impact.as_str();
    let names = match entity {
        Entity::Role(name) => {
            let pages = iam
                .list_role_policies()
                .role_name(name)
                .into_paginator()
                .send()
                .collect::<Vec<_>>()
                .await;
            c.listed("iam:ListRolePolicies", impact, pages, |out| {
                out.policy_names().to_vec()
            })
        }
        Entity::User(name) => {
            let pages = iam
                .list_user_policies()
                .user_name(name)
                .into_paginator()
                .send()
                .collect::<Vec<_>>()
                .await;
            c.listed("iam:ListUserPolicies", impact, pages, |out| {
                out.policy_names().to_vec()
            })
        }
        Entity::Group(name) => {
            let pages = iam
                .list_group_policies()
                .group_name(name)
                .into_paginator()
                .send()
                .collect::<Vec<_>>()
                .await;
            c.listed("iam:ListGroupPolicies", impact, pages, |out| {
                out.policy_names().to_vec()
            })
        }
    };
    let names = match names.gathered_or_gap() {
        Ok(value) => value,
        Err(gap) => return gap,
    };
    let futures = names.into_iter().map(|name| async move {
        let document = match entity {
            Entity::Role(role) => {
                let got = iam
                    .get_role_policy()
                    .role_name(role)
                    .policy_name(&name)
                    .send()
                    .await;
                match c.fact("iam:GetRolePolicy", impact, got) {
                    Fact::Gathered { value } => decode_policy(value.policy_document()),
                    other => other.map(|_| serde_json::Value::Null),
                }
            }
            Entity::User(user) => {
                let got = iam
                    .get_user_policy()
                    .user_name(user)
                    .policy_name(&name)
                    .send()
                    .await;
                match c.fact("iam:GetUserPolicy", impact, got) {
                    Fact::Gathered { value } => decode_policy(value.policy_document()),
                    other => other.map(|_| serde_json::Value::Null),
                }
            }
            Entity::Group(group) => {
                let got = iam
                    .get_group_policy()
                    .group_name(group)
                    .policy_name(&name)
                    .send()
                    .await;
                match c.fact("iam:GetGroupPolicy", impact, got) {
                    Fact::Gathered { value } => decode_policy(value.policy_document()),
                    other => other.map(|_| serde_json::Value::Null),
                }
            }
        };
        InlinePolicy { name, document }
    });
    Fact::gathered(futures::future::join_all(futures).await)
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
    Fact::gathered(Caller {
        arn: identity,
        principal_arn: Some(principal),
        simulation,
        policies,
    })
}

/// The IAM principal behind a caller ARN: the role of an assumed-role
/// session (its path is unknown here; `iam:GetRole` by name finds it), the user.
fn principal_of(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, service, _, account, resource] = parts.as_slice() else {
        return None;
    };
    match (*service, resource.split_once('/')) {
        ("sts", Some(("assumed-role", rest))) => {
            let role = rest.split('/').next()?;
            Some(format!("arn:{partition}:iam::{account}:role/{role}"))
        }
        ("iam", Some(("user", _))) | ("iam", Some(("role", _))) => Some(arn.to_string()),
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

/// The policy simulator's outage in this run, once one is seen. The
/// simulator is optional and asked once per task: after the service itself
/// failed (a server error, throttling, the network), the other tasks of a
/// sweep do not each wait on it again, and evaluate the policies instead.
/// A refusal is not an outage: it may concern one role only, and the run's
/// memo already keeps it.
#[derive(Clone, Debug, Default)]
pub(crate) struct SimulatorOutage(Arc<OnceLock<String>>);

impl SimulatorOutage {
    fn seen(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }

    fn record(&self, error: &str) {
        let _ = self.0.set(error.to_string());
    }
}

/// Ask IAM's policy simulator about exactly what the task needs. Many
/// accounts (and every AWS stand-in) refuse or lack it: then the checks
/// evaluate the policies themselves, and say so.
pub(crate) async fn simulate(
    iam: &aws_sdk_iam::Client,
    outage: &SimulatorOutage,
    role_arn: &str,
    needed: &[permissions::Requirement],
) -> Fact<Vec<SimulationResult>> {
    if needed.is_empty() {
        return Fact::not_applicable("the task needs no execution-role permissions");
    }
    if let Some(error) = outage.seen() {
        return Fact::Failed {
            action: "iam:SimulatePrincipalPolicy".into(),
            error: format!("{error} (earlier in this run, so not asked again)"),
        };
    }
    // One simulation per resource, with every action needed on it.
    let mut by_resource: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in needed {
        let actions = by_resource.entry(r.resource.clone()).or_default();
        if !actions.contains(&r.action) {
            actions.push(r.action.clone());
        }
    }
    let mut results = Vec::new();
    for (resource, actions) in by_resource {
        let out = iam
            .simulate_principal_policy()
            .policy_source_arn(role_arn)
            .set_action_names(Some(actions))
            .resource_arns(&resource)
            .customize()
            // The simulator is optional (policy evaluation is the fallback): one attempt, no retries.
            .config_override(
                aws_sdk_iam::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match out {
            Ok(out) => results.extend(out.evaluation_results().iter().map(|e| {
                SimulationResult {
                    action: e.eval_action_name().to_string(),
                    resource: e.eval_resource_name().unwrap_or(&resource).to_string(),
                    decision: e.eval_decision().as_str().to_string(),
                    missing_context_values: e.missing_context_values().to_vec(),
                    matched_statements: e
                        .matched_statements()
                        .iter()
                        .filter_map(|m| {
                            let id = m.source_policy_id()?;
                            Some(match m.source_policy_type() {
                                Some(t) => format!("{id} ({})", t.as_str()),
                                None => id.to_string(),
                            })
                        })
                        .collect(),
                    allowed_by_organizations: e
                        .organizations_decision_detail()
                        .map(|o| o.allowed_by_organizations()),
                    allowed_by_permissions_boundary: e
                        .permissions_boundary_decision_detail()
                        .map(|p| p.allowed_by_permissions_boundary()),
                }
            })),
            Err(err) => {
                // Not a gap worth alarming about when the policies can be read instead; the
                // permission check says which method decided.
                let (class, message) = super::classify(&err);
                let server_error = err
                    .raw_response()
                    .is_some_and(|r| r.status().is_server_error());
                if server_error
                    || matches!(
                        class,
                        super::ErrorClass::Throttled | super::ErrorClass::Network
                    )
                {
                    outage.record(&message);
                }
                return Fact::Failed {
                    action: "iam:SimulatePrincipalPolicy".into(),
                    error: message,
                };
            }
        }
    }
    Fact::gathered(results)
}

#[cfg(test)]
mod tests {
    //! The simulator path, fed with recorded `SimulatePrincipalPolicy`
    //! responses (the XML AWS sends), and the same task judged with and
    //! without them.
    use super::*;
    use aws_sdk_iam::operation::simulate_principal_policy::SimulatePrincipalPolicyInput;
    use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use ecs_doctor_checks::Cause;

    const ROLE: &str = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";
    const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";

    /// A rule answering the simulation of one resource with a recorded body.
    fn recorded(resource: &'static str, status: u16, body: &'static str) -> Rule {
        mock!(aws_sdk_iam::Client::simulate_principal_policy)
            .match_requests(move |req: &SimulatePrincipalPolicyInput| {
                req.resource_arns().iter().any(|r| r == resource)
            })
            .then_http_response(move || {
                Response::new(
                    StatusCode::try_from(status).expect("status"),
                    SdkBody::from(body),
                )
            })
    }

    fn recorded_rules() -> Vec<Rule> {
        vec![
            recorded(
                "*",
                200,
                include_str!("../../tests/fixtures/iam/simulate-auth-token.xml"),
            ),
            recorded(
                "arn:aws:ecr:us-east-1:123456789012:repository/web",
                200,
                include_str!("../../tests/fixtures/iam/simulate-repository.xml"),
            ),
            recorded(
                "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*",
                200,
                include_str!("../../tests/fixtures/iam/simulate-log-group.xml"),
            ),
            recorded(
                SECRET,
                200,
                include_str!("../../tests/fixtures/iam/simulate-secret.xml"),
            ),
        ]
    }

    fn needed() -> Vec<permissions::Requirement> {
        let ev = evidence(Fact::not_applicable("not asked"));
        let td = ev.task_def().expect("the kit's task has a task definition");
        permissions::required(td, "us-east-1", "123456789012")
    }

    #[tokio::test]
    async fn recorded_simulation_is_read_field_by_field() {
        let rules = recorded_rules();
        let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, &rules);
        let results = match simulate(&iam, &SimulatorOutage::default(), ROLE, &needed()).await {
            Fact::Gathered { value } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(results.len(), 7, "{results:?}");
        let secret = results
            .iter()
            .find(|r| r.action.ends_with(":GetSecretValue"))
            .expect("the secret was simulated");
        assert_eq!(secret.resource, SECRET);
        assert_eq!(secret.decision, "implicitDeny");
        let pull = results
            .iter()
            .find(|r| r.action.ends_with(":BatchGetImage"))
            .expect("the pull was simulated");
        assert_eq!(pull.decision, "allowed");
        assert_eq!(
            pull.matched_statements,
            vec!["AmazonECSTaskExecutionRolePolicy (aws-managed)".to_string()]
        );
        assert_eq!(pull.allowed_by_organizations, Some(true));
        assert!(rules.iter().all(|r| r.num_calls() == 1));
    }

    #[tokio::test]
    async fn refused_simulation_is_a_failed_fact_not_an_abort() {
        let denied =
            mock!(aws_sdk_iam::Client::simulate_principal_policy).then_http_response(|| {
                Response::new(
                    StatusCode::try_from(403).expect("status"),
                    SdkBody::from(include_str!(
                        "../../tests/fixtures/iam/simulate-access-denied.xml"
                    )),
                )
            });
        let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&denied]);
        let outage = SimulatorOutage::default();
        match simulate(&iam, &outage, ROLE, &needed()).await {
            Fact::Failed { action, error } => {
                assert_eq!(action, "iam:SimulatePrincipalPolicy");
                assert!(error.starts_with("AccessDenied"), "{error}");
            }
            other => panic!("{other:?}"),
        }
        // A refusal may concern this role only: the next task still asks.
        assert_eq!(outage.seen(), None);
        simulate(&iam, &outage, ROLE, &needed()).await;
        assert_eq!(denied.num_calls(), 2);
        // What an AWS stand-in without the API answers: HTTP 500 with an HTML page.
        let unimplemented = mock!(aws_sdk_iam::Client::simulate_principal_policy)
            .then_http_response(|| {
                Response::new(
                    StatusCode::try_from(500).expect("status"),
                    SdkBody::from("<!doctype html><title>500 Internal Server Error</title>"),
                )
            });
        let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&unimplemented]);
        let outage = SimulatorOutage::default();
        assert!(matches!(
            simulate(&iam, &outage, ROLE, &needed()).await,
            Fact::Failed { .. }
        ));
        assert_eq!(unimplemented.num_calls(), 1);
        // The service failed: the rest of the run does not wait on it again,
        // and still says the simulator was not used, and why.
        match simulate(&iam, &outage, ROLE, &needed()).await {
            Fact::Failed { action, error } => {
                assert_eq!(action, "iam:SimulatePrincipalPolicy");
                assert!(
                    error.ends_with("(earlier in this run, so not asked again)"),
                    "{error}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(unimplemented.num_calls(), 1);
    }

    /// A task whose execution role has only `AmazonECSTaskExecutionRolePolicy`
    /// and whose secret it therefore may not read.
    fn evidence(simulation: Fact<Vec<SimulationResult>>) -> Evidence {
        use ecs_doctor_checks::testkit::image::{add_secret, failed_to_start, secret_metadata};
        let reason = format!(
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/0123456789abcdef0123456789abcdef is not authorized to perform: secretsmanager:GetSecretValue on resource: {SECRET} because no identity-based policy allows the secretsmanager:GetSecretValue action"
        );
        let mut ev = failed_to_start(&reason);
        add_secret(
            &mut ev,
            "DB_PASSWORD",
            &format!("{SECRET}:password::"),
            secret_metadata(SECRET, None),
        );
        ev.simulation = simulation;
        ev
    }

    #[tokio::test]
    async fn same_verdict_with_and_without_the_simulator() {
        let rules = recorded_rules();
        let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, &rules);
        let with = evidence(simulate(&iam, &SimulatorOutage::default(), ROLE, &needed()).await);
        assert!(matches!(with.simulation, Fact::Gathered { .. }));
        let without = evidence(Fact::Failed {
            action: "iam:SimulatePrincipalPolicy".into(),
            error: "the response could not be parsed".into(),
        });
        let a = ecs_doctor_checks::diagnose(&with, "test");
        let b = ecs_doctor_checks::diagnose(&without, "test");
        let (top_a, top_b) = (&a.candidates[0], &b.candidates[0]);
        assert_eq!(top_a.code, Cause::ExecutionRolePermissions);
        assert_eq!(top_b.code, Cause::ExecutionRolePermissions);
        assert_eq!(top_a.title, top_b.title);
        let missing = format!(
            "{}:GetSecretValue on {SECRET}: not allowed",
            "secretsmanager"
        );
        assert!(
            top_a.evidence.iter().any(|e| e.starts_with(&missing)),
            "{:?}",
            top_a.evidence
        );
        assert!(
            top_b.evidence.iter().any(|e| e.starts_with(&missing)),
            "{:?}",
            top_b.evidence
        );
        assert!(top_a
            .evidence
            .iter()
            .any(|e| e.contains("decided by iam:SimulatePrincipalPolicy")));
        assert!(top_b
            .evidence
            .iter()
            .any(|e| e.contains("ecs-doctor's own evaluation")));
    }

    #[test]
    fn known_policy_versions_are_used_only_for_their_exact_version() {
        let arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
        let doc = known_policy_version(arn, "v1").expect("known");
        let granted: Vec<(&str, &str)> = doc["Statement"][0]["Action"]
            .as_array()
            .expect("actions")
            .iter()
            .filter_map(|a| a.as_str()?.split_once(':'))
            .collect();
        assert_eq!(granted.len(), 6, "{granted:?}");
        assert!(granted.contains(&("ecr", "GetAuthorizationToken")));
        assert!(granted.contains(&("ecr", "BatchGetImage")));
        assert!(granted.contains(&("logs", "PutLogEvents")));
        assert_eq!(doc["Statement"][0]["Resource"], "*");
        assert!(
            known_policy_version(arn, "v2").is_none(),
            "a newer version is read"
        );
        assert!(
            known_policy_version(
                "arn:aws-cn:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                "v1"
            )
            .is_none(),
            "other partitions are read"
        );
        assert!(known_policy_version("arn:aws:iam::123456789012:policy/mine", "v1").is_none());
    }
}
