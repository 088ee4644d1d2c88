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
    if let Some(debug) = common::debug_structure(err) {
        panic!("a debug structure ({debug}): {err}");
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

/// Whatever a command names that AWS does not know ends the run the same
/// way: exit 3 and one plain line that names what was not found.
#[test]
fn every_command_exits_3_when_aws_does_not_know_what_was_named() {
    let lab = Lab::start("preflight-ready");
    let cluster = lab.get("cluster");
    let region = "us-east-1";
    let missing_task = format!(
        "arn:aws:ecs:{region}:123456789012:task/{cluster}/00000000000000000000000000000000"
    );
    let task_in_missing_cluster = format!(
        "arn:aws:ecs:{region}:123456789012:task/no-such-cluster/00000000000000000000000000000000"
    );
    let family_revision = {
        let arn = lab.get("next_revision");
        let family = arn.rsplit('/').next().unwrap().split(':').next().unwrap();
        format!("{family}:999")
    };
    let subnet = lab.get("subnet_id");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["task", &missing_task], "not found"),
        (
            vec!["task", &task_in_missing_cluster],
            "cluster no-such-cluster was not found",
        ),
        (vec!["exec", &missing_task], "not found"),
        (
            vec![
                "service",
                "no-such-service",
                "--cluster",
                cluster,
                "--region",
                region,
            ],
            "service no-such-service does not exist",
        ),
        (
            vec![
                "service",
                "web",
                "--cluster",
                "no-such-cluster",
                "--region",
                region,
            ],
            "cluster no-such-cluster was not found",
        ),
        (
            vec!["cluster", "no-such-cluster", "--region", region],
            "cluster no-such-cluster was not found",
        ),
        (
            vec![
                "preflight",
                "--service",
                "no-such-service",
                "--cluster",
                cluster,
                "--region",
                region,
            ],
            "no-such-service",
        ),
        (
            vec![
                "preflight",
                "--service",
                "web",
                "--cluster",
                "no-such-cluster",
                "--region",
                region,
            ],
            "cluster no-such-cluster was not found",
        ),
        (
            vec![
                "preflight",
                "--task-definition",
                &family_revision,
                "--subnet",
                subnet,
                "--region",
                region,
            ],
            &family_revision,
        ),
    ];
    for (args, named) in cases {
        let out = lab.run(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert_one_plain_line(&err);
        assert!(err.contains(named), "{args:?} names {named}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: no report");
    }
}

/// The commands that print a report (and take the render flags).
const REPORT_COMMANDS: &[&str] = &[
    "task",
    "exec",
    "preflight",
    "service",
    "cluster",
    "event",
    "replay",
];

