//! ## What it detects
//! The task execution role is not allowed to do something the task needs
//! before its containers start: `ecr:GetAuthorizationToken`, the three
//! layer and image actions on the image's repository
//! (`ecr:BatchCheckLayerAvailability`, `ecr:GetDownloadUrlForLayer`,
//! `ecr:BatchGetImage`), `logs:CreateLogStream` and `logs:PutLogEvents` on
//! the awslogs group (and `logs:CreateLogGroup` when `awslogs-create-group`
//! is set), `secretsmanager:GetSecretValue` / `ssm:GetParameters` on every
//! referenced secret or parameter, and `kms:Decrypt` on a customer-managed
//! key that encrypts one. A refusal by an ECR repository policy, a VPC
//! endpoint policy or a KMS key policy (or a disabled key), while the
//! role's own policies allow the call, is ecr-repository-policy-denied,
//! vpc-endpoint-policy-denied or kms-key-policy-denied.
//!
//! Each action and resource is decided by IAM's policy simulator
//! (`iam:SimulatePrincipalPolicy`) when AWS answers it; otherwise ecs-doctor
//! evaluates the role's attached and inline policies itself (Allow, explicit
//! Deny, Action / NotAction, Resource / NotResource, wildcards). The report
//! says which method decided and what neither sees: service control
//! policies, permission boundaries, conditions on unknown keys, Secrets
//! Manager resource policies and KMS grants (KMS key policies are read and
//! applied, as ECR repository policies are). An `AccessDenied … is not authorized to
//! perform: <action>` in the stop reason is read for the action and the role
//! session (`assumed-role/<role>/<task-id>`) and confirmed against the
//! role's policies. When today's policies allow what AWS refused and a
//! managed policy of the role was changed after the task stopped, the
//! report says so: the refusal happened, and a new deployment should start.
//!
//! ## Why it matters
//! The agent uses the execution role, not the task role, to pull the image,
//! fetch secrets and create the log stream. One missing action stops every
//! task of the service with `TaskFailedToStart`, and the message names only
//! the first refusal. `AmazonECSTaskExecutionRolePolicy` covers ECR and
//! log streams only: no `logs:CreateLogGroup`, no secrets, no KMS.
//!
//! ## Example
//! ```text
//! stopCode      = TaskFailedToStart
//! stoppedReason = ResourceInitializationError: unable to pull secrets or registry auth: …
//!                 AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/4c1e…
//!                 is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:…:secret:db-AbCdEf
//! missing: secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf
//!          (no statement of managed policy AmazonECSTaskExecutionRolePolicy allows it)
//! ```
//!
//! ## How to fix
//! Grant exactly the missing actions on exactly the named resources, e.g.
//! `aws iam put-role-policy --role-name ecsTaskExecutionRole --policy-name
//! ecs-task-start --policy-document '{…}'` (the report prints the document).
//! Remove or narrow an explicit `Deny` that matches. For a cross-account
//! repository, add a repository policy in the repository's account that
//! allows the role to pull (ecr-repository-policy-denied says which
//! statement). For a secret under a customer-managed KMS key,
//! allow `kms:Decrypt` in the role and in the key policy.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
//! - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
//! - https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
//! - https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html

use crate::context::Ctx;
use crate::task::unknown_task_definition;
use crate::stops::{Detail, StopText};
use crate::evidence::Evidence;
use crate::task::Changed;
use crate::iam::access::{self, Access, Assessment, DeniedCall, Permission};
use crate::iam::permissions::REGISTRY_CREDENTIALS;

use crate::stops::StopCode;
use crate::codes::Cause;
use crate::iam::policy::wildcard_match;
use crate::report::{Finding, Strength, Verdict};
use std::collections::BTreeMap;

fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Does the access-denied text talk about this decision?
fn text_matches(call: &DeniedCall, a: &Access) -> bool {
    call.action.eq_ignore_ascii_case(&a.requirement.action)
        && call.resource.as_deref().is_none_or(|r| {
            r == "*" && a.requirement.resource == "*"
                || wildcard_match(&a.requirement.resource, r, false)
                || r.starts_with(&a.requirement.resource)
        })
}

/// Does a failure text point at the area this action belongs to?
fn text_points_at(text: &StopText, action: &str) -> bool {
    let service = action.split(':').next().unwrap_or_default().to_ascii_lowercase();
    let area = match service.as_str() {
        "ecr" => Detail::AboutImages,
        "logs" => Detail::AboutLogs,
        "secretsmanager" => Detail::AboutSecretsManager,
        "ssm" => Detail::AboutParameterStore,
        "kms" => Detail::AboutKms,
        // The execution role reads S3 for environment files only.
        "s3" => Detail::AboutEnvFiles,
        _ => return false,
    };
    text.class.states(area)
}

