//! A KMS key policy, evaluated as KMS decides access to a key.
//!
//! The key policy is the primary authority over a KMS key: a principal may
//! use the key only when its key policy allows it, either by naming the
//! principal (its ARN, or any principal, `*`), in which case no IAM policy
//! is needed, or by allowing the principal's account
//! (`arn:aws:iam::<account>:root` or the bare account id), in which case
//! the principal's IAM policies decide. An explicit `Deny` in the key
//! policy or in an IAM policy refuses whatever allows. For another
//! account's key both halves must allow: the key policy (naming the
//! principal or its account) and the principal's IAM policies.
//!
//! The statements are matched with the one IAM evaluator
//! ([`crate::iam::policy`]); conditions on keys that are not known for the
//! request (an encryption context, `kms:GrantOperations`, …) are "not
//! evaluated", never guessed. Grants, which can allow a principal without
//! the key policy, are not read.

use crate::evidence::{Evidence, Fact, KmsKey};
use crate::iam::access::{arn_account, arn_region, Access, DecidedBy, Permission};
use crate::iam::policy::{self, Context, Decision, Policy, Principal, Request};
use serde_json::Value;

/// What a key policy says of one principal and one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAccess {
    /// A statement allows the principal itself (its ARN, or `*`): its IAM
    /// policies need not allow the action too (for a key of its account).
    Named { by: String },
    /// A statement allows the principal's account: its IAM policies decide.
    Delegated { by: String },
    /// No statement allows the principal or its account.
    NotAllowed,
    /// A `Deny` matches.
    Denied { by: String },
}

impl KeyAccess {
    pub fn refuses(&self) -> bool {
        matches!(self, KeyAccess::NotAllowed | KeyAccess::Denied { .. })
    }
}

/// The decision and what could not be evaluated for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDecision {
    pub access: KeyAccess,
    /// Statements whose conditions are false for the request, with the condition.
    pub failed_conditions: Vec<String>,
    /// Conditions on keys not known for the request.
    pub not_evaluated: Vec<String>,
}

