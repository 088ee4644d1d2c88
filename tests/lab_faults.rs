//! Never confidently wrong: every lab scenario diagnosed behind the
//! fault-injecting proxy. For every AWS action ecs-doctor calls in a
//! scenario, that one action is refused; then a fifth of all requests fail,
//! for each kind of fault, with fixed seeds. Each outcome must be the clean
//! run's top candidate, or a report that says it could not decide and names
//! what was missing (exit 4, or `unknown` first for a task that surely
//! failed) — never another cause, and never "nothing wrong" for a failure.
//!
//! The matrix (fault × scenario → same / undecided / wrong) is printed; wrong
//! must be zero.

mod common;

use common::{lab_python, Lab};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::process::Command;

/// The seed of the random-fault runs: the same requests fail on every run.
const SEED: u64 = 11;

/// What one faulted run concluded, against the clean run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The clean run's top candidate and verdict.
    Same,
    /// Could not decide, and said what was missing.
    Undecided,
    /// The first call failed: one clear line and exit 3, no report.
    CouldNotRun,
    Wrong,
}

struct Run {
    code: i32,
    report: Option<Value>,
    stderr: String,
}

/// Diagnose with a deadline of `timeout` seconds.
fn run_within(lab: &Lab, timeout: &str) -> Run {
    // A scenario asks its own question (`exec …`, `preflight …`); by default, `task`.
    let mut args = lab.question();
    args.extend(["-o", "json", "--timeout", timeout]);
    let out = lab.run(&args);
    Run {
        code: out.status.code().unwrap_or(-1),
        report: serde_json::from_slice(&out.stdout).ok(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(lab: &Lab) -> Run {
    run_within(lab, "6")
}

fn top(report: &Value) -> &str {
    report["candidates"][0]["code"].as_str().unwrap_or("")
}

/// The actions of the gaps the fault made (not the lab's own simulator gap).
fn gaps(report: &Value) -> Vec<String> {
    common::gaps_beyond_the_lab(report)
        .iter()
        .filter_map(|g| g["action"].as_str().map(str::to_string))
        .collect()
}

/// The calls everything hangs on in a scenario: `DescribeTasks` for a
/// task, or those its ready line names (a preflight's service and task
/// definition).
fn essential_calls(lab: &Lab) -> Vec<String> {
    match lab.info["essential_calls"].as_array() {
        Some(list) => list
            .iter()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect(),
        None => vec!["ecs:DescribeTasks".to_string()],
    }
}

/// Judge a faulted run. `refused` is the one action refused (per-action runs).
fn judge(
    clean: &Value,
    clean_code: i32,
    faulted: &Run,
    refused: Option<&str>,
    essential: &[String],
) -> (Outcome, String) {
    // An error AWS or the network gave is told in words, never as a Rust value.
    let printed = format!(
        "{}\n{}",
        faulted
            .report
            .as_ref()
            .map(Value::to_string)
            .unwrap_or_default(),
        faulted.stderr
    );
    if let Some(debug) = common::debug_structure(&printed) {
        return (
            Outcome::Wrong,
            format!("a Rust debug structure reached the user: …{debug}…"),
        );
    }
    let Some(report) = &faulted.report else {
        // Only a call everything hangs on may end the run, with one line.
        let first_call = refused.is_none_or(|a| essential.iter().any(|e| e == a));
        let one_line = faulted.stderr.trim().lines().count() == 1;
        return if faulted.code == 3 && first_call && one_line {
            (Outcome::CouldNotRun, faulted.stderr.trim().to_string())
        } else {
            (
                Outcome::Wrong,
                format!(
                    "exit {} without a report: {}",
                    faulted.code,
                    faulted.stderr.trim()
                ),
            )
        };
    };
    match report["kind"].as_str() {
        Some("service") => return judge_service(clean, clean_code, faulted.code, report, refused),
        Some("cluster") => return judge_cluster(clean, clean_code, faulted.code, report),
        Some("deployment") => {
            return judge_deployment(clean, clean_code, faulted.code, report, refused)
        }
        _ => {}
    }
    let verdict = report["verdict"].as_str().unwrap_or("");
    let detail = format!(
        "exit {} {verdict} top {:?} gaps {:?}",
        faulted.code,
        top(report),
        gaps(report)
    );
    if top(report) == top(clean) && faulted.code == clean_code {
        return (Outcome::Same, detail);
    }
    let gapped = match refused {
        Some(action) => gaps(report).iter().any(|g| g.eq_ignore_ascii_case(action)),
        None => !gaps(report).is_empty(),
    };
    let undecided = (faulted.code == 4 && verdict == "inconclusive")
        || (faulted.code == 1 && top(report) == "unknown");
    // A benign stop stays benign when a fact about something else is missing.
    let still_benign = clean_code == 0 && faulted.code == 0 && top(report) == top(clean);
    // A less specific cause the full evidence supports too (the failed ELB
    // check behind a port mismatch), while the report says the specific
    // check could not decide.
    let clean_codes: Vec<&str> = clean["candidates"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["code"].as_str()).collect())
        .unwrap_or_default();
    let specific_undecided = report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == top(clean)))
        .is_some_and(|c| c["status"] == "inconclusive");
    let less_specific =
        faulted.code == clean_code && clean_codes.contains(&top(report)) && specific_undecided;
    if gapped && (undecided || still_benign || less_specific) {
        (Outcome::Undecided, detail)
    } else {
        (Outcome::Wrong, detail)
    }
}

