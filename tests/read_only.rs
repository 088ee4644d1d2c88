//! ecs-doctor only reads: every AWS operation it calls is a describe, get,
//! list, batch-get or simulate call, and none of them reads a secret's value
//! or hands out credentials.
//!
//! The test reads the sources: for every SDK call chain (ending in
//! `.send()` or `.into_paginator()`) it takes the operation, the first method
//! after the client, and checks its name. It also forbids the names of the
//! operations that read secret values or credentials anywhere in the code.
//!
//! One exception, by design: the Lambda's notifications (`src/notify/`) may
//! publish to their SNS topic and put and update items of their DynamoDB
//! table, and nothing else may.

use std::path::{Path, PathBuf};

/// Operation-name prefixes that only read.
const ALLOWED_PREFIXES: &[&str] = &["describe_", "get_", "list_", "batch_get_", "simulate_"];

/// Operations that are read-only by name but read a secret's value or hand
/// out credentials, plus every kind of write.
const FORBIDDEN_EXACT: &[&str] = &[
    "get_secret_value",
    "batch_get_secret_value",
    "get_parameter",
    "get_parameters",
    "get_parameters_by_path",
    "get_parameter_history",
    "get_authorization_token",
    "get_download_url_for_layer",
    "get_session_token",
    "get_federation_token",
    "assume_role",
    "assume_role_with_web_identity",
    "assume_role_with_saml",
    "decrypt",
    // An object's content: an environment file holds the app's configuration.
    "get_object",
];
const FORBIDDEN_PREFIXES: &[&str] = &[
    "put_",
    "create_",
    "delete_",
    "tag_",
    "untag_",
    "assume_role",
    "start_",
    "stop_",
    "update_",
    "register_",
    "deregister_",
    "run_",
    "execute_",
    "modify_",
    "attach_",
    "detach_",
    "set_",
    "replace_",
    "associate_",
    "disassociate_",
    "authorize_",
    "revoke_",
    "terminate_",
];

/// The writes the Lambda's notifications make, and where they live.
const NOTIFY_DIR: &str = "src/notify/";
const NOTIFY_WRITES: &[&str] = &["publish", "put_item", "update_item"];

/// Methods that build a client rather than call an operation.
const CLIENT_CONSTRUCTORS: &[&str] = &[
    "ecs",
    "ec2",
    "iam",
    "efs",
    "elb",
    "sts",
    "kms_in",
    "ecr_in",
    "logs_in",
    "secretsmanager_in",
    "ssm_in",
    "s3_in",
    "clone",
];

