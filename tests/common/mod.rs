//! The test harness for end-to-end tests: start an AWS lab scenario (moto on
//! loopback, built through the real AWS APIs) and run the real ecs-doctor
//! binary against it with `--endpoint-url`, exactly as a user would.
//!
//! ```ignore
//! let lab = Lab::start("app-exit-error");
//! let (code, report) = lab.diagnose_json(&[]);
//! assert_eq!(code, 1);
//! assert_eq!(report["candidates"][0]["code"], "app-exit-error");
//! ```
//!
//! `Lab::start_with_policy(scenario, policy_json)` starts the same scenario with
//! IAM enforced: ecs-doctor then runs as a user whose only permissions are
//! `policy_json` (see tests/lab/README.md, "Enforcing a caller policy").
#![allow(dead_code)]

pub mod runtime_api;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The lab's Python, created on first use by `tests/lab/bootstrap.sh`.
pub fn lab_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo_root().join("tests/lab/bootstrap.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run tests/lab/bootstrap.sh");
        assert!(out.status.success(), "tests/lab/bootstrap.sh failed");
        let stdout = String::from_utf8_lossy(&out.stdout);
        PathBuf::from(
            stdout
                .lines()
                .last()
                .expect("bootstrap prints the python path")
                .trim(),
        )
    })
}

/// Labs started by this test binary (keeps temporary file names apart).
static LAB_COUNT: AtomicUsize = AtomicUsize::new(0);

/// One running lab scenario. Dropping it stops the lab.
pub struct Lab {
    child: Child,
    stdin: Option<ChildStdin>,
    log: PathBuf,
    policy: Option<PathBuf>,
    /// The scenario's ready line: endpoint, region, task_arn, and scenario extras.
    pub info: Value,
}

impl Lab {
    pub fn start(scenario: &str) -> Lab {
        Lab::launch(scenario, None, &[])
    }

    /// Start a scenario behind the lab's fault-injecting proxy
    /// (`tests/lab/faultproxy.py`); [`Lab::faults`] steers it.
    pub fn start_with_faults(scenario: &str) -> Lab {
        Lab::launch(scenario, None, &["--fault-proxy"])
    }

    /// Set the proxy's faults (`{"kind": "deny", "action": "ec2:DescribeVpcs"}`,
    /// `{"kind": "throttle", "rate": 0.2, "seed": 7}`, `{"kind": "off"}`); this
    /// also clears the list of calls.
    pub fn faults(&self, config: &Value) {
        let body = config.to_string();
        let reply = self.proxy_request("POST", "/__faults__", &body);
        assert!(
            reply.starts_with("HTTP/1.1 200"),
            "the proxy refused {body}: {reply}"
        );
    }

