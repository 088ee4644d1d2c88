//! The application's own words: where each container's logs went, the lines
//! that matter, and the log excerpts the report shows under the candidates.

use crate::evidence::{ContainerLogs, Evidence, Fact, LogConfiguration, LogLine};
use crate::logs::{decisive_line, is_trace_detail, line_kind, LineKind};
use serde::{Deserialize, Serialize};

/// A short label for a highlighted line.
pub fn kind_label(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Panic => "panic / crash",
        LineKind::ReadOnlyFilesystem => "read-only file system",
        LineKind::Exception => "exception",
        LineKind::AddressInUse => "port already in use",
        LineKind::ExecFormat => "exec format error (wrong CPU architecture)",
        LineKind::ConnectionRefused => "connection refused",
        LineKind::Timeout => "timeout",
        LineKind::PermissionDenied => "permission denied",
        LineKind::MissingFile => "missing file",
        LineKind::OutOfMemory => "out of memory",
        LineKind::Error => "error",
    }
}

/// Whether a line deserves a highlight: not a stack frame or error-object
/// field, and a generic "error" only when it reads as a message (a level
/// token or an `Error:` header), not as a source excerpt.
pub fn highlight(line: &str) -> Option<LineKind> {
    if is_trace_detail(line) {
        return None;
    }
    let kind = line_kind(line)?;
    if kind == LineKind::Error {
        let message_like = line.contains(": ")
            || crate::text::contains_any(
                line,
                &[
                    "error ",
                    "fatal ",
                    "critical ",
                    "err!",
                    "[error]",
                    "level=error",
                ],
            );
        if !message_like {
            return None;
        }
    }
    Some(kind)
}

/// The collected logs of a container.
pub fn logs_of<'a>(ev: &'a Evidence, container: &str) -> Option<&'a ContainerLogs> {
    ev.logs.iter().find(|l| l.container == container)
}

/// Where a log driver other than awslogs sends a container's output.
pub fn destination(driver: &str, log: Option<&LogConfiguration>) -> String {
    let opt = |k: &str| log.and_then(|l| l.options.get(k)).map(String::as_str);
    match driver {
        "awsfirelens" => match opt("Name") {
            Some(name) => {
                let detail = [
                    "log_group_name",
                    "region",
                    "delivery_stream",
                    "bucket",
                    "Host",
                    "host",
                    "index",
                ]
                .iter()
                .filter_map(|k| opt(k).map(|v| format!("{k}={v}")))
                .collect::<Vec<_>>();
                if detail.is_empty() {
                    format!("FireLens (Fluent Bit output `{name}`)")
                } else {
                    format!(
                        "FireLens (Fluent Bit output `{name}`, {})",
                        detail.join(", ")
                    )
                }
            }
            None => "FireLens (the log router container's configuration decides where)".to_string(),
        },
        "splunk" => match opt("splunk-url") {
            Some(url) => format!("Splunk at {url}"),
            None => "Splunk".to_string(),
        },
        "fluentd" => format!(
            "fluentd at {}",
            opt("fluentd-address").unwrap_or("the default address")
        ),
        "gelf" => format!(
            "a GELF server at {}",
            opt("gelf-address").unwrap_or("the configured address")
        ),
        "syslog" => format!(
            "syslog at {}",
            opt("syslog-address").unwrap_or("the host's syslog")
        ),
        "json-file" | "journald" => {
            format!("the container instance's local {driver} logs (EC2 only)")
        }
        "none" | "" => {
            "nowhere: the container has no log configuration, so its output was not kept"
                .to_string()
        }
        other => format!("the `{other}` log driver"),
    }
}

/// Why a container's awslogs stream may not exist, judged from whether it ran.
fn missing_stream_meaning(ev: &Evidence, container: &str) -> &'static str {
    let ran = ev
        .task
        .containers
        .iter()
        .find(|c| c.name == container)
        .is_some_and(|c| c.exit_code.is_some() || c.last_status.as_deref() == Some("RUNNING"));
    if ran {
        "although the container ran: check `awslogs-stream-prefix` and the log group's retention"
    } else {
        "the container never started, so it wrote nothing"
    }
}

/// One line of an excerpt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExcerptLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    pub message: String,
    /// Why the line matters, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highlight: Option<String>,
}

/// A container's last log lines (or why there are none), for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogExcerpt {
    pub container: String,
    pub driver: String,
    /// `group › stream` for awslogs, else where the logs went.
    pub source: String,
    /// Why there are no lines, when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<ExcerptLine>,
}

