//! ## What it detects
//! The image's ECR repository policy does not let the task's execution role
//! pull, while the role's own policies do. A pull needs
//! `ecr:BatchGetImage`, `ecr:GetDownloadUrlForLayer` and
//! `ecr:BatchCheckLayerAvailability` on the repository; for a repository in
//! another account the repository policy must allow the role (or its
//! account) each of them, and in any account a `Deny` in it refuses the
//! pull.
//!
//! The policy (`ecr:GetRepositoryPolicy`) is evaluated with the same IAM
//! evaluator as the role's policies, with the execution role as the
//! principal, and the missing action (or the matching `Deny`) is named. A
//! repository in another account that has no policy refuses every role of
//! this account. ECR refuses reads of another account's repository with
//! `AccessDeniedException` unless its policy shares them: that is a gap,
//! never a missing image. Then the stop reason decides: an ECR refusal of
//! a pull action that blames a resource-based policy, or a `403 Forbidden`
//! on the manifest or a blob, while the role's own policies allow the pull.
//!
//! ## Why it matters
//! Cross-account pulls need both halves: the role's identity policy and
//! the repository policy in the owning account. The role's half is in the
//! task's account and easy to check; the repository's half is owned by
//! another team, and the stop reason only says `403 Forbidden` or
//! `denied`. When the role's own policies refuse the pull,
//! execution-role-permissions comes first.
//!
//! ## Example
//! ```text
//! stoppedReason = CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref
//!                 210987654321.dkr.ecr.us-east-1.amazonaws.com/shared/web:1.4: … failed with status code
//!                 [manifests 1.4]: 403 Forbidden
//! repository arn:aws:ecr:us-east-1:210987654321:repository/shared/web (account 210987654321):
//!   ecr:GetDownloadUrlForLayer: no statement of its policy allows arn:aws:iam::123456789012:role/ecsTaskExecutionRole
//! ```
//!
//! ## How to fix
//! Ask the repository's account to add one statement to the repository
//! policy naming the execution role's ARN and the missing pull actions
//! (`aws ecr set-repository-policy --registry-id <account> --repository-name
//! <repo> --policy-text …`, merged with the statements it already has), or
//! to narrow a `Deny` that matches the role. Never open the repository to
//! every principal.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html
//! - https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::Fact;
use crate::iam::access::{self, arn_account, Access, DeniedCall, Permission, REPOSITORY_ACTIONS};
use crate::image_ref::{self, Registry};
use crate::iam::permissions::partition;
use crate::report::{Finding, Strength, Verdict};
use crate::stops::{Detail, StopCode};
use crate::task::unknown_task_definition;

/// A repository one of the task's containers pulls from.
struct Repo {
    arn: String,
    account: String,
    region: String,
    name: String,
    image: String,
}

/// What the repository's account must add: one statement naming the role and the actions.
fn statement_fix(repo: &Repo, role_arn: &str, actions: &[&str]) -> String {
    let policy = serde_json::json!({
        "Sid": "AllowEcsTaskPull",
        "Effect": "Allow",
        "Principal": {"AWS": role_arn},
        "Action": actions,
    });
    format!(
        "Ask account {account} to add this statement to the policy of repository {name} (merged with its other statements; aws ecr get-repository-policy --registry-id {account} --repository-name {name} --region {region} shows them, aws ecr set-repository-policy with --policy-text sets them): {policy}",
        account = repo.account,
        name = repo.name,
        region = repo.region
    )
}

fn repos(ctx: &Ctx) -> Vec<Repo> {
    let Some(td) = ctx.ev.task_def() else {
        return Vec::new();
    };
    let mut out: Vec<Repo> = Vec::new();
    for c in &td.containers {
        let r = image_ref::parse(&c.image);
        if let Registry::EcrPrivate { account, region } = &r.registry {
            let arn = format!("arn:{}:ecr:{region}:{account}:repository/{}", partition(region), r.repository);
            if !out.iter().any(|o| o.arn == arn) {
                out.push(Repo {
                    arn,
                    account: account.clone(),
                    region: region.clone(),
                    name: r.repository.clone(),
                    image: c.image.clone(),
                });
            }
        }
    }
    out
}