/// The exit code a report's verdict stands for.
fn code_of(report: &Value) -> i32 {
    match report["verdict"].as_str() {
        Some("failure") => 1,
        Some("no-failure") => 0,
        _ => 4,
    }
}

/// A service sweep: each task judged as a task against the clean run's
/// report of the same task, and the scheduler's issues unchanged. Stopped
/// tasks that could not be listed are a named gap, never an empty list.
fn judge_service(
    clean: &Value,
    clean_code: i32,
    code: i32,
    report: &Value,
    refused: Option<&str>,
) -> (Outcome, String) {
    let tasks = report["tasks"].as_array().cloned().unwrap_or_default();
    let clean_tasks = clean["tasks"].as_array().cloned().unwrap_or_default();
    let issues = |r: &Value| -> Vec<String> {
        r["issues"]
            .as_array()
            .map(|i| i.iter().map(|i| i["kind"].to_string()).collect())
            .unwrap_or_default()
    };
    let detail = format!(
        "exit {code} {} groups {:?} gaps {:?}",
        report["verdict"],
        group_causes(report),
        gaps(report)
    );
    // The older tasks' scale-in protection is read, not an event: without
    // the reads behind it (named in the gaps), it may be missing.
    let protection_unread = gaps(report).iter().any(|g| {
        [
            "ecs:GetTaskProtection",
            "ecs:ListTasks",
            "ecs:DescribeTasks",
        ]
        .contains(&g.as_str())
    });
    let read_issue = "\"tasks-protected\"";
    let without_reads = |r: &Value| -> Vec<String> {
        issues(r)
            .into_iter()
            .filter(|k| !(protection_unread && k == read_issue))
            .collect()
    };
    if without_reads(report) != without_reads(clean) {
        return (
            Outcome::Wrong,
            format!("{detail}: the scheduler's issues changed"),
        );
    }
    let protection_missing = issues(report) != issues(clean);
    if clean_code == 1 && code == 0 {
        return (
            Outcome::Wrong,
            format!("{detail}: a failing service read as healthy"),
        );
    }
    if tasks.is_empty() && !clean_tasks.is_empty() {
        let named = gaps(report)
            .iter()
            .any(|g| g == "ecs:ListTasks" || g == "ecs:DescribeTasks");
        return if named && report["groups"].as_array().is_some_and(Vec::is_empty) {
            (Outcome::Undecided, detail)
        } else {
            (
                Outcome::Wrong,
                format!("{detail}: tasks missing without a gap"),
            )
        };
    }
    let mut outcome = Outcome::Same;
    for task in &tasks {
        let arn = &task["task"]["arn"];
        let Some(clean_task) = clean_tasks.iter().find(|c| &c["task"]["arn"] == arn) else {
            return (
                Outcome::Wrong,
                format!("{detail}: {arn} was not in the clean sweep"),
            );
        };
        let run = Run {
            code: code_of(task),
            report: Some(task.clone()),
            stderr: String::new(),
        };
        let (task_outcome, why) = judge(clean_task, code_of(clean_task), &run, refused, &[]);
        match task_outcome {
            Outcome::Wrong => return (Outcome::Wrong, format!("{detail}: task {arn}: {why}")),
            Outcome::Undecided => outcome = Outcome::Undecided,
            _ => {}
        }
    }
    if protection_missing {
        // Undecided, and said so: a refused read is never a pass.
        return if code == 4 || code == clean_code && code != 0 {
            (Outcome::Undecided, detail)
        } else {
            (
                Outcome::Wrong,
                format!("{detail}: protection unread, yet decided"),
            )
        };
    }
    if outcome == Outcome::Same && code != clean_code {
        return (
            Outcome::Wrong,
            format!("{detail}: same tasks, another exit code"),
        );
    }
    (outcome, detail)
}