/// Blank out comments and string literals, keeping offsets and newlines.
fn code_only(source: &str) -> String {
    let bytes: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == '/' && bytes.get(i + 1) == Some(&'/') {
            while i < bytes.len() && bytes[i] != '\n' {
                out.push(' ');
                i += 1;
            }
            continue;
        }
        // Raw strings: r"…", r#"…"#.
        let ident_before = i > 0 && (bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_');
        if c == 'r' && !ident_before && matches!(bytes.get(i + 1), Some('#') | Some('"')) {
            let mut hashes = 0;
            while bytes.get(i + 1 + hashes) == Some(&'#') {
                hashes += 1;
            }
            if bytes.get(i + 1 + hashes) == Some(&'"') {
                let close: String = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let close: Vec<char> = close.chars().collect();
                let mut j = i + 2 + hashes;
                while j < bytes.len() && bytes[j..].iter().take(close.len()).ne(close.iter()) {
                    j += 1;
                }
                let end = (j + close.len()).min(bytes.len());
                out.extend(
                    bytes[i..end]
                        .iter()
                        .map(|&b| if b == '\n' { '\n' } else { ' ' }),
                );
                i = end;
                continue;
            }
        }
        // Character literals that hold a quote: '"' and '\''.
        if c == '\'' && bytes.get(i + 2) == Some(&'\'') {
            out.push_str("   ");
            i += 3;
            continue;
        }
        if c == '\'' && bytes.get(i + 1) == Some(&'\\') && bytes.get(i + 3) == Some(&'\'') {
            out.push_str("    ");
            i += 4;
            continue;
        }
        if c == '"' {
            out.push(' ');
            i += 1;
            while i < bytes.len() && bytes[i] != '"' {
                if bytes[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < bytes.len() {
                    out.push(if bytes[i] == '\n' { '\n' } else { ' ' });
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The methods of the call chain that ends just before `end`, first to last,
/// with the index where each name starts.
fn chain_before(code: &[char], end: usize) -> Vec<(String, usize)> {
    let mut methods = Vec::new();
    let mut i = end; // index of the '.' that starts `.send()`
    loop {
        let mut j = i;
        while j > 0 && code[j - 1].is_whitespace() {
            j -= 1;
        }
        if j == 0 || code[j - 1] != ')' {
            break;
        }
        // Find the matching '('.
        let mut depth = 0usize;
        let mut k = j - 1;
        loop {
            match code[k] {
                ')' => depth += 1,
                '(' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            if k == 0 {
                return methods;
            }
            k -= 1;
        }
        // Turbofish or generics are not used on SDK builders; read the name.
        let name_end = k;
        let mut s = name_end;
        while s > 0 && (code[s - 1].is_alphanumeric() || code[s - 1] == '_') {
            s -= 1;
        }
        let name: String = code[s..name_end].iter().collect();
        let mut d = s;
        while d > 0 && code[d - 1].is_whitespace() {
            d -= 1;
        }
        if name.is_empty() || d == 0 || code[d - 1] != '.' {
            break;
        }
        methods.push((name, s));
        i = d - 1;
    }
    methods.reverse();
    methods
}

/// Every SDK operation called in `source`: (line, operation).
fn operations(source: &str) -> Vec<(usize, String)> {
    let code: Vec<char> = code_only(source).chars().collect();
    let text: String = code.iter().collect();
    let mut out = Vec::new();
    for marker in [".send()", ".into_paginator()"] {
        let mut from = 0;
        while let Some(pos) = text[from..].find(marker) {
            let at = from + pos;
            let char_index = text[..at].chars().count();
            let chain = chain_before(&code, char_index);
            if let Some((op, start)) = chain
                .iter()
                .find(|(m, _)| !CLIENT_CONSTRUCTORS.contains(&m.as_str()))
            {
                let line = code[..*start].iter().filter(|c| **c == '\n').count() + 1;
                out.push((line, op.clone()));
            }
            from = at + marker.len();
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Why an operation name is not allowed, if it is not.
fn violation(op: &str) -> Option<String> {
    if FORBIDDEN_EXACT.contains(&op) {
        return Some(format!("{op} reads a secret value or credentials"));
    }
    if let Some(p) = FORBIDDEN_PREFIXES.iter().find(|p| op.starts_with(*p)) {
        return Some(format!("{op} writes ({p}…)"));
    }
    if !ALLOWED_PREFIXES.iter().any(|p| op.starts_with(p)) {
        return Some(format!(
            "{op} is not a describe/get/list/batch_get/simulate call"
        ));
    }
    None
}

/// Forbidden operation names written anywhere as a method call, even
/// outside a `.send()` chain (a builder kept in a variable, a helper).
fn forbidden_calls(source: &str) -> Vec<(usize, String)> {
    let code = code_only(source);
    let mut out = Vec::new();
    for (n, line) in code.lines().enumerate() {
        for name in FORBIDDEN_EXACT {
            if line.contains(&format!(".{name}(")) || line.contains(&format!("::{name}(")) {
                out.push((n + 1, (*name).to_string()));
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_aws_call_only_reads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut seen = Vec::new();
    let mut problems = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).expect("readable source");
        let rel = file
            .strip_prefix(root)
            .unwrap_or(file)
            .display()
            .to_string();
        for (line, op) in operations(&source) {
            let notify_write = rel.starts_with(NOTIFY_DIR) && NOTIFY_WRITES.contains(&op.as_str());
            if let Some(why) = violation(&op).filter(|_| !notify_write) {
                problems.push(format!("{rel}:{line}: {why}"));
            }
            seen.push(op);
        }
        for (line, name) in forbidden_calls(&source) {
            problems.push(format!("{rel}:{line}: calls {name}"));
        }
    }
    assert!(
        problems.is_empty(),
        "write or secret-reading calls:\n{}",
        problems.join("\n")
    );
    // The scanner must actually see the collectors' calls.
    for expected in [
        "describe_tasks",
        "describe_task_definition",
        "get_role",
        "get_policy_version",
        "simulate_principal_policy",
        "describe_images",
        "batch_get_image",
        "describe_secret",
        "describe_parameters",
        "describe_log_groups",
        "get_log_events",
    ] {
        assert!(
            seen.iter().any(|s| s == expected),
            "{expected} not found among {seen:?}"
        );
    }
}

#[test]
fn the_scanner_catches_a_secret_read_and_a_write() {
    let reads_secret = r#"
        async fn leak(c: &Collector, arn: &str) {
            // a comment mentioning .get_secret_value() does not count
            let out = c
                .secretsmanager_in("us-east-1")
                .get_secret_value()
                .secret_id(arn)
                .send()
                .await;
        }
    "#;
    let ops = operations(reads_secret);
    assert_eq!(ops, vec![(6, "get_secret_value".to_string())]);
    assert!(violation("get_secret_value").is_some());
    assert_eq!(
        forbidden_calls(reads_secret),
        vec![(6, "get_secret_value".to_string())]
    );

    let kept_in_a_variable = "let b = client.get_parameters().names(n); let out = b.send().await;";
    assert_eq!(forbidden_calls(kept_in_a_variable).len(), 1);

    let tricky =
        "let q = '\"'; let j = r#\"{\"a\": \"b\"}\"#; let o = ssm.get_parameters().send();";
    assert_eq!(operations(tricky), vec![(1, "get_parameters".to_string())]);

    let writes = "let _ = ecs.stop_task().cluster(c).task(t).send().await;";
    assert_eq!(operations(writes), vec![(1, "stop_task".to_string())]);
    assert!(violation("stop_task").is_some());
    assert!(violation("put_log_events").is_some());
    assert!(violation("batch_get_secret_value").is_some());
    assert!(violation("get_authorization_token").is_some());

    // Builder setters that merely look like writes are not operations.
    let reads_logs = "logs.get_log_events().log_group_name(g).start_from_head(true).set_end_time(e).send().await";
    assert_eq!(
        operations(reads_logs),
        vec![(1, "get_log_events".to_string())]
    );
    assert!(violation("get_log_events").is_none());
    let paginated = "iam.list_role_policies().role_name(r).into_paginator().send()";
    assert_eq!(
        operations(paginated),
        vec![(1, "list_role_policies".to_string())]
    );
}

/// Every client constructor of the collector (its `clients!` list and the
/// `s3_in` it builds by hand) is known to the scanner, and nothing else is:
/// a constructor missing from the list would read as an operation.
#[test]
fn the_constructor_list_is_the_collectors() {
    let source = std::fs::read_to_string("src/collect/collector.rs").unwrap();
    let code = code_only(&source);
    let block = code.split("clients! {").nth(1).expect("the clients! list");
    let block = &block[..block.find('}').unwrap()];
    let mut built: Vec<String> = block
        .split(';')
        .filter_map(|entry| entry.split("=>").next())
        .map(|name| name.split('(').next().unwrap().trim().to_string())
        .filter(|name| !name.is_empty())
        .collect();
    built.extend(
        code.split("pub fn ")
            .skip(1)
            .filter_map(|rest| rest.split('(').next())
            .filter(|name| name.ends_with("_in") && rest_returns_client(&code, name))
            .map(str::to_string),
    );
    built.sort();
    built.dedup();
    let mut listed: Vec<String> = CLIENT_CONSTRUCTORS
        .iter()
        .filter(|c| **c != "clone")
        .map(|c| c.to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, built);
}

/// Does `pub fn name(…)` in `code` return an SDK client?
fn rest_returns_client(code: &str, name: &str) -> bool {
    code.split(&format!("pub fn {name}("))
        .nth(1)
        .and_then(|rest| rest.split('{').next())
        .is_some_and(|sig| sig.contains("::Client"))
}
