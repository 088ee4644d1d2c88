//! Property tests over the parts that read text from outside: the stop-text
//! classifier, the IAM policy parser and evaluator, and the log reading.
//! Whatever AWS or an application writes, they never panic and they read
//! the same text the same way. proptest keeps any failing input it finds in
//! `proptest-regressions/` beside this file; `corpus/` holds hand-picked
//! odd inputs that every run reads.

use crate::evidence::{ContainerLogs, Fact, LogLine};
use crate::iam::policy::{self, Context, Policy, Request, TrustContext};
use crate::stops::{self, catalogue::KINDS};
use crate::text::normalize;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Any text, including odd Unicode (curly quotes, RTL marks, NULs, emoji).
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,300}",
        "[ -~]{0,300}",
        proptest::collection::vec(
            prop_oneof![
                Just("’".to_string()),
                Just("\u{200f}".to_string()),
                Just("\0".to_string()),
                Just("🚀".to_string()),
                Just("İ".to_string()),
                Just("\n\t".to_string()),
                "[a-zA-Z:/ ]{0,12}",
            ],
            0..40
        )
        .prop_map(|parts| parts.concat()),
    ]
}

/// A catalogue fragment of a kind that needs no context, in ASCII noise.
fn catalogued_text() -> impl Strategy<Value = (stops::StopKind, String)> {
    let rows: Vec<(stops::StopKind, &'static str)> = KINDS
        .iter()
        .filter(|p| p.with.is_empty())
        .flat_map(|p| p.any.iter().map(move |f| (p.kind, *f)))
        .collect();
    (
        proptest::sample::select(rows),
        "[ -~]{0,40}",
        "[ -~]{0,40}",
        any::<bool>(),
    )
        .prop_map(|((kind, fragment), before, after, upper)| {
            let fragment = if upper {
                fragment.to_ascii_uppercase()
            } else {
                fragment.to_string()
            };
            (kind, format!("{before} {fragment} {after}"))
        })
}

/// A JSON value of any shape, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any_text().prop_map(Value::from),
        Just(Value::from("*")),
        Just(Value::from("ecr:*")),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("Effect".to_string()),
                    Just("Action".to_string()),
                    Just("NotAction".to_string()),
                    Just("Resource".to_string()),
                    Just("NotResource".to_string()),
                    Just("Principal".to_string()),
                    Just("NotPrincipal".to_string()),
                    Just("Condition".to_string()),
                    Just("StringEquals".to_string()),
                    Just("aws:SourceAccount".to_string()),
                    ".{0,12}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A policy document of the shapes IAM accepts: one statement or a list,
/// strings or lists of strings, with principals and conditions.
fn policy_doc() -> impl Strategy<Value = Value> {
    let strings = |options: Vec<&'static str>| {
        prop_oneof![
            proptest::sample::select(options.clone()).prop_map(Value::from),
            proptest::collection::vec(proptest::sample::select(options), 0..4)
                .prop_map(Value::from),
        ]
    };
    let statement = (
        proptest::sample::select(vec!["Allow", "Deny", "allow", "Maybe"]),
        strings(vec![
            "ecr:*",
            "ecr:BatchGetImage",
            "logs:Create*",
            "*",
            "s3:Get?bject",
            "ÉCR:x",
        ]),
        any::<bool>(),
        strings(vec![
            "*",
            "arn:aws:ecr:us-east-1:123456789012:repository/web",
            "arn:aws:logs:*:*:*",
        ]),
        any::<bool>(),
        prop_oneof![
            Just(Value::Null),
            Just(json!({"Service": "ecs-tasks.amazonaws.com"})),
            Just(json!({"AWS": ["123456789012", "arn:aws:iam::123456789012:root"]})),
            Just(json!("*")),
        ],
        prop_oneof![
            Just(Value::Null),
            Just(json!({"StringEquals": {"aws:SourceAccount": "123456789012"}})),
            Just(json!({"ArnLike": {"aws:SourceArn": ["arn:aws:ecs:*:123456789012:*"]}})),
            Just(json!({"Bool": {"aws:SecureTransport": "true"}})),
            Just(json!({"StringEqualsIfExists": {"ünïcode:key": "ßtraße"}})),
        ],
    )
        .prop_map(
            |(effect, actions, not_action, resources, not_principal, principal, condition)| {
                let mut s = serde_json::Map::new();
                s.insert("Effect".into(), effect.into());
                s.insert(
                    if not_action { "NotAction" } else { "Action" }.into(),
                    actions,
                );
                s.insert("Resource".into(), resources);
                if !principal.is_null() {
                    s.insert(
                        if not_principal {
                            "NotPrincipal"
                        } else {
                            "Principal"
                        }
                        .into(),
                        principal,
                    );
                }
                if !condition.is_null() {
                    s.insert("Condition".into(), condition);
                }
                Value::Object(s)
            },
        );
    prop_oneof![
        statement
            .clone()
            .prop_map(|s| json!({"Version": "2012-10-17", "Statement": s})),
        proptest::collection::vec(statement, 0..5)
            .prop_map(|s| json!({"Version": "2012-10-17", "Statement": s})),
    ]
}