fn outcome_word(o: &Permission) -> &'static str {
    match o {
        Permission::ExplicitDeny => "explicitly denied",
        Permission::ImplicitDeny => "not allowed",
        Permission::Allowed => "allowed",
        Permission::Unknown(_) => "undecided",
    }
}

/// An inline policy that grants the implicitly denied pairs.
fn grant_document(missing: &[&Access]) -> String {
    let mut by_resource: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for a in missing {
        by_resource
            .entry(a.requirement.resource.as_str())
            .or_default()
            .push(a.requirement.action.as_str());
    }
    let statements: Vec<serde_json::Value> = by_resource
        .into_iter()
        .map(|(resource, mut actions)| {
            actions.sort();
            actions.dedup();
            serde_json::json!({"Effect": "Allow", "Action": actions, "Resource": resource})
        })
        .collect();
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let Some(role_arn) = td.execution_role_arn.as_deref() else {
        return Verdict::Skipped("the task definition has no execution role".into());
    };
    if ev.execution_role.is_absent() {
        return Verdict::Skipped(format!("the execution role {role_arn} does not exist"));
    }
    let assessment = match &ctx.role_access {
        Ok(a) => a,
        Err(why) => return crate::task::startup_undecided(ev, why.clone()),
    };
    if assessment.accesses.is_empty() {
        return Verdict::Skipped("the task needs no execution-role permissions".into());
    }
    let exec_role = role_name(role_arn);
    let calls = access::denied_calls(&ctx.stops);
    // A refusal AWS blames on a VPC endpoint policy or on a repository
    // policy is another cause's (vpc-endpoint-policy-denied,
    // ecr-repository-policy-denied), not the role's.
    let (own_calls, other_calls): (Vec<&DeniedCall>, Vec<&DeniedCall>) = calls
        .iter()
        .filter(|c| !c.blames_a_resource_policy())
        .partition(|c| c.role.as_deref().is_none_or(|r| r == exec_role));
    let denied: Vec<&Access> = assessment.denied().collect();
    // KMS refused to decrypt while the role's own policies allow kms:Decrypt
    // (or no key needs it): the key's policy or state is what refuses,
    // kms-key-policy-denied's when the key is known.
    if let Some(t) = ctx.stops.stating(Detail::KmsDenied) {
        let key_known = !crate::iam::permissions::kms_requirements(&ev.secrets, &ev.region, ev.account.as_deref().unwrap_or_default()).is_empty();
        if !denied.iter().any(|a| is_kms(a)) && !key_known {
            return kms_key_refusal(ev, exec_role, &t.quote());
        }
    }
    if denied.is_empty() && own_calls.is_empty() {
        return nothing_denied(ev, assessment, exec_role);
    }
    let confirmed = denied
        .iter()
        .copied()
        .filter(|a| own_calls.iter().any(|c| text_matches(c, a)))
        .collect();
    let refusal = Refusal {
        ev,
        assessment,
        exec_role,
        own_calls,
        confirmed,
        denied,
        failure_text: ctx.stops.stating(Detail::ResourceRetrievalFailed),
        other_error: ctx
            .stops
            .all()
            .iter()
            .find(|t| t.class.reports_missing())
            .map(|t| t.text.clone()),
    };
    let mut finding = Finding::new(Cause::ExecutionRolePermissions, refusal.strength(), refusal.title());
    refusal.quote_own_refusals(&mut finding);
    for call in &other_calls {
        finding.evidence.push(format!(
            "stop reason names role {} (session {}), not the execution role {exec_role}: \"{}\"",
            call.role.as_deref().unwrap_or("?"),
            call.session.as_deref().unwrap_or("?"),
            call.text
        ));
    }
    refusal.decisions(&mut finding);
    refusal.fixes(&mut finding);
    finding
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html")
        .doc("https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html")
        .into_verdict()
}

fn is_kms(a: &Access) -> bool {
    a.requirement.action.eq_ignore_ascii_case("kms:Decrypt")
}

