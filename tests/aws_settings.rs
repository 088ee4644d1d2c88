//! The AWS settings a user types: a mistyped profile, a mistyped Region and
//! an endpoint that does not answer each get one plain line and the right
//! exit code, before any diagnosis of the wrong account can happen.

mod common;

use common::ecs_doctor;

const TASK: &str = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef";

fn one_plain_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr).trim_end().to_string();
    assert_eq!(text.lines().count(), 1, "one line: {text}");
    if let Some(debug) = common::debug_structure(&text) {
        panic!("a debug structure ({debug}) in: {text}");
    }
    text
}

/// Environment credentials (AWS's documented example keys).
fn with_keys(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE").env(
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
}

/// A profile file with one profile, and environment credentials that a
/// mistyped `--profile` must not fall back to.
fn with_profiles(cmd: &mut std::process::Command, dir: &std::path::Path) {
    let config = dir.join("config");
    std::fs::write(&config, "[profile prod]\nregion = us-east-1\n").unwrap();
    with_keys(cmd)
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN");
}

#[test]
fn a_mistyped_profile_is_refused_even_with_environment_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ecs_doctor();
    with_profiles(&mut cmd, dir.path());
    // The endpoint is never reached: nothing listens on port 9.
    let out = cmd
        .args([
            "task",
            TASK,
            "--profile",
            "nosuch",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let line = one_plain_line(&out.stderr);
    assert!(
        line.contains("The config profile (nosuch) could not be found") && line.contains("prod"),
        "{line}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_region_that_cannot_be_one_is_bad_input() {
    let out = with_keys(&mut ecs_doctor())
        .args([
            "task",
            "0123456789abcdef0123456789abcdef",
            "--cluster",
            "prod",
            "--region",
            "us east",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let line = one_plain_line(&out.stderr);
    assert!(
        line.contains("--region \"us east\" is not an AWS Region name"),
        "{line}"
    );
}

#[test]
fn an_endpoint_that_does_not_answer_is_said_plainly() {
    let out = with_keys(&mut ecs_doctor())
        .args([
            "task",
            TASK,
            "--endpoint-url",
            "http://127.0.0.1:9",
            // Refused at once; the room is for a loaded machine's retries.
            "--timeout",
            "30",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let line = one_plain_line(&out.stderr);
    assert!(
        line.contains("could not reach AWS") && line.contains("Connection refused"),
        "{line}"
    );
}

#[test]
fn a_profile_without_credentials_says_so_and_not_pass_profile() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ecs_doctor();
    with_profiles(&mut cmd, dir.path());
    // `prod` exists but holds only a Region; the environment's keys must
    // not stand in for it.
    let out = cmd
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args([
            "task",
            TASK,
            "--profile",
            "prod",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let line = one_plain_line(&out.stderr);
    assert!(
        line.contains("profile prod gave no usable credentials")
            && !line.contains("pass --profile"),
        "{line}"
    );
}
