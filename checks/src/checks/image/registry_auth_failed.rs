//! ## What it detects
//! A pull from a registry outside ECR (Docker Hub, GitHub, Quay, a private
//! registry) that the registry refused for lack of valid credentials:
//! - the stop reason says `pull access denied`, `unauthorized`,
//!   `authentication required` or `401`, and the container has no
//!   `repositoryCredentials`;
//! - the `repositoryCredentials.credentialsParameter` secret does not exist
//!   (`secretsmanager:DescribeSecret`, metadata only);
//! - the execution role may not read that secret (`secretsmanager:GetSecretValue`,
//!   decided as in execution-role-permissions);
//! - or the registry rejected the credentials the secret holds (ecs-doctor
//!   never reads the value, so it can only say that they were refused).
//!
//! ## Why it matters
//! Private repositories on Docker Hub and other registries answer
//! anonymous pulls with `pull access denied … may require 'docker login'`;
//! the task stops before it starts, every time. ECR images authenticate
//! through the execution role instead (see execution-role-permissions).
//!
//! ## Example
//! ```text
//! stoppedReason = CannotPullContainerError: pull access denied for acme/billing, repository does
//!                 not exist or may require 'docker login': denied: requested access to the resource is denied
//! container billing: image acme/billing:4.2 on docker.io, no repositoryCredentials
//! ```
//!
//! ## How to fix
//! Store the registry's username and password (or token) in Secrets Manager
//! as `{"username": "…", "password": "…"}`, set
//! `repositoryCredentials.credentialsParameter` to its ARN, allow the
//! execution role `secretsmanager:GetSecretValue` on it (and `kms:Decrypt`
//! for a customer key), register a new revision and redeploy. Or mirror the
//! image into ECR (an ECR pull-through cache rule does this).
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html
//! - https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html

use crate::context::Ctx;
use crate::task::unknown_task_definition;
use crate::stops::Detail;
use crate::iam::access::Permission;

