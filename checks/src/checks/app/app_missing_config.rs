//! ## What it detects
//! The application's log names an environment variable or setting it could
//! not find («Missing required environment variable: DATABASE_URL»,
//! «KeyError: 'DATABASE_URL'», «Could not resolve placeholder 'DB_URL'»,
//! «"JWT_SECRET" is required», pydantic's «Field required»), and the
//! container's task definition has no `environment` or `secrets` entry of
//! that name.
//!
//! ## Why it matters
//! The image works on a laptop with a `.env` file, but in ECS the process
//! only sees what the task definition passes in. Every replacement task
//! exits the same way until the setting is added, and the stop reason only
//! says «Essential container in task exited».
//!
//! ## Example
//! ```text
//! stopCode      = EssentialContainerExited
//! container web: exitCode = 1
//! log: Error: Missing required environment variable: DATABASE_URL
//! task definition web:7, container web: environment [NODE_ENV, PORT], secrets [] — no DATABASE_URL
//! ```
//!
//! ## How to fix
//! Add the setting to the container definition and register a new revision:
//! `"environment": [{"name": "DATABASE_URL", "value": "…"}]`, or, for a
//! credential, `"secrets": [{"name": "DATABASE_URL", "valueFrom": "<Secrets
//! Manager or SSM parameter ARN>"}]` (the execution role must be allowed to
//! read it). Then update the service to the new revision. If the container
//! loads `environmentFiles`, check that the file in S3 defines the name.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/taskdef-envfiles.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_environment

use crate::context::Ctx;
use crate::logs::excerpt::log_hint;
use crate::task::failed_essential_container;
use crate::task::is_teardown_exit;
use crate::codes::Cause;
use crate::evidence::{ContainerDefinition, Evidence, LogLine};
use crate::report::{Finding, Strength, Verdict};
use regex::Regex;
use std::sync::OnceLock;

/// A setting the log says is missing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MissingSetting {
    /// As the log spells it (`DATABASE_URL`, `db.url`, `database_url`).
    pub name: String,
    /// The log line that names it.
    pub line: String,
}

/// Log patterns that name a missing setting; group `name` captures it.
fn patterns() -> &'static [Regex] {
    static RES: OnceLock<Vec<Regex>> = OnceLock::new();
    RES.get_or_init(|| {
        [
            // Missing required environment variable: X / missing env var X / required key X missing value
            r#"(?i)\b(?:missing|required|undefined|unset|no value for)\b[^.\n]{0,30}?\b(?:environment variables?|env(?:ironment)? vars?|variables?|config(?:uration)? (?:keys?|values?|settings?|options?)|settings?|keys?|parameters?)\b\s*[:=]?\s*[`'"\[(]?(?P<name>[A-Za-z_][A-Za-z0-9_.]{2,})"#,
            // environment variable X is not set / env var X must be set
            r#"(?i)\b(?:environment variables?|env(?:ironment)? vars?|variables?|settings?|config(?:uration)? keys?)\s+[`'"]?(?P<name>[A-Za-z_][A-Za-z0-9_.]{2,})[`'"]?\s+(?:is\s+|was\s+)?(?:not set|not defined|missing|required|undefined|must be (?:set|provided|defined)|empty|not found|not provided)"#,
            // X is not set / X must be set / X is required (upper-case names only)
            r#"\b(?P<name>[A-Z][A-Z0-9]*_[A-Z0-9_]+|[A-Z]{3,})\b[`'"]?\s+(?:(?i:environment variable|env var|variable|setting)\s+)?(?i:is\s+|was\s+)?(?i:not set|must be (?:set|provided|defined)|is required|required|is missing|missing|undefined|not defined|not provided|empty)\b"#,
            // "X" is required (Joi, envalid, zod)
            r#"["'`](?P<name>[A-Za-z_][A-Za-z0-9_]{2,})["'`]\s+(?:is required|is missing|must be set|: required)"#,
            // KeyError: 'X' (Python os.environ[...])
            r#"KeyError: ['"](?P<name>[A-Z][A-Z0-9_]{2,})['"]"#,
            r#"os\.environ\[['"](?P<name>[A-Za-z_][A-Za-z0-9_]*)['"]\]"#,
            // Spring: Could not resolve placeholder 'X'
            r#"(?i)could not resolve placeholder ['"](?P<name>[^'":]+)"#,
            // Django: Set the X environment variable
            r#"(?i)\bset the (?P<name>[A-Z][A-Z0-9_]{2,}) environment variable"#,
            // envalid: "    X: undefined"
            r#"^\s*(?P<name>[A-Z][A-Z0-9_]{2,}):\s*(?:undefined|missing|not set|required)\s*$"#,
        ]
        .iter()
        .map(|p| Regex::new(p).expect("valid missing-config regex"))
        .collect()
    })
}

