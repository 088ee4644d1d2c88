//! Errors a user sees, each with its exit code.

use thiserror::Error;

/// Exit codes (the public contract).
pub mod exit {
    /// Report produced, no failure cause found.
    pub const OK: i32 = 0;
    /// Report produced, at least one failure cause found.
    pub const FAILURE_FOUND: i32 = 1;
    /// Bad usage or input.
    pub const USAGE: i32 = 2;
    /// The diagnosis could not run.
    pub const CANNOT_RUN: i32 = 3;
    /// Report produced, no failure cause found, but a check that could have
    /// found one lacked a fact (the gaps say which).
    pub const INCONCLUSIVE: i32 = 4;
    /// `deployment`: the deployment was still in progress (with `--wait`,
    /// when `--wait-timeout` ran out).
    pub const IN_PROGRESS: i32 = 5;

    /// The exit code of a report's conclusion.
    pub fn of(conclusion: ecs_doctor_checks::Conclusion) -> i32 {
        match conclusion {
            ecs_doctor_checks::Conclusion::Failure => FAILURE_FOUND,
            ecs_doctor_checks::Conclusion::NoFailure => OK,
            ecs_doctor_checks::Conclusion::Inconclusive => INCONCLUSIVE,
        }
    }

    /// The worst of several exit codes: could not run, then a failure, then
    /// undecided, then nothing wrong.
    pub fn worst(codes: impl IntoIterator<Item = i32>) -> i32 {
        let rank = |c: i32| match c {
            CANNOT_RUN => 3,
            FAILURE_FOUND => 2,
            INCONCLUSIVE => 1,
            _ => 0,
        };
        codes.into_iter().max_by_key(|c| rank(*c)).unwrap_or(OK)
    }
}

/// Echo a user's input in a message: quoted, and shortened when very long
/// (the start and the end, which is where a typo usually shows).
pub fn echo(input: &str) -> String {
    const KEEP: usize = 110;
    // Shorten what is shown: escapes of odd characters count too.
    let quoted: Vec<char> = format!("{input:?}").chars().collect();
    if quoted.len() <= KEEP {
        return quoted.into_iter().collect();
    }
    let head: String = quoted[..80].iter().collect();
    let tail: String = quoted[quoted.len() - 20..].iter().collect();
    format!("{head}…{tail} ({} characters)", input.chars().count())
}

/// An error and its sources on one line, without Rust debug structures:
/// `dispatch failure: io error: tcp connect error: Connection refused`.
pub fn one_line(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = next {
        let text = without_debug(&e.to_string());
        // A wrapper often repeats its source's text: keep each part once.
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ").replace('\n', " ")
}

/// The innermost cause of an error (its last source), without Rust debug
/// structures: what actually went wrong (`tcp connect error: Connection
/// refused (os error 111)`, `dns error: failed to lookup address`).
pub fn root_cause(err: &dyn std::error::Error) -> String {
    let mut texts = Vec::new();
    let mut next: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = next {
        let text = without_debug(&e.to_string());
        if !text.is_empty() {
            texts.push(text);
        }
        next = e.source();
    }
    // The last two distinct texts: the failing step and its reason.
    let mut tail: Vec<String> = Vec::new();
    for text in texts.into_iter().rev() {
        if tail.len() == 2 {
            break;
        }
        if !tail
            .iter()
            .any(|t| t.contains(&text) || text.contains(t.as_str()))
        {
            tail.push(text);
        }
    }
    tail.reverse();
    tail.join(": ").replace('\n', " ")
}

/// `text` cut before the first Rust debug structure it carries, such as
/// ` (ConnectorError { kind: Io, … })` or `Os { code: 111, … }`: a type
/// name followed by ` {` is never something a user should read.
fn without_debug(text: &str) -> String {
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        if !c.is_ascii_uppercase() || (i > 0 && bytes[i - 1].is_ascii_alphanumeric()) {
            continue;
        }
        let name_end = text[i..]
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .map_or(text.len(), |n| i + n);
        if text[name_end..].starts_with(" {") || text[name_end..].starts_with("(\"") {
            let cut = text[..i].trim_end_matches([' ', '(', ':', ',']);
            return cut.trim_end().to_string();
        }
    }
    text.trim().to_string()
}
#[derive(Debug, Error)]
pub enum DoctorError {
    #[error("{0}")]
    BadTarget(String),
    #[error("{0}")]
    BadInput(String),
    #[error("task {task} was not found in cluster {cluster} ({region}): AWS reports it MISSING, and ECS forgets a stopped task about an hour after it stops — diagnose an older task from its EventBridge event (`ecs-doctor event FILE`), see what its service's recent tasks stopped for (`ecs-doctor service NAME --cluster {cluster}`), or replay a saved evidence bundle")]
    TaskNotFound {
        task: String,
        cluster: String,
        region: String,
    },
    #[error("cluster {cluster} was not found in {region}: check the cluster name and --region")]
    ClusterNotFound { cluster: String, region: String },
    /// What the user named and AWS does not know (a service, a task
    /// definition): the diagnosis cannot run (exit 3), said in one line.
    #[error("{0}")]
    NotFound(String),
    #[error("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --profile")]
    NoCredentials,
    #[error("{0}")]
    CredentialsRejected(String),
    #[error("no AWS region: pass --region, set AWS_REGION, or give a task ARN")]
    NoRegion,
    #[error("AWS refused ecs:DescribeTasks ({0}): ecs-doctor needs at least ecs:DescribeTasks to diagnose a task")]
    DescribeTasksDenied(String),
    #[error("AWS is throttling ecs:DescribeTasks ({0}); retry in a moment")]
    Throttled(String),
    #[error("could not reach AWS: {0}")]
    Unreachable(String),
    /// A fact everything else hangs on could not be read (a preflight's service or task definition).
    #[error("{action} could not be read ({error}): {needed_for}")]
    Unreadable {
        action: String,
        error: String,
        needed_for: String,
    },
}