use crate::codes::Cause;
use crate::evidence::Fact;
use crate::image_ref::{self, Registry};
use crate::report::{Finding, Strength, Verdict};

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let outside: Vec<_> = td
        .containers
        .iter()
        .map(|c| (c, image_ref::parse(&c.image)))
        .filter(|(_, r)| matches!(r.registry, Registry::DockerHub | Registry::Other { .. }))
        .collect();
    if outside.is_empty() {
        return Verdict::Skipped("every image comes from ECR (its pulls authenticate with the execution role)".into());
    }
    let stated = ctx.stops.stating(Detail::RegistryAuthRefused);
    let assessment = ctx.role_access.as_ref().ok();
    let refusals = crate::iam::access::denied_calls(&ctx.stops);
    let mut findings = Vec::new();
    let mut fine = Vec::new();
    for (c, r) in &outside {
        let host = if r.registry == Registry::DockerHub { "docker.io".to_string() } else { r.host.clone() };
        // Does the auth failure text talk about this image?
        let short = r.repository.trim_start_matches("library/");
        let text_here = stated
            .filter(|t| outside.len() == 1 || t.names(short) || t.names(&c.image))
            .map(|t| t.text.as_str());
        let Some(cred) = &c.repository_credentials else {
            match text_here {
                Some(t) => findings.push((
                    Strength::Direct,
                    format!("Registry {host} refused the pull of `{}`: container `{}` has no repositoryCredentials", c.image, c.name),
                    vec![
                        format!("stop reason: \"{t}\""),
                        format!("container {}: image {} on {host}, repositoryCredentials not set, so the pull is anonymous", c.name, c.image),
                        "a private repository (or a misspelt public one) answers an anonymous pull this way".to_string(),
                    ],
                )),
                None => fine.push(format!("{} (anonymous pull, no auth error)", c.image)),
            }
            continue;
        };
        let secret = ev
            .secrets
            .iter()
            .find(|s| s.container == c.name && s.name == "repositoryCredentials");
        let mut evidence = Vec::new();
        if let Some(t) = text_here {
            evidence.push(format!("stop reason: \"{t}\""));
        }
        evidence.push(format!("container {}: image {} on {host}, repositoryCredentials.credentialsParameter = {cred}", c.name, c.image));
        match secret.map(|s| &s.metadata) {
            Some(Fact::Absent { detail }) => {
                evidence.push(format!("secretsmanager:DescribeSecret: {detail}"));
                findings.push((
                    if text_here.is_some() { Strength::Direct } else { Strength::Corroborating },
                    format!("The registry credentials secret of container `{}` does not exist: {cred}", c.name),
                    evidence,
                ));
                continue;
            }
            Some(Fact::Gathered { .. }) => {}
            other => evidence.push(format!(
                "whether the credentials secret exists is unknown: {}",
                other.and_then(|f| f.gap_reason()).unwrap_or_else(|| "not looked up".into())
            )),
        }
        let read = assessment.and_then(|a| a.find("secretsmanager:GetSecretValue", Some(cred)));
        // AWS's own refusal of this very secret, quoted from the stop text.
        let refused = refusals.iter().find(|call| {
            call.action.eq_ignore_ascii_case("secretsmanager:GetSecretValue")
                && call.resource.as_deref().is_some_and(|r| {
                    crate::iam::permissions::secrets_manager_arn(cred)
                        .is_some_and(|(arn, _)| r.starts_with(&arn))
                })
        });
        match read {
            Some(a) if a.outcome.is_denied() => {
                if let Some(call) = refused {
                    evidence.insert(0, format!("stop reason: \"{}\"", call.text));
                }
                evidence.push(format!(
                    "the execution role may not read it: secretsmanager:GetSecretValue on {cred} is {} ({}; {})",
                    if a.outcome == Permission::ExplicitDeny { "explicitly denied" } else { "not allowed" },
                    a.detail,
                    a.method.label()
                ));
                findings.push((
                    if text_here.is_some() || refused.is_some() { Strength::Direct } else { Strength::Corroborating },
                    format!("The execution role cannot read the registry credentials of container `{}` ({cred})", c.name),
                    evidence,
                ));
            }
            // AWS refused the role this very secret, whatever its policies
            // could be read to say.
            _ if refused.is_some() => {
                let call = refused.expect("matched");
                evidence.insert(0, format!("stop reason: \"{}\"", call.text));
                match read.map(|a| &a.outcome) {
                    Some(Permission::Unknown(why)) => evidence.push(format!("the role's policies could not be evaluated: {why}")),
                    Some(_) => evidence.push("the role's own policies allow it: a service control policy, a permissions boundary or the secret's resource policy refuses it".into()),
                    None => evidence.push(format!(
                        "the role's policies could not be evaluated: {}",
                        ctx.role_access.as_ref().err().cloned().unwrap_or_else(|| "the secret is not among the decisions".into())
                    )),
                }
                findings.push((
                    Strength::Direct,
                    format!("The execution role cannot read the registry credentials of container `{}` ({cred})", c.name),
                    evidence,
                ));
            }
            _ if text_here.is_some() => {
                if let Some(a) = read {
                    evidence.push(format!("the execution role may read the secret ({}; {})", a.detail, a.method.label()));
                }
                evidence.push("ecs-doctor never reads a secret's value, so it cannot check the username and password themselves".into());
                findings.push((
                    Strength::Direct,
                    format!("Registry {host} rejected the credentials in {cred} (container `{}`)", c.name),
                    evidence,
                ));
            }
            _ => fine.push(format!("{} (credentials secret exists, no auth error)", c.image)),
        }
    }
    let Some((strength, title, evidence)) = findings.first().cloned() else {
        return Verdict::Pass(format!("no registry refused a pull: {}", fine.join(", ")));
    };
    let mut finding = Finding::new(Cause::RegistryAuthFailed, strength, title);
    for e in evidence {
        finding = finding.evidence(e);
    }
    for (_, t, _) in findings.iter().skip(1) {
        finding = finding.evidence(format!("also: {t}"));
    }
    let account = ev.account.clone().unwrap_or_else(|| "<account>".into());
    finding
        .fix(format!(
            "Store the registry login: aws secretsmanager create-secret --region {} --name registry/credentials --secret-string '{{\"username\":\"…\",\"password\":\"…\"}}', and set the container's repositoryCredentials.credentialsParameter to the new secret's ARN.",
            ev.region
        ))
        .fix(format!(
            "Allow the execution role secretsmanager:GetSecretValue on that secret (and kms:Decrypt for a customer key); the secret must be in account {account}."
        ))
        .fix("Or copy the image into ECR (an ECR pull-through cache rule for the registry does it automatically) and pull it from there.")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::evidence::Evidence;
    crate::check_under_test!();
    use crate::evidence::{SecretEvidence, ImageEvidence};
    use crate::testkit::image::*;

    const CREDS: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry/acme-Xy12Ab";

    fn docker_hub(reason: &str, creds: Option<&str>) -> Evidence {
        let mut ev = failed_to_start(reason);
        let td = td_mut(&mut ev);
        td.containers[0].image = "acme/billing:4.2".into();
        td.containers[0].repository_credentials = creds.map(str::to_string);
        ev.images = vec![ImageEvidence {
            container: "web".into(),
            image: "acme/billing:4.2".into(),
            ecr: Fact::not_applicable("Docker Hub image"),
            registry_repositories: Fact::default(),
        }];
        ev
    }

    const DENIED: &str = "CannotPullContainerError: pull access denied for acme/billing, repository does not exist or may require 'docker login': denied: requested access to the resource is denied";

    #[test]
    fn ecr_only_task_skips() {
        assert!(matches!(check(&healthy()), Verdict::Skipped(_)));
    }

    #[test]
    fn public_image_without_error_passes() {
        let mut ev = docker_hub("", None);
        ev.task.stopped_reason = None;
        ev.task.containers[0].reason = None;
        assert!(matches!(check(&ev), Verdict::Pass(_)));
    }

    #[test]
    fn private_docker_hub_repository_without_credentials() {
        match check(&docker_hub(DENIED, None)) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Direct);
                assert!(f.title.contains("docker.io") && f.title.contains("no repositoryCredentials"), "{}", f.title);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn credentials_secret_missing() {
        let mut ev = docker_hub(DENIED, Some(CREDS));
        ev.secrets.push(SecretEvidence {
            container: "web".into(),
            name: "repositoryCredentials".into(),
            value_from: CREDS.into(),
            metadata: Fact::absent("ResourceNotFoundException: Secrets Manager can't find the specified secret."),
            found_in_task_region: None,
        });
        match check(&ev) {
            Verdict::Found(f) => assert!(f.title.contains("does not exist") && f.title.contains(CREDS), "{}", f.title),
            other => panic!("{other:?}"),
        }
    }

    /// The credentials secret exists (its metadata was read).
    fn with_readable_credentials(mut ev: Evidence) -> Evidence {
        ev.secrets.push(SecretEvidence {
            container: "web".into(),
            name: "repositoryCredentials".into(),
            value_from: CREDS.into(),
            metadata: secret_metadata(CREDS, None),
            found_in_task_region: None,
        });
        ev
    }

    #[test]
    fn credentials_secret_unreadable_by_the_role() {
        let ev = with_readable_credentials(docker_hub(DENIED, Some(CREDS)));
        match check(&ev) {
            Verdict::Found(f) => {
                assert!(f.title.contains("cannot read the registry credentials"), "{}", f.title);
                assert!(f.evidence.iter().any(|e| e.contains("secretsmanager:GetSecretValue on") && e.contains("not allowed")), "{:?}", f.evidence);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn aws_refusing_the_credentials_secret_ranks_the_registry_cause_first() {
        let refusal = format!("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/{TASK_ID} is not authorized to perform: secretsmanager:GetSecretValue on resource: {CREDS} because no identity-based policy allows the secretsmanager:GetSecretValue action");
        let ev = with_readable_credentials(docker_hub(&refusal, Some(CREDS)));
        let Verdict::Found(f) = check(&ev) else { panic!("{:?}", check(&ev)) };
        assert_eq!(f.strength, Strength::Direct);
        // Unreadable role policies do not turn AWS's refusal into a pass.
        let mut unread = ev.clone();
        unread.execution_role = Fact::Denied { action: "iam:GetRole".into(), error: "AccessDenied".into() };
        let Verdict::Found(g) = check(&unread) else { panic!("{:?}", check(&unread)) };
        assert!(g.evidence.iter().any(|e| e.contains("could not be evaluated")), "{:?}", g.evidence);
        let report = crate::diagnose(&ev, "t");
        let codes: Vec<Cause> = report.candidates.iter().map(|c| c.code).collect();
        assert_eq!(codes[..2], [Cause::RegistryAuthFailed, Cause::ExecutionRolePermissions], "{codes:?}");
        // With a policy document unread, AWS's refusal still names the registry cause first.
        let mut partial = ev.clone();
        role_mut(&mut partial).attached_policies.value_mut().expect("listed")[0].document =
            Fact::Denied { action: "iam:GetPolicyVersion".into(), error: "AccessDenied".into() };
        let report = crate::diagnose(&partial, "t");
        assert_eq!(report.candidates[0].code, Cause::RegistryAuthFailed, "{:?}", report.candidates);
    }
}