/// Words the patterns can capture that are not setting names.
const NOT_NAMES: &[&str] = &[
    "the", "environment", "variable", "variables", "value", "values", "key", "keys", "setting", "settings",
    "config", "configuration", "required", "missing", "error", "env", "for", "and", "not", "option", "options",
    "parameter", "parameters", "field", "fields", "is", "was", "must", "set", "undefined",
];

/// Words that show a line is about a missing setting (for the pydantic form).
fn pydantic_field(lines: &[LogLine], i: usize) -> Option<String> {
    let line = lines[i].message.trim();
    let lower = line.to_ascii_lowercase();
    if !(lower.starts_with("field required") || lower.contains("[type=missing") || lower.contains("type=value_error.missing")) {
        return None;
    }
    let prev = lines.get(i.checked_sub(1)?)?.message.trim();
    let ok = !prev.is_empty() && prev.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then(|| prev.to_string())
}

fn clean(name: &str) -> String {
    name.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .to_string()
}

/// The settings a container's log says are missing, in log order, deduplicated.
pub(crate) fn missing_in_log(lines: &[LogLine]) -> Vec<MissingSetting> {
    let mut out: Vec<MissingSetting> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let mut names = Vec::new();
        for re in patterns() {
            for caps in re.captures_iter(&line.message) {
                names.push(clean(&caps["name"]));
            }
        }
        if let Some(field) = pydantic_field(lines, i) {
            names.push(field);
        }
        for name in names {
            if name.len() < 3 || NOT_NAMES.contains(&name.to_ascii_lowercase().as_str()) {
                continue;
            }
            if let Some(seen) = out.iter_mut().find(|m| same_name(&m.name, &name)) {
                // Quote the error line (`KeyError: 'X'`) over the source line that led to it.
                if crate::logs::is_error_line(&line.message) && !crate::logs::is_error_line(&seen.line) {
                    seen.line = line.message.trim().to_string();
                }
                continue;
            }
            out.push(MissingSetting {
                name,
                line: line.message.trim().to_string(),
            });
        }
    }
    out
}

/// Setting names compare case-insensitively, with `.` and `-` as `_`
/// (Spring's relaxed binding, pydantic's case-insensitive fields).
fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.to_ascii_uppercase().replace(['.', '-'], "_");
    norm(a) == norm(b)
}

/// Where the task definition defines `name` for this container, if it does.
fn defined_in(def: &ContainerDefinition, name: &str) -> Option<&'static str> {
    if def.environment.iter().any(|e| same_name(&e.name, name)) {
        Some("environment")
    } else if def.secrets.iter().any(|s| same_name(&s.name, name)) {
        Some("secrets")
    } else {
        None
    }
}

fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASS", "CREDENTIAL", "PRIVATE", "DSN", "DATABASE_URL", "_URI"]
        .iter()
        .any(|w| upper.contains(w))
}

/// The env-var spelling of a setting (`db.url` → `DB_URL`).
fn env_spelling(name: &str) -> String {
    name.to_ascii_uppercase().replace(['.', '-'], "_")
}

