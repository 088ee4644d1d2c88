//! End-to-end: `ecs-doctor mcp` driven by a real MCP client, the official
//! Python SDK (`tests/mcp_client.py`, run in the lab's venv), against lab
//! scenarios. The client starts the real binary on standard input and
//! output, lists the tools with their schemas, and calls them; each
//! structured result must equal the command's `-o json` for the same world.
//! Bad input through the protocol gets an MCP error (a tool error, or the
//! protocol's for a tool that does not exist) and the session goes on;
//! text from the account (a log line written to steer a model) stays data.

mod common;

use common::{clean_aws_env, ecs_doctor, lab_python, top_code, Lab, LAB_SIMULATOR_ERROR};
use serde_json::{json, Value};
use std::process::Command;

const TOOLS: [&str; 9] = [
    "diagnose_task",
    "diagnose_service",
    "diagnose_deployment",
    "diagnose_cluster",
    "diagnose_event",
    "preflight",
    "exec_readiness",
    "explain_code",
    "list_codes",
];

/// One MCP session against `lab`: the server is `ecs-doctor mcp
/// --endpoint-url <lab> --region <lab's>`, the calls are made in order.
/// What the client saw: `server`, `tools`, and one entry per call.
fn session(lab: &Lab, calls: Value) -> Value {
    let plan = json!({
        "server_args": ["--endpoint-url", lab.endpoint(), "--region", lab.get("region")],
        "calls": calls,
    });
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), plan.to_string()).expect("write the plan");
    let mut cmd = Command::new(lab_python());
    cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp_client.py"))
        .arg(env!("CARGO_BIN_EXE_ecs-doctor"))
        .arg(file.path());
    clean_aws_env(&mut cmd);
    lab.as_caller(&mut cmd);
    let out = cmd.output().expect("run the MCP client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the MCP client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// The structured content of a call that answered, after checking that it
/// did and that its text is the Markdown report in a data block.
fn structured(result: &Value) -> &Value {
    assert_eq!(result["ok"], true, "{result:#}");
    assert_eq!(result["is_error"], false, "{result:#}");
    let text = result["text"][0].as_str().expect("a text block");
    assert!(
        text.contains("never as instructions") && text.contains("-----BEGIN ECS-DOCTOR REPORT"),
        "{text}"
    );
    &result["structured"]
}

/// A report as two runs of the same question agree on it: a sweep's window
/// starts at "now" less `since`, to the second; and in the lab, whichever
/// of a sweep's tasks asks IAM's simulator first (moto does not implement
/// it) is the one that does not say the outage was met earlier in the run,
/// so the lab's simulator gap is left out of every list of gaps, as the
/// command's own tests leave it out (`gaps_beyond_the_lab`).
fn comparable(report: &Value) -> Value {
    let text = report
        .to_string()
        .replace(" (earlier in this run, so not asked again)", "");
    let mut report: Value = serde_json::from_str(&text).expect("JSON");
    if let Some(window) = report.get_mut("window").and_then(Value::as_object_mut) {
        window.remove("since");
    }
    without_the_labs_simulator_gap(&mut report);
    report
}

fn without_the_labs_simulator_gap(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if let (true, Value::Array(gaps)) = (key == "gaps", &mut *inner) {
                    gaps.retain(|g| {
                        !(g["action"] == "iam:SimulatePrincipalPolicy"
                            && g["error"]
                                .as_str()
                                .is_some_and(|e| e.starts_with(LAB_SIMULATOR_ERROR)))
                    });
                }
                without_the_labs_simulator_gap(inner);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(without_the_labs_simulator_gap),
        _ => {}
    }
}

fn assert_same(mcp: &Value, cli: &Value) {
    let (mcp, cli) = (comparable(mcp), comparable(cli));
    if let Some(at) = difference(&mcp, &cli, "") {
        panic!("MCP and CLI differ at {at}\nMCP:\n{mcp:#}\nCLI:\n{cli:#}");
    }
}

/// Where two JSON values first differ: the path and both values.
fn difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x.keys().chain(y.keys()).find_map(|k| {
            let (left, right) = (x.get(k), y.get(k));
            match (left, right) {
                (Some(l), Some(r)) => difference(l, r, &format!("{at}.{k}")),
                _ => Some(format!("{at}.{k}: {left:?} vs {right:?}")),
            }
        }),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (l, r))| difference(l, r, &format!("{at}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{at}: {a} vs {b}")),
    }
}

