//! Redaction of anything that looks like a credential.
//!
//! Applied to every rendered report and every saved evidence bundle, so a
//! report pasted into a ticket never carries a key, token or password.
//! Environment values are redacted earlier, when they are collected.

use regex::{Captures, Regex};
use std::sync::OnceLock;

pub const REDACTED: &str = "[REDACTED]";

struct Rules {
    /// Whole matches are replaced.
    whole: Vec<Regex>,
    /// `key = value` pairs: group 1 (the key and separator) is kept.
    keyed: Regex,
    keyed_spaced: Regex,
    url_credentials: Regex,
    base64_40: Regex,
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| Rules {
        whole: [
            // AWS access key ids (long-term and temporary).
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ABIA|ACCA)[A-Z0-9]{16}\b",
            // JSON web tokens.
            r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
            // GitHub, Slack and similar vendor tokens.
            r"\bgh[pousr]_[A-Za-z0-9]{30,}\b",
            r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
            r"\bsk_(?:live|test)_[A-Za-z0-9]{16,}\b",
            // Bearer / Basic authorisation values.
            r"(?i)\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{16,}",
            // PEM private keys.
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
        ]
        .iter()
        .map(|p| Regex::new(p).expect("valid redaction regex"))
        .collect(),
        // `password=…`, `"token": "…"`, `apiKey:…`: an assignment, not prose.
        keyed: Regex::new(
            r#"(?i)(\b[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth)[A-Za-z0-9_.-]*(?:\s*=\s*["']?|["']\s*:\s*["']|:))([^\s"',;&}]{3,})"#,
        )
        .expect("valid keyed regex"),
        // `password: hunter2` with a space is prose as often as not ("registry auth: service
        // call …"), so only strong key names count and the value must contain a digit.
        keyed_spaced: Regex::new(
            r#"(?i)(\b(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)\s*:\s+)([^\s"',;&}]*[0-9][^\s"',;&}]*)"#,
        )
        .expect("valid spaced keyed regex"),
        url_credentials: Regex::new(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:)([^/\s@]+)(@)")
            .expect("valid url regex"),
        base64_40: Regex::new(r"(^|[^A-Za-z0-9/+=])([A-Za-z0-9/+]{40})($|[^A-Za-z0-9/+=])")
            .expect("valid base64 regex"),
    })
}

/// A 40-character string is a likely AWS secret access key only when it
/// mixes cases and digits (git SHAs are lowercase hex and stay readable).
fn looks_like_secret_key(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_uppercase())
        && s.chars().any(|c| c.is_ascii_lowercase())
        && s.chars().any(|c| c.is_ascii_digit())
}

/// A `key: value` match that names a secret instead of holding one: an IAM
/// action (`secretsmanager:GetSecretValue`), a segment of an ARN
/// (`arn:aws:secretsmanager:…`), or a value that is itself an ARN (a
/// `valueFrom` reference). ecs-doctor must be able to say which secret or
/// permission is at fault, and none of these is a credential.
fn is_reference(preceding: &str, key: &str, value: &str) -> bool {
    if value.starts_with("arn:") {
        return true;
    }
    if preceding.ends_with(':') {
        // Inside an ARN: `arn:aws:secretsmanager:us-east-1:…`.
        return true;
    }
    // An IAM action of the one service whose prefix looks like a secret's key:
    // `secretsmanager:GetSecretValue`, `secretsmanager:Describe*`.
    let value = value.trim_end_matches(['`', ')', ']', '.', ':']);
    key == "secretsmanager:"
        && value.starts_with(|ch: char| ch.is_ascii_uppercase() || ch == '*')
        && value
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '*')
}

/// Replace every credential-looking part of `text` with `[REDACTED]`.
pub fn redact(text: &str) -> String {
    let r = rules();
    let mut out = text.to_string();
    for re in &r.whole {
        out = re.replace_all(&out, REDACTED).into_owned();
    }
    out = r
        .url_credentials
        .replace_all(&out, |c: &Captures| {
            format!("{}{}{}", &c[1], REDACTED, &c[3])
        })
        .into_owned();
    for re in [&r.keyed, &r.keyed_spaced] {
        let before = out.clone();
        out = re
            .replace_all(&before, |c: &Captures| {
                let start = c.get(0).map(|m| m.start()).unwrap_or(0);
                if c[2].starts_with("[REDACTED") || is_reference(&before[..start], &c[1], &c[2]) {
                    c[0].to_string()
                } else {
                    format!("{}{}", &c[1], REDACTED)
                }
            })
            .into_owned();
    }
    out = r
        .base64_40
        .replace_all(&out, |c: &Captures| {
            if looks_like_secret_key(&c[2]) {
                format!("{}{}{}", &c[1], REDACTED, &c[3])
            } else {
                c[0].to_string()
            }
        })
        .into_owned();
    out
}

