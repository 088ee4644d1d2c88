//! End-to-end: the command line's contract for CI and scripts — the exit
//! codes, one-line errors, JSON that keeps one entry per input, and the
//! flags that shape a run.

mod common;

use common::{ecs_doctor, Lab};
use std::process::Output;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// One line on stderr, with no Rust debug structure in it.
fn assert_one_plain_line(err: &str) {
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    for debug in ["{ kind:", "Error(", "source:", "Some(", "DispatchFailure"] {
        assert!(!err.contains(debug), "a debug structure ({debug}): {err}");
    }
}

#[test]
fn unwritable_save_evidence_still_prints_the_report_and_saves_it_elsewhere() {
    let lab = Lab::start("app-exit-error");
    let tmp = tempfile::tempdir().unwrap();
    let unwritable = tmp.path().join("no-such-directory").join("evidence.json");
    let task_id = lab.task_arn().rsplit('/').next().unwrap().to_string();

    let out = {
        let mut cmd = ecs_doctor();
        cmd.env("TMPDIR", tmp.path()).args([
            "task",
            lab.task_arn(),
            "-o",
            "json",
            "--save-evidence",
            unwritable.to_str().unwrap(),
            "--endpoint-url",
            lab.endpoint(),
        ]);
        cmd.output().unwrap()
    };
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "the report's own code: {err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the report");
    assert_eq!(common::top_code(&report), "app-exit-error");
    let fallback = tmp.path().join(format!("ecs-doctor-{task_id}.json"));
    assert_one_plain_line(&err);
    assert!(
        err.contains("could not write the evidence")
            && err.contains(unwritable.to_str().unwrap())
            && err.contains(fallback.to_str().unwrap()),
        "{err}"
    );
    // The bundle saved instead replays to the same report.
    let replay = ecs_doctor()
        .args(["replay", fallback.to_str().unwrap(), "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(replay.status.code(), Some(1), "{}", stderr(&replay));
    let replayed: serde_json::Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(replayed["candidates"], report["candidates"]);

    // Neither place writable: the report still, and one line that says so.
    let out = ecs_doctor()
        .env("TMPDIR", tmp.path().join("no-such-tmp"))
        .args([
            "task",
            lab.task_arn(),
            "--save-evidence",
            unwritable.to_str().unwrap(),
            "--endpoint-url",
            lab.endpoint(),
        ])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("app-exit-error"));
    assert_one_plain_line(&err);
    assert!(err.contains("it was not saved"), "{err}");
}
