//! Is the task execution role allowed to do what the task needs?
//!
//! Two methods, in order of preference:
//! 1. IAM's policy simulator (`iam:SimulatePrincipalPolicy`), when AWS
//!    answered it for the exact action and resource;
//! 2. otherwise ecs-doctor's own evaluation ([`crate::iam::policy`]) of the role's
//!    attached managed and inline policies (their default versions).
//!
//! Every decision says which method made it, and the assessment lists what
//! neither method sees. For a pull from an ECR repository in another
//! account, the repository policy must allow the role too; ecs-doctor reads
//! and evaluates it, because the simulator does not evaluate resource
//! policies for roles.
//!
//! The module also reads the decisive part of an `AccessDenied` stop text:
//! `… assumed-role/<role>/<task-id> is not authorized to perform: <action> on
//! resource: <arn> because no identity-based policy allows …`.

use crate::evidence::{ContainerLogs, Evidence, Fact, Role, SimulationResult};
use crate::iam::permissions::{self, Requirement};
use crate::iam::policy::{self, Context, Decision, Policy, Principal, Request};
use crate::stops::StopTexts;

/// Which method decided a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `iam:SimulatePrincipalPolicy` answered.
    Simulator,
    /// ecs-doctor evaluated the role's policies itself.
    PolicyEvaluation,
}

impl Method {
    pub fn label(self) -> &'static str {
        match self {
            Method::Simulator => "iam:SimulatePrincipalPolicy",
            Method::PolicyEvaluation => "ecs-doctor's evaluation of the role's policies",
        }
    }
}

/// Which policy decided a requirement: the role's own policies, or the ECR
/// repository policy or KMS key policy that refuses what the role's own
/// policies allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecidedBy {
    Role,
    RepositoryPolicy,
    KeyPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
    /// Could not be decided; the text says which fact is missing.
    Unknown(String),
}

impl Permission {
    pub fn is_denied(&self) -> bool {
        matches!(self, Permission::ExplicitDeny | Permission::ImplicitDeny)
    }
}

/// The decision for one requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub requirement: Requirement,
    pub outcome: Permission,
    pub method: Method,
    /// What decided: the statements, the simulator's decision, the repository policy.
    pub detail: String,
    /// What could not be evaluated for this decision.
    pub caveats: Vec<String>,
    /// Whose refusal the outcome is. A role refused by its own policies is
    /// `Role`, whatever the repository policy says too.
    pub decided_by: DecidedBy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub role_arn: String,
    pub accesses: Vec<Access>,
    /// Why the simulator did not decide (when it did not).
    pub simulator_unavailable: Option<String>,
    /// The number of policy documents ecs-doctor evaluated itself.
    pub policies_evaluated: usize,
    /// Policies that could not be read.
    pub unreadable: Vec<String>,
    /// What neither method sees.
    pub unseen: Vec<String>,
}

impl Assessment {
    /// What the role's own policies refuse.
    pub fn denied(&self) -> impl Iterator<Item = &Access> {
        self.accesses
            .iter()
            .filter(|a| a.outcome.is_denied() && a.decided_by == DecidedBy::Role)
    }

    /// What an ECR repository policy refuses while the role's own policies allow it.
    pub fn refused_by_repository(&self) -> impl Iterator<Item = &Access> {
        self.accesses
            .iter()
            .filter(|a| a.outcome.is_denied() && a.decided_by == DecidedBy::RepositoryPolicy)
    }

    /// What a KMS key policy refuses while the role's own policies allow it.
    pub fn refused_by_key_policy(&self) -> impl Iterator<Item = &Access> {
        self.accesses
            .iter()
            .filter(|a| a.outcome.is_denied() && a.decided_by == DecidedBy::KeyPolicy)
    }

    pub fn unknown(&self) -> impl Iterator<Item = &Access> {
        self.accesses
            .iter()
            .filter(|a| matches!(a.outcome, Permission::Unknown(_)))
    }

