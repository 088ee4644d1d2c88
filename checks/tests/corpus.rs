//! The corpus of real stop texts (`checks/src/corpus/real-stop-texts.jsonl`):
//! texts quoted verbatim from AWS documentation and public issue threads,
//! each with its source, where ECS shows it, the facts it states and the
//! facts a careless reader would wrongly take from it. This test holds the
//! corpus itself to that shape, so every row stays citable and labelled;
//! the classifier is held to the rows by the stop-text tests.

use std::collections::BTreeSet;

const FIELDS: &[&str] = &[
    "stoppedReason",
    "container.reason",
    "service-event",
    "runtask-failure",
    "app-log",
    "stopCode",
];

fn rows() -> Vec<serde_json::Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/corpus/real-stop-texts.jsonl"
    );
    std::fs::read_to_string(path)
        .expect("the corpus")
        .lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", i + 1))
        })
        .collect()
}

fn labels(row: &serde_json::Value, key: &str) -> Vec<String> {
    row[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is a list: {row}"))
        .iter()
        .map(|v| v.as_str().expect("a label").to_string())
        .collect()
}

#[test]
fn every_row_is_real_sourced_and_labelled() {
    let rows = rows();
    assert!(rows.len() >= 100, "{} rows", rows.len());
    let mut texts = BTreeSet::new();
    for row in &rows {
        let text = row["text"].as_str().expect("a text");
        assert!(!text.trim().is_empty(), "{row}");
        // The same text may come with different stop codes (Spot's notice
        // was `TerminationNotice`, now `SpotInterruption`), never twice alike.
        let key = (
            text.to_string(),
            row["field"].to_string(),
            row["stop_code"].to_string(),
        );
        assert!(texts.insert(key), "twice: {text}");
        let source = row["source"].as_str().expect("a source");
        assert!(source.starts_with("https://"), "a citable source: {row}");
        let field = row["field"].as_str().expect("a field");
        assert!(FIELDS.contains(&field), "field {field:?}: {row}");
        let states = labels(row, "states");
        let not = labels(row, "must_not_state");
        assert!(!states.is_empty(), "states something: {row}");
        for label in states.iter().chain(&not) {
            assert!(
                label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-:".contains(c))
                    || label.starts_with("permission-denied:"),
                "label {label:?}: {row}"
            );
        }
        for label in &states {
            assert!(
                !not.contains(label),
                "states and must not state {label}: {row}"
            );
        }
    }
}
