//! ## What it detects
//! A `secrets[].valueFrom` (or a log configuration `secretOptions[].valueFrom`)
//! that names a Secrets Manager secret or an SSM parameter that does not
//! exist where ECS will look for it. A Secrets Manager ARN is checked with
//! `secretsmanager:DescribeSecret` in the ARN's own Region, after removing
//! a `:json-key:version-stage:version-id` suffix; an SSM parameter (a name,
//! or an ARN for another Region) with `ssm:DescribeParameters`. Only
//! metadata calls are made: ecs-doctor never reads a secret's value.
//!
//! ## Why it matters
//! The agent fetches every secret before the container starts; one missing
//! reference fails the whole task with `ResourceInitializationError`, and
//! every replacement fails the same way. Typical causes are a secret in
//! another Region, a deleted (or scheduled-for-deletion) secret, a renamed
//! parameter, or a parameter name used where another Region needs a full ARN.
//!
//! ## Example
//! ```text
//! stoppedReason = ResourceInitializationError: unable to pull secrets or registry auth: …
//!                 ResourceNotFoundException: Secrets Manager can't find the specified secret.
//! secrets: DB_PASSWORD (container web) → arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf
//!          secretsmanager:DescribeSecret → ResourceNotFoundException
//! ```
//!
//! ## How to fix
//! Create the secret or parameter in the Region ECS reads it from, or point
//! `valueFrom` at the one that exists (use a full ARN for another Region),
//! register a new task definition revision, and redeploy.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html

use crate::context::Ctx;
use crate::stops::Detail;

use crate::codes::Cause;
use crate::evidence::Fact;
use crate::report::{Finding, Strength, Verdict};