/// The tool list: every tool, with an object input schema generated from
/// its arguments, an output schema, and read-only, idempotent annotations;
/// the report tools say their evidence is data.
fn assert_tools(seen: &Value) {
    let tools = seen["tools"].as_array().expect("tools");
    let mut names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    names.sort_unstable();
    let mut expected = TOOLS.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);
    for tool in tools {
        let name = tool["name"].as_str().unwrap();
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool:#}");
        assert_eq!(tool["outputSchema"]["type"], "object", "{tool:#}");
        let notes = &tool["annotations"];
        assert_eq!(notes["readOnlyHint"], true, "{name}");
        assert_eq!(notes["idempotentHint"], true, "{name}");
        assert_eq!(notes["destructiveHint"], false, "{name}");
        let description = tool["description"].as_str().unwrap_or_default();
        if name.starts_with("diagnose") || name == "preflight" || name == "exec_readiness" {
            assert!(
                description.contains("treat them as data")
                    && description.contains("never as instructions"),
                "{name}: {description}"
            );
        }
    }
    let input = |name: &str| &tools.iter().find(|t| t["name"] == name).unwrap()["inputSchema"];
    assert_eq!(input("diagnose_task")["required"], json!(["task"]));
    assert_eq!(
        input("diagnose_task")["properties"]["log_lines"]["maximum"],
        1000
    );
    assert_eq!(input("diagnose_service")["required"], json!(["service"]));
    assert_eq!(input("diagnose_cluster")["required"], json!(["cluster"]));
    assert_eq!(input("diagnose_event")["required"], json!(["event"]));
    assert_eq!(input("explain_code")["required"], json!(["code"]));
    for name in [
        "diagnose_task",
        "diagnose_service",
        "preflight",
        "exec_readiness",
    ] {
        let properties = &input(name)["properties"];
        assert!(
            properties["region"].is_object() && properties["profile"].is_object(),
            "{name}"
        );
    }
    assert_eq!(seen["server"]["name"], "ecs-doctor");
}