/// The repository policy as collected for this repository (through the
/// image read: an image read that failed leaves the policy unread).
fn policy_fact<'a>(ctx: &'a Ctx, repo: &Repo) -> Result<&'a Fact<serde_json::Value>, String> {
    let mut why = None;
    for i in &ctx.ev.images {
        if i.image != repo.image {
            continue;
        }
        match &i.ecr {
            Fact::Gathered { value } => return Ok(&value.repository_policy),
            other => why = other.gap_reason().or_else(|| Some("not read".into())),
        }
    }
    Err(why.unwrap_or_else(|| "the image was not read".into()))
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let Some(role_arn) = td.execution_role_arn.as_deref() else {
        return Verdict::Skipped("the task definition has no execution role".into());
    };
    let repos = repos(ctx);
    if repos.is_empty() {
        return Verdict::Skipped("no image comes from ECR".into());
    }
    let assessment = match &ctx.role_access {
        Ok(a) => a,
        Err(why) => return crate::task::startup_undecided(ev, why.clone()),
    };
    let role_account = arn_account(role_arn).unwrap_or_default();
    // AWS's own words: an ECR refusal of a pull action blaming a resource
    // policy, or a 403 from the registry.
    let said: Vec<DeniedCall> = access::denied_calls(&ctx.stops)
        .into_iter()
        .filter(|c| c.blames_resource_based_policy() && REPOSITORY_ACTIONS.iter().any(|a| a.eq_ignore_ascii_case(&c.action)))
        .collect();
    let forbidden = ctx.stops.stating(Detail::RegistryAuthRefused).map(|t| t.quote());
    let failed_to_start = StopCode::of(ev) == StopCode::TaskFailedToStart && ev.task.timestamps.started_at.is_none();
    let mut passes = Vec::new();
    let mut gaps = Vec::new();
    for repo in &repos {
        let cross = repo.account != role_account;
        let refused: Vec<&Access> = assessment
            .refused_by_repository()
            .filter(|a| a.requirement.resource == repo.arn)
            .collect();
        let role_refuses: Vec<&Access> = assessment
            .denied()
            .filter(|a| a.requirement.resource == repo.arn)
            .collect();
        let texts_here = !said.is_empty() || forbidden.is_some();
        if !refused.is_empty() {
            let strength = if texts_here && failed_to_start {
                Strength::Direct
            } else if failed_to_start {
                Strength::Corroborating
            } else {
                Strength::Circumstantial
            };
            let missing: Vec<&str> = refused.iter().map(|a| a.requirement.action.as_str()).collect();
            let mut f = Finding::new(
                Cause::EcrRepositoryPolicyDenied,
                strength,
                format!(
                    "The policy of ECR repository `{}` (account {}) does not let `{}` pull: {} refused",
                    repo.name,
                    repo.account,
                    crate::arn::name(role_arn),
                    missing.join(", ")
                ),
            );
            f = quote(f, &said, forbidden.as_deref());
            for a in &refused {
                f = f.evidence(format!(
                    "{} on {}: {} ({}); the role's own policies allow it",
                    a.requirement.action,
                    a.requirement.resource,
                    if a.outcome == Permission::ExplicitDeny { "explicitly denied" } else { "not allowed" },
                    a.detail
                ));
                for c in a.caveats.iter().take(2) {
                    f = f.evidence(format!("not evaluated: {c}"));
                }
            }
            f = against_role(f, &role_refuses);
            if !failed_to_start && ev.task.timestamps.started_at.is_some() {
                f = f.against("the task's containers started, so the pull worked when it launched");
            }
            let implicit: Vec<&str> = refused
                .iter()
                .filter(|a| a.outcome == Permission::ImplicitDeny)
                .map(|a| a.requirement.action.as_str())
                .collect();
            if !implicit.is_empty() {
                f = f.fix(statement_fix(repo, role_arn, &implicit));
            }
            for a in refused.iter().filter(|a| a.outcome == Permission::ExplicitDeny) {
                f = f.fix(format!(
                    "Ask account {} to narrow the Deny of repository {} that matches {} for {role_arn} ({}).",
                    repo.account, repo.name, a.requirement.action, a.detail
                ));
            }
            return f
                .doc("https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html")
                .into_verdict();
        }
        if !cross {
            passes.push(format!("{} is in the role's account: the role's own policies decide", repo.arn));
            continue;
        }
        let unread = match policy_fact(ctx, repo) {
            Ok(Fact::Gathered { .. }) | Ok(Fact::Absent { .. }) => None,
            Ok(other) => Some(other.gap_reason().unwrap_or_default()),
            Err(why) => Some(why),
        };
        let Some(unread) = unread else {
            passes.push(format!("the policy of {} lets {role_arn} pull", repo.arn));
            continue;
        };
        let role_allows = REPOSITORY_ACTIONS.iter().all(|action| {
            assessment
                .find(action, Some(&repo.arn))
                .is_some_and(|a| a.outcome == Permission::Allowed || a.decided_by == access::DecidedBy::RepositoryPolicy)
        });
        if texts_here && failed_to_start && role_allows {
            let mut f = Finding::new(
                Cause::EcrRepositoryPolicyDenied,
                Strength::Direct,
                format!(
                    "ECR refused the pull of `{}` from account {}, and the role's own policies allow it: the repository policy does not let `{}` pull",
                    repo.image,
                    repo.account,
                    crate::arn::name(role_arn)
                ),
            );
            f = quote(f, &said, forbidden.as_deref())
                .evidence(format!(
                    "the repository policy of {} could not be read: {unread} (ECR refuses another account's reads unless the repository policy shares them)",
                    repo.arn
                ))
                .evidence(format!(
                    "the role's own policies allow {} on {}",
                    REPOSITORY_ACTIONS.join(", "),
                    repo.arn
                ))
                .fix(statement_fix(repo, role_arn, REPOSITORY_ACTIONS));
            return f
                .doc("https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html")
                .into_verdict();
        }
        gaps.push(format!(
            "the repository policy of {} (account {}) could not be read: {unread}",
            repo.arn, repo.account
        ));
    }
    if !gaps.is_empty() {
        return crate::task::startup_undecided(ev, gaps.join("; "));
    }
    Verdict::Pass(passes.join("; "))
}

fn quote(mut f: Finding, said: &[DeniedCall], forbidden: Option<&str>) -> Finding {
    for c in said {
        f = f.evidence(format!(
            "stop reason: \"{}\" (AWS blames a resource-based policy: the repository's)",
            c.text
        ));
    }
    if said.is_empty() {
        if let Some(t) = forbidden {
            f = f.evidence(format!("{t} (the registry refused the pull)"));
        }
    }
    f
}

/// When the role's own policies refuse the pull too, that refusal is first.
fn against_role(mut f: Finding, role_refuses: &[&Access]) -> Finding {
    for a in role_refuses {
        f = f.against(format!(
            "the role's own policies refuse {} on {} too ({}): execution-role-permissions comes first",
            a.requirement.action,
            a.requirement.resource,
            a.detail
        ));
    }
    f
}

#[cfg(test)]
mod tests;