/// KMS said no, the role's own policies are not why, and no secret's
/// metadata names a customer managed key. When a secret's metadata could
/// not be read, which key refused, and whether the role's policies or the
/// key's allow it, is unknown: undecided, never the role's fault by
/// default. With a known customer managed key, the refusal is
/// kms-key-policy-denied's (the key's policy or state).
fn kms_key_refusal(ev: &Evidence, exec_role: &str, quote: &str) -> Verdict {
    let unread: Vec<String> = ev
        .secrets
        .iter()
        .filter_map(|s| s.metadata.gap_reason().filter(|_| !s.metadata.is_absent()).map(|g| format!("{}: {g}", s.name)))
        .collect();
    if !unread.is_empty() {
        return crate::task::startup_undecided(
            ev,
            format!(
                "KMS refused to decrypt a secret ({quote}), but the secrets' keys could not be read ({}): whether the role's policies or the key's refused is unknown",
                unread.join("; ")
            ),
        );
    }
    // An AWS managed key (aws/secretsmanager, aws/ssm) serves its own
    // account only: another account's secret under it cannot be read.
    let account = ev.account.as_deref().unwrap_or_default();
    let foreign: Vec<String> = ev
        .secrets
        .iter()
        .filter_map(|s| {
            let arn = s.metadata.value()?.arn.as_deref().unwrap_or(&s.value_from);
            let owner = crate::iam::access::arn_account(arn)?;
            (!account.is_empty() && owner != account).then(|| format!("{} ({arn})", s.name))
        })
        .collect();
    let title = format!("KMS refused to decrypt a secret for execution role `{exec_role}`");
    let f = Finding::new(Cause::ExecutionRolePermissions, Strength::Corroborating, title)
        .evidence(quote.to_string())
        .evidence("no referenced secret names a customer managed key in its metadata: each uses its service's AWS managed key, which ecs-doctor does not evaluate");
    let f = if foreign.is_empty() {
        f.fix("Allow the execution role kms:Decrypt on the key of each secret it reads (aws secretsmanager describe-secret shows KmsKeyId).")
    } else {
        f.evidence(format!(
            "secrets of another account: {}; an AWS managed key serves its own account only",
            foreign.join(", ")
        ))
        .fix("A secret shared with another account must be encrypted with a customer managed key whose key policy allows this role: re-encrypt it in its own account (aws secretsmanager update-secret --secret-id <secret> --kms-key-id <customer managed key>, then store its value again) and allow the role kms:Decrypt on that key.")
    };
    f
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html")
        .doc("https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html")
        .into_verdict()
}

/// Nothing denied and no refusal in the stop texts: a pass, unless some
/// pair could not be decided.
fn nothing_denied(ev: &Evidence, assessment: &Assessment, exec_role: &str) -> Verdict {
    let unknown: Vec<String> = assessment
        .unknown()
        .filter_map(|a| match &a.outcome {
            Permission::Unknown(why) => Some(format!(
                "{} on {}: {why}",
                a.requirement.action, a.requirement.resource
            )),
            _ => None,
        })
        .collect();
    if !unknown.is_empty() {
        return crate::task::startup_undecided(ev, format!("could not decide {}", unknown.join("; ")));
    }
    let by_repository = assessment.refused_by_repository().count();
    let by_key = assessment.refused_by_key_policy().count();
    let mut repository = if by_repository > 0 {
        format!(" ({by_repository} refused by the ECR repository policy instead: ecr-repository-policy-denied)")
    } else {
        String::new()
    };
    if by_key > 0 {
        repository.push_str(&format!(" ({by_key} refused by a KMS key policy instead: kms-key-policy-denied)"));
    }
    Verdict::Pass(format!(
        "the execution role {exec_role} is allowed all {} action/resource pairs the task needs{repository}; {}",
        assessment.accesses.len(),
        assessment.method_line()
    ))
}

/// What the role was refused: by AWS in the stop texts, and by the decisions.
struct Refusal<'a> {
    ev: &'a Evidence,
    assessment: &'a Assessment,
    exec_role: &'a str,
    /// `AccessDenied` errors in the stop texts that name the execution role (or no role).
    own_calls: Vec<&'a DeniedCall>,
    /// Requirements the decisions deny.
    denied: Vec<&'a Access>,
    /// Denied requirements that a refusal in the stop texts names too.
    confirmed: Vec<&'a Access>,
    /// The start-up failure in the stop texts, when there is one.
    failure_text: Option<&'a StopText>,
    /// A stop text that reports another, specific error (a missing secret,
    /// key, image or log group): what AWS observed outranks what the
    /// policies imply.
    other_error: Option<String>,
}