/// Settings missing from one container: the log names them, the task definition lacks them.
pub(crate) fn missing_settings(ev: &Evidence, container: &str) -> Vec<MissingSetting> {
    let Some(def) = ev.task_def().and_then(|td| td.container(container)) else {
        return Vec::new();
    };
    missing_in_log(ev.log_lines(container))
        .into_iter()
        .filter(|m| defined_in(def, &m.name).is_none())
        .collect()
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return Verdict::Inconclusive(format!(
            "the task definition is unknown ({}), so the settings it passes cannot be compared with the log",
            ev.task_definition.gap_reason().unwrap_or_default()
        ));
    };
    // The failed container first, then every other container with log lines.
    let failed = failed_essential_container(ev).map(|c| c.name.clone());
    let mut order: Vec<&str> = failed.iter().map(String::as_str).collect();
    order.extend(td.containers.iter().map(|c| c.name.as_str()).filter(|n| Some(*n) != failed.as_deref()));
    let mut named_but_defined = Vec::new();
    let mut read_any = false;
    for name in order.iter().copied() {
        let Some(def) = td.container(name) else { continue };
        let lines = ev.log_lines(name);
        read_any |= !lines.is_empty();
        let named = missing_in_log(lines);
        let (missing, defined): (Vec<_>, Vec<_>) = named.into_iter().partition(|m| defined_in(def, &m.name).is_none());
        for d in &defined {
            named_but_defined.push(format!(
                "`{}` (container `{name}` sets it in {})",
                d.name,
                defined_in(def, &d.name).unwrap_or_default()
            ));
        }
        if missing.is_empty() {
            continue;
        }
        return finding(ev, def, &missing).into_verdict();
    }
    if !named_but_defined.is_empty() {
        return Verdict::Pass(format!(
            "the log names {} as missing, but the task definition sets it: check its value",
            named_but_defined.join(", ")
        ));
    }
    if !read_any {
        let ran = ev.task.containers.iter().any(|c| c.exit_code.is_some())
            || ev.task.last_status.eq_ignore_ascii_case("RUNNING");
        let clean_exit = ev.is_stopped()
            && ev.task.containers.iter().all(|c| matches!(c.exit_code, Some(0) | None))
            && ev.task.containers.iter().any(|c| c.exit_code == Some(0));
        if clean_exit {
            return Verdict::Skipped("every container that ran exited cleanly (code 0)".into());
        }
        let unread: Vec<String> = order
            .iter()
            .filter_map(|n| ev.log_gap(n).map(|why| format!("`{n}`: {why}")))
            .collect();
        return if ran && !unread.is_empty() {
            Verdict::Inconclusive(format!(
                "the container logs could not be read, so no missing setting could be named ({})",
                unread.join("; ")
            ))
        } else if ran {
            Verdict::Skipped("the containers logged nothing, so no missing setting is named".into())
        } else {
            Verdict::Skipped("no container ran, so the application never read its settings".into())
        };
    }
    Verdict::Pass("no log line names a missing environment variable or setting".into())
}

