//! End-to-end: every app, benign and platform cause through the real binary
//! against its lab scenario, including multi-container tasks, with a golden
//! Markdown report per scenario.

mod common;

use common::{snapshot_settings, top_code, top_evidence, Lab};
use serde_json::Value;

/// Run the scenario: the exit code, the JSON report, and the Markdown golden file.
fn diagnose(lab: &Lab, snapshot: &str) -> (i32, Value) {
    let (code, report) = lab.diagnose_json(&[]);
    common::assert_contract(&report);
    let mut settings = snapshot_settings();
    // Application timestamps that are not RFC 3339 (gunicorn's `[2026-01-01 12:00:00 +0000]`).
    settings.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "[timestamp]");
    settings.bind(|| insta::assert_snapshot!(snapshot, lab.diagnose_markdown()));
    (code, report)
}

fn codes(report: &Value) -> Vec<String> {
    report["candidates"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn candidate<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["candidates"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["code"] == code))
        .unwrap_or_else(|| panic!("no {code} candidate: {report:#}"))
}

fn fixes(report: &Value) -> String {
    common::top_lines(report, "fix")
}

#[test]
fn app_exit_zero_of_a_service() {
    let lab = Lab::start("app-exit-zero");
    let (code, report) = diagnose(&lab, "app_exit_zero");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "app-exit-zero", "{report:#}");
    let ev = top_evidence(&report);
    assert!(ev.contains("container `web` exitCode = 0"), "{ev}");
    assert!(ev.contains(lab.get("decisive_line")), "{ev}");
    assert!(fixes(&report).contains("daemon off"));
}

#[test]
fn app_out_of_memory_cites_the_limit() {
    let lab = Lab::start("app-out-of-memory");
    let (code, report) = diagnose(&lab, "app_out_of_memory");
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "app-out-of-memory", "{report:#}");
    let ev = top_evidence(&report);
    assert!(ev.contains(lab.get("reason")), "{ev}");
    assert!(ev.contains("memory (hard limit) = 384 MiB"), "{ev}");
    assert!(ev.contains("exitCode = 137"), "{ev}");
    assert!(fixes(&report).contains("768 MiB"));
}

#[test]
fn app_command_not_found_names_the_program() {
    let lab = Lab::start("app-command-not-found");
    let (code, report) = diagnose(&lab, "app_command_not_found");
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "app-command-not-found", "{report:#}");
    assert!(report["candidates"][0]["title"]
        .as_str()
        .unwrap()
        .contains("`gunicorn` was not found"));
    let ev = top_evidence(&report);
    assert!(ev.contains("executable file not found in $PATH"), "{ev}");
    assert!(ev.contains("command = [\"gunicorn\""), "{ev}");
    // The container never started: its log stream does not exist, and the report says so.
    let logs = report["logs"].as_array().expect("log excerpts");
    assert!(
        logs[0]["note"]
            .as_str()
            .unwrap_or("")
            .contains("never started"),
        "{logs:?}"
    );
}

#[test]
fn app_missing_config_names_the_variable_and_where_to_add_it() {
    let lab = Lab::start("app-missing-config");
    let (code, report) = diagnose(&lab, "app_missing_config");
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "app-missing-config", "{report:#}");
    let ev = top_evidence(&report);
    assert!(
        ev.contains("KeyError: 'DATABASE_URL'") || ev.contains("os.environ[\"DATABASE_URL\"]"),
        "{ev}"
    );
    assert!(ev.contains("environment [NODE_ENV, PORT"), "{ev}");
    assert!(
        fixes(&report).contains("\"name\": \"DATABASE_URL\""),
        "{}",
        fixes(&report)
    );
    // The generic exit is listed, below, with the reason it ranks lower.
    let generic = candidate(&report, "app-exit-error");
    assert!(generic["against"][0]
        .as_str()
        .unwrap()
        .contains("app-missing-config"));
}