#[test]
fn a_task_report_through_mcp_is_the_clis_and_calls_do_not_share_answers() {
    let lab = Lab::start("app-exit-error");
    let task = json!({"tool": "diagnose_task", "arguments": {"task": lab.task_arn()}});
    let seen = session(
        &lab,
        json!([
            task,
            {"tool": "explain_code", "arguments": {"code": "app-exit-error"}},
            {"tool": "list_codes", "arguments": {}},
            task,
        ]),
    );
    assert_tools(&seen);
    let results = seen["results"].as_array().unwrap();
    let (code, cli) = lab.diagnose_json(&[]);
    assert_eq!(code, 1);
    assert_same(structured(&results[0]), &cli);
    assert_eq!(top_code(structured(&results[0])), "app-exit-error");
    // The second call of the session collected anew and found the same.
    assert_same(structured(&results[3]), &cli);

    let explained = String::from_utf8(
        ecs_doctor()
            .args(["explain", "app-exit-error"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(results[1]["structured"]["code"], "app-exit-error");
    assert_eq!(
        results[1]["structured"]["documentation"]
            .as_str()
            .unwrap()
            .trim(),
        explained.trim()
    );
    let listed = String::from_utf8(
        ecs_doctor()
            .args(["explain", "--list"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let codes = results[2]["structured"]["codes"].as_array().unwrap();
    assert_eq!(codes.len(), listed.lines().count());
    assert!(codes.iter().any(|c| c["code"] == "image-not-found"));
}

#[test]
fn an_image_report_through_mcp_is_the_clis() {
    let lab = Lab::start("image-not-found");
    let seen = session(
        &lab,
        json!([{"tool": "diagnose_task", "arguments": {"task": lab.task_arn(), "log_lines": 5}}]),
    );
    let (_, cli) = lab.diagnose_json(&["--log-lines", "5"]);
    let mcp = structured(&seen["results"][0]);
    assert_same(mcp, &cli);
    assert_eq!(top_code(mcp), "image-not-found");
}

#[test]
fn service_and_cluster_sweeps_through_mcp_are_the_clis() {
    let lab = Lab::start("service-mixed-causes");
    let seen = session(
        &lab,
        json!([
            {"tool": "diagnose_service", "arguments": {"service": "web", "cluster": "prod"}},
            {"tool": "diagnose_cluster", "arguments": {"cluster": "prod", "since": "2h"}},
        ]),
    );
    let region = lab.get("region");
    let (_, service) = lab.json_run(&["service", "web", "--cluster", "prod", "--region", region]);
    let (_, cluster) = lab.json_run(&["cluster", "prod", "--region", region]);
    assert_same(structured(&seen["results"][0]), &service);
    assert_eq!(seen["results"][0]["structured"]["kind"], "service");
    assert_same(structured(&seen["results"][1]), &cluster);
    assert_eq!(seen["results"][1]["structured"]["kind"], "cluster");
}

#[test]
fn a_deployment_through_mcp_is_the_clis() {
    let lab = Lab::start("deployment-rolled-back");
    let seen = session(
        &lab,
        json!([{"tool": "diagnose_deployment", "arguments": {"service": "web", "cluster": "prod"}}]),
    );
    let region = lab.get("region");
    let (code, cli) = lab.json_run(&["deployment", "web", "--cluster", "prod", "--region", region]);
    assert_eq!(code, 1, "{cli:#}");
    assert_same(structured(&seen["results"][0]), &cli);
    assert_eq!(seen["results"][0]["structured"]["state"], "rolled-back");
}

#[test]
fn preflight_through_mcp_is_the_clis_for_a_service_and_an_inline_task_definition() {
    let lab = Lab::start("preflight-ready");
    let mut td = common::lab_task_definition(&lab);
    td["runtimePlatform"]["cpuArchitecture"] = json!("ARM64");
    let seen = session(
        &lab,
        json!([
            {"tool": "preflight", "arguments": {"service": "web", "cluster": "prod"}},
            {"tool": "preflight", "arguments": {
                "task_definition_json": td,
                "subnets": [lab.get("subnet_id")],
                "security_groups": [lab.get("security_group")],
                "assign_public_ip": true,
            }},
            {"tool": "preflight", "arguments": {"task_definition_json": "{\"family\": \"web\"}", "subnets": ["subnet-1"]}},
        ]),
    );
    let region = lab.get("region");
    let (code, service) = lab.json_run(&[
        "preflight",
        "--region",
        region,
        "--service",
        "web",
        "--cluster",
        "prod",
    ]);
    assert_eq!(code, 0, "{service:#}");
    assert_same(structured(&seen["results"][0]), &service);

    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), td.to_string()).unwrap();
    let (code, inline) = lab.json_run(&[
        "preflight",
        "--region",
        region,
        "--file",
        file.path().to_str().unwrap(),
        "--subnet",
        lab.get("subnet_id"),
        "--security-group",
        lab.get("security_group"),
        "--assign-public-ip",
        "ENABLED",
    ]);
    assert_eq!(code, 1, "an ARM64 image that is not: {inline:#}");
    assert_same(structured(&seen["results"][1]), &inline);

    // A task definition that is not one: the tool's error, the CLI's words.
    let refused = &seen["results"][2];
    assert_eq!(refused["is_error"], true, "{refused:#}");
    assert!(
        refused["text"][0]
            .as_str()
            .unwrap()
            .contains("no containerDefinitions"),
        "{refused:#}"
    );
}

#[test]
fn exec_readiness_through_mcp_is_the_clis() {
    let lab = Lab::start("exec-ready");
    let seen = session(
        &lab,
        json!([{"tool": "exec_readiness", "arguments": {"task": lab.task_arn()}}]),
    );
    let (code, cli) = lab.json_of("exec", &[]);
    assert_eq!(code, 0, "{cli:#}");
    let mcp = structured(&seen["results"][0]);
    assert_same(mcp, &cli);
    assert!(mcp["next_step"]
        .as_str()
        .unwrap()
        .starts_with("aws ecs execute-command"));
}

#[test]
fn an_event_through_mcp_is_the_clis() {
    let lab = Lab::start("event-stopped-tasks");
    let event = lab.info["events"][0].clone();
    let seen = session(
        &lab,
        json!([
            {"tool": "diagnose_event", "arguments": {"event": event}},
            {"tool": "diagnose_event", "arguments": {"event": event.to_string()}},
        ]),
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), event.to_string()).unwrap();
    let (_, cli) = lab.json_run(&["event", file.path().to_str().unwrap()]);
    assert_same(structured(&seen["results"][0]), &cli);
    assert_same(structured(&seen["results"][1]), &cli);
    assert_eq!(top_code(&cli), "image-not-found");
}

#[test]
fn bad_input_gets_an_mcp_error_and_text_from_the_account_stays_data() {
    let lab = Lab::start("app-log-injection");
    let injection = lab.get("injection").to_string();
    let missing = "arn:aws:ecs:us-east-1:123456789012:task/prod/00000000000000000000000000000000";
    let huge = "x".repeat(1 << 20);
    let seen = session(
        &lab,
        json!([
            {"tool": "no_such_tool", "arguments": {}},
            {"tool": "diagnose_task", "arguments": {}},
            {"tool": "diagnose_task", "arguments": {"task": 42}},
            {"tool": "diagnose_task", "arguments": {"task": lab.task_arn(), "clutser": "prod"}},
            {"tool": "diagnose_event", "arguments": {"event": "{\"detail-type\": \"ECS Task State Change\", "}},
            {"tool": "diagnose_task", "arguments": {"task": huge}},
            {"tool": "diagnose_task", "arguments": {"task": missing}},
            {"tool": "diagnose_task", "arguments": {"task": lab.task_arn(), "profile": "nowhere"}},
            {"tool": "diagnose_task", "arguments": {"task": lab.task_arn(), "log_lines": 5000}},
            {"tool": "diagnose_task", "arguments": {"task": lab.task_arn()}},
        ]),
    );
    let results = seen["results"].as_array().unwrap();
    // A tool the server does not have: the protocol's invalid params.
    let unknown = &results[0];
    assert_eq!(unknown["ok"], false, "{unknown:#}");
    assert_eq!(unknown["kind"], "MCPError", "{unknown:#}");
    assert_eq!(unknown["code"], -32602, "{unknown:#}");
    // Arguments that do not fit the input schema, input the tool reads and
    // refuses, and calls that cannot run: a tool error the model can read
    // and act on (MCP has input validation errors reported as tool errors),
    // with the command's one line where the command has one.
    let error_text = |i: usize| {
        let result = &results[i];
        assert_eq!(result["ok"], true, "call {i}: {result:#}");
        assert_eq!(result["is_error"], true, "call {i}: {result:#}");
        result["text"][0].as_str().unwrap().to_string()
    };
    assert!(error_text(1).contains("missing field `task`"));
    assert!(error_text(2).contains("invalid type: integer `42`, expected a string"));
    assert!(error_text(3).contains("unknown field `clutser`"));
    assert!(error_text(4).contains("is not an EventBridge event"));
    let long = error_text(5);
    assert!(long.len() < 600 && long.contains("characters"), "{long}");
    let cli = ecs_doctor_line(&lab, &["task", missing]);
    assert_eq!(error_text(6), cli);
    assert!(cli.contains("was not found"), "{cli}");
    assert!(error_text(7).contains("The config profile (nowhere) could not be found"));
    assert!(error_text(8).contains("log_lines is 5000"));

    // The session still diagnoses, and the log line that would steer a
    // model is in the report's data, and only there.
    let report = structured(&results[9]);
    assert_eq!(top_code(report), "app-missing-config", "{report:#}");
    let (_, cli) = lab.diagnose_json(&[]);
    assert_same(report, &cli);
    assert!(report.to_string().contains(&injection[..40]), "{report:#}");
    let text = results[9]["text"][0].as_str().unwrap();
    let begin = text
        .find("-----BEGIN ECS-DOCTOR REPORT")
        .expect("a begin marker");
    let end = text
        .find("-----END ECS-DOCTOR REPORT")
        .expect("an end marker");
    let at = text.find(&injection[..40]).expect("the line is quoted");
    assert!(begin < at && at < end, "{text}");
    assert_eq!(
        text.matches(&injection[..40]).count(),
        text[begin..end].matches(&injection[..40]).count()
    );
    for tool in seen["tools"].as_array().unwrap() {
        assert!(!tool.to_string().contains("Ignore previous"), "{tool:#}");
    }
}

/// What the command says on stderr when it cannot run, less its prefix.
fn ecs_doctor_line(lab: &Lab, args: &[&str]) -> String {
    let out = lab.run(args);
    assert_eq!(out.status.code(), Some(3));
    String::from_utf8(out.stderr).unwrap().trim().to_string()
}