fn finding(ev: &Evidence, def: &ContainerDefinition, missing: &[MissingSetting]) -> Finding {
    let container = ev.task.containers.iter().find(|c| c.name == def.name);
    let exit = container.and_then(|c| c.exit_code);
    let crashed = matches!(exit, Some(code) if code != 0 && !is_teardown_exit(code));
    let strength = if crashed && ev.is_stopped() { Strength::Direct } else { Strength::Corroborating };
    let names: Vec<String> = missing.iter().map(|m| format!("`{}`", m.name)).collect();
    let title = format!(
        "Container `{}` needs {} but the task definition does not set {}",
        def.name,
        names.join(", "),
        if missing.len() == 1 { "it" } else { "them" }
    );
    let mut f = Finding::new(Cause::AppMissingConfig, strength, title);
    for m in missing {
        f = f.evidence(format!("log line: \"{}\"", m.line));
    }
    if let Some(code) = exit {
        f = f.evidence(format!(
            "container `{}` exitCode = {code}{}",
            def.name,
            ev.task
                .stop_code
                .as_deref()
                .map(|s| format!(" (stopCode = {s})"))
                .unwrap_or_default()
        ));
    }
    let list = |items: Vec<&str>| if items.is_empty() { "none".to_string() } else { items.join(", ") };
    f = f.evidence(format!(
        "task definition {}, container `{}`: environment [{}], secrets [{}]",
        ev.task_def().map(|td| td.label()).unwrap_or_default(),
        def.name,
        list(def.environment.iter().map(|e| e.name.as_str()).collect()),
        list(def.secrets.iter().map(|s| s.name.as_str()).collect()),
    ));
    if !def.environment_files.is_empty() {
        f = f.against(format!(
            "the container also loads environmentFiles ({}), which ecs-doctor cannot read: one of them may define it",
            def.environment_files.join(", ")
        ));
    }
    let region = &ev.region;
    let account = ev.account.as_deref().unwrap_or("ACCOUNT_ID");
    for m in missing {
        let env = env_spelling(&m.name);
        if looks_secret(&env) {
            f = f.fix(format!(
                "Add `{env}` to container `{}` as a secret: `\"secrets\": [{{\"name\": \"{env}\", \"valueFrom\": \"arn:aws:secretsmanager:{region}:{account}:secret:<name>\"}}]` (the execution role must be allowed to read that secret), or as a plain `\"environment\": [{{\"name\": \"{env}\", \"value\": \"…\"}}]` entry if it is not sensitive.",
                def.name
            ));
        } else {
            f = f.fix(format!(
                "Add `{env}` to container `{}`: `\"environment\": [{{\"name\": \"{env}\", \"value\": \"…\"}}]`.",
                def.name
            ));
        }
    }
    let family = ev.task_def().map(|td| td.family.clone()).unwrap_or_else(|| "FAMILY".into());
    let deploy = match (ev.service_name(), Some(crate::task::cluster_name(ev))) {
        (Some(svc), Some(cluster)) if !cluster.is_empty() => format!(
            "Register the new revision (`aws ecs register-task-definition --cli-input-json file://taskdef.json`) and deploy it: `aws ecs update-service --cluster {cluster} --service {svc} --task-definition {family}`."
        ),
        _ => "Register the new revision (`aws ecs register-task-definition --cli-input-json file://taskdef.json`) and run the task with it.".to_string(),
    };
    f.fix(deploy)
        .fix(format!("The lines around it are in {}.", log_hint(ev, &def.name)))
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/taskdef-envfiles.html")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::evidence::{Evidence, LogLine};

    crate::check_under_test!();
    use crate::evidence::{EnvVar, SecretRef};
    use crate::testkit::{running, stopped, EvidenceExt};

    fn crashed(lines: &[&str]) -> Evidence {
        stopped("EssentialContainerExited", "Essential container in task exited")
            .exit("web", Some(1), None)
            .log("web", lines)
    }

    fn names(lines: &[&str]) -> Vec<String> {
        let lines: Vec<LogLine> = lines
            .iter()
            .map(|m| LogLine { timestamp: None, message: m.to_string() })
            .collect();
        missing_in_log(&lines).into_iter().map(|m| m.name).collect()
    }

    #[test]
    fn names_are_read_from_many_frameworks() {
        let cases: &[(&[&str], &str)] = &[
            (&["Error: Missing required environment variable: DATABASE_URL"], "DATABASE_URL"),
            (&["missing env var REDIS_URL"], "REDIS_URL"),
            (&["envconfig.Process: required key STRIPE_API_KEY missing value"], "STRIPE_API_KEY"),
            (&["environment variable 'SESSION_SECRET' is not set"], "SESSION_SECRET"),
            (&["panic: DATABASE_URL environment variable is required"], "DATABASE_URL"),
            (&["FATAL: JWT_SECRET must be set"], "JWT_SECRET"),
            (&["Error: Config validation error: \"API_TOKEN\" is required"], "API_TOKEN"),
            (&["KeyError: 'DJANGO_SECRET_KEY'"], "DJANGO_SECRET_KEY"),
            (&["    value = os.environ['POSTGRES_HOST']"], "POSTGRES_HOST"),
            (
                &["java.lang.IllegalArgumentException: Could not resolve placeholder 'db.url' in value \"${db.url}\""],
                "db.url",
            ),
            (&["django.core.exceptions.ImproperlyConfigured: Set the SECRET_KEY environment variable"], "SECRET_KEY"),
            (&["Missing environment variables:", "    SMTP_HOST: undefined"], "SMTP_HOST"),
            (&["1 validation error for Settings", "database_url", "  Field required [type=missing, input_value={}]"], "database_url"),
            // Truncated and re-cased.
            (&["MISSING REQUIRED ENVIRONMENT VARIABLE: QUEUE_UR"], "QUEUE_UR"),
        ];
        for (lines, want) in cases {
            assert_eq!(names(lines), vec![want.to_string()], "{lines:?}");
        }
    }

    #[test]
    fn the_error_line_is_quoted_over_the_source_line() {
        let lines: Vec<LogLine> = ["    db = os.environ[\"DATABASE_URL\"]", "KeyError: 'DATABASE_URL'"]
            .iter()
            .map(|m| LogLine { timestamp: None, message: m.to_string() })
            .collect();
        let found = missing_in_log(&lines);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, "KeyError: 'DATABASE_URL'");
    }

    #[test]
    fn ordinary_lines_name_nothing() {
        assert!(names(&[
            "server listening on 8080",
            "GET /health 200",
            "Error: connect ECONNREFUSED 10.0.3.25:5432",
            "required field missing in request body",
            "WARN cache is empty",
        ])
        .is_empty());
    }

    #[test]
    fn a_missing_variable_is_named_with_where_to_add_it() {
        let ev = crashed(&["starting", "Error: Missing required environment variable: DATABASE_URL"]).def("web", |d| {
            d.environment.push(EnvVar { name: "NODE_ENV".into(), value: "[REDACTED]".into() })
        });
        let Verdict::Found(f) = check(&ev) else { panic!("{:?}", check(&ev)) };
        assert_eq!(f.code, Cause::AppMissingConfig);
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("`DATABASE_URL`"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("environment [NODE_ENV], secrets [none]")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("\"secrets\": [{\"name\": \"DATABASE_URL\""), "{}", f.fix[0]);
        assert!(f.fix[1].contains("update-service --cluster prod --service web --task-definition web"));
    }

    #[test]
    fn a_plain_setting_goes_to_environment() {
        let ev = crashed(&["Could not resolve placeholder 'server.region' in value \"${server.region}\""]);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.fix[0].contains("\"environment\": [{\"name\": \"SERVER_REGION\""), "{}", f.fix[0]);
    }

    #[test]
    fn a_name_the_task_definition_sets_is_not_missing() {
        let ev = crashed(&["Error: Missing required environment variable: DATABASE_URL"]).def("web", |d| {
            d.secrets.push(SecretRef { name: "DATABASE_URL".into(), value_from: "arn:aws:secretsmanager:us-east-1:1:secret:db".into() })
        });
        assert!(matches!(check(&ev), Verdict::Pass(d) if d.contains("sets it in secrets")));
    }

    #[test]
    fn environment_files_speak_against() {
        let ev = crashed(&["Error: Missing required environment variable: DATABASE_URL"])
            .def("web", |d| d.environment_files.push("arn:aws:s3:::cfg/web.env".into()));
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.against.len(), 1);
    }

    #[test]
    fn a_healthy_quiet_or_unread_task_is_told_apart() {
        let ev = running().log("web", &["listening on 8080"]);
        assert!(matches!(check(&ev), Verdict::Pass(_)));
        // Logs read and empty: nothing names a setting. Logs refused: undecided.
        let quiet = stopped("EssentialContainerExited", "Essential container in task exited").exit("web", Some(1), None);
        assert!(matches!(check(&quiet), Verdict::Skipped(_)));
        let mut refused = quiet.clone();
        refused.logs[0].lines = crate::evidence::Fact::Denied { action: "logs:GetLogEvents".into(), error: "AccessDeniedException".into() };
        assert!(matches!(check(&refused), Verdict::Inconclusive(d) if d.contains("logs:GetLogEvents")));
        let never_ran = stopped("TaskFailedToStart", "CannotPullContainerError: not found");
        assert!(matches!(check(&never_ran), Verdict::Skipped(_)));
    }

    #[test]
    fn a_sidecar_log_is_read_too() {
        let ev = crashed(&["boom"])
            .sidecar("worker", true)
            .log("worker", &["fatal: QUEUE_URL is not set"]);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.title.contains("Container `worker` needs `QUEUE_URL`"), "{}", f.title);
        assert_eq!(f.strength, Strength::Corroborating);
    }
}