impl Refusal<'_> {
    /// Direct when AWS named the refusal, or a start failure points at a
    /// denied action; else corroborating.
    fn strength(&self) -> Strength {
        let points_at_denied = self.failure_text.is_some_and(|t| {
            self.denied
                .iter()
                .any(|a| text_points_at(t, &a.requirement.action))
        });
        if !self.own_calls.is_empty()
            || (StopCode::of(self.ev) == StopCode::TaskFailedToStart
                && points_at_denied
                && self.other_error.is_none())
        {
            Strength::Direct
        } else {
            Strength::Corroborating
        }
    }

    fn title(&self) -> String {
        let first = self
            .confirmed
            .first()
            .or(self.denied.first())
            .map(|a| format!("`{}` on `{}`", a.requirement.action, a.requirement.resource))
            .or_else(|| self.own_calls.first().map(|c| format!("`{}`", c.action)))
            .unwrap_or_default();
        let exec_role = self.exec_role;
        match self.denied.len().saturating_sub(1) {
            0 => format!("Execution role `{exec_role}` is not allowed {first}"),
            more => format!("Execution role `{exec_role}` is not allowed {first} (and {more} more)"),
        }
    }

    /// Each refusal AWS reported for the role, and what the decisions say of it.
    fn quote_own_refusals(&self, finding: &mut Finding) {
        for call in &self.own_calls {
            finding.evidence.push(format!("stop reason: \"{}\"", call.text));
            let session = match (&call.role, &call.session) {
                (Some(r), Some(s)) if s == &self.ev.task.id => {
                    format!(", by session assumed-role/{r}/{s} (this task's id)")
                }
                (Some(r), Some(s)) => format!(", by session assumed-role/{r}/{s}"),
                _ => String::new(),
            };
            let kind = match (&call.policy_kind, call.explicit) {
                (Some(k), Some(true)) => format!("; AWS says an explicit deny in a {k} refused it"),
                (Some(k), _) => format!("; AWS says no {k} allows it"),
                _ => String::new(),
            };
            finding.evidence.push(format!(
                "the error names action {}{}{session}{kind}",
                call.action,
                call.resource
                    .as_deref()
                    .map(|r| format!(" on {r}"))
                    .unwrap_or_default()
            ));
            let matched: Vec<&Access> = self
                .assessment
                .accesses
                .iter()
                .filter(|a| text_matches(call, a))
                .collect();
            if matched.is_empty() {
                finding.evidence.push(format!(
                    "{} is not among the actions ecs-doctor derives from the task definition; grant it as the error names it",
                    call.action
                ));
            }
            for a in matched {
                match &a.outcome {
                    Permission::Allowed => {
                        if let Some(change) = self.changed_since_the_start(&a.detail) {
                            finding.evidence.push(format!(
                                "the role's policies allow {} on {} today ({}), but {change}: the refusal happened, and a new deployment should start",
                                a.requirement.action, a.requirement.resource, a.detail
                            ));
                            continue;
                        }
                        let beyond = match call.policy_kind.as_deref() {
                            Some(k) if !k.starts_with("identity") => format!("the error blames a {k}, "),
                            _ => String::new(),
                        };
                        finding.against.push(format!(
                            "the role's policies allow {} on {} ({}, {}); {beyond}so the refusal comes from something neither method sees: a service control policy, a permissions boundary, or a resource or key policy",
                            a.requirement.action,
                            a.requirement.resource,
                            a.detail,
                            a.method.label()
                        ));
                    }
                    Permission::Unknown(why) => finding
                        .evidence
                        .push(format!("the role's policies could not confirm it: {why}")),
                    _ => {}
                }
            }
        }
    }

    /// The managed policy that allows a refused call today (named in the
    /// decision's `detail`) changed after the task began starting: today's
    /// document no longer shows what refused it then.
    fn changed_since_the_start(&self, detail: &str) -> Option<String> {
        let role = self.ev.execution_role.value()?;
        let changed: Vec<String> = role
            .attached_policies
            .value()?
            .iter()
            .filter(|p| detail.contains(&p.name))
            .filter_map(|p| {
                let at = p.updated_at.as_deref()?;
                let when = match crate::task::changed_since_the_start(self.ev, at)? {
                    Changed::AfterTheStop(after) => format!("{after} after this task stopped"),
                    Changed::WhileStarting => "while this task was starting".to_string(),
                };
                Some(format!("policy {} was changed {when} (at {at})", p.name))
            })
            .collect();
        (!changed.is_empty()).then(|| changed.join("; "))
    }

    /// Each denied requirement, how it was decided, and what was not seen.
    fn decisions(&self, finding: &mut Finding) {
        if self.own_calls.is_empty() {
            if let Some(t) = self.failure_text {
                finding.evidence.push(format!("stop reason: \"{}\"", t.text));
            }
        }
        for a in &self.denied {
            let confirmed_mark = if self.confirmed.contains(a) {
                " — the stop reason names this refusal"
            } else {
                ""
            };
            finding.evidence.push(format!(
                "{} on {}: {} ({}; {}), needed for {}{confirmed_mark}",
                a.requirement.action,
                a.requirement.resource,
                outcome_word(&a.outcome),
                a.detail,
                a.method.label(),
                a.requirement.why
            ));
        }
        finding
            .evidence
            .push(format!("method: {}", self.assessment.method_line()));
        let caveats = self.denied.iter().flat_map(|a| a.caveats.iter());
        for c in caveats.take(3) {
            finding.evidence.push(format!("not evaluated: {c}"));
        }
        if !self.assessment.unreadable.is_empty() {
            finding.evidence.push(format!(
                "could not read: {}",
                self.assessment.unreadable.join("; ")
            ));
        }
        finding.evidence.push(format!(
            "neither method sees: {}",
            self.assessment.unseen.join("; ")
        ));
        if let (Some(t), true) = (&self.other_error, self.own_calls.is_empty()) {
            finding.against.push(format!(
                "the stop reason reports another error, not a refusal: \"{t}\"; fix that first (the role would be refused next)"
            ));
        }
        // Only the registry credentials are refused: registry-auth-failed
        // names the container and its repositoryCredentials, the more
        // specific account of the same refusal.
        let credentials: Vec<String> = self
            .ev
            .task_def()
            .map(|td| {
                td.containers
                    .iter()
                    .filter_map(|c| c.repository_credentials.as_deref())
                    .map(|c| {
                        crate::iam::permissions::secrets_manager_arn(c)
                            .map(|(arn, _)| arn)
                            .unwrap_or_else(|| c.to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let about_credentials = |resource: Option<&str>| {
            resource.is_some_and(|r| credentials.iter().any(|c| r.starts_with(c.as_str())))
        };
        if (!self.denied.is_empty() || !self.own_calls.is_empty())
            && self
                .denied
                .iter()
                .all(|a| a.requirement.why.starts_with(REGISTRY_CREDENTIALS))
            && self
                .own_calls
                .iter()
                .all(|c| about_credentials(c.resource.as_deref()))
        {
            finding.against.push(
                "a more specific cause explains this refusal: the secret holds a container's repositoryCredentials (registry-auth-failed)".into(),
            );
        }
        if self.ev.task.timestamps.started_at.is_some() && self.own_calls.is_empty() {
            finding.against.push(
                "the task's containers started, so the pull, secrets and log set-up worked when it launched".into(),
            );
        }
    }

    /// Grant what is implicitly missing, lift what is explicitly denied, and
    /// name what the role's own policies cannot explain.
    fn fixes(&self, finding: &mut Finding) {
        let exec_role = self.exec_role;
        let implicit: Vec<&Access> = self
            .denied
            .iter()
            .copied()
            .filter(|a| a.outcome == Permission::ImplicitDeny)
            .collect();
        if !implicit.is_empty() {
            finding.fix.push(format!(
                "Grant the missing permissions: aws iam put-role-policy --role-name {exec_role} --policy-name ecs-task-start --policy-document '{}'",
                grant_document(&implicit)
            ));
        }
        for a in self.denied.iter().filter(|a| a.outcome == Permission::ExplicitDeny) {
            finding.fix.push(format!(
                "Remove or narrow the Deny that matches {} on {} ({}).",
                a.requirement.action, a.requirement.resource, a.detail
            ));
        }
        if self
            .denied
            .iter()
            .any(|a| a.requirement.action.eq_ignore_ascii_case("kms:Decrypt"))
        {
            finding.fix.push(
                "The KMS key policy must allow the role too (kms:Decrypt), unless it delegates to IAM.".into(),
            );
        }
        let accesses = &self.assessment.accesses;
        if self.own_calls.iter().any(|c| {
            accesses
                .iter()
                .any(|a| text_matches(c, a) && a.outcome == Permission::Allowed)
        }) {
            finding.fix.push(
                "The role's own policies allow the refused action: check the account's service control policies, the role's permissions boundary, and the resource's policy (repository, secret, KMS key).".into(),
            );
        }
        for call in self
            .own_calls
            .iter()
            .filter(|c| !accesses.iter().any(|a| text_matches(c, a)))
        {
            finding.fix.push(format!(
                "Allow {} on {} for role {exec_role}.",
                call.action,
                call.resource.as_deref().unwrap_or("the resource the error names")
            ));
        }
    }
}

#[cfg(test)]
mod tests;
