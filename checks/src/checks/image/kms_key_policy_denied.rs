//! ## What it detects
//! The customer managed KMS key of a secret or parameter the task reads
//! refused the execution role: its policy or its state. The role's own
//! policies allow `kms:Decrypt` on the key, but the key policy
//! (`kms:GetKeyPolicy`, policy `default`) neither names the role nor
//! delegates to its account (`arn:aws:iam::<account>:root`), or a `Deny`
//! in it matches; or the key is `Disabled`, `PendingDeletion` or gone
//! (`kms:DescribeKey`).
//!
//! The key policy is evaluated with the same IAM evaluator as the role's
//! policies, as KMS applies it: the key policy is the primary authority,
//! a statement naming the role allows it, one naming the account leaves
//! the decision to the role's IAM policies, and an explicit `Deny` in
//! either refuses. `kms:ViaService` (Secrets Manager or Systems Manager
//! decrypts on the role's behalf) and `kms:CallerAccount` are judged;
//! a condition on anything else (an encryption context) is reported as not
//! evaluated and never refuses. AWS managed keys (`alias/aws/…`) are not
//! read. Only the key's own account may read its key policy: another
//! account's key is a gap, never a pass. Grants are not read. When the
//! role's own policies refuse `kms:Decrypt`, execution-role-permissions
//! comes first and this check does not claim the refusal.
//!
//! ## Why it matters
//! A secret under a customer managed key needs two allows: the role's
//! policy and the key policy. The role's half is what everyone checks; the
//! key's half is often written by another team, and the stop reason only
//! says `AccessDeniedException: Access to KMS is not allowed`, or that the
//! ciphertext refers to a key that "does not exist, does not exist in this
//! region, or you are not allowed to access". Every task of the service
//! fails to start the same way.
//!
//! ## Example
//! ```text
//! stoppedReason = ResourceInitializationError: unable to pull secrets or registry auth: execution resource
//!                 retrieval failed: unable to retrieve secret from asm: … AccessDeniedException: Access to KMS is not allowed
//! key arn:aws:kms:us-east-1:123456789012:key/1234abcd-…: kms:Decrypt: no statement of the key policy allows
//!     arn:aws:iam::123456789012:role/ecsTaskExecutionRole or its account; the role's own policies allow it
//! ```
//!
//! ## How to fix
//! Add one statement to the key policy naming the execution role's ARN,
//! `kms:Decrypt` only, with `kms:ViaService` set to the service that reads
//! the secret (`aws kms get-key-policy --key-id <key> --policy-name default`,
//! then `aws kms put-key-policy` with the statement merged in; in a key
//! policy `"Resource": "*"` is the key itself), or narrow the `Deny` that
//! matches. A disabled key: `aws kms enable-key`; one pending deletion:
//! `aws kms cancel-key-deletion`, then `enable-key`. Never allow `kms:*` or
//! `"Principal": "*"`.
//!
//! ## References
//! - https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
//! - https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
//! - https://docs.aws.amazon.com/kms/latest/developerguide/determining-access-key-policy.html
//! - https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::{Evidence, Fact};
use crate::iam::access::{Access, Assessment, Permission};
use crate::report::{Finding, Strength, Verdict};
use crate::stops::{Detail, StopCode};
use crate::task::unknown_task_definition;

/// A customer managed key and the secrets it encrypts.
struct Key {
    arn: String,
    secrets: Vec<String>,
    /// `secretsmanager` or `ssm`: who decrypts for the role.
    services: Vec<String>,
}

fn keys(ev: &Evidence) -> Vec<Key> {
    let mut out: Vec<Key> = Vec::new();
    for (arn, secret, service) in crate::iam::key_policy::secret_keys(ev) {
        let i = match out.iter().position(|k| k.arn == arn) {
            Some(i) => i,
            None => {
                out.push(Key { arn, secrets: Vec::new(), services: Vec::new() });
                out.len() - 1
            }
        };
        let k = &mut out[i];
        k.secrets.push(secret.to_string());
        if !k.services.iter().any(|s| s == service) {
            k.services.push(service.to_string());
        }
    }
    out
}

/// The key's Region (from its ARN), for the commands.
fn region_of<'a>(arn: &'a str, fallback: &'a str) -> &'a str {
    crate::iam::access::arn_region(arn).unwrap_or(fallback)
}

/// The one statement to add: the role, kms:Decrypt, through the service that reads the secret.
fn statement_fix(key: &Key, role_arn: &str, region: &str) -> String {
    let via: Vec<String> = key.services.iter().map(|s| format!("{s}.{region}.amazonaws.com")).collect();
    let statement = serde_json::json!({
        "Sid": "AllowEcsTaskExecutionRoleDecrypt",
        "Effect": "Allow",
        "Principal": {"AWS": role_arn},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": via}},
    });
    format!(
        "Add this statement to the key policy of {arn} (in a key policy, Resource * is the key itself), merged with its other statements: aws kms get-key-policy --key-id {arn} --policy-name default --query Policy --output text > policy.json, add {statement} to its Statement list, then aws kms put-key-policy --key-id {arn} --policy-name default --policy file://policy.json",
        arn = key.arn
    )
}

