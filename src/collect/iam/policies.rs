//! The policies of an IAM identity (a role, a user, or a user's group):
//! its attached managed policies with their default versions' documents,
//! and its inline policies. One listing path serves the three kinds: the
//! operations differ by kind (`ListAttachedRolePolicies`,
//! `ListUserPolicies`, `GetGroupPolicy`…), the reading does not.

use super::super::Collector;
use ecs_doctor_checks::evidence::*;

/// Policy documents come URL-encoded from IAM.
pub(super) fn decode_policy(doc: &str) -> Fact<serde_json::Value> {
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
    include_str!("../../aws-managed-policies/AmazonECSTaskExecutionRolePolicy.v1.json"),
)];

/// The document of a known managed policy version, if it is one.
fn known_policy_version(arn: &str, version: &str) -> Option<serde_json::Value> {
    KNOWN_POLICY_VERSIONS
        .iter()
        .find(|(a, v, _)| *a == arn && *v == version)
        .map(|(_, _, doc)| serde_json::from_str(doc).expect("a known policy is JSON"))
}

/// An IAM identity whose policies are read: a role, a user, or a user's group.
#[derive(Clone, Copy)]
pub(super) enum Entity<'a> {
    Role(&'a str),
    User(&'a str),
    Group(&'a str),
}

impl Entity<'_> {
    /// The IAM action of `verb` on this kind of identity's policies:
    /// `("ListAttached", "Policies")` gives `iam:ListAttachedRolePolicies`.
    fn action(self, verb: &str, what: &str) -> String {
        let kind = match self {
            Entity::Role(_) => "Role",
            Entity::User(_) => "User",
            Entity::Group(_) => "Group",
        };
        format!("iam:{verb}{kind}{what}")
    }
}

/// One request for whichever kind `$entity` is: the role's, the user's or
/// the group's (each written out, with the identity's name bound to
/// `$name`), its answer bound to `$answer` for `$then`, the one path every
/// kind's answer takes.
macro_rules! by_kind {
    ($entity:expr, |$name:ident| {
        role: $role:expr,
        user: $user:expr,
        group: $group:expr $(,)?
    }, |$answer:ident| $then:expr) => {
        match $entity {
            Entity::Role($name) => {
                let $answer = $role;
                $then
            }
            Entity::User($name) => {
                let $answer = $user;
                $then
            }
            Entity::Group($name) => {
                let $answer = $group;
                $then
            }
        }
    };
}

/// The managed policies attached to `entity`, each with its default version's document.
pub(super) async fn attached_policies(
    c: &Collector,
    iam: &aws_sdk_iam::Client,
    entity: Entity<'_>,
    whose: &str,
) -> Fact<Vec<AttachedPolicy>> {
    let impact = format!("evaluating the {whose}'s managed policies");
    let impact = impact.as_str();
    let action = entity.action("ListAttached", "Policies");
    let listed = by_kind!(entity, |name| {
        role: iam
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await,
        user: iam
            .list_attached_user_policies()
            .user_name(name)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await,
        group: iam
            .list_attached_group_policies()
            .group_name(name)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await,
    }, |pages| {
        c.listed(&action, impact, pages, |out| {
            out.attached_policies()
                .iter()
                .map(|p| {
                    (
                        p.policy_arn().unwrap_or_default().to_string(),
                        p.policy_name().unwrap_or_default().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    let listed = match listed.gathered_or_gap() {
        Ok(value) => value,
        Err(gap) => return gap,
    };
    let futures = listed.into_iter().map(|(arn, name)| async move {
        let mut updated_at = None;
        let document = async {
            let policy = iam.get_policy().policy_arn(&arn).send().await;
            let version = match c.fact("iam:GetPolicy", impact, policy) {
                Fact::Gathered { value } => {
                    updated_at = super::super::ts(value.policy().and_then(|p| p.update_date()));
                    value
                        .policy()
                        .and_then(|p| p.default_version_id())
                        .map(str::to_string)
                }
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
            updated_at,
        }
    });
    Fact::gathered(futures::future::join_all(futures).await)
}

/// The inline policies of `entity`, each with its document.
pub(super) async fn inline_policies(
    c: &Collector,
    iam: &aws_sdk_iam::Client,
    entity: Entity<'_>,
    whose: &str,
) -> Fact<Vec<InlinePolicy>> {
    let impact = format!("evaluating the {whose}'s inline policies");
    let impact = impact.as_str();
    let action = entity.action("List", "Policies");
    let names = by_kind!(entity, |name| {
        role: iam
            .list_role_policies()
            .role_name(name)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await,
        user: iam
            .list_user_policies()
            .user_name(name)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await,
        group: iam
            .list_group_policies()
            .group_name(name)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await,
    }, |pages| c.listed(&action, impact, pages, |out| out.policy_names().to_vec()));
    let names = match names.gathered_or_gap() {
        Ok(value) => value,
        Err(gap) => return gap,
    };
    let get = entity.action("Get", "Policy");
    let futures = names.into_iter().map(|name| {
        let get = get.as_str();
        async move {
            let got = by_kind!(entity, |owner| {
                role: iam
                    .get_role_policy()
                    .role_name(owner)
                    .policy_name(&name)
                    .send()
                    .await,
                user: iam
                    .get_user_policy()
                    .user_name(owner)
                    .policy_name(&name)
                    .send()
                    .await,
                group: iam
                    .get_group_policy()
                    .group_name(owner)
                    .policy_name(&name)
                    .send()
                    .await,
            }, |got| c.fact(get, impact, got).map(|out| out.policy_document().to_string()));
            let document = match got {
                Fact::Gathered { value } => decode_policy(&value),
                other => other.map(|_| serde_json::Value::Null),
            };
            InlinePolicy { name, document }
        }
    });
    Fact::gathered(futures::future::join_all(futures).await)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn each_kind_of_identity_names_its_own_actions() {
        let (role, user, group) = (Entity::Role("r"), Entity::User("u"), Entity::Group("g"));
        assert_eq!(
            role.action("ListAttached", "Policies"),
            "iam:ListAttachedRolePolicies"
        );
        assert_eq!(
            user.action("ListAttached", "Policies"),
            "iam:ListAttachedUserPolicies"
        );
        assert_eq!(
            group.action("ListAttached", "Policies"),
            "iam:ListAttachedGroupPolicies"
        );
        assert_eq!(role.action("List", "Policies"), "iam:ListRolePolicies");
        assert_eq!(user.action("List", "Policies"), "iam:ListUserPolicies");
        assert_eq!(group.action("List", "Policies"), "iam:ListGroupPolicies");
        assert_eq!(role.action("Get", "Policy"), "iam:GetRolePolicy");
        assert_eq!(user.action("Get", "Policy"), "iam:GetUserPolicy");
        assert_eq!(group.action("Get", "Policy"), "iam:GetGroupPolicy");
    }
}