    /// The AWS actions ecs-doctor called (or tried) since the last [`Lab::faults`].
    pub fn calls(&self) -> Vec<String> {
        let reply = self.proxy_request("GET", "/__calls__", "");
        let body = reply.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("calls ({e}): {reply}"))
    }

    fn proxy_request(&self, method: &str, path: &str, body: &str) -> String {
        use std::io::Write;
        let address = self.endpoint().trim_start_matches("http://").to_string();
        let mut stream =
            std::net::TcpStream::connect(&address).expect("connect to the fault proxy");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a read timeout");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send to the fault proxy");
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        reply
    }

    /// Start a scenario, then make the lab enforce IAM: ecs-doctor runs as the
    /// user `ecs-doctor-reader`, whose only permissions are `policy_json` (an IAM
    /// policy document). [`Lab::run`] and the `diagnose_*` helpers use that user's
    /// keys; the usual test keys are refused from then on.
    pub fn start_with_policy(scenario: &str, policy_json: &str) -> Lab {
        let path = std::env::temp_dir().join(format!(
            "ecs-doctor-lab-policy-{}-{}.json",
            std::process::id(),
            LAB_COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, policy_json).expect("write the caller policy");
        Lab::launch(scenario, Some(path), &[])
    }

    fn launch(scenario: &str, policy: Option<PathBuf>, extra: &[&str]) -> Lab {
        let log = std::env::temp_dir().join(format!(
            "ecs-doctor-lab-{scenario}-{}-{}.log",
            std::process::id(),
            LAB_COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let log_file = std::fs::File::create(&log).expect("create lab log");
        let mut command = Command::new(lab_python());
        command
            .arg(repo_root().join("tests/lab/lab.py"))
            .args(["serve", scenario]);
        if let Some(path) = &policy {
            command.arg("--caller-policy").arg(path);
        }
        command.args(extra);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("start the lab");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("lab stdout");
        // Read the ready line on a thread, so a hung lab fails the test instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_default();
        let info: Value = match serde_json::from_str(line.trim()) {
            Ok(v) => v,
            Err(_) => {
                let _ = child.kill();
                let mut text = String::new();
                let _ = std::fs::File::open(&log).and_then(|mut f| f.read_to_string(&mut text));
                panic!("lab scenario {scenario} did not start; its log:\n{text}");
            }
        };
        Lab {
            child,
            stdin,
            log,
            policy,
            info,
        }
    }

    /// The enforced caller's access key id and secret, when the lab was started
    /// with a policy.
    pub fn caller_keys(&self) -> Option<(&str, &str)> {
        Some((
            self.info["caller_access_key_id"].as_str()?,
            self.info["caller_secret_access_key"].as_str()?,
        ))
    }

    pub fn endpoint(&self) -> &str {
        self.info["endpoint"].as_str().expect("endpoint")
    }

    pub fn task_arn(&self) -> &str {
        self.info["task_arn"].as_str().expect("task_arn")
    }

    pub fn get(&self, key: &str) -> &str {
        self.info[key]
            .as_str()
            .unwrap_or_else(|| panic!("lab ready line has no {key}: {}", self.info))
    }

    /// Run ecs-doctor with this lab's endpoint and test credentials (the
    /// enforced caller's keys for a lab started with a policy).
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = ecs_doctor();
        self.as_caller(&mut cmd);
        cmd.args(args).arg("--endpoint-url").arg(self.endpoint());
        cmd.output().expect("run ecs-doctor")
    }

    /// Give `cmd` the keys ecs-doctor runs with against this lab: the
    /// enforced caller's for a lab started with a policy (or a scenario's
    /// on-call caller), else those of [`ecs_doctor`].
    pub fn as_caller(&self, cmd: &mut Command) {
        if let Some((id, secret)) = self.caller_keys() {
            cmd.env("AWS_ACCESS_KEY_ID", id)
                .env("AWS_SECRET_ACCESS_KEY", secret);
            // An assumed-role caller's session; an enforced lab user has none.
            match self.info["caller_session_token"].as_str() {
                Some(token) if self.info["caller_user"].is_null() => {
                    cmd.env("AWS_SESSION_TOKEN", token);
                }
                _ => {
                    cmd.env_remove("AWS_SESSION_TOKEN");
                }
            }
        }
    }

    /// `ecs-doctor task <arn> -o json [extra]`: the exit code and the parsed report.
    pub fn diagnose_json(&self, extra: &[&str]) -> (i32, Value) {
        self.json_of("task", extra)
    }

    /// `ecs-doctor <command> <arn> -o json [extra]`: the exit code and the parsed report.
    pub fn json_of(&self, command: &str, extra: &[&str]) -> (i32, Value) {
        let mut args = vec![command, self.task_arn()];
        args.extend_from_slice(extra);
        self.json_run(&args)
    }

    /// The question the scenario asks (its ready line's `args`), or `task <arn>`.
    pub fn question(&self) -> Vec<&str> {
        match self.info["args"].as_array() {
            Some(list) => list.iter().filter_map(|a| a.as_str()).collect(),
            None => vec!["task", self.task_arn()],
        }
    }

    /// `ecs-doctor <args> -o json`: the exit code and the parsed report.
    pub fn json_run(&self, args: &[&str]) -> (i32, Value) {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        let out = self.run(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "not a JSON report ({e}); stdout:\n{stdout}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), report)
    }

    /// `ecs-doctor task <arn> -o markdown`: the report text.
    pub fn diagnose_markdown(&self) -> String {
        self.markdown_of("task")
    }

    /// `ecs-doctor <command> <arn> -o markdown`: the report text.
    pub fn markdown_of(&self, command: &str) -> String {
        self.markdown_with(command, &[])
    }

    /// `ecs-doctor <command> <arn> -o markdown [extra]`: the report text.
    pub fn markdown_with(&self, command: &str, extra: &[&str]) -> String {
        let mut args = vec![command, self.task_arn(), "-o", "markdown"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        String::from_utf8(out.stdout).expect("utf-8 report")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Closing stdin asks the lab to stop; kill it if it does not.
        drop(self.stdin.take());
        if let Some(policy) = &self.policy {
            let _ = std::fs::remove_file(policy);
        }
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = std::fs::remove_file(&self.log);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The ecs-doctor binary with a clean AWS environment: test credentials,
/// no profile, no config files, no instance metadata.
pub fn ecs_doctor() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecs-doctor"));
    clean_aws_env(&mut cmd);
    cmd
}

/// The clean AWS environment of [`ecs_doctor`], for another program that
/// starts ecs-doctor (an MCP client).
pub fn clean_aws_env(cmd: &mut Command) {
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_SESSION_TOKEN",
        "NO_COLOR",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/nonexistent/ecs-doctor-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/ecs-doctor-test-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

/// The first candidate's code, or "" when there is none.
pub fn top_code(report: &Value) -> &str {
    report["candidates"][0]["code"].as_str().unwrap_or("")
}

/// All evidence lines of the first candidate, joined.
pub fn top_evidence(report: &Value) -> String {
    top_lines(report, "evidence")
}

/// The lines of one list of the first candidate (`evidence`, `fix`, `against`), joined.
pub fn top_lines(report: &Value, list: &str) -> String {
    report["candidates"][0][list]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Start `scenario` and diagnose it as a failure: exit code 1, `expected`
/// first, the report contract kept, and the Markdown report as the golden
/// file `<prefix>_<scenario>`.
pub fn diagnose_failed(scenario: &str, expected: &str, prefix: &str) -> (Lab, Value) {
    let lab = Lab::start(scenario);
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_code(&report), expected, "{report:#}");
    assert_contract(&report);
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            format!("{prefix}_{}", scenario.replace('-', "_")),
            lab.diagnose_markdown()
        )
    });
    (lab, report)
}

/// The status of check `id`: every report lists every check, so a missing
/// one is a failure, not a pass.
pub fn check_status<'a>(report: &'a Value, id: &str) -> &'a str {
    report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["id"] == id))
        .and_then(|c| c["status"].as_str())
        .unwrap_or_else(|| panic!("the report lists no check `{id}`: {report:#}"))
}