/// What `kms:DescribeKey` says against the key: disabled, pending deletion, gone.
fn state_problem(ev: &Evidence, key: &Key) -> Option<(String, String, String)> {
    let read = ev.kms.key(&key.arn)?;
    match &read.described {
        Fact::Gathered { value } if !value.is_enabled() => Some((
            format!("is {}", value.state()),
            value.state_evidence(),
            value.state_fix().unwrap_or_default(),
        )),
        Fact::Absent { detail } => Some((
            "does not exist".to_string(),
            format!("kms:DescribeKey: {detail}"),
            format!("Encrypt the secret with a key that exists (aws secretsmanager update-secret --secret-id <secret> --kms-key-id <key>) and store its value again: what was encrypted under a deleted key cannot be decrypted. Secrets: {}", key.secrets.join(", ")),
        )),
        _ => None,
    }
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let Some(role_arn) = td.execution_role_arn.as_deref() else {
        return Verdict::Skipped("the task definition has no execution role".into());
    };
    let keys = keys(ev);
    // A secret whose metadata could not be read may have a key of its own:
    // a gap, never "no key", whatever the other secrets' keys say.
    let unread_secrets: Vec<String> = ev
        .secrets
        .iter()
        .filter(|s| !matches!(s.metadata, Fact::Gathered { .. } | Fact::Absent { .. } | Fact::NotApplicable { .. }))
        .map(|s| format!("the key of {}: {}", s.name, s.metadata.gap_reason().unwrap_or_default()))
        .collect();
    if keys.is_empty() {
        if !unread_secrets.is_empty() {
            return crate::task::startup_undecided(ev, unread_secrets.join("; "));
        }
        return Verdict::Skipped("no secret or parameter the task reads names a customer managed KMS key".into());
    }
    let assessment = match &ctx.role_access {
        Ok(a) => a,
        Err(why) => return crate::task::startup_undecided(ev, why.clone()),
    };
    let said = ctx.stops.stating(Detail::KmsDenied).map(|t| t.quote());
    let failed_to_start = StopCode::of(ev) == StopCode::TaskFailedToStart && ev.task.timestamps.started_at.is_none();
    let strength = |direct: bool| {
        if direct && failed_to_start {
            Strength::Direct
        } else if failed_to_start {
            Strength::Corroborating
        } else {
            Strength::Circumstantial
        }
    };
    let mut passes = Vec::new();
    let mut gaps = unread_secrets;
    for key in &keys {
        let on_key = |a: &&Access| a.requirement.resource == key.arn;
        if let Some(a) = assessment.denied().find(on_key) {
            passes.push(format!(
                "the role's own policies refuse kms:Decrypt on {} ({}): execution-role-permissions comes first",
                key.arn, a.detail
            ));
            continue;
        }
        let refused: Vec<&Access> = assessment.refused_by_key_policy().filter(on_key).collect();
        let state = state_problem(ev, key);
        let region = region_of(&key.arn, &ev.region);
        if !refused.is_empty() || state.is_some() {
            let what = match &state {
                Some((s, _, _)) => format!("key `{}` {s}", key.arn),
                None => format!("the policy of key `{}` does not let `{}` decrypt", key.arn, crate::arn::name(role_arn)),
            };
            let mut f = Finding::new(
                Cause::KmsKeyPolicyDenied,
                strength(said.is_some()),
                format!("The KMS key of {} refused the execution role: {what}", key.secrets.join(", ")),
            );
            if let Some(t) = &said {
                f = f.evidence(format!("{t} (KMS refused to decrypt)"));
            }
            if let Some((_, evidence, fix)) = &state {
                f = f.evidence(evidence.clone()).fix(fix.clone());
            }
            for a in &refused {
                f = f.evidence(format!("kms:Decrypt on {}: {}", a.requirement.resource, a.detail));
                for c in a.caveats.iter().take(2) {
                    f = f.evidence(format!("not evaluated: {c}"));
                }
                f = if a.outcome == Permission::ExplicitDeny {
                    f.fix(format!("Narrow the Deny of the key policy of {} that matches kms:Decrypt for {role_arn} ({}).", key.arn, a.detail))
                } else {
                    f.fix(statement_fix(key, role_arn, region))
                };
            }
            f = f.evidence("not read: KMS grants and service control policies");
            if !failed_to_start && ev.task.timestamps.started_at.is_some() {
                f = f.against("the task's containers started, so the key served its secrets when it launched");
            }
            return f
                .doc("https://docs.aws.amazon.com/kms/latest/developerguide/determining-access-key-policy.html")
                .doc("https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html")
                .into_verdict();
        }
        let read = ev.kms.key(&key.arn);
        let unread = match read.map(|k| &k.policy) {
            Some(Fact::Gathered { .. }) => None,
            Some(other) => Some(other.gap_reason().unwrap_or_default()),
            None => Some("not read".to_string()),
        };
        // A state that could not be read is not "enabled".
        let state_unread = match read.map(|k| &k.described) {
            Some(Fact::Gathered { .. } | Fact::Absent { .. }) => None,
            Some(other) => Some(other.gap_reason().unwrap_or_default()),
            None => Some("not read".to_string()),
        };
        let decision = assessment.find("kms:Decrypt", Some(&key.arn));
        if let Some(Permission::Unknown(why)) = decision.map(|a| &a.outcome) {
            gaps.push(format!("whether {} may decrypt with {}: {why}", crate::arn::name(role_arn), key.arn));
            continue;
        }
        let role_allows = decision.is_some_and(|a| a.outcome == Permission::Allowed);
        match (unread, state_unread) {
            (None, None) if said.is_some() && failed_to_start && role_allows && gaps.is_empty() => {
                return undecided_refusal(key, role_arn, assessment, said.as_deref().unwrap_or_default());
            }
            (None, None) => passes.push(match decision {
                Some(a) => {
                    let caveats = if a.caveats.is_empty() {
                        String::new()
                    } else {
                        format!(" (not evaluated: {})", a.caveats.join("; "))
                    };
                    format!("key {}: {}{caveats}", key.arn, a.detail)
                }
                None => format!("key {}: not decided", key.arn),
            }),
            (policy_gap, state_gap) if said.is_some() && failed_to_start && role_allows && gaps.is_empty() => {
                // KMS refused and the role allows: the key refused, by a
                // policy or a state that could not be read. Not more than
                // corroborating: what was not read cannot be quoted.
                let cross = crate::iam::access::arn_account(&key.arn) != crate::iam::access::arn_account(role_arn);
                let mut f = Finding::new(
                    Cause::KmsKeyPolicyDenied,
                    Strength::Corroborating,
                    format!("KMS refused to decrypt {} for `{}`, whose own policies allow it: the key's policy or state refused", key.secrets.join(", "), crate::arn::name(role_arn)),
                );
                if let Some(why) = &policy_gap {
                    f = f.evidence(format!(
                        "the key policy of {} could not be read: {why}{}",
                        key.arn,
                        if cross { " (only the key's own account may read its key policy)" } else { "" }
                    ));
                }
                if let Some(why) = &state_gap {
                    f = f.evidence(format!("the state of key {} could not be read: {why}", key.arn));
                }
                f = f
                    .evidence(format!("{} (KMS refused to decrypt)", said.as_deref().unwrap_or_default()))
                    .evidence(format!("the role's own policies allow kms:Decrypt on {}", key.arn));
                let statement = statement_fix(key, role_arn, region);
                f = if cross {
                    f.fix(format!(
                        "The key belongs to account {}: ask its owners to check the key is Enabled and, if its key policy does not already allow {role_arn}, to run this: {statement}",
                        crate::iam::access::arn_account(&key.arn).unwrap_or("?")
                    ))
                } else {
                    f.fix(format!("Check the key's state (aws kms describe-key --key-id {}) and, if its key policy does not already allow the role: {statement}", key.arn))
                };
                return f
                    .doc("https://docs.aws.amazon.com/kms/latest/developerguide/determining-access-key-policy.html")
                    .into_verdict();
            }
            (policy_gap, state_gap) => {
                if let Some(why) = policy_gap {
                    gaps.push(format!("the key policy of {}: {why}", key.arn));
                }
                if let Some(why) = state_gap {
                    gaps.push(format!("the state of key {}: {why}", key.arn));
                }
            }
        }
    }
    if !gaps.is_empty() {
        return crate::task::startup_undecided(ev, gaps.join("; "));
    }
    Verdict::Pass(passes.join("; "))
}

