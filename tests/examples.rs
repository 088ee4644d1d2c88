//! The bundled examples: every one replays offline in every format, follows
//! the JSON contract, and still reaches the verdict its name promises.

mod common;

use common::{assert_contract, ecs_doctor, top_code};
use std::path::PathBuf;

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 4,
        "examples/ holds at least one bundle per family"
    );
    files
}

#[test]
fn every_example_replays_to_its_named_cause() {
    for file in examples() {
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        let out = ecs_doctor()
            .args(["replay", file.to_str().unwrap(), "-o", "json"])
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{name}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert_contract(&report);
        // Examples are named after the cause they demonstrate (optionally with a `--variant` suffix).
        let expected = name.split("--").next().unwrap();
        assert_eq!(top_code(&report), expected, "{name}");
        let benign = report["candidates"][0]["benign"].as_bool().unwrap_or(false);
        assert_eq!(
            out.status.code(),
            Some(if benign { 0 } else { 1 }),
            "{name}: exit code"
        );
    }
}

#[test]
fn every_example_renders_as_table_and_markdown() {
    for file in examples() {
        for format in ["table", "markdown"] {
            let out = ecs_doctor()
                .args(["replay", file.to_str().unwrap(), "-o", format, "--no-color"])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("Gaps"),
                "{}: {format} report lacks the gaps section",
                file.display()
            );
            assert!(
                !text.contains('\u{1b}'),
                "{}: --no-color output has escape codes",
                file.display()
            );
        }
    }
}

/// No rendered report carries a Rust debug structure: every example in
/// every format, every golden report of the lab and the renderers (each is a
/// real run's output), and a replay with assumptions.
#[test]
fn no_rendered_output_carries_a_debug_structure() {
    for file in examples() {
        for format in ["table", "markdown", "json"] {
            let out = ecs_doctor()
                .args(["replay", file.to_str().unwrap(), "-o", format, "-v"])
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if let Some(debug) = common::debug_structure(&text) {
                panic!("{} -o {format}: …{debug}…", file.display());
            }
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut goldens = 0;
    for dir in [
        "tests/snapshots",
        "src/render/table/snapshots",
        "checks/src/snapshots",
        "checks/src/reach/snapshots",
    ] {
        for entry in std::fs::read_dir(root.join(dir)).expect("a snapshot directory") {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "snap") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Past insta's header (its `source:` line names the test file).
            let body = text
                .strip_prefix("---\n")
                .and_then(|t| t.split_once("\n---\n"))
                .map_or(text.as_str(), |(_, body)| body);
            if let Some(debug) = common::debug_structure(body) {
                panic!("{}: …{debug}…", path.display());
            }
            goldens += 1;
        }
    }
    assert!(goldens > 50, "the goldens were found: {goldens}");
    // The detector itself: the connection error a user once saw is caught.
    assert!(common::debug_structure(
        "dispatch failure: io error: (ConnectorError { kind: Io, source: hyper_util::client::legacy::Error(Connect, …"
    )
    .is_some());
}

#[test]
fn bundles_hold_no_environment_values() {
    for file in examples() {
        let bundle: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(bundle["format"], "ecs-doctor-evidence");
        assert!(bundle["ecs_doctor_version"].is_string());
        let containers = bundle["evidence"]["task_definition"]["value"]["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for c in containers {
            for var in c["environment"].as_array().cloned().unwrap_or_default() {
                let name = var["name"].as_str().unwrap_or_default();
                let value = var["value"].as_str().unwrap_or_default();
                let numeric_port = name.to_ascii_uppercase().ends_with("PORT")
                    && value.chars().all(|ch| ch.is_ascii_digit());
                assert!(
                    value == "[REDACTED]" || numeric_port,
                    "{}: {name} is not redacted",
                    file.display()
                );
            }
        }
    }
}