/// Evaluate a few requests against the document; false when it is refused.
fn evaluate_everything(doc: &Value) -> bool {
    let parsed = Policy::parse("fuzzed", doc);
    if let Ok(p) = &parsed {
        let ctx = Context::new();
        for action in [
            "ecr:BatchGetImage",
            "logs:CreateLogStream",
            "sts:AssumeRole",
            "",
        ] {
            let _ = policy::evaluate(
                std::slice::from_ref(p),
                &Request {
                    action,
                    resource: Some("arn:aws:ecr:us-east-1:123456789012:repository/web"),
                    principal: None,
                    context: &ctx,
                },
            );
        }
    }
    let _ = policy::trust(
        doc,
        &TrustContext {
            account: "123456789012".into(),
            task_arn: "arn:aws:ecs:us-east-1:123456789012:task/prod/0123".into(),
        },
    );
    parsed.is_ok()
}

fn read_logs(lines: &[String]) {
    let lines: Vec<LogLine> = lines
        .iter()
        .map(|m| LogLine {
            timestamp: None,
            message: m.clone(),
        })
        .collect();
    let _ = crate::logs::decisive_line(&lines);
    let _ = crate::logs::highlights(&lines);
    let _ = crate::logs::announced(&lines);
    let mut ev = crate::testkit::stopped(
        "EssentialContainerExited",
        "Essential container in task exited",
    );
    ev.logs = vec![ContainerLogs {
        container: "web".into(),
        driver: "awslogs".into(),
        group: Some("/ecs/web".into()),
        stream: Some("ecs/web/x".into()),
        region: Some("us-east-1".into()),
        lines: Fact::gathered(lines),
    }];
    let _ = crate::logs::excerpt::excerpts(&ev);
    let _ = crate::diagnose(&ev, "fuzz");
}

proptest! {
    #[test]
    fn the_classifier_reads_any_text_the_same_way_twice(text in any_text()) {
        let once = stops::classify(&text);
        prop_assert_eq!(&once, &stops::classify(&normalize(&text)));
        prop_assert_eq!(once, stops::classify(&text));
    }

    #[test]
    fn a_catalogued_fragment_is_found_in_any_case_and_noise((kind, text) in catalogued_text()) {
        prop_assert!(stops::classify(&text).is(kind), "{:?} not found in {:?}", kind, text);
    }

    #[test]
    fn any_json_is_parsed_or_refused_never_a_panic(doc in any_json()) {
        // Either outcome passes: the property is that neither panics.
        evaluate_everything(&doc);
    }

    #[test]
    fn any_policy_shape_evaluates(doc in policy_doc()) {
        // A refused document (an `Effect` of `Maybe`) exercises no
        // evaluation: it does not count as a case (proptest fails when too
        // many are rejected).
        prop_assume!(evaluate_everything(&doc));
    }

    #[test]
    fn a_deny_of_everything_always_wins(doc in policy_doc()) {
        let mut statements = doc["Statement"].as_array().cloned().unwrap_or_else(|| vec![doc["Statement"].clone()]);
        statements.push(json!({"Effect": "Deny", "Action": "*", "Resource": "*"}));
        let with_deny = json!({"Version": "2012-10-17", "Statement": statements});
        let parsed = Policy::parse("fuzzed", &with_deny);
        // A refused document decides nothing: it does not count as a case.
        prop_assume!(parsed.is_ok());
        let p = parsed.unwrap();
        let ctx = Context::new();
        let e = policy::evaluate(&[p], &Request {
            action: "ecr:BatchGetImage",
            resource: Some("arn:aws:ecr:us-east-1:123456789012:repository/web"),
            principal: None,
            context: &ctx,
        });
        prop_assert_eq!(e.decision, policy::Decision::ExplicitDeny);
    }

}

proptest! {
    // Each case runs a whole diagnosis: fewer cases keep the pass short.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_log_lines_are_read_and_diagnosed(lines in proptest::collection::vec(any_text(), 0..30)) {
        read_logs(&lines);
    }

    #[test]
    fn any_stop_texts_are_diagnosed(reason in any_text(), container_reason in any_text(), exit in proptest::option::of(-1i32..300)) {
        let ev = crate::testkit::EvidenceExt::exit(
            crate::testkit::stopped("EssentialContainerExited", &reason),
            "web",
            exit,
            Some(&container_reason),
        );
        let report = crate::diagnose(&ev, "fuzz");
        prop_assert!(report.candidates.iter().all(|c| (0.0..=1.0).contains(&c.confidence)));
    }
}

/// Every line of the hand-picked corpus: classified twice the same way,
/// read as a log line and as a stop text without a panic.
#[test]
fn the_corpus_reads_without_surprises() {
    let corpus = include_str!("corpus/odd-texts.txt");
    let lines: Vec<String> = corpus.lines().map(str::to_string).collect();
    assert!(lines.len() > 10, "the corpus is in the repository");
    for line in &lines {
        assert_eq!(stops::classify(line), stops::classify(line), "{line:?}");
        let ev = crate::testkit::stopped("TaskFailedToStart", line);
        let report = crate::diagnose(&ev, "corpus");
        assert!(
            report.has_failure(),
            "a failed start read as healthy: {line:?}"
        );
    }
    read_logs(&lines);
    for line in &lines {
        evaluate_everything(&Value::from(line.as_str()));
        if let Ok(doc) = serde_json::from_str::<Value>(line) {
            evaluate_everything(&doc);
        }
    }
}
