//! ## What it detects
//! A `secrets[].valueFrom` that selects part of a Secrets Manager secret —
//! `arn:…:secret:name-AbCdEf:json-key:version-stage:version-id` — where the
//! secret exists but the part does not: a JSON key the secret's value does
//! not contain, a version stage no version carries, or a version id the
//! secret does not have. Stages and version ids come from
//! `secretsmanager:DescribeSecret` (`VersionIdsToStages`); a missing JSON key
//! from the stop text alone, because ecs-doctor never reads a secret's value.
//!
//! ## Why it matters
//! The secret exists, the execution role may read it, and the network is
//! fine, yet the task stops before its containers start. The message looks
//! like a missing secret (`ResourceNotFoundException`) or a vague retrieval
//! failure, so people recreate secrets or widen IAM policies instead of
//! fixing one word in `valueFrom`.
//!
//! ## Example
//! ```text
//! stoppedReason = ResourceInitializationError: unable to pull secrets or registry auth: execution
//!                 resource retrieval failed: unable to retrieve secret from asm: service call has
//!                 been retried 1 time(s): retrieved secret from Secrets Manager did not contain
//!                 json key pasword
//! secret DB_PASSWORD → arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf:pasword::
//! ```
//!
//! ## How to fix
//! Correct the key, stage or version id in `valueFrom` (the format is
//! `secret-arn:json-key:version-stage:version-id`, with empty parts for the
//! defaults), or add the key to the secret's JSON value, or move the staging
//! label to a version (`aws secretsmanager update-secret-version-stage`).
//! Register a new task definition revision and redeploy.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
//! - https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html
//! - https://docs.aws.amazon.com/secretsmanager/latest/userguide/getting-started.html#term_version

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::{Fact, SecretEvidence};
use crate::iam::permissions::{secrets_manager_arn, SecretSelector};
use crate::report::{Finding, Strength, Verdict};
use crate::stops::Detail;

/// One selected part that does not exist, said as a fact.
struct Missing<'a> {
    secret: &'a SecretEvidence,
    /// `JSON key `pasword``, `version stage `AWSPREVIOUS``.
    part: String,
    /// What the secret does hold, when known.
    holds: Option<String>,
}

