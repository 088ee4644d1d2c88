//! ## What it detects
//! An `awslogs` log configuration the log driver will refuse, or that ECS
//! cannot place on Fargate:
//! - `awslogs-group` or `awslogs-region` missing;
//! - `awslogs-stream-prefix` missing on Fargate, where it is required;
//! - an option name the driver does not know (`awslogs-streamprefix`,
//!   `awslogs_group`), which fails with `unknown log opt`;
//! - a value it rejects: `awslogs-create-group` that is not a boolean,
//!   `mode` other than `blocking` / `non-blocking`, a non-positive
//!   `awslogs-force-flush-interval-seconds` or `awslogs-max-buffered-events`,
//!   `awslogs-datetime-format` together with `awslogs-multiline-pattern`, or
//!   an `awslogs-region` that is not a Region name.
//!
//! ## Why it matters
//! The log driver is initialised before the container starts; a
//! configuration it refuses stops the task with `failed to initialize
//! logging driver` every time, and without the stream prefix on Fargate the
//! container's logs cannot be found by task id.
//!
//! ## Example
//! ```text
//! stoppedReason = ResourceInitializationError: failed to initialize logging driver:
//!                 unknown log opt 'awslogs-streamprefix' for awslogs log driver
//! container web: logConfiguration.options has awslogs-streamprefix (did you mean awslogs-stream-prefix?)
//! ```
//!
//! ## How to fix
//! Set `awslogs-group`, `awslogs-region` and (on Fargate)
//! `awslogs-stream-prefix`, correct the option names and values, register a
//! new task definition revision and redeploy.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
//! - https://docs.docker.com/engine/logging/drivers/awslogs/

use crate::context::Ctx;
use crate::task::unknown_task_definition;
use crate::stops::Detail;
use crate::task::on_fargate;

use crate::codes::Cause;
use crate::report::{Finding, Strength, Verdict};

/// Every option the awslogs driver (and ECS on top of it) accepts.
const KNOWN_OPTIONS: &[&str] = &[
    "awslogs-region",
    "awslogs-endpoint",
    "awslogs-group",
    "awslogs-stream",
    "awslogs-stream-prefix",
    "awslogs-create-group",
    "awslogs-create-stream",
    "awslogs-datetime-format",
    "awslogs-multiline-pattern",
    "awslogs-credentials-endpoint",
    "awslogs-force-flush-interval-seconds",
    "awslogs-max-buffered-events",
    "awslogs-format",
    "tag",
    "mode",
    "max-buffer-size",
    "labels",
    "labels-regex",
    "env",
    "env-regex",
];

fn is_bool(v: &str) -> bool {
    matches!(v, "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False")
}

fn is_positive_int(v: &str) -> bool {
    v.parse::<u64>().is_ok_and(|n| n > 0)
}

fn is_region(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// The closest known option name, for "did you mean".
fn suggestion(name: &str) -> Option<&'static str> {
    let squash = |s: &str| s.to_ascii_lowercase().replace(['-', '_', '.'], "");
    let target = squash(name);
    KNOWN_OPTIONS.iter().copied().find(|k| squash(k) == target)
}

