//! IAM: the task execution role, its trust policy, its attached and inline
//! policies, and (when AWS allows it) `iam:SimulatePrincipalPolicy` answers
//! for exactly the actions and resources the task needs.

use super::Collector;
use ecs_doctor_checks::evidence::*;
use ecs_doctor_checks::permissions;
use std::collections::BTreeMap;

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

/// The role name from its ARN (`arn:aws:iam::<acct>:role/<path>/<name>`).
pub fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

pub async fn execution_role(
    c: &Collector,
    td: Option<&TaskDefinition>,
) -> (Fact<Role>, Fact<Vec<SimulationResult>>) {
    let Some(td) = td else {
        let na = Fact::not_applicable("the task definition could not be read");
        return (
            na.clone().map(|_: ()| Role::default()),
            na.map(|_: ()| Vec::new()),
        );
    };
    let Some(arn) = td.execution_role_arn.clone() else {
        return (
            Fact::not_applicable("the task definition has no executionRoleArn"),
            Fact::not_applicable("no execution role"),
        );
    };
    let (role, simulation) = tokio::join!(role(c, &arn), simulate(c, &arn, td));
    (role, simulation)
}

async fn role(c: &Collector, arn: &str) -> Fact<Role> {
    let iam = c.iam();
    let name = role_name(arn).to_string();
    let impact = "the execution role checks (exists, trusted, permissions)";
    let got = iam.get_role().role_name(&name).send().await;
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

    let (attached, inline) = tokio::join!(
        attached_policies(c, &iam, &name),
        inline_policies(c, &iam, &name)
    );
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

async fn attached_policies(
    c: &Collector,
    iam: &aws_sdk_iam::Client,
    role: &str,
) -> Vec<AttachedPolicy> {
    let pages = iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut listed = Vec::new();
    for page in pages {
        match page {
            Ok(out) => listed.extend(out.attached_policies().iter().map(|p| {
                (
                    p.policy_arn().unwrap_or_default().to_string(),
                    p.policy_name().unwrap_or_default().to_string(),
                )
            })),
            Err(e) => {
                let _: Fact<()> = c.fact_from_error(
                    "iam:ListAttachedRolePolicies",
                    "evaluating the execution role's managed policies",
                    &e,
                );
                return Vec::new();
            }
        }
    }
    let futures = listed.into_iter().map(|(arn, name)| async move {
        let document = async {
            let policy = iam.get_policy().policy_arn(&arn).send().await;
            let version = match c.fact(
                "iam:GetPolicy",
                "evaluating the execution role's managed policies",
                policy,
            ) {
                Fact::Gathered { value } => value
                    .policy()
                    .and_then(|p| p.default_version_id())
                    .map(str::to_string),
                other => return other.map(|_| serde_json::Value::Null),
            };
            let Some(version) = version else {
                return Fact::absent(format!("policy {arn} has no default version"));
            };
            let got = iam
                .get_policy_version()
                .policy_arn(&arn)
                .version_id(&version)
                .send()
                .await;
            match c.fact(
                "iam:GetPolicyVersion",
                "evaluating the execution role's managed policies",
                got,
            ) {
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
    futures::future::join_all(futures).await
}

async fn inline_policies(
    c: &Collector,
    iam: &aws_sdk_iam::Client,
    role: &str,
) -> Vec<InlinePolicy> {
    let pages = iam
        .list_role_policies()
        .role_name(role)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut names = Vec::new();
    for page in pages {
        match page {
            Ok(out) => names.extend(out.policy_names().iter().cloned()),
            Err(e) => {
                let _: Fact<()> = c.fact_from_error(
                    "iam:ListRolePolicies",
                    "evaluating the execution role's inline policies",
                    &e,
                );
                return Vec::new();
            }
        }
    }
    let futures = names.into_iter().map(|name| async move {
        let got = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(&name)
            .send()
            .await;
        let document = match c.fact(
            "iam:GetRolePolicy",
            "evaluating the execution role's inline policies",
            got,
        ) {
            Fact::Gathered { value } => decode_policy(value.policy_document()),
            other => other.map(|_| serde_json::Value::Null),
        };
        InlinePolicy { name, document }
    });
    futures::future::join_all(futures).await
}

/// Ask IAM's policy simulator about exactly what the task needs. Many
/// accounts (and every AWS stand-in) refuse or lack it: then the checks
/// evaluate the policies themselves.
async fn simulate(
    c: &Collector,
    role_arn: &str,
    td: &TaskDefinition,
) -> Fact<Vec<SimulationResult>> {
    let account = c.account.clone().unwrap_or_default();
    let needed = permissions::required(td, &c.region, &account);
    if needed.is_empty() {
        return Fact::not_applicable("the task needs no execution-role permissions");
    }
    // One simulation per resource, with every action needed on it.
    let mut by_resource: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &needed {
        by_resource
            .entry(r.resource.clone())
            .or_default()
            .push(r.action.clone());
    }
    let iam = c.iam();
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
            Ok(out) => results.extend(out.evaluation_results().iter().map(|e| SimulationResult {
                action: e.eval_action_name().to_string(),
                resource: e.eval_resource_name().unwrap_or(&resource).to_string(),
                decision: e.eval_decision().as_str().to_string(),
                missing_context_values: e.missing_context_values().to_vec(),
            })),
            Err(err) => {
                // Not a gap worth alarming about when the policies can be read instead; the
                // permission check says which method decided.
                let (_, message) = super::classify(&err);
                return Fact::Failed {
                    action: "iam:SimulatePrincipalPolicy".into(),
                    error: message,
                };
            }
        }
    }
    Fact::gathered(results)
}