/// The detail a report gives for check `id`.
pub fn check_detail<'a>(report: &'a Value, id: &str) -> &'a str {
    report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["id"] == id))
        .and_then(|c| c["detail"].as_str())
        .unwrap_or_else(|| panic!("the report lists no check `{id}`: {report:#}"))
}

/// The documented least-privilege policy (`docs/iam-policy.json`).
pub const DOCUMENTED: &str = include_str!("../../docs/iam-policy.json");

/// `scenario` diagnosed by an unrestricted caller and by one with exactly
/// the documented policy: the same exit code and no gap beyond the lab's.
/// Returns (unrestricted, documented) for the caller's own comparisons.
pub fn open_and_documented(scenario: &str) -> (Value, Value) {
    let open = Lab::start(scenario);
    let (open_code, open_report) = open.diagnose_json(&[]);
    drop(open);
    let lab = Lab::start_with_policy(scenario, DOCUMENTED);
    let (code, report) = lab.diagnose_json(&[]);
    assert_eq!(code, open_code, "{report:#}");
    let gaps = gaps_beyond_the_lab(&report);
    assert!(
        gaps.is_empty(),
        "the documented policy lacks something: {gaps:#?}"
    );
    (open_report, report)
}

/// The documented policy without `action` (which it must hold).
pub fn documented_without(action: &str) -> String {
    let mut policy: Value = serde_json::from_str(DOCUMENTED).unwrap();
    let actions = policy["Statement"][0]["Action"].as_array_mut().unwrap();
    let before = actions.len();
    actions.retain(|a| a != action);
    assert_eq!(actions.len(), before - 1, "{action} is not documented");
    policy.to_string()
}

/// The ids of the checks a report ran, in its order.
pub fn check_ids(report: &Value) -> Vec<&str> {
    report["checks"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["id"].as_str()).collect())
        .unwrap_or_default()
}

/// The actions of a report's gaps, each once (one refused action may cost
/// several reads, each its own gap), less the lab's own simulator gap.
pub fn gap_actions(report: &Value) -> Vec<&str> {
    let mut actions: Vec<&str> = gaps_beyond_the_lab(report)
        .into_iter()
        .filter_map(|g| g["action"].as_str())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    actions
}