impl DoctorError {
    pub fn exit_code(&self) -> i32 {
        match self {
            DoctorError::BadTarget(_) | DoctorError::BadInput(_) | DoctorError::NoRegion => {
                exit::USAGE
            }
            _ => exit::CANNOT_RUN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::exit;
    use ecs_doctor_checks::Conclusion;

    #[test]
    fn conclusions_map_to_the_contract_and_the_worst_code_wins() {
        assert_eq!(exit::of(Conclusion::Failure), 1);
        assert_eq!(exit::of(Conclusion::NoFailure), 0);
        assert_eq!(exit::of(Conclusion::Inconclusive), 4);
        assert_eq!(exit::worst([0, 4, 0]), 4);
        assert_eq!(exit::worst([4, 1, 0]), 1);
        assert_eq!(exit::worst([1, 3, 4]), 3);
        assert_eq!(exit::worst([]), 0);
    }

    #[test]
    fn long_inputs_are_shortened_when_echoed() {
        assert_eq!(super::echo("abc"), "\"abc\"");
        let long = format!("arn:{}:end", "x".repeat(5000));
        let shown = super::echo(&long);
        assert!(shown.len() < 140, "{shown}");
        assert!(
            shown.starts_with("\"arn:xxx") && shown.contains("…") && shown.contains("x:end\""),
            "{shown}"
        );
        assert!(shown.ends_with("(5008 characters)"), "{shown}");
    }

    #[test]
    fn an_error_chain_reads_as_one_line_without_debug_structures() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("dispatch failure")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let err = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "tcp connect error:\nConnection refused",
        ));
        let line = super::one_line(&err);
        assert_eq!(
            line,
            "dispatch failure: tcp connect error: Connection refused"
        );
    }

    #[test]
    fn debug_structures_never_reach_the_user() {
        use super::without_debug;
        // What hyper's connect error printed through the SDK before.
        let seen = "tcp connect error: Connection refused (os error 111) (ConnectorError { kind: Io, source: hyper_util::client::legacy::Error(Connect, ConnectError(\"tcp connect error\", 127.0.0.1:9, Os { code: 111, kind: ConnectionRefused, message: \"Connection refused\" })), connection: Unknown })";
        assert_eq!(
            without_debug(seen),
            "tcp connect error: Connection refused (os error 111)"
        );
        assert_eq!(
            without_debug("client error (Connect)"),
            "client error (Connect)"
        );
        assert_eq!(
            without_debug("AccessDenied: User: arn:aws:iam::1:user/Me"),
            "AccessDenied: User: arn:aws:iam::1:user/Me"
        );
    }

    #[test]
    fn the_root_cause_is_the_innermost_two_steps() {
        #[derive(Debug)]
        struct E(&'static str, Option<Box<E>>);
        impl std::fmt::Display for E {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for E {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|e| e as _)
            }
        }
        let err = E(
            "dispatch failure",
            Some(Box::new(E(
                "io error",
                Some(Box::new(E(
                    "tcp connect error",
                    Some(Box::new(E(
                        "Connection refused (os error 111) (ConnectorError { kind: Io })",
                        None,
                    ))),
                ))),
            ))),
        );
        assert_eq!(
            super::root_cause(&err),
            "tcp connect error: Connection refused (os error 111)"
        );
        assert_eq!(
            super::one_line(&err),
            "dispatch failure: io error: tcp connect error: Connection refused (os error 111)"
        );
    }
}