/// Every command's help ends with the same exit codes.
#[test]
fn every_subcommand_help_states_the_exit_codes() {
    let others = ["explain", "mcp", "completions", "man"];
    for command in REPORT_COMMANDS.iter().chain(&others) {
        let out = ecs_doctor().args([command, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{command}");
        let help = String::from_utf8_lossy(&out.stdout);
        let footer = help
            .find("Exit codes:")
            .unwrap_or_else(|| panic!("{command}:\n{help}"));
        let footer = &help[footer..];
        for line in [
            "2  bad usage or input",
            "3  the diagnosis could not run",
            "task, cluster, service or task definition",
        ] {
            assert!(
                footer.contains(line),
                "{command} --help lacks {line:?}:\n{help}"
            );
        }
    }
}

/// `task A B -o json`: one entry per input, in the order given, an error
/// entry where an input could not be diagnosed.
#[test]
fn several_tasks_keep_one_json_entry_per_input_in_order() {
    let lab = Lab::start("app-exit-error");
    let forgotten = "arn:aws:ecs:us-east-1:123456789012:task/prod/11111111111111111111111111111111";
    let in_missing_cluster =
        "arn:aws:ecs:us-east-1:123456789012:task/no-such-cluster/22222222222222222222222222222222";
    let out = lab.run(&[
        "task",
        forgotten,
        lab.task_arn(),
        in_missing_cluster,
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let entries: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON array");
    let entries = entries.as_array().expect("an array");
    assert_eq!(entries.len(), 3, "{entries:#?}");
    for (entry, input) in [(&entries[0], forgotten), (&entries[2], in_missing_cluster)] {
        assert_eq!(entry["schema_version"], 1, "{entry}");
        assert_eq!(entry["input"], input, "{entry}");
        assert_eq!(entry["exit_code"], 3, "{entry}");
        let error = entry["error"].as_str().expect("an error line");
        assert_eq!(error.lines().count(), 1, "{error}");
        assert!(entry.get("verdict").is_none(), "{entry}");
    }
    assert!(
        entries[0]["error"].as_str().unwrap().contains("not found"),
        "{}",
        entries[0]
    );
    assert!(
        entries[2]["error"]
            .as_str()
            .unwrap()
            .contains("no-such-cluster"),
        "{}",
        entries[2]
    );
    common::assert_contract(&entries[1]);
    assert_eq!(common::top_code(&entries[1]), "app-exit-error");
    // Each input that could not be diagnosed is named on stderr as well.
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 2, "{err}");
}

/// `--timeout` is 1 to 600 seconds, refused otherwise before anything runs;
/// `--log-lines 0` reads no log events at all.
#[test]
fn timeout_is_bounded_and_log_lines_zero_reads_no_log_events() {
    for bad in ["0", "601"] {
        let out = ecs_doctor()
            .args([
                "task",
                "0123456789abcdef0123456789abcdef",
                "--cluster",
                "prod",
            ])
            .args(["--timeout", bad])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "--timeout {bad}: {err}");
        assert!(
            err.contains("--timeout") && err.contains("1..=600"),
            "--timeout {bad}: {err}"
        );
    }

    let lab = Lab::start_with_faults("app-exit-error");
    lab.faults(&serde_json::json!({"kind": "off"}));
    let (code, report) = lab.diagnose_json(&["--log-lines", "0", "--timeout", "600"]);
    assert!([0, 1, 4].contains(&code), "{report:#}");
    let calls = lab.calls();
    assert!(
        calls.iter().any(|c| c == "ecs:DescribeTasks"),
        "the proxy saw the run: {calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c.starts_with("logs:GetLogEvents")),
        "--log-lines 0 reads no log events: {calls:?}"
    );
    // The same run with the default reads them.
    lab.faults(&serde_json::json!({"kind": "off"}));
    let (code, _) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert!(
        lab.calls().iter().any(|c| c == "logs:GetLogEvents"),
        "{:?}",
        lab.calls()
    );
}

/// `replay -` reads the bundle from standard input, as `event -` does.
#[test]
fn replay_reads_standard_input() {
    use std::io::Write;
    let bundle = std::fs::read("examples/app-exit-error.json").expect("an example bundle");
    let from_file = ecs_doctor()
        .args(["replay", "examples/app-exit-error.json", "-o", "json"])
        .output()
        .unwrap();
    let replay_stdin = |input: &[u8]| {
        let mut child = ecs_doctor()
            .args(["replay", "-", "-o", "json"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = replay_stdin(&bundle);
    assert_eq!(
        out.status.code(),
        from_file.status.code(),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1));
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&from_file.stdout).unwrap();
    assert_eq!(a["candidates"], b["candidates"]);
    // Not a bundle on standard input: bad input, named as such.
    let out = replay_stdin(b"{\"hello\": 1}");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_one_plain_line(&err);
    assert!(
        err.contains("standard input is not an ecs-doctor evidence bundle"),
        "{err}"
    );
}

/// `explain` takes a code in any case, and suggests the nearest codes for
/// one it does not know, in one line (exit 2).
#[test]
fn explain_takes_any_case_and_suggests_near_misses() {
    let lower = ecs_doctor()
        .args(["explain", "no-public-ip"])
        .output()
        .unwrap();
    let upper = ecs_doctor()
        .args(["explain", "No-Public-IP"])
        .output()
        .unwrap();
    assert_eq!(upper.status.code(), Some(0), "{}", stderr(&upper));
    assert_eq!(upper.stdout, lower.stdout);

    let out = ecs_doctor()
        .args(["explain", "imge-not-found"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_one_plain_line(&err);
    assert!(
        err.contains("did you mean image-not-found") && err.contains("explain --list"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    // Nothing near: no suggestion, still one line and exit 2.
    let out = ecs_doctor()
        .args(["explain", "qqqqqqqqqqqqqqqq"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_one_plain_line(&err);
    assert!(!err.contains("did you mean"), "{err}");
}

/// `man --dir DIR` writes the top page and one page per subcommand,
/// creating DIR; without it, the top page is printed.
#[test]
fn man_writes_a_page_per_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("share").join("man1");
    let out = ecs_doctor()
        .args(["man", "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("DIR was created")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = [
        "",
        "-task",
        "-exec",
        "-preflight",
        "-service",
        "-cluster",
        "-deployment",
        "-event",
        "-replay",
        "-explain",
        "-mcp",
        "-completions",
        "-man",
    ]
    .iter()
    .map(|s| format!("ecs-doctor{s}.1"))
    .collect();
    expected.sort();
    assert_eq!(names, expected);
    let task = std::fs::read_to_string(dir.join("ecs-doctor-task.1")).unwrap();
    assert!(
        task.starts_with(".ie") || task.contains(".TH"),
        "roff: {task}"
    );
    assert!(
        task.contains("ecs\\-doctor\\-task") && task.contains("save\\-evidence"),
        "{task}"
    );
    // The paths written, one a line.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        expected.len()
    );

    let out = ecs_doctor().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.contains(".TH ecs-doctor 1") || page.contains(".TH ecs\\-doctor 1"),
        "{page}"
    );
}

/// The table folds the passed checks into one line; `-v` lists them.
#[test]
fn verbose_lists_the_passed_checks() {
    let run = |extra: &[&str]| {
        let out = ecs_doctor()
            .args(["replay", "examples/app-exit-error.json"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let folded = run(&[]);
    assert!(folded.contains("Checked and passed: "), "{folded}");
    assert!(folded.contains("(-v lists them)"), "{folded}");
    assert!(!folded.contains("✓ log-group-missing:"), "{folded}");
    for flag in ["-v", "--verbose"] {
        let listed = run(&[flag]);
        assert!(!listed.contains("(-v lists them)"), "{listed}");
        assert!(listed.contains("✓ log-group-missing:"), "{listed}");
    }
    // The flag is every report command's.
    for command in REPORT_COMMANDS {
        let out = ecs_doctor().args([command, "--help"]).output().unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("-v, --verbose"),
            "{command} --help"
        );
    }
}

/// Task reports say `kind` as sweeps do (equal to `purpose`), and a cluster
/// report has a one-line `headline`, as a service report does.
#[test]
fn json_reports_name_their_kind_and_a_cluster_has_a_headline() {
    let lab = Lab::start("image-not-found");
    for command in ["task", "exec"] {
        let (_, report) = lab.json_of(command, &[]);
        assert_eq!(report["kind"], command, "{report:#}");
        assert_eq!(report["kind"], report["purpose"]);
    }
    let (_, cluster) = lab.json_run(&["cluster", "prod", "--region", "us-east-1"]);
    assert_eq!(cluster["kind"], "cluster");
    let headline = cluster["headline"].as_str().expect("a headline");
    assert_eq!(headline.lines().count(), 1, "{headline}");
    let worst = &cluster["rows"][0];
    assert!(
        headline.starts_with(worst["name"].as_str().unwrap())
            && headline.contains(worst["cause"].as_str().unwrap()),
        "{headline}\n{cluster:#}"
    );

    let lab = Lab::start("preflight-ready");
    let (_, report) = lab.json_run(&lab.question());
    assert_eq!(report["kind"], "preflight", "{report:#}");
    assert_eq!(report["kind"], report["purpose"]);
}

/// `--debug` names each AWS call on stderr as it completes, with its outcome
/// and duration, and nothing of what was sent or answered.
#[test]
fn debug_prints_each_call_and_no_secret() {
    let lab = Lab::start("app-exit-error");
    let out = lab.run(&["task", lab.task_arn(), "-o", "json", "--debug"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the report");
    assert_eq!(common::top_code(&report), "app-exit-error");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("ecs-doctor: debug: "))
        .collect();
    assert!(lines.len() >= 5, "{err}");
    for line in &lines {
        let call = line.trim_start_matches("ecs-doctor: debug: ");
        let (name, rest) = call.split_once(' ').expect("name and outcome");
        let (service, operation) = name.split_once(':').expect("service:Operation");
        assert!(
            service
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && operation
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase()),
            "{line}"
        );
        assert!(rest.ends_with(" ms)") && rest.contains(" ("), "{line}");
    }
    for call in [
        "ecs:DescribeTasks 200 ",
        "ecs:DescribeTaskDefinition 200 ",
        "logs:GetLogEvents 200 ",
    ] {
        assert!(lines.iter().any(|l| l.contains(call)), "{call}:\n{err}");
    }
    // The task definition DescribeTaskDefinition answers with carries this
    // environment value (PGPASSWORD); no body is ever printed, nor the signature.
    assert!(
        std::fs::read_to_string("tests/lab/labkit.py")
            .unwrap()
            .contains("\"PGPASSWORD\": \"lab-only-not-a-secret"),
        "the scenario has the value this test looks for"
    );
    for leak in [
        "lab-only-not-a-secret",
        "Credential=",
        "Signature=",
        "testing",
    ] {
        assert!(!err.contains(leak), "{leak} on stderr:\n{err}");
    }

    // A refused call shows its error code; without --debug, no call is printed.
    let out = lab.run(&[
        "cluster",
        "no-such-cluster",
        "--region",
        "us-east-1",
        "--debug",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("ecs:ListServices 400 ClusterNotFoundException ("),
        "{err}"
    );
    let out = lab.run(&["task", lab.task_arn()]);
    assert!(!stderr(&out).contains("debug:"), "{}", stderr(&out));
}

/// `replay` takes the assumptions its reports advise (`--assign-public-ip`,
/// `--from`): a bundle whose task's public IP AWS no longer held asks for
/// the flag, and replaying it with the flag judges the paths with it,
/// marked as assumed. A flag that needs AWS is refused.
#[test]
fn replay_takes_the_assumptions_its_reports_advise() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/no-public-ip.json");
    let mut bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(example).unwrap()).unwrap();
    bundle["evidence"]["network"]["placement"]["value"]["assign_public_ip"] =
        serde_json::Value::Null;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("unknown-public-ip.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    let replay = |extra: &[&str]| {
        let out = ecs_doctor()
            .args(["replay", file.to_str().unwrap(), "-o", "markdown", "-v"])
            .args(extra)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let unknown = replay(&[]);
    assert!(unknown.contains("pass --assign-public-ip"), "{unknown}");
    let assumed = replay(&["--assign-public-ip", "ENABLED", "--from", "203.0.113.0/24"]);
    assert!(!assumed.contains("pass --assign-public-ip"), "{assumed}");
    assert!(
        assumed.contains("assumed (--assign-public-ip)"),
        "{assumed}"
    );
    assert_ne!(unknown, assumed);

    let out = ecs_doctor()
        .args(["replay", example, "--security-group", "sg-0123"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: unexpected argument '--security-group'"),
        "{err}"
    );
    assert!(common::debug_structure(&err).is_none(), "{err}");
}