/// The report's gaps, less the one every lab run has: moto does not
/// implement `iam:SimulatePrincipalPolicy` and answers HTTP 500, so the
/// permission checks evaluate the policies instead and the report names the
/// simulator as a gap (tests/lab/README.md). A refusal of the simulator, or
/// any other failure of it, is kept.
pub fn gaps_beyond_the_lab(report: &Value) -> Vec<&Value> {
    report["gaps"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|g| {
                    !(g["action"] == "iam:SimulatePrincipalPolicy"
                        && g["error"]
                            .as_str()
                            .is_some_and(|e| e.starts_with(LAB_SIMULATOR_ERROR)))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What the simulator's gap says in the lab (moto's HTTP 500).
pub const LAB_SIMULATOR_ERROR: &str = "HTTP 500 with no error code";

/// The first Rust debug structure in a text meant for people (`{ kind:`,
/// `Error(`, `source:`, `Some(`, an SDK or HTTP client type), if any.
pub fn debug_structure(text: &str) -> Option<String> {
    static PATTERN: OnceLock<regex::Regex> = OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        regex::Regex::new(
            r"\{ kind:|\b[A-Z][A-Za-z]*Error\(|\bError \{|(?:^|[^A-Za-z])source: |\bSome\(|\bNone\)|DispatchFailure|ConnectorError|hyper_util|aws_smithy|SdkError|\bOs \{",
        )
        .expect("a valid pattern")
    });
    pattern.find(text).map(|m| {
        let start = text[..m.start()]
            .char_indices()
            .rev()
            .nth(40)
            .map_or(0, |(i, _)| i);
        let end = (m.end() + 40).min(text.len());
        let end = (end..=text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        text[start..end].to_string()
    })
}

/// The task definition of the `preflight-ready` scenario, as a
/// register-task-definition input: its image and execution role.
pub fn lab_task_definition(lab: &Lab) -> Value {
    serde_json::json!({
        "family": "web",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "executionRoleArn": lab.get("execution_role_arn"),
        "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
        "containerDefinitions": [{
            "name": "web",
            "image": lab.get("image"),
            "essential": true,
            "portMappings": [{"containerPort": 3000, "protocol": "tcp"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}
        }]
    })
}

/// The top candidate's title.
pub fn top_title(report: &Value) -> &str {
    report["candidates"][0]["title"].as_str().unwrap_or("")
}

/// Insta settings that hide what changes between releases.
pub fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"ecs-doctor \d+\.\d+\.\d+[^<\s]*", "ecs-doctor [version]");
    // Lab timestamps are relative to the real clock (CloudWatch Logs refuses old events).
    s.add_filter(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z",
        "[timestamp]",
    );
    s.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "[time]");
    s.set_snapshot_path(repo_root().join("tests/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

/// Assert a JSON report follows the public contract (schema_version 1).
pub fn assert_contract(report: &Value) {
    assert_eq!(report["schema_version"], 1, "schema_version");
    let verdict = report["verdict"].as_str().unwrap_or_default();
    assert!(
        ["failure", "no-failure", "inconclusive"].contains(&verdict),
        "verdict: {verdict:?}"
    );
    let failures = report["candidates"]
        .as_array()
        .map(|c| c.iter().filter(|c| c["benign"] == false).count())
        .unwrap_or_default();
    assert_eq!(
        verdict == "failure",
        failures > 0,
        "the verdict is failure exactly when a failure candidate was found"
    );
    let task = &report["task"];
    for key in ["arn", "cluster", "region", "last_status"] {
        assert!(task[key].is_string(), "task.{key} must be a string: {task}");
    }
    for key in ["stop_code", "stopped_reason"] {
        assert!(
            task[key].is_string() || task[key].is_null(),
            "task.{key}: {task}"
        );
    }
    let candidates = report["candidates"]
        .as_array()
        .expect("candidates is an array");
    let mut last = f64::INFINITY;
    for c in candidates {
        let code = c["code"].as_str().expect("code");
        assert!(
            !code.is_empty() && code.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'),
            "kebab-case code: {code}"
        );
        assert!(
            ["app", "image", "network", "storage", "platform", "exec"]
                .contains(&c["family"].as_str().unwrap_or("")),
            "family of {code}"
        );
        let conf = c["confidence"].as_f64().expect("confidence");
        assert!((0.0..=1.0).contains(&conf), "confidence in [0,1]: {conf}");
        assert!(conf <= last, "candidates sorted best first");
        last = conf;
        assert!(
            c["title"].as_str().is_some_and(|t| !t.is_empty()),
            "title of {code}"
        );
        for key in ["evidence", "fix", "docs"] {
            assert!(
                c[key]
                    .as_array()
                    .is_some_and(|a| a.iter().all(|v| v.is_string())),
                "{key} of {code}"
            );
        }
        assert!(
            !c["evidence"].as_array().unwrap().is_empty(),
            "evidence of {code} is empty"
        );
        assert!(
            !c["fix"].as_array().unwrap().is_empty(),
            "fix of {code} is empty"
        );
    }
    for check in report["checks"].as_array().expect("checks is an array") {
        assert!(check["id"].is_string() && check["detail"].is_string());
        assert!(
            ["pass", "fail", "inconclusive", "skipped"]
                .contains(&check["status"].as_str().unwrap_or("")),
            "{check}"
        );
    }
    for gap in report["gaps"].as_array().expect("gaps is an array") {
        for key in ["action", "error", "impact"] {
            assert!(gap[key].is_string(), "gap.{key}: {gap}");
        }
    }
}