/// Every problem of one awslogs configuration.
fn problems(options: &std::collections::BTreeMap<String, String>, fargate: bool) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["awslogs-group", "awslogs-region"] {
        if options.get(key).is_none_or(|v| v.trim().is_empty()) {
            out.push(format!("{key} is not set"));
        }
    }
    if fargate && options.get("awslogs-stream-prefix").is_none_or(|v| v.trim().is_empty()) {
        out.push("awslogs-stream-prefix is not set, and Fargate requires it".to_string());
    }
    for (key, value) in options {
        if !KNOWN_OPTIONS.contains(&key.as_str()) {
            out.push(match suggestion(key) {
                Some(s) if s != key => format!("unknown option {key} (did you mean {s}?)"),
                _ => format!("unknown option {key}"),
            });
            continue;
        }
        let bad = match key.as_str() {
            "awslogs-create-group" | "awslogs-create-stream" => !is_bool(value),
            "mode" => !matches!(value.as_str(), "blocking" | "non-blocking"),
            "awslogs-force-flush-interval-seconds" | "awslogs-max-buffered-events" => !is_positive_int(value),
            "awslogs-region" => !value.trim().is_empty() && !is_region(value),
            "awslogs-format" => !matches!(value.as_str(), "" | "json/emf"),
            _ => false,
        };
        if bad {
            out.push(format!("{key} = {value:?} is not a valid value"));
        }
    }
    if options.contains_key("awslogs-datetime-format") && options.contains_key("awslogs-multiline-pattern") {
        out.push("awslogs-datetime-format and awslogs-multiline-pattern are both set; the driver accepts only one".to_string());
    }
    out
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let fargate = on_fargate(ev) == Some(true);
    let mut found = Vec::new();
    let mut checked = Vec::new();
    for c in &td.containers {
        let Some(log) = c.log_configuration.as_ref().filter(|l| l.driver == "awslogs") else {
            continue;
        };
        checked.push(c.name.clone());
        for p in problems(&log.options, fargate) {
            found.push((c.name.clone(), p));
        }
    }
    if checked.is_empty() {
        return Verdict::Skipped("no container uses the awslogs driver".into());
    }
    if found.is_empty() {
        return Verdict::Pass(format!(
            "the awslogs configuration of {} is complete and valid",
            checked.join(", ")
        ));
    }
    let text = ctx.stops.stating(Detail::LogDriverRefused).map(|t| t.text.clone());
    let strength = if text.is_some() { Strength::Direct } else { Strength::Corroborating };
    let (container, first) = &found[0];
    let mut finding = Finding::new(
        Cause::LogConfigInvalid,
        strength,
        format!("The awslogs configuration of container `{container}` is invalid: {first}"),
    );
    if let Some(t) = &text {
        finding = finding.evidence(format!("stop reason: \"{t}\""));
    }
    for (c, p) in &found {
        finding = finding.evidence(format!("container {c}: logConfiguration.options: {p}"));
    }
    if ev.task.timestamps.started_at.is_some() {
        finding = finding.against("the task's containers started, so the log driver accepted its configuration");
    }
    let group = format!("/ecs/{}", td.family);
    finding
        .fix(format!(
            "Use a complete configuration, e.g. \"logConfiguration\": {{\"logDriver\": \"awslogs\", \"options\": {{\"awslogs-group\": \"{group}\", \"awslogs-region\": \"{}\", \"awslogs-stream-prefix\": \"ecs\"}}}}, register a new revision and redeploy.",
            ev.region
        ))
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::evidence::Evidence;
    crate::check_under_test!();
    use crate::testkit::image::*;

    fn with_options(reason: &str, edit: impl FnOnce(&mut std::collections::BTreeMap<String, String>)) -> Evidence {
        let mut ev = failed_to_start(reason);
        edit(&mut td_mut(&mut ev).containers[0].log_configuration.as_mut().unwrap().options);
        ev
    }

    #[test]
    fn healthy_task_passes() {
        assert!(matches!(check(&healthy()), Verdict::Pass(_)));
    }

    #[test]
    fn misspelled_prefix_on_fargate() {
        let ev = with_options(
            "ResourceInitializationError: failed to initialize logging driver: unknown log opt 'awslogs-streamprefix' for awslogs log driver",
            |o| {
                let v = o.remove("awslogs-stream-prefix").unwrap();
                o.insert("awslogs-streamprefix".into(), v);
            },
        );
        match check(&ev) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Direct);
                let all = f.evidence.join("\n");
                assert!(all.contains("awslogs-stream-prefix is not set, and Fargate requires it"), "{all}");
                assert!(all.contains("unknown option awslogs-streamprefix (did you mean awslogs-stream-prefix?)"), "{all}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn table_of_bad_options() {
        let cases: Vec<(&str, Option<&str>, &str)> = vec![
            ("awslogs-region", None, "awslogs-region is not set"),
            ("awslogs-group", None, "awslogs-group is not set"),
            ("awslogs-create-group", Some("yes"), "awslogs-create-group = \"yes\""),
            ("mode", Some("async"), "mode = \"async\""),
            ("awslogs-max-buffered-events", Some("0"), "awslogs-max-buffered-events = \"0\""),
            ("awslogs-region", Some("us-east"), "awslogs-region = \"us-east\""),
        ];
        for (key, value, expect) in cases {
            let ev = with_options("ResourceInitializationError: failed to initialize logging driver", |o| {
                match value {
                    Some(v) => o.insert(key.into(), v.into()),
                    None => o.remove(key),
                };
            });
            match check(&ev) {
                Verdict::Found(f) => assert!(f.evidence.join("\n").contains(expect), "{key}: {:?}", f.evidence),
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    #[test]
    fn prefix_is_optional_on_ec2_and_both_formats_conflict() {
        let mut ev = healthy();
        ev.task.launch_type = Some("EC2".into());
        td_mut(&mut ev).containers[0].log_configuration.as_mut().unwrap().options.remove("awslogs-stream-prefix");
        assert!(matches!(check(&ev), Verdict::Pass(_)));
        let opts = &mut td_mut(&mut ev).containers[0].log_configuration.as_mut().unwrap().options;
        opts.insert("awslogs-datetime-format".into(), "%Y-%m-%d".into());
        opts.insert("awslogs-multiline-pattern".into(), "^INFO".into());
        match check(&ev) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Corroborating);
                assert_eq!(f.against.len(), 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn region_names() {
        for ok in ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-4"] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in ["us-east", "useast1", "US-EAST-1", ""] {
            assert!(!is_region(bad), "{bad}");
        }
    }
}