fn by(ev: &policy::PolicyEvaluation) -> String {
    ev.deciding
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Evaluate a key policy for `who` calling `action` with the request's context.
pub fn decide(
    doc: &Value,
    who: &Principal,
    action: &str,
    context: &Context,
) -> Result<KeyDecision, String> {
    let parsed = Policy::parse("key policy", doc)?;
    let policies = std::slice::from_ref(&parsed);
    let request = |principal: &Principal| {
        policy::evaluate(
            policies,
            &Request {
                action,
                resource: None,
                principal: Some(principal),
                context,
            },
        )
    };
    let full = request(who);
    let access = match full.decision {
        Decision::ExplicitDeny => KeyAccess::Denied { by: by(&full) },
        Decision::ImplicitDeny => KeyAccess::NotAllowed,
        Decision::Allowed => match who {
            // Without its account, only the statements naming the role (or `*`) allow it.
            Principal::Role { arn, .. } => {
                let named = request(&Principal::Role {
                    arn: arn.clone(),
                    account: String::new(),
                });
                if named.decision == Decision::Allowed {
                    KeyAccess::Named { by: by(&named) }
                } else {
                    KeyAccess::Delegated { by: by(&full) }
                }
            }
            _ => KeyAccess::Named { by: by(&full) },
        },
    };
    Ok(KeyDecision {
        access,
        failed_conditions: full.failed_conditions,
        not_evaluated: full.not_evaluated,
    })
}

/// The context of a role's request that a service (`secretsmanager`,
/// `ssm`, `ec2`) makes to KMS on its behalf in `region`.
pub fn role_context(role_arn: &str, via: Option<&str>, region: &str) -> Context {
    let mut ctx = Context::new();
    let account = arn_account(role_arn).unwrap_or_default().to_string();
    policy::with_key(&mut ctx, "kms:CallerAccount", Some(vec![account.clone()]));
    policy::with_key(&mut ctx, "aws:PrincipalAccount", Some(vec![account]));
    policy::with_key(
        &mut ctx,
        "aws:PrincipalArn",
        Some(vec![role_arn.to_string()]),
    );
    policy::with_key(
        &mut ctx,
        "kms:ViaService",
        via.map(|service| vec![format!("{service}.{region}.amazonaws.com")]),
    );
    ctx
}

/// Is the key an AWS managed key (`alias/aws/…`, or `KeyManager: AWS`)?
/// Its key policy is AWS's, and ecs-doctor does not read it.
pub fn is_aws_managed(key: &str, described: Option<&KmsKey>) -> bool {
    key.contains("alias/aws/") || described.is_some_and(|d| d.key_manager.as_deref() == Some("AWS"))
}

/// One line for a decision, for the reports.
pub fn describe(d: &KeyAccess, who: &str, key: &str) -> String {
    match d {
        KeyAccess::Named { by } => format!("the key policy of {key} allows {who} itself ({by})"),
        KeyAccess::Delegated { by } => {
            format!("the key policy of {key} delegates to the account ({by}): the role's own policies decide")
        }
        KeyAccess::NotAllowed => {
            format!("no statement of the key policy of {key} allows {who} or its account")
        }
        KeyAccess::Denied { by } => format!("the key policy of {key} denies it ({by})"),
    }
}

/// Each secret or parameter whose metadata names a customer managed key:
/// the key's ARN, the secret's name, and the service that decrypts it
/// (`secretsmanager` or `ssm`).
pub fn secret_keys(ev: &Evidence) -> Vec<(String, &str, &str)> {
    let account = ev.account.clone().unwrap_or_default();
    ev.secrets
        .iter()
        .filter_map(|s| {
            let meta = s.metadata.value()?;
            let arn = crate::iam::permissions::customer_kms_key(meta, &ev.region, &account)?;
            Some((arn, s.name.as_str(), meta.service.as_str()))
        })
        .collect()
}

/// The services that call KMS for the task's secrets under `key`.
fn via_services(ev: &Evidence, key: &str) -> Vec<String> {
    let mut out: Vec<String> = secret_keys(ev)
        .into_iter()
        .filter(|(arn, _, _)| arn == key)
        .map(|(_, _, service)| service.to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Apply the key policy to the execution role's `kms:Decrypt` on a
/// secret's customer managed key. A key policy that names the role allows
/// what its own policies do not; one that neither names the role nor
/// delegates to its account, or a `Deny` in it, refuses what they allow.
/// A key policy that could not be read leaves the decision to the role's
/// policies, with the gap as a caveat.
pub(crate) fn apply(ev: &Evidence, role_arn: &str, access: &mut Access) {
    if !access
        .requirement
        .action
        .eq_ignore_ascii_case("kms:Decrypt")
    {
        return;
    }
    let key = access.requirement.resource.clone();
    let Some(read) = ev.kms.key(&key) else {
        access
            .caveats
            .push(format!("the key policy of {key} was not read"));
        return;
    };
    let doc = match &read.policy {
        Fact::Gathered { value } => value,
        other => {
            access.caveats.push(format!(
                "the key policy of {key} could not be read ({}), so whether it allows {role_arn} is unknown",
                other.gap_reason().unwrap_or_default()
            ));
            return;
        }
    };
    let who = Principal::Role {
        arn: role_arn.to_string(),
        account: arn_account(role_arn).unwrap_or_default().to_string(),
    };
    let cross_account = arn_account(&key) != arn_account(role_arn);
    let services = via_services(ev, &key);
    let services: Vec<Option<&str>> = if services.is_empty() {
        vec![None]
    } else {
        services.iter().map(|s| Some(s.as_str())).collect()
    };
    // The most refusing decision over the services that call KMS with this key.
    let mut decided: Option<KeyDecision> = None;
    for via in services {
        // A service calls KMS in the key's own Region.
        let context = role_context(role_arn, via, arn_region(&key).unwrap_or(&ev.region));
        let d = match decide(doc, &who, "kms:Decrypt", &context) {
            Ok(d) => d,
            Err(e) => {
                access
                    .caveats
                    .push(format!("the key policy of {key} is not valid: {e}"));
                return;
            }
        };
        let rank = |a: &KeyAccess| match a {
            KeyAccess::Denied { .. } => 0,
            KeyAccess::NotAllowed => 1,
            KeyAccess::Delegated { .. } => 2,
            KeyAccess::Named { .. } => 3,
        };
        if decided
            .as_ref()
            .is_none_or(|old| rank(&d.access) < rank(&old.access))
        {
            decided = Some(d);
        }
    }
    let Some(d) = decided else { return };
    access
        .caveats
        .extend(d.not_evaluated.iter().map(|c| format!("key policy: {c}")));
    let line = describe(&d.access, role_arn, &key);
    // What the role's own policies said, for a refusal the key policy decides.
    let own = match &access.outcome {
        Permission::Unknown(why) => {
            format!("whether the role's own policies allow it is unknown ({why})")
        }
        _ => "the role's own policies allow it".to_string(),
    };
    match &d.access {
        KeyAccess::Denied { .. } | KeyAccess::NotAllowed if access.outcome.is_denied() => {
            access.caveats.push(format!("{line} too"));
        }
        KeyAccess::Denied { .. } => {
            access.outcome = Permission::ExplicitDeny;
            access.decided_by = DecidedBy::KeyPolicy;
            access.detail = format!("{own}, but {line}");
        }
        KeyAccess::NotAllowed => {
            access.outcome = Permission::ImplicitDeny;
            access.decided_by = DecidedBy::KeyPolicy;
            let failed = if d.failed_conditions.is_empty() {
                String::new()
            } else {
                format!(" ({})", d.failed_conditions.join("; "))
            };
            access.detail = format!("{own}, but {line}{failed}");
        }
        // The key policy allows: an undecided role stays undecided (an
        // explicit Deny in its own policies would still refuse).
        _ if matches!(access.outcome, Permission::Unknown(_)) => {
            access.caveats.push(line);
        }
        KeyAccess::Named { .. } if access.outcome == Permission::ImplicitDeny && !cross_account => {
            access.outcome = Permission::Allowed;
            access.detail = format!("{line}; the role's own policies do not, and need not");
        }
        _ => access.detail.push_str(&format!("; {line}")),
    }
}

#[cfg(test)]
mod tests;