/// One excerpt per container the logs collector looked at, in task order.
pub fn excerpts(ev: &Evidence) -> Vec<LogExcerpt> {
    ev.logs
        .iter()
        .map(|l| {
            let def_log = ev
                .task_def()
                .and_then(|td| td.container(&l.container))
                .and_then(|d| d.log_configuration.as_ref());
            let source = match (&l.group, &l.stream) {
                (Some(g), Some(s)) if l.driver == "awslogs" => format!("{g} › {s}"),
                (Some(g), None) if l.driver == "awslogs" => g.clone(),
                _ => destination(&l.driver, def_log),
            };
            let (note, lines) = match &l.lines {
                Fact::Gathered { value } if value.is_empty() => (
                    Some("the log stream holds no lines up to the stop".to_string()),
                    Vec::new(),
                ),
                Fact::Gathered { value } => (
                    None,
                    value
                        .iter()
                        .map(|line| ExcerptLine {
                            timestamp: line.timestamp.clone(),
                            message: line.message.clone(),
                            highlight: highlight(&line.message).map(|k| kind_label(k).to_string()),
                        })
                        .collect(),
                ),
                other if l.driver != "awslogs" => (
                    Some(
                        "not in CloudWatch Logs, so ecs-doctor cannot show them; read them there"
                            .to_string(),
                    )
                    .filter(|_| matches!(other, Fact::NotApplicable { .. }))
                    .or_else(|| other.gap_reason()),
                    Vec::new(),
                ),
                Fact::Absent { detail } => (
                    Some(format!(
                        "{detail}: {}",
                        missing_stream_meaning(ev, &l.container)
                    )),
                    Vec::new(),
                ),
                other => (other.gap_reason(), Vec::new()),
            };
            LogExcerpt {
                container: l.container.clone(),
                driver: l.driver.clone(),
                source,
                note,
                lines,
            }
        })
        .collect()
}

/// An evidence line about a container's logs: the decisive line quoted,
/// or why there is none (never started, not in CloudWatch, no error).
pub fn log_evidence(ev: &Evidence, container: &str) -> String {
    let Some(log) = logs_of(ev, container) else {
        // Logs are only looked up through the task definition: without it,
        // whether the container logs anywhere is unknown, not "no".
        return match (ev.task_definition.value(), ev.task_definition.gap_reason()) {
            (None, Some(reason)) => {
                format!("its log lines were not read: the task definition is unknown ({reason})")
            }
            _ => format!("container `{container}`: it has no log configuration"),
        };
    };
    let lines = log.lines.value().map(Vec::as_slice).unwrap_or(&[]);
    if let Some(line) = decisive_line(lines) {
        return format!("last error in its log: \"{}\"", line.message.trim());
    }
    match &log.lines {
        Fact::Gathered { value } if value.is_empty() => format!(
            "its log stream {} is empty: the process wrote nothing before it stopped",
            log.stream.as_deref().unwrap_or("")
        ),
        Fact::Gathered { value } => format!(
            "its last {} log lines show no error; the last one is \"{}\"",
            value.len(),
            value.last().map(|l| l.message.trim()).unwrap_or("")
        ),
        Fact::Absent { detail } => format!(
            "its log stream does not exist ({detail}): {}",
            missing_stream_meaning(ev, container)
        ),
        Fact::NotApplicable { .. } if log.driver != "awslogs" => {
            let def_log = ev
                .task_def()
                .and_then(|td| td.container(container))
                .and_then(|d| d.log_configuration.as_ref());
            format!(
                "its logs are not in CloudWatch Logs: they went to {}",
                destination(&log.driver, def_log)
            )
        }
        other => format!(
            "its log lines could not be read: {}",
            other.gap_reason().unwrap_or_default()
        ),
    }
}

/// The decisive line of a container's log, if any.
pub fn decisive<'a>(ev: &'a Evidence, container: &str) -> Option<&'a LogLine> {
    decisive_line(ev.log_lines(container))
}

/// A copy-pasteable way to read the container's logs, or where they went.
pub fn log_hint(ev: &Evidence, container: &str) -> String {
    match logs_of(ev, container) {
        Some(l) if l.driver == "awslogs" => match (&l.group, &l.stream) {
            (Some(g), Some(s)) => format!("`aws logs tail {g} --log-stream-names {s} --since 1h`"),
            (Some(g), None) => format!("log group `{g}`"),
            _ => "the container's awslogs group".to_string(),
        },
        Some(l) => {
            let def_log = ev
                .task_def()
                .and_then(|td| td.container(container))
                .and_then(|d| d.log_configuration.as_ref());
            destination(&l.driver, def_log)
        }
        None => "the container's log destination".to_string(),
    }
}