const DOC: &str = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html";

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let selecting: Vec<(&SecretEvidence, SecretSelector)> = ev
        .secrets
        .iter()
        .filter(|s| s.name != "repositoryCredentials")
        .filter_map(|s| SecretSelector::of(&s.value_from).map(|sel| (s, sel)))
        .filter(|(_, sel)| !sel.is_whole_secret())
        .collect();
    if selecting.is_empty() {
        return Verdict::Skipped(
            "no secret reference selects a JSON key, version stage or version id".into(),
        );
    }
    let text = ctx.stops.stating(Detail::SecretKeyMissing);
    let mut missing: Vec<Missing> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for (s, sel) in &selecting {
        let meta = match &s.metadata {
            Fact::Gathered { value } => value,
            // The secret itself is missing: secret-not-found's cause.
            Fact::Absent { .. } => continue,
            other => {
                unknown.push(format!(
                    "{} ({}): {}",
                    s.name,
                    s.value_from,
                    other.gap_reason().unwrap_or_default()
                ));
                continue;
            }
        };
        if sel.version_stage.is_some() || sel.version_id.is_some() {
            match &meta.versions {
                Some(versions) => {
                    let stages: Vec<&String> = versions.values().flatten().collect();
                    if let Some(stage) = &sel.version_stage {
                        if !stages.contains(&stage) {
                            missing.push(Missing {
                                secret: s,
                                part: format!("version stage `{stage}`"),
                                holds: Some(format!(
                                    "its versions carry the stages {}",
                                    join_sorted(stages.iter().map(|s| s.as_str()))
                                )),
                            });
                        }
                    }
                    if let Some(id) = &sel.version_id {
                        if !versions.contains_key(id) {
                            missing.push(Missing {
                                secret: s,
                                part: format!("version id `{id}`"),
                                holds: Some(format!(
                                    "it has {} version(s): {}",
                                    versions.len(),
                                    join_sorted(versions.keys().map(String::as_str))
                                )),
                            });
                        }
                    }
                }
                None => unknown.push(format!(
                    "{}: DescribeSecret did not list the secret's versions",
                    s.name
                )),
            }
        }
        if let (Some(key), Some(t)) = (&sel.json_key, text) {
            if t.names_json_key(key) {
                missing.push(Missing {
                    secret: s,
                    part: format!("JSON key `{key}`"),
                    holds: None,
                });
            }
        }
    }
    // The text says a key is missing without naming one ecs-doctor can match
    // (truncated): with one reference selecting a key, that is the one.
    if missing.is_empty() {
        if let Some(t) = text {
            let with_key: Vec<_> = selecting
                .iter()
                .filter(|(s, sel)| sel.json_key.is_some() && s.metadata.value().is_some())
                .collect();
            if let [(s, sel)] = with_key.as_slice() {
                missing.push(Missing {
                    secret: s,
                    part: format!("JSON key `{}`", sel.json_key.clone().unwrap_or_default()),
                    holds: None,
                });
            } else if !with_key.is_empty() || !unknown.is_empty() {
                return Finding::new(
                    Cause::SecretKeyMissing,
                    Strength::Corroborating,
                    "The stop reason says a secret's JSON key or version does not exist",
                )
                .evidence(format!("stop reason: \"{}\"", t.text))
                .evidence(format!(
                    "references selecting part of a secret: {}",
                    selecting
                        .iter()
                        .map(|(s, _)| format!("{} → {}", s.name, s.value_from))
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
                .fix("Compare each valueFrom's json-key:version-stage:version-id with the secret (aws secretsmanager describe-secret shows the stages; the keys are in the value).")
                .doc(DOC)
                .into_verdict();
            }
        }
    }
    let Some(first) = missing.first() else {
        if !unknown.is_empty() {
            return Verdict::Inconclusive(format!(
                "could not look up {}",
                unknown.join("; ")
            ));
        }
        return Verdict::Pass(format!(
            "the selected versions exist ({}); JSON keys are not read (values stay unread) and no stop text says one is missing",
            selecting
                .iter()
                .map(|(s, _)| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    let strength = if text.is_some() {
        Strength::Direct
    } else {
        Strength::Corroborating
    };
    let secret_arn = secrets_manager_arn(&first.secret.value_from)
        .map(|(arn, _)| arn)
        .unwrap_or_else(|| first.secret.value_from.clone());
    let mut finding = Finding::new(
        Cause::SecretKeyMissing,
        strength,
        format!(
            "Secret `{}` of container `{}` selects {}, which secret `{}` does not have",
            first.secret.name, first.secret.container, first.part, secret_arn
        ),
    );
    if let Some(t) = text {
        finding = finding.evidence(format!("stop reason: \"{}\"", t.text));
    }
    for m in &missing {
        finding = finding.evidence(format!(
            "{} (container {}) → {}: the secret exists (secretsmanager:DescribeSecret){}",
            m.secret.name,
            m.secret.container,
            m.secret.value_from,
            m.holds
                .as_ref()
                .map(|h| format!("; {h}"))
                .unwrap_or_default()
        ));
    }
    finding = finding.evidence("checked with metadata calls only; no secret value was read");
    let fix = if first.part.starts_with("JSON key") {
        format!(
            "Correct the key in valueFrom of {} (after the secret's ARN come the JSON key, the version stage and the version id, colon-separated), or add the key to the secret's JSON value (aws secretsmanager put-secret-value --secret-id {secret_arn} --secret-string '{{…}}').",
            first.secret.name
        )
    } else {
        format!(
            "Point valueFrom at a stage or version the secret has (leave the part empty for AWSCURRENT), or move the label: aws secretsmanager update-secret-version-stage --secret-id {secret_arn} --version-stage <stage> --move-to-version-id <version-id>"
        )
    };
    finding
        .fix(fix)
        .fix("Register a new task definition revision with the corrected valueFrom and redeploy.")
        .doc(DOC)
        .into_verdict()
}

fn join_sorted<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut v: Vec<&str> = items.collect();
    v.sort_unstable();
    v.dedup();
    v.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::testkit::found;
    use crate::testkit::image::*;

    const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";
    const KEY_TEXT: &str = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): retrieved secret from Secrets Manager did not contain json key pasword";

    #[test]
    fn whole_secret_references_skip() {
        let mut ev = healthy();
        add_secret(&mut ev, "DB", SECRET, secret_metadata(SECRET, None));
        assert!(matches!(check(&ev), Verdict::Skipped(_)));
    }

    #[test]
    fn a_missing_json_key_named_by_the_stop_text_is_direct() {
        let mut ev = failed_to_start(KEY_TEXT);
        add_secret(&mut ev, "DB_PASSWORD", &format!("{SECRET}:pasword::"), secret_metadata(SECRET, None));
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("JSON key `pasword`") && f.title.contains("DB_PASSWORD"), "{}", f.title);
        assert!(f.fix[0].contains("put-secret-value"), "{:?}", f.fix);
        // Nothing in the fix looks like a credential to the redactor.
        assert_eq!(crate::redact::redact(&f.fix[0]), f.fix[0]);
    }

    #[test]
    fn an_existing_key_with_no_complaint_passes() {
        let mut ev = healthy();
        add_secret(&mut ev, "DB_PASSWORD", &format!("{SECRET}:password::"), secret_metadata(SECRET, None));
        assert!(matches!(check(&ev), Verdict::Pass(_)), "{:?}", check(&ev));
    }

    #[test]
    fn a_version_stage_no_version_carries_is_found_from_metadata() {
        let mut ev = healthy();
        add_secret(&mut ev, "DB_PASSWORD", &format!("{SECRET}:password:AWSPREVIOUS:"), secret_metadata(SECRET, None));
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.title.contains("version stage `AWSPREVIOUS`"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("stages AWSCURRENT")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("update-secret-version-stage"), "{:?}", f.fix);
    }

    #[test]
    fn an_unreadable_secret_is_inconclusive_not_a_pass() {
        let mut ev = healthy();
        let denied = Fact::Denied { action: "secretsmanager:DescribeSecret".into(), error: "AccessDeniedException".into() };
        add_secret(&mut ev, "DB_PASSWORD", &format!("{SECRET}::AWSPENDING:"), denied);
        assert!(matches!(check(&ev), Verdict::Inconclusive(_)), "{:?}", check(&ev));
    }

    #[test]
    fn a_missing_secret_is_left_to_secret_not_found() {
        let mut ev = healthy();
        add_secret(&mut ev, "DB_PASSWORD", &format!("{SECRET}:password::"), Fact::absent("ResourceNotFoundException"));
        assert!(matches!(check(&ev), Verdict::Pass(_)), "{:?}", check(&ev));
    }
}