/// A sweep's groups as `cause×count`, for a judgement's detail.
fn group_causes(report: &Value) -> Vec<String> {
    report["groups"]
        .as_array()
        .map(|g| {
            g.iter()
                .map(|g| format!("{}×{}", g["cause"], g["count"]))
                .collect()
        })
        .unwrap_or_default()
}

/// A deployment: the same state and exit code, or an undecided one (exit 4)
/// that names what was missing. A state read from `DescribeServices` when
/// the deployments API failed must agree with the clean one. Its tasks are
/// judged as a service sweep's.
fn judge_deployment(
    clean: &Value,
    clean_code: i32,
    code: i32,
    report: &Value,
    refused: Option<&str>,
) -> (Outcome, String) {
    let detail = format!(
        "exit {code} state {} from {} groups {:?} gaps {:?}",
        report["state"],
        report["state_source"],
        group_causes(report),
        gaps(report)
    );
    let gapped = !gaps(report).is_empty();
    if report["state"] == "unknown" {
        return if code == 4 && gapped {
            (Outcome::Undecided, detail)
        } else {
            (Outcome::Wrong, format!("{detail}: unknown without a gap"))
        };
    }
    if report["state"] != clean["state"] || code != clean_code {
        return (
            Outcome::Wrong,
            format!(
                "{detail}: another state than the clean run's {}",
                clean["state"]
            ),
        );
    }
    // The tasks, as a service sweep's: each one the clean run's, or undecided with a gap.
    let (outcome, why) = judge_service(clean, clean_code, code, report, refused);
    if outcome == Outcome::Wrong {
        return (Outcome::Wrong, format!("{detail}: {why}"));
    }
    if outcome == Outcome::Same && report["state_source"] == clean["state_source"] {
        (Outcome::Same, detail)
    } else if gapped {
        (Outcome::Undecided, detail)
    } else {
        (Outcome::Wrong, format!("{detail}: changed without a gap"))
    }
}