/// Redact every string inside a JSON value, in place.
pub fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            let r = redact(s);
            if r != *s {
                *s = r;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(redact_json),
        _ => {}
    }
}

/// Redact every string of any serialisable value by a JSON round trip.
pub fn redact_serde<T>(value: &T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let mut json = serde_json::to_value(value).expect("evidence serialises");
    redact_json(&mut json);
    serde_json::from_value(json).expect("redacted evidence deserialises")
}

/// Environment variable values are always hidden, except a plainly numeric
/// port (`PORT=3000`), which checks need to compare with `containerPort`.
pub fn env_value(name: &str, value: &str) -> String {
    let upper = name.to_ascii_uppercase();
    let is_port_name = upper == "PORT" || upper.ends_with("_PORT");
    if is_port_name
        && !value.is_empty()
        && value.len() <= 5
        && value.chars().all(|c| c.is_ascii_digit())
    {
        value.to_string()
    } else {
        REDACTED.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_aws_keys() {
        let s =
            redact("key AKIAIOSFODNN7EXAMPLE secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end");
        assert!(!s.contains("AKIAIOSFODNN7EXAMPLE"), "{s}");
        assert!(!s.contains("wJalrXUtnFEMI"), "{s}");
        assert!(s.ends_with(" end"));
    }

    #[test]
    fn redacts_keyed_values_and_url_credentials() {
        let s = redact(
            "DB_PASSWORD=hunter22 connecting to postgres://app:s3cr3t@db:5432/x token: abcdef123",
        );
        assert!(!s.contains("hunter22"), "{s}");
        assert!(!s.contains("s3cr3t"), "{s}");
        assert!(!s.contains("abcdef123"), "{s}");
        assert!(s.contains("postgres://app:[REDACTED]@db:5432/x"), "{s}");
    }

    #[test]
    fn keeps_ordinary_text_arns_and_git_shas() {
        let s = "Essential container in task exited arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef sha 3fce3b5bb02395e1c2b8f1f0aa57a1c6c6e0d1f2";
        assert_eq!(redact(s), s);
    }

    #[test]
    fn keeps_aws_error_prose() {
        let s = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): unable to retrieve secret: ResourceNotFoundException";
        assert_eq!(redact(s), s);
    }

    #[test]
    fn keeps_secrets_manager_arns_and_actions() {
        let s = "valueFrom arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf needs secretsmanager:GetSecretValue";
        assert_eq!(redact(s), s);
    }

    #[test]
    fn redacts_json_and_spaced_assignments() {
        let s = redact(r#"{"api_key": "k3y-value", "password":"pw9"} secret: s3cr3tvalue"#);
        assert!(
            !s.contains("k3y-value") && !s.contains("pw9") && !s.contains("s3cr3tvalue"),
            "{s}"
        );
    }

    #[test]
    fn redacts_jwts_and_bearer() {
        let s = redact("Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345 jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U");
        assert!(!s.contains("abcdefghijklmnop"), "{s}");
        assert!(!s.contains("eyJzdWIi"), "{s}");
    }

    #[test]
    fn env_values_hidden_but_numeric_ports_kept() {
        assert_eq!(env_value("DATABASE_URL", "postgres://x"), REDACTED);
        assert_eq!(env_value("PORT", "3000"), "3000");
        assert_eq!(env_value("APP_PORT", "8080"), "8080");
        assert_eq!(env_value("PORT", "abc"), REDACTED);
        assert_eq!(env_value("SUPPORT_EMAIL", "1234"), REDACTED);
    }

    #[test]
    fn keeps_secret_references_and_iam_actions() {
        for s in [
            "secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
            "secret DB_PASSWORD = arn:aws:ssm:us-east-1:123456789012:parameter/prod/db",
            "repositoryCredentials: arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub",
            "missing: secretsmanager:GetSecretValue, ssm:GetParameters, kms:Decrypt",
            "is not allowed `secretsmanager:GetSecretValue` on `arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf`",
        ] {
            assert_eq!(redact(s), s);
        }
        // A real value next to a secret-looking key is still hidden.
        assert!(!redact("secretsmanager:hunter22pw").contains("hunter22pw"));
        assert!(!redact("DB_SECRET=Abcdef123").contains("Abcdef123"));
        assert!(!redact("password:Hunter22").contains("Hunter22"));
    }

    #[test]
    fn redaction_is_idempotent() {
        let once = redact("password=abc123 AKIAIOSFODNN7EXAMPLE");
        assert_eq!(redact(&once), once);
    }
}