/// Whether most lines carry the application's own time near their start
/// (`2024-05-01T12:00:00Z`, `2024/05/01 12:00:00`, `[12:00:00]`,
/// `{"time":"…"`, logrus's `time="…"`, glog's `I0501 12:00:00`), so
/// printing CloudWatch's timestamp as well would only repeat it.
pub fn has_own_times(lines: &[ExcerptLine]) -> bool {
    static OWN_TIME: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let own_time = OWN_TIME.get_or_init(|| {
        regex::Regex::new(r"\d{4}[-/]\d{2}[-/]\d{2}|\b\d{2}:\d{2}:\d{2}").expect("a valid pattern")
    });
    let dated = lines
        .iter()
        .filter(|l| {
            let head: String = l.message.trim_start().chars().take(48).collect();
            own_time.is_match(&head)
        })
        .count();
    dated * 2 >= lines.len() && dated > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{stopped, EvidenceExt};

    #[test]
    fn decisive_line_is_quoted() {
        let ev = stopped(
            "EssentialContainerExited",
            "Essential container in task exited",
        )
        .log(
            "web",
            &[
                "starting",
                "Error: connect ECONNREFUSED 10.0.3.25:5432",
                "    at TCPConnectWrap (node:net:1:1)",
            ],
        );
        assert_eq!(
            log_evidence(&ev, "web"),
            "last error in its log: \"Error: connect ECONNREFUSED 10.0.3.25:5432\""
        );
    }

    #[test]
    fn a_missing_stream_says_so() {
        let mut ev = stopped("TaskFailedToStart", "x");
        ev.logs[0].lines = Fact::absent(
            "log stream ecs/web/1 does not exist in /ecs/web: the container probably never started",
        );
        assert!(log_evidence(&ev, "web").contains("never started"));
        let ex = excerpts(&ev);
        assert!(ex[0].note.as_deref().unwrap().contains("never started"));
        let ran = ev.exit("web", Some(1), None);
        assert!(log_evidence(&ran, "web").contains("although the container ran"));
    }

    #[test]
    fn firelens_logs_say_where_they_went() {
        let mut ev = stopped("EssentialContainerExited", "x");
        ev.logs[0] = ContainerLogs {
            container: "web".into(),
            driver: "awsfirelens".into(),
            lines: Fact::not_applicable("logs go to the awsfirelens driver, not CloudWatch Logs"),
            ..Default::default()
        };
        let ev = ev.def("web", |d| {
            let l = d.log_configuration.as_mut().unwrap();
            l.driver = "awsfirelens".into();
            l.options = [("Name".to_string(), "datadog".to_string())]
                .into_iter()
                .collect();
        });
        assert!(log_evidence(&ev, "web").contains("FireLens (Fluent Bit output `datadog`)"));
        let ex = excerpts(&ev);
        assert_eq!(ex[0].source, "FireLens (Fluent Bit output `datadog`)");
        assert!(ex[0]
            .note
            .as_deref()
            .unwrap()
            .starts_with("not in CloudWatch Logs"));
    }

    #[test]
    fn stack_frames_and_source_excerpts_are_not_highlighted() {
        for line in [
            "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
            "  code: 'ECONNREFUSED',",
            "    Error.captureStackTrace(err)",
        ] {
            assert_eq!(highlight(line), None, "{line}");
        }
        assert_eq!(
            highlight("ERROR [boot] cannot start without the database"),
            Some(LineKind::Error)
        );
        assert_eq!(
            highlight("Error: connect ECONNREFUSED 10.0.3.25:5432"),
            Some(LineKind::ConnectionRefused)
        );
    }

    #[test]
    fn excerpts_highlight_the_lines_that_matter() {
        let ev = stopped("EssentialContainerExited", "x").log(
            "web",
            &[
                "listening on 8080",
                "Error: listen EADDRINUSE: address already in use :::8080",
            ],
        );
        let ex = excerpts(&ev);
        assert_eq!(ex[0].lines[0].highlight, None);
        assert_eq!(
            ex[0].lines[1].highlight.as_deref(),
            Some("port already in use")
        );
        assert_eq!(
            ex[0].source,
            format!("/ecs/web › ecs/web/{}", crate::testkit::TASK_ID)
        );
    }
}