/// A cluster sweep: every row is one the clean run had, or says it could
/// not decide; a clean failure row may only give way to an undecided one
/// of the same service, with the gaps named.
fn judge_cluster(clean: &Value, clean_code: i32, code: i32, report: &Value) -> (Outcome, String) {
    let rows = |r: &Value| -> Vec<(String, String, String)> {
        r["rows"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| {
                        (
                            r["name"].as_str().unwrap_or_default().to_string(),
                            r["cause"].as_str().unwrap_or_default().to_string(),
                            r["source"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (now, before) = (rows(report), rows(clean));
    let detail = format!("exit {code} rows {now:?} gaps {:?}", gaps(report));
    if now == before && code == clean_code {
        return (Outcome::Same, detail);
    }
    if gaps(report).is_empty() {
        return (
            Outcome::Wrong,
            format!("{detail}: rows changed without a gap"),
        );
    }
    let undecided = |cause: &str| cause == "inconclusive" || cause == "unknown";
    for row in &now {
        if !undecided(&row.1) && !before.contains(row) {
            return (
                Outcome::Wrong,
                format!("{detail}: {row:?} was not in the clean sweep"),
            );
        }
    }
    for row in &before {
        // Unlisted standalone tasks are one undecided row: their groups cannot be named.
        let stands_in = |r: &(String, String, String)| {
            undecided(&r.1) && (r.0 == row.0 || (r.2 == "standalone" && row.2 == "standalone"))
        };
        if !now.contains(row) && !now.iter().any(stands_in) {
            return (Outcome::Wrong, format!("{detail}: {row:?} vanished"));
        }
    }
    if clean_code == 1 && code == 0 {
        return (
            Outcome::Wrong,
            format!("{detail}: a failing cluster read as healthy"),
        );
    }
    (Outcome::Undecided, detail)
}

/// Every lab scenario, or those named in `ECS_DOCTOR_FAULT_SCENARIOS`
/// (comma-separated) to rerun a few by hand.
fn scenarios() -> Vec<String> {
    if let Ok(names) = std::env::var("ECS_DOCTOR_FAULT_SCENARIOS") {
        return names
            .split(',')
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
    }
    let out = Command::new(lab_python())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab/lab.py"))
        .arg("list")
        .output()
        .expect("lab.py list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Every scenario whose name hashes into `part` of `parts` (the test is split
/// so that cargo runs the parts side by side).
fn diagnose_under_faults(part: usize, parts: usize) {
    let mut rows = Vec::new();
    let mut wrong = Vec::new();
    let all = scenarios();
    assert!(
        all.len() > 40 || std::env::var_os("ECS_DOCTOR_FAULT_SCENARIOS").is_some(),
        "the lab lists its scenarios: {all:?}"
    );
    for (i, scenario) in all.iter().enumerate().filter(|(i, _)| i % parts == part) {
        let _ = i;
        let lab = Lab::start_with_faults(scenario);
        lab.faults(&json!({"kind": "off"}));
        let clean = run(&lab);
        let clean_report = clean.report.clone().unwrap_or_else(|| {
            panic!("{scenario}: the clean run made no report: {}", clean.stderr)
        });
        let actions: BTreeSet<String> = lab.calls().into_iter().collect();
        let essential = essential_calls(&lab);
        let mut tally = [0usize; 4];
        let mut record = |fault: String, (outcome, detail): (Outcome, String)| {
            tally[outcome as usize] += 1;
            if outcome == Outcome::Wrong {
                wrong.push(format!(
                    "{scenario} with {fault}: {detail} (clean: exit {} top {:?})",
                    clean.code,
                    top(&clean_report)
                ));
            }
        };
        for action in &actions {
            lab.faults(&json!({"kind": "deny", "action": action}));
            let faulted = run(&lab);
            record(
                format!("{action} refused"),
                judge(
                    &clean_report,
                    clean.code,
                    &faulted,
                    Some(action),
                    &essential,
                ),
            );
        }
        for kind in ["deny", "throttle", "500", "503", "reset"] {
            lab.faults(&json!({"kind": kind, "rate": 0.2, "seed": SEED}));
            let faulted = run(&lab);
            record(
                format!("20% {kind} (seed {SEED})"),
                judge(&clean_report, clean.code, &faulted, None, &essential),
            );
        }
        rows.push(format!(
            "{scenario:34} {:>3} faulted runs: {:>3} same, {:>3} undecided, {:>2} could not run, {} wrong",
            tally.iter().sum::<usize>(),
            tally[Outcome::Same as usize],
            tally[Outcome::Undecided as usize],
            tally[Outcome::CouldNotRun as usize],
            tally[Outcome::Wrong as usize]
        ));
    }
    println!("{}", rows.join("\n"));
    assert!(wrong.is_empty(), "confidently wrong:\n{}", wrong.join("\n"));
}

#[test]
fn faults_part_1_of_4() {
    diagnose_under_faults(0, 4);
}

#[test]
fn faults_part_2_of_4() {
    diagnose_under_faults(1, 4);
}

#[test]
fn faults_part_3_of_4() {
    diagnose_under_faults(2, 4);
}

#[test]
fn faults_part_4_of_4() {
    diagnose_under_faults(3, 4);
}

/// A request that is never answered costs the run its deadline, not more:
/// the diagnosis still ends with a report (what was gathered is judged).
/// One action, then a fifth of all requests, in scenarios of each family.
#[test]
fn requests_that_never_answer_end_at_the_deadline() {
    let mut wrong = Vec::new();
    for scenario in [
        "no-public-ip",
        "app-exit-error",
        "image-not-found",
        "net-nacl-blocked",
        "stopped-by-deployment",
    ] {
        let lab = Lab::start_with_faults(scenario);
        lab.faults(&json!({"kind": "off"}));
        let clean = run(&lab);
        let clean_report = clean.report.clone().expect("a clean report");
        for (fault, config) in [
            (
                "ec2:DescribeRouteTables unanswered",
                json!({"kind": "hang", "action": "ec2:DescribeRouteTables"}),
            ),
            (
                "20% unanswered",
                json!({"kind": "hang", "rate": 0.2, "seed": SEED}),
            ),
        ] {
            lab.faults(&config);
            let started = std::time::Instant::now();
            let faulted = run_within(&lab, "4");
            let took = started.elapsed().as_secs_f64();
            // One call may use half the deadline; none starts after it.
            if took > 4.0 * 1.5 + 1.0 {
                wrong.push(format!(
                    "{scenario} with {fault}: took {took:.1}s with --timeout 4"
                ));
            }
            let refused = config["action"].as_str();
            let (outcome, detail) = judge(
                &clean_report,
                clean.code,
                &faulted,
                refused,
                &essential_calls(&lab),
            );
            if outcome == Outcome::Wrong {
                wrong.push(format!("{scenario} with {fault}: {detail}"));
            }
            println!("{scenario:24} {fault:36} {took:4.1}s {outcome:?}");
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