    /// "decided by …" for the report.
    pub fn method_line(&self) -> String {
        let sim = self
            .accesses
            .iter()
            .filter(|a| a.method == Method::Simulator)
            .count();
        let total = self.accesses.len();
        if total > 0 && sim == total {
            format!("decided by iam:SimulatePrincipalPolicy ({total} action/resource pairs)")
        } else {
            let why = self
                .simulator_unavailable
                .clone()
                .unwrap_or_else(|| "it did not answer for every pair".into());
            let mixed = if sim > 0 {
                format!(
                    "; iam:SimulatePrincipalPolicy decided {sim} of {total} pairs, ecs-doctor the rest"
                )
            } else {
                String::new()
            };
            format!(
                "decided by ecs-doctor's own evaluation of the role's {} policy document(s){mixed}; the simulator did not answer: {why}",
                self.policies_evaluated
            )
        }
    }

    /// The decision for one action on one resource.
    pub fn find(&self, action: &str, resource: Option<&str>) -> Option<&Access> {
        self.accesses.iter().find(|a| {
            a.requirement.action.eq_ignore_ascii_case(action)
                && resource.is_none_or(|r| {
                    policy::wildcard_match(&a.requirement.resource, r, false)
                        || policy::wildcard_match(r, &a.requirement.resource, false)
                })
        })
    }
}

/// The account of an ARN (`arn:partition:service:region:account:…`).
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The Region of an ARN, when it has one.
pub fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// Parse every readable attached and inline policy of a role. A listing
/// that could not be read is unreadable too: a role whose policies are
/// unknown is not a role without policies.
pub(crate) fn role_policies(role: &Role) -> (Vec<Policy>, Vec<String>) {
    let mut parsed = Vec::new();
    let mut unreadable = Vec::new();
    let mut docs: Vec<(String, &Fact<serde_json::Value>)> = Vec::new();
    match &role.attached_policies {
        Fact::Gathered { value } => docs.extend(
            value
                .iter()
                .map(|p| (format!("managed policy {}", p.name), &p.document)),
        ),
        other => unreadable.push(format!(
            "the role's managed policies: {}",
            other.gap_reason().unwrap_or_default()
        )),
    }
    match &role.inline_policies {
        Fact::Gathered { value } => docs.extend(
            value
                .iter()
                .map(|p| (format!("inline policy {}", p.name), &p.document)),
        ),
        other => unreadable.push(format!(
            "the role's inline policies: {}",
            other.gap_reason().unwrap_or_default()
        )),
    }
    for (name, doc) in docs {
        match doc {
            Fact::Gathered { value } => match Policy::parse(&name, value) {
                Ok(p) => parsed.push(p),
                Err(e) => unreadable.push(format!("{name}: {e}")),
            },
            other => unreadable.push(format!(
                "{name}: {}",
                other.gap_reason().unwrap_or_default()
            )),
        }
    }
    (parsed, unreadable)
}

fn from_simulation(r: &SimulationResult) -> (Permission, String, Vec<String>) {
    let outcome = match r.decision.as_str() {
        d if d.eq_ignore_ascii_case("allowed") => Permission::Allowed,
        d if d.eq_ignore_ascii_case("explicitDeny") => Permission::ExplicitDeny,
        d if d.eq_ignore_ascii_case("implicitDeny") => Permission::ImplicitDeny,
        other => Permission::Unknown(format!("the simulator answered {other:?}")),
    };
    let mut detail = format!("simulator decision {}", r.decision);
    if !r.matched_statements.is_empty() {
        detail.push_str(&format!(" ({})", r.matched_statements.join(", ")));
    }
    if r.allowed_by_organizations == Some(false) {
        detail.push_str("; a service control policy denies it");
    }
    if r.allowed_by_permissions_boundary == Some(false) {
        detail.push_str("; the permissions boundary does not allow it");
    }
    let caveats = if r.missing_context_values.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "the simulator lacked context keys {}, so conditions on them were not evaluated",
            r.missing_context_values.join(", ")
        )]
    };
    (outcome, detail, caveats)
}

fn simulated<'a>(sim: &'a [SimulationResult], req: &Requirement) -> Option<&'a SimulationResult> {
    sim.iter().find(|r| {
        r.action.eq_ignore_ascii_case(&req.action)
            && (r.resource == req.resource || (req.resource == "*" && r.resource == "*"))
    })
}