#[test]
fn app_port_mismatch_gives_both_numbers() {
    let lab = Lab::start("app-port-mismatch");
    let (code, report) = diagnose(&lab, "app_port_mismatch");
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "app-port-mismatch", "{report:#}");
    let title = report["candidates"][0]["title"].as_str().unwrap();
    assert!(title.contains("8080") && title.contains("3000"), "{title}");
    assert!(top_evidence(&report).contains("environment PORT = 3000"));
    assert_eq!(codes(&report)[1], "lb-health-check-failed");
}

#[test]
fn lb_health_check_failed_gathers_the_target_group() {
    let lab = Lab::start("lb-health-check-failed");
    let (code, report) = diagnose(&lab, "lb_health_check_failed");
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "lb-health-check-failed", "{report:#}");
    let ev = top_evidence(&report);
    assert!(
        ev.contains("HTTP /health on traffic-port, success codes 200"),
        "{ev}"
    );
    assert!(
        ev.contains(lab.get("replacement_ip")),
        "the replacement's target: {ev}"
    );
    assert!(ev.contains("Target.ResponseCodeMismatch"), "{ev}");
    assert!(ev.contains("healthCheckGracePeriodSeconds = 0"), "{ev}");
    assert!(
        ev.contains("security groups: allowed by"),
        "the security group path is evaluated: {ev}"
    );
    assert!(ev.contains("GET /health 404"), "{ev}");
    assert!(fixes(&report).contains("modify-target-group"));
}

#[test]
fn app_health_check_failed_reads_the_health_check() {
    let lab = Lab::start("app-health-check-failed");
    let (code, report) = diagnose(&lab, "app_health_check_failed");
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "app-health-check-failed", "{report:#}");
    let ev = top_evidence(&report);
    assert!(ev.contains(lab.get("health_command")), "{ev}");
    assert!(
        ev.contains("interval 10s, timeout 5s, retries 3, no startPeriod"),
        "{ev}"
    );
    assert!(ev.contains("healthStatus = UNHEALTHY"), "{ev}");
    assert!(ev.contains("a slow start"), "{ev}");
    assert!(fixes(&report).contains("startPeriod"));
}

#[test]
fn app_sigterm_timeout_outranks_the_benign_deployment() {
    let lab = Lab::start("app-sigterm-timeout");
    let (code, report) = diagnose(&lab, "app_sigterm_timeout");
    assert_eq!(
        code, 1,
        "a forced kill is a failure even during a deployment"
    );
    assert_eq!(top_code(&report), "app-sigterm-timeout", "{report:#}");
    let ev = top_evidence(&report);
    assert!(ev.contains("stopTimeout not set (30s default)"), "{ev}");
    assert!(ev.contains("a shell is PID 1"), "{ev}");
    let dep = candidate(&report, "stopped-by-deployment");
    assert!(dep["against"][0].as_str().unwrap().contains("137"));
}

#[test]
fn stopped_by_user_is_benign() {
    let lab = Lab::start("stopped-by-user");
    let (code, report) = diagnose(&lab, "stopped_by_user");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(top_code(&report), "stopped-by-user", "{report:#}");
    assert_eq!(report["candidates"][0]["benign"], true);
    assert!(top_evidence(&report).contains("stopCode = UserInitiated"));
    assert!(fixes(&report).contains("AttributeValue=StopTask"));
}

#[test]
fn spot_interruption_is_benign() {
    let lab = Lab::start("spot-interruption");
    let (code, report) = diagnose(&lab, "spot_interruption");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(top_code(&report), "spot-interruption", "{report:#}");
    assert!(top_evidence(&report).contains("capacityProviderName = FARGATE_SPOT"));
}

#[test]
fn platform_maintenance_is_benign() {
    let lab = Lab::start("platform-maintenance");
    let (code, report) = diagnose(&lab, "platform_maintenance");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(top_code(&report), "platform-maintenance", "{report:#}");
    assert!(
        top_evidence(&report).contains("performing maintenance on the underlying infrastructure")
    );
}

#[test]
fn platform_error_is_a_failure_with_low_actionability() {
    let lab = Lab::start("platform-error");
    let (code, report) = diagnose(&lab, "platform_error");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "platform-error", "{report:#}");
    assert!(top_evidence(&report).contains("ContainerRuntimeError"));
    assert!(fixes(&report).contains("Support case"));
}