/// The part of a `valueFrom` a stop text quotes: the secret's ARN without a
/// JSON key or version, or the parameter's name.
fn reference_core(value_from: &str) -> String {
    crate::iam::permissions::secrets_manager_arn(value_from)
        .map(|(arn, _)| arn)
        .unwrap_or_else(|| value_from.trim_start_matches('/').to_string())
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    // `repositoryCredentials` references belong to registry-auth-failed.
    let refs: Vec<_> = ev
        .secrets
        .iter()
        .filter(|s| s.name != "repositoryCredentials")
        .collect();
    if refs.is_empty() {
        return Verdict::Skipped("the task definition references no secrets or parameters".into());
    }
    let missing: Vec<_> = refs.iter().filter(|s| s.metadata.is_absent()).collect();
    let unknown: Vec<String> = refs
        .iter()
        .filter(|s| !matches!(s.metadata, Fact::Gathered { .. } | Fact::Absent { .. }))
        .map(|s| format!("{} ({}): {}", s.name, s.value_from, s.metadata.gap_reason().unwrap_or_default()))
        .collect();
    if missing.is_empty() {
        let unread = refs
            .iter()
            .filter(|s| !matches!(s.metadata, Fact::Gathered { .. } | Fact::Absent { .. }));
        // A key or version of the secret is missing, not the secret: secret-key-missing's.
        let stated = ctx
            .stops
            .stating(Detail::SecretMissing)
            .filter(|t| !t.class.states(Detail::SecretKeyMissing))
            .and_then(|t| {
            unread
                .into_iter()
                .find(|s| t.names(&reference_core(&s.value_from)))
                .map(|s| (t, s))
        });
        if let Some((t, s)) = stated {
            return Finding::stated_not_confirmed(
                Cause::SecretNotFound,
                format!(
                    "The stop reason says secret `{}` of container `{}` (`{}`) does not exist; it could not be looked up to confirm",
                    s.name, s.container, s.value_from
                ),
                &t.text,
                &s.metadata.gap_reason().unwrap_or_default(),
            )
            .fix(format!(
                "Create the secret or parameter `{}`, or point valueFrom at one that exists, and redeploy.",
                s.value_from
            ))
            .fix("Allow secretsmanager:DescribeSecret and ssm:DescribeParameters (docs/iam-policy.json) so ecs-doctor can confirm it.")
            .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html")
            .into_verdict();
        }
        if !unknown.is_empty() {
            return Verdict::Inconclusive(format!("could not look up {}", unknown.join("; ")));
        }
        return Verdict::Pass(format!(
            "every referenced secret and parameter exists: {}",
            refs.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let stated = ctx.stops.stating(Detail::SecretMissing);
    let text_names_one = stated.is_some_and(|t| {
        missing.iter().any(|s| t.names(&reference_core(&s.value_from)))
    });
    let text = stated.map(|t| t.text.clone());
    let strength = if text.is_some() {
        Strength::Direct
    } else {
        Strength::Corroborating
    };
    let first = missing[0];
    let title = if missing.len() == 1 {
        format!(
            "Secret `{}` of container `{}` references `{}`, which does not exist",
            first.name, first.container, first.value_from
        )
    } else {
        format!(
            "{} secret references do not exist, first `{}` → `{}`",
            missing.len(),
            first.name,
            first.value_from
        )
    };
    let mut finding = Finding::new(Cause::SecretNotFound, strength, title);
    if let Some(t) = &text {
        finding = finding.evidence(format!("stop reason: \"{t}\""));
        if text_names_one {
            finding = finding.evidence("the stop reason names the missing reference");
        }
    }
    for s in &missing {
        let how = if s.value_from.starts_with("arn:aws") && s.value_from.contains(":secretsmanager:") {
            "secretsmanager:DescribeSecret"
        } else {
            "ssm:DescribeParameters"
        };
        finding = finding.evidence(format!(
            "{} (container {}) → {}: {how} says {}",
            s.name,
            s.container,
            s.value_from,
            s.metadata.gap_reason().unwrap_or_default()
        ));
        if let Some(arn) = &s.found_in_task_region {
            finding = finding.evidence(format!(
                "a secret of that name exists in the task's Region {}: {arn}; valueFrom points to another Region",
                ev.region
            ));
        }
        if !s.value_from.starts_with("arn:") && !s.value_from.is_empty() {
            finding = finding.evidence(format!(
                "{} is a parameter name, so ECS looks it up in the task's Region {}; a parameter in another Region needs its full ARN",
                s.value_from, ev.region
            ));
        }
    }
    for u in &unknown {
        finding = finding.evidence(format!("not checked: {u}"));
    }
    finding = finding.evidence("checked with metadata calls only; no secret value was read");
    finding
        .fix(match &first.found_in_task_region {
            Some(arn) => format!(
                "Point valueFrom at the secret that exists: {arn} (keep any :json-key:version-stage:version-id suffix)."
            ),
            None => create_command(&first.value_from, &ev.region),
        })
        .fix("Register a new task definition revision with the corrected references and redeploy.")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html")
        .into_verdict()
}

/// A command that creates what `value_from` names (the value left for the user).
fn create_command(value_from: &str, task_region: &str) -> String {
    if let Some((arn, region)) = crate::iam::permissions::secrets_manager_arn(value_from) {
        let full = arn.rsplit(":secret:").next().unwrap_or_default();
        // Secrets Manager appends `-` and six random characters to the name.
        let name = match full.rsplit_once('-') {
            Some((n, suffix)) if suffix.len() == 6 => n,
            _ => full,
        };
        return format!(
            "Create it, or correct valueFrom: aws secretsmanager create-secret --region {region} --name {name} --secret-string '…' (the new secret gets a new ARN suffix: reference it by the new ARN)"
        );
    }
    let (region, name) = match crate::iam::permissions::ssm_parameter_arn(value_from, task_region, "") {
        Some((_, region, name)) => (region, name),
        None => (task_region.to_string(), value_from.to_string()),
    };
    format!(
        "Create it, or correct valueFrom: aws ssm put-parameter --region {region} --name {name} --type SecureString --value '…'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::testkit::found;
    use crate::evidence::SecretMetadata;
    use crate::testkit::image::*;

    const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";

    #[test]
    fn no_secrets_skips_and_existing_secrets_pass() {
        assert!(matches!(check(&healthy()), Verdict::Skipped(_)));
        let mut ev = healthy();
        add_secret(&mut ev, "DB", &format!("{SECRET}:password::"), secret_metadata(SECRET, None));
        assert!(matches!(check(&ev), Verdict::Pass(_)));
    }

    #[test]
    fn a_refused_lookup_still_ranks_the_stop_text_lower_and_names_the_gap() {
        let reason = format!("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret {SECRET} from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret.");
        let mut ev = failed_to_start(&reason);
        let denied = Fact::Denied { action: "secretsmanager:DescribeSecret".into(), error: "AccessDeniedException".into() };
        add_secret(&mut ev, "DB_PASSWORD", &format!("{SECRET}:password::"), denied);
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.title.contains("DB_PASSWORD"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("secretsmanager:DescribeSecret was denied")), "{:?}", f.evidence);
    }

    #[test]
    fn missing_secrets_manager_secret_with_json_key() {
        let reason = format!("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret {SECRET} from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret.");
        let mut ev = failed_to_start(&reason);
        add_secret(&mut ev, "DB_PASSWORD", &format!("{SECRET}:password::"), Fact::absent(format!("ResourceNotFoundException: Secrets Manager can't find the specified secret. ({SECRET})")));
        match check(&ev) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Direct);
                assert!(f.title.contains("DB_PASSWORD") && f.title.contains(SECRET), "{}", f.title);
                assert!(f.evidence.iter().any(|e| e == "the stop reason names the missing reference"), "{:?}", f.evidence);
                assert!(f.evidence.iter().any(|e| e.contains("secretsmanager:DescribeSecret")));
                assert!(f.fix[0].contains("--region us-east-1 --name prod/db "), "{:?}", f.fix);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_ssm_parameter_by_name() {
        let mut ev = failed_to_start("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm parameters: /prod/api-key");
        add_secret(&mut ev, "API_KEY", "/prod/api-key", Fact::absent("parameter /prod/api-key does not exist in us-east-1"));
        add_secret(&mut ev, "DB", SECRET, Fact::gathered(SecretMetadata { arn: Some(SECRET.into()), service: "secretsmanager".into(), ..Default::default() }));
        match check(&ev) {
            Verdict::Found(f) => {
                assert!(f.title.contains("API_KEY") && f.title.contains("/prod/api-key"), "{}", f.title);
                assert!(f.evidence.iter().any(|e| e.contains("full ARN")));
                assert!(f.evidence.iter().any(|e| e.contains("ssm:DescribeParameters")));
                assert!(f.fix[0].contains("put-parameter --region us-east-1 --name /prod/api-key "), "{:?}", f.fix);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secret_in_another_region_points_to_the_one_that_exists() {
        let wrong = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf";
        let mut ev = failed_to_start("ResourceInitializationError: … ResourceNotFoundException: Secrets Manager can't find the specified secret.");
        add_secret(&mut ev, "DB", &format!("{wrong}:password::"), Fact::absent("ResourceNotFoundException"));
        ev.secrets[0].found_in_task_region = Some(SECRET.into());
        match check(&ev) {
            Verdict::Found(f) => {
                assert!(f.evidence.iter().any(|e| e.contains("exists in the task's Region us-east-1")), "{:?}", f.evidence);
                assert!(f.fix[0].contains(SECRET), "{:?}", f.fix);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lookups_denied_are_inconclusive() {
        let mut ev = healthy();
        add_secret(&mut ev, "DB", SECRET, Fact::Denied { action: "secretsmanager:DescribeSecret".into(), error: "AccessDeniedException".into() });
        assert!(matches!(check(&ev), Verdict::Inconclusive(d) if d.contains("secretsmanager:DescribeSecret")));
    }
}

#[cfg(test)]
mod ranking_tests {
    use crate::codes::Cause;
    use crate::evidence::Fact;
    use crate::testkit::image::*;

    const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";

    /// The stop text names a missing secret while the role's policy also
    /// lacks GetSecretValue: the observed error ranks first.
    #[test]
    fn the_observed_missing_secret_outranks_the_inferred_permission() {
        let reason = format!("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret {SECRET} from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret.");
        let mut ev = failed_to_start(&reason);
        add_secret(&mut ev, "DB_PASSWORD", &format!("{SECRET}:password::"), Fact::absent("ResourceNotFoundException"));
        let report = crate::diagnose(&ev, "t");
        let codes: Vec<Cause> = report.candidates.iter().map(|c| c.code).collect();
        assert_eq!(codes[0], Cause::SecretNotFound, "{codes:?}");
        assert!(codes.contains(&Cause::ExecutionRolePermissions), "the role's gap is still reported: {codes:?}");
    }

    /// The same for a missing JSON key: the key outranks the role's policy.
    #[test]
    fn the_observed_missing_key_outranks_the_inferred_permission() {
        let reason = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): retrieved secret from Secrets Manager did not contain json key pasword";
        let mut ev = failed_to_start(reason);
        add_secret(&mut ev, "DB_PASSWORD", &format!("{SECRET}:pasword::"), secret_metadata(SECRET, None));
        let report = crate::diagnose(&ev, "t");
        let codes: Vec<Cause> = report.candidates.iter().map(|c| c.code).collect();
        assert_eq!(codes[0], Cause::SecretKeyMissing, "{codes:?}");
    }
}