fn from_policies(
    policies: &[Policy],
    unreadable: &[String],
    role_arn: &str,
    req: &Requirement,
    task_region: &str,
) -> (Permission, String, Vec<String>) {
    let mut ctx = Context::new();
    let region = arn_region(&req.resource).unwrap_or(task_region);
    policy::with_key(
        &mut ctx,
        "aws:RequestedRegion",
        Some(vec![region.to_string()]),
    );
    policy::with_key(
        &mut ctx,
        "aws:PrincipalArn",
        Some(vec![role_arn.to_string()]),
    );
    if let Some(acct) = arn_account(role_arn) {
        policy::with_key(
            &mut ctx,
            "aws:PrincipalAccount",
            Some(vec![acct.to_string()]),
        );
    }
    let ev = policy::evaluate(
        policies,
        &Request {
            action: &req.action,
            resource: Some(&req.resource),
            principal: None,
            context: &ctx,
        },
    );
    let deciding = ev
        .deciding
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    match ev.decision {
        Decision::Allowed => (
            Permission::Allowed,
            format!("allowed by {deciding}"),
            ev.not_evaluated,
        ),
        Decision::ExplicitDeny => (
            Permission::ExplicitDeny,
            format!("explicitly denied by {deciding}"),
            ev.not_evaluated,
        ),
        Decision::ImplicitDeny if !unreadable.is_empty() => (
            Permission::Unknown(format!(
                "no readable policy allows it, and {} could not be read",
                unreadable.join("; ")
            )),
            String::new(),
            ev.not_evaluated,
        ),
        Decision::ImplicitDeny => (
            Permission::ImplicitDeny,
            if policies.is_empty() {
                "the role has no policies".to_string()
            } else {
                format!(
                    "no statement of {} allows it",
                    policies
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            ev.not_evaluated,
        ),
    }
}

/// What a repository policy must allow a role of another account to pull.
pub const REPOSITORY_ACTIONS: &[&str] = &[
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
];

/// Apply the ECR repository policy to a pull requirement: a cross-account
/// pull needs the repository policy to allow the role, and any explicit Deny
/// in it refuses the pull whatever the identity policies say.
fn apply_repository_policy(ev: &Evidence, role_arn: &str, access: &mut Access) {
    if !REPOSITORY_ACTIONS
        .iter()
        .any(|a| a.eq_ignore_ascii_case(&access.requirement.action))
    {
        return;
    }
    let repo_arn = access.requirement.resource.clone();
    let Some(repo_account) = arn_account(&repo_arn) else {
        return;
    };
    let role_account = arn_account(role_arn).unwrap_or_default();
    let cross_account = repo_account != role_account;
    let image = ev.images.iter().find_map(|i| match &i.ecr {
        Fact::Gathered { value } if value.repository_arn.as_deref() == Some(repo_arn.as_str()) => {
            Some(value)
        }
        _ => None,
    });
    let Some(image) = image else {
        if cross_account {
            access.caveats.push(format!(
                "the repository policy of {repo_arn} (account {repo_account}) could not be read, so whether it lets account {role_account} pull is unknown"
            ));
        }
        return;
    };
    match &image.repository_policy {
        Fact::Gathered { value } => {
            let parsed = match Policy::parse("repository policy", value) {
                Ok(p) => p,
                Err(e) => {
                    access
                        .caveats
                        .push(format!("the repository policy of {repo_arn} is not valid: {e}"));
                    return;
                }
            };
            let who = Principal::Role {
                arn: role_arn.to_string(),
                account: role_account.to_string(),
            };
            let ctx = Context::new();
            let eval = policy::evaluate(
                std::slice::from_ref(&parsed),
                &Request {
                    action: &access.requirement.action,
                    resource: None,
                    principal: Some(&who),
                    context: &ctx,
                },
            );
            access.caveats.extend(eval.not_evaluated.iter().cloned());
            let by = eval
                .deciding
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            match eval.decision {
                Decision::ExplicitDeny if access.outcome.is_denied() => {
                    access
                        .caveats
                        .push(format!("the {by} of {repo_arn} denies it too"));
                }
                Decision::ExplicitDeny => {
                    access.outcome = Permission::ExplicitDeny;
                    access.decided_by = DecidedBy::RepositoryPolicy;
                    access.detail = format!("explicitly denied by the {by} of {repo_arn}");
                }
                Decision::ImplicitDeny if cross_account && !access.outcome.is_denied() => {
                    access.outcome = Permission::ImplicitDeny;
                    access.decided_by = DecidedBy::RepositoryPolicy;
                    access.detail = format!(
                        "the role's own policies allow it, but the repository is in account {repo_account} and its repository policy does not allow {role_arn}"
                    );
                }
                _ => {
                    if cross_account && eval.decision == Decision::Allowed {
                        access.detail.push_str(&format!("; the repository policy allows it ({by})"));
                    }
                }
            }
        }
        Fact::Absent { .. } if cross_account && !access.outcome.is_denied() => {
            access.outcome = Permission::ImplicitDeny;
            access.decided_by = DecidedBy::RepositoryPolicy;
            access.detail = format!(
                "the repository is in account {repo_account} and has no repository policy, so no role of account {role_account} may pull from it"
            );
        }
        Fact::Absent { .. } => {}
        other if cross_account => access.caveats.push(format!(
            "the repository policy of {repo_arn} could not be read ({}), so whether it lets account {role_account} pull is unknown",
            other.gap_reason().unwrap_or_default()
        )),
        _ => {}
    }
}

#[cfg(test)]
thread_local! {
    static ASSESSMENTS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many times this thread assessed the execution role's access (tests
/// only): a diagnosis must do it once.
#[cfg(test)]
pub(crate) fn assessments() -> usize {
    ASSESSMENTS.with(std::cell::Cell::get)
}

/// Decide every requirement of the task's execution role.
///
/// `Err` names why nothing can be decided (no task definition, no role).
pub fn assess(ev: &Evidence) -> Result<Assessment, String> {
    #[cfg(test)]
    ASSESSMENTS.with(|n| n.set(n.get() + 1));
    let td = ev.task_def().ok_or_else(|| {
        format!(
            "the task definition is unknown: {}",
            ev.task_definition.gap_reason().unwrap_or_default()
        )
    })?;
    let role_arn = td
        .execution_role_arn
        .clone()
        .ok_or_else(|| "the task definition has no execution role".to_string())?;
    let account = ev
        .account
        .clone()
        .or_else(|| arn_account(&ev.task.arn).map(str::to_string))
        .or_else(|| arn_account(&role_arn).map(str::to_string))
        .unwrap_or_default();
    let reqs = permissions::required_with_secrets(td, &ev.secrets, &ev.region, &account);
    let mut assessment = decide(
        &role_arn,
        &ev.execution_role,
        &ev.simulation,
        reqs,
        &ev.region,
    );
    for access in &mut assessment.accesses {
        if !matches!(access.outcome, Permission::Unknown(_)) {
            apply_repository_policy(ev, &role_arn, access);
        }
        // A key policy that refuses refuses whatever the role's own
        // policies say, even when those could not be judged.
        crate::iam::key_policy::apply(ev, &role_arn, access);
    }
    let kms = assessment
        .accesses
        .iter()
        .any(|a| a.requirement.action.eq_ignore_ascii_case("kms:Decrypt"));
    assessment.unseen.push(if kms {
        "Secrets Manager resource policies and KMS grants (the ECR repository policy and the KMS key policies are read and evaluated)"
            .to_string()
    } else {
        "Secrets Manager resource policies and KMS key policies (the ECR repository policy is read and evaluated)"
            .to_string()
    });
    Ok(assessment)
}

/// Decide each requirement for one principal (a role, or a user with its
/// groups' policies folded in): the simulator's answer where it gave one,
/// else ecs-doctor's evaluation of the principal's policies. A requirement
/// neither can decide is `Unknown`, naming both gaps.
pub fn decide(
    principal_arn: &str,
    principal: &Fact<Role>,
    simulation: &Fact<Vec<SimulationResult>>,
    reqs: Vec<Requirement>,
    region: &str,
) -> Assessment {
    let sim = simulation.value().map(Vec::as_slice).unwrap_or(&[]);
    let simulator_unavailable = match simulation {
        Fact::Gathered { .. } => None,
        other => Some(other.gap_reason().unwrap_or_default()),
    };
    let role = principal.value();
    let (policies, unreadable) = role.map(role_policies).unwrap_or_default();
    let mut accesses = Vec::new();
    for req in reqs {
        let (outcome, detail, caveats, method) = if let Some(r) = simulated(sim, &req) {
            let (o, d, c) = from_simulation(r);
            (o, d, c, Method::Simulator)
        } else if role.is_some() {
            let (o, d, c) = from_policies(&policies, &unreadable, principal_arn, &req, region);
            (o, d, c, Method::PolicyEvaluation)
        } else {
            (
                Permission::Unknown(format!(
                    "neither the simulator ({}) nor the policies ({}) are available",
                    simulator_unavailable.clone().unwrap_or_default(),
                    principal.gap_reason().unwrap_or_default()
                )),
                String::new(),
                Vec::new(),
                Method::PolicyEvaluation,
            )
        };
        accesses.push(Access {
            requirement: req,
            outcome,
            method,
            detail,
            caveats,
            decided_by: DecidedBy::Role,
        });
    }
    let used_evaluation = accesses
        .iter()
        .any(|a| a.method == Method::PolicyEvaluation);
    let mut unseen = Vec::new();
    if used_evaluation {
        unseen.push("service control policies and resource control policies".to_string());
        if let Some(b) = role.and_then(|r| r.permissions_boundary_arn.as_deref()) {
            unseen.push(format!("the role's permissions boundary {b}"));
        }
        unseen
            .push("conditions on keys ecs-doctor does not know (listed per decision)".to_string());
    }
    if accesses.iter().any(|a| a.method == Method::Simulator) {
        unseen.push(
            "session policies, and conditions whose context keys the simulator was not given"
                .to_string(),
        );
    }
    Assessment {
        role_arn: principal_arn.to_string(),
        accesses,
        simulator_unavailable,
        policies_evaluated: policies.len(),
        unreadable,
        unseen,
    }
}

pub use crate::stops::refusal::{denied_call, DeniedCall};

/// Was a line of these logs refused as the role `role_arn` (`…:assumed-role/<its
/// name>/…`)? The collector reads the task role's policies when one was, so
/// the check of the task role's permissions can judge the refusal.
pub fn refused_as_role(role_arn: &str, logs: &[ContainerLogs]) -> bool {
    let name = crate::arn::name(role_arn);
    logs.iter()
        .filter_map(|l| l.lines.value())
        .flatten()
        .filter_map(|l| denied_call(&l.message))
        .any(|d| d.role.as_deref() == Some(name))
}

/// Every `AccessDenied … is not authorized to perform` in the task's stop texts.
pub fn denied_calls(stops: &StopTexts) -> Vec<DeniedCall> {
    let mut out: Vec<DeniedCall> = stops
        .all()
        .iter()
        .filter_map(|t| denied_call(&t.text))
        .collect();
    out.dedup_by(|a, b| a.action.eq_ignore_ascii_case(&b.action) && a.resource == b.resource);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_action_role_session_and_policy_kind() {
        let t = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/0123456789abcdef0123456789abcdef is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action";
        let d = denied_call(t).unwrap();
        assert_eq!(d.action, "ecr:GetAuthorizationToken");
        assert_eq!(d.resource.as_deref(), Some("*"));
        assert_eq!(
            d.principal.as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/0123456789abcdef0123456789abcdef")
        );
        assert_eq!(d.role.as_deref(), Some("ecsTaskExecutionRole"));
        assert_eq!(
            d.session.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(d.policy_kind.as_deref(), Some("identity-based policy"));
        assert_eq!(d.explicit, Some(false));
    }

    #[test]
    fn reads_explicit_denies_and_resources() {
        let t = "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/exec/abc is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf with an explicit deny in a service control policy";
        let d = denied_call(t).unwrap();
        assert_eq!(d.action, "secretsmanager:GetSecretValue");
        assert_eq!(
            d.resource.as_deref(),
            Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf")
        );
        assert_eq!(d.policy_kind.as_deref(), Some("service control policy"));
        assert_eq!(d.explicit, Some(true));
        assert!(denied_call("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref").is_none());
    }
}