#[test]
fn unknown_future_stop_code_is_reported_not_guessed() {
    let lab = Lab::start("unknown");
    let (code, report) = diagnose(&lab, "unknown");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), "unknown", "{report:#}");
    for c in codes(&report).iter().filter(|c| *c != "unknown") {
        assert!(
            !c.starts_with("app-"),
            "an app cause was claimed for an unexplained stop: {c}"
        );
    }
    assert!(top_evidence(&report).contains(lab.get("stop_code")));
}

#[test]
fn a_sidecar_killed_after_the_app_crashed_does_not_outrank_the_app() {
    let lab = Lab::start("app-exit-error-sidecars");
    let (code, report) = diagnose(&lab, "app_exit_error_sidecars");
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "app-exit-error", "{report:#}");
    let title = report["candidates"][0]["title"].as_str().unwrap();
    assert!(
        title.contains("`web`") && title.contains("code 2"),
        "{title}"
    );
    let ev = top_evidence(&report);
    assert!(ev.contains(lab.get("decisive_line")), "{ev}");
    assert!(
        ev.contains("`envoy` exitCode = 137: stopped by ECS after `web` exited (teardown)"),
        "{ev}"
    );
    for c in codes(&report) {
        assert!(
            c != "app-out-of-memory" && c != "app-sigterm-timeout",
            "the sidecar's 137 was blamed: {c}"
        );
    }
    // envoy logs through FireLens: a gap says where its logs went.
    let gaps = report["gaps"].as_array().unwrap();
    assert!(
        gaps.iter().any(|g| g["impact"]
            .as_str()
            .unwrap_or("")
            .contains("container envoy")
            && g["impact"]
                .as_str()
                .unwrap_or("")
                .contains("FireLens (Fluent Bit output `datadog`")),
        "{gaps:?}"
    );
}

#[test]
fn a_dependency_that_never_became_healthy_is_explained() {
    let lab = Lab::start("app-depends-on-unhealthy");
    let (code, report) = diagnose(&lab, "app_depends_on_unhealthy");
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "app-health-check-failed", "{report:#}");
    let title = report["candidates"][0]["title"].as_str().unwrap();
    assert!(
        title.contains("`web` never started: `db-proxy` did not become healthy"),
        "{title}"
    );
    let ev = top_evidence(&report);
    assert!(
        ev.contains("dependsOn `db-proxy` with condition HEALTHY"),
        "{ev}"
    );
    assert!(ev.contains("startTimeout is 60s"), "{ev}");
    assert!(
        !codes(&report).contains(&"app-out-of-memory".to_string()),
        "{report:#}"
    );
}

/// A container with a restart policy that still ended its task: the report
/// says why ECS did not restart it, and counts the runs its one stream holds.
#[test]
fn a_restart_policy_that_did_not_restart_is_explained() {
    let lab = Lab::start("app-exit-error-restart-policy");
    let (code, report) = lab.diagnose_json(&["--log-lines", "200"]);
    common::assert_contract(&report);
    assert_eq!(code, 1);
    assert_eq!(top_code(&report), "app-exit-error", "{report:#}");
    let ev = top_evidence(&report);
    assert!(
        ev.contains("has a restart policy (restartAttemptPeriod 60 s) and the task ran 11 minutes: ECS may have restarted it in place before"),
        "{ev}"
    );
    assert!(
        ev.contains("less than 60 s after its last start or restart"),
        "{ev}"
    );
    let repeated = format!("\"{}\" 2 times", lab.get("decisive_line"));
    assert!(ev.contains(&repeated), "{ev}");
    let fixes = common::top_lines(&report, "fix");
    assert!(
        fixes.contains("lower `restartPolicy.restartAttemptPeriod`"),
        "{fixes}"
    );
    // With the default 20 lines only the last run is read: the timing
    // still says what happened, and no repeat is claimed.
    let (_, short) = lab.diagnose_json(&[]);
    let ev = top_evidence(&short);
    assert!(ev.contains("has a restart policy"), "{ev}");
    assert!(!ev.contains("2 times"), "{ev}");
}