/// KMS refused, and the key policy, the key's state and the role's own
/// policies all allow: what refused is beyond what ecs-doctor reads.
fn undecided_refusal(key: &Key, role_arn: &str, assessment: &Assessment, said: &str) -> Verdict {
    let mut f = Finding::new(
        Cause::KmsKeyPolicyDenied,
        Strength::Corroborating,
        format!("KMS refused to decrypt {} for `{}`, though its key policy and its own policies allow it", key.secrets.join(", "), crate::arn::name(role_arn)),
    )
    .evidence(format!("{said} (KMS refused to decrypt)"));
    if let Some(a) = assessment.find("kms:Decrypt", Some(&key.arn)) {
        f = f.evidence(format!("kms:Decrypt on {}: {}", key.arn, a.detail));
        for c in &a.caveats {
            f = f.evidence(format!("not evaluated: {c}"));
        }
    }
    f.evidence("not read: KMS grants and service control policies; a condition not evaluated may be what refuses")
        .fix(format!("Read the key policy's conditions against the request: aws kms get-key-policy --key-id {} --policy-name default; CloudTrail's Decrypt event with errorCode AccessDenied names the caller and the context.", key.arn))
        .doc("https://docs.aws.amazon.com/kms/latest/developerguide/determining-access-key-policy.html")
        .into_verdict()
}

#[cfg(test)]
mod tests;
