//! One renderer per output format behind a small trait. Every renderer gets
//! an already-redacted report.

mod json;
mod markdown;
mod table;

use crate::cli::{OutputFormat, Style};
use ecs_doctor_checks::logs::excerpt::ExcerptLine;
use ecs_doctor_checks::question::Subject;
use ecs_doctor_checks::sweep::deployment::DeploymentReport;
use ecs_doctor_checks::sweep::{ClusterReport, ServiceReport};
use ecs_doctor_checks::{redact, CheckStatus, Conclusion, Report};

/// Turns a report into the text of one output format.
pub trait Renderer {
    fn render(&self, report: &Report) -> String;
    /// A service sweep: stopped tasks grouped by cause, events, deployments.
    fn service(&self, report: &ServiceReport) -> String;
    /// A cluster sweep: one line per failing service or task group and cause.
    fn cluster(&self, report: &ClusterReport) -> String;
    /// A deployment: its state and why, its revisions, its stopped tasks by cause.
    fn deployment(&self, report: &DeploymentReport) -> String;
}

fn renderer(style: Style) -> Box<dyn Renderer> {
    match style.format {
        OutputFormat::Table => Box::new(table::TableRenderer {
            color: style.color,
            width: table::terminal_width(),
            verbose: style.verbose,
        }),
        OutputFormat::Json => Box::new(json::JsonRenderer),
        OutputFormat::Markdown => Box::new(markdown::MarkdownRenderer),
    }
}

/// Render a service sweep, redacted.
pub fn render_service(report: &ServiceReport, style: Style) -> String {
    renderer(style).service(&redact::redact_serde(report))
}

/// Render a deployment report, redacted.
pub fn render_deployment(report: &DeploymentReport, style: Style) -> String {
    renderer(style).deployment(&redact::redact_serde(report))
}

/// Render a cluster sweep, redacted.
pub fn render_cluster(report: &ClusterReport, style: Style) -> String {
    renderer(style).cluster(&redact::redact_serde(report))
}

/// The verdict of a sweep in one sentence.
pub(crate) fn sweep_verdict(verdict: Conclusion) -> &'static str {
    match verdict {
        Conclusion::Failure => "failure",
        Conclusion::NoFailure => "no failure",
        Conclusion::Inconclusive => "inconclusive",
    }
}

/// Render `report` in `format`, redacting every credential-looking string first.
pub fn render(report: &Report, style: Style) -> String {
    renderer(style).render(&redact::redact_serde(report))
}

/// Render several reports: a JSON array, or the reports one after another.
pub fn render_many(reports: &[Report], style: Style) -> String {
    if style.format == OutputFormat::Json {
        let redacted: Vec<Report> = reports.iter().map(redact::redact_serde).collect();
        let mut out = serde_json::to_string_pretty(&redacted).expect("reports serialise");
        out.push('\n');
        return out;
    }
    let separator = match style.format {
        OutputFormat::Markdown => "\n---\n\n",
        _ => "\n────────────────────────────────────────────────────────────────────────\n\n",
    };
    reports
        .iter()
        .map(|r| render(r, style))
        .collect::<Vec<_>>()
        .join(separator)
}

/// The one-line summary every format starts with: the task, or the task
/// definition a preflight judged.
pub(crate) fn task_line(report: &Report) -> String {
    let t = &report.task;
    match report.purpose.wording().subject {
        Subject::TaskDefinition => {
            let mut parts = vec!["preflight".to_string()];
            if let Some(svc) = &t.service {
                parts.push(format!("service {svc}"));
            }
            if !t.cluster.is_empty() {
                parts.push(format!("cluster {}", t.cluster));
            }
            parts.push(t.region.clone());
            let td = t.task_definition.as_deref().unwrap_or_default();
            format!("task definition {td} ({})", parts.join(", "))
        }
        Subject::Task => {
            let mut parts = vec![t.last_status.clone()];
            if let Some(code) = &t.stop_code {
                parts.push(code.clone());
            }
            if let Some(svc) = &t.service {
                parts.push(format!("service {svc}"));
            }
            parts.push(format!("cluster {}", t.cluster));
            parts.push(t.region.clone());
            format!("{} ({})", t.arn, parts.join(", "))
        }
    }
}

/// A sentence that says what the verdict is, for the top of each report.
pub(crate) fn verdict_line(report: &Report) -> String {
    let wording = report.purpose.wording();
    match report.candidates.first() {
        None if report.verdict == Conclusion::Inconclusive => {
            let undecided = report
                .checks
                .iter()
                .filter(|c| c.status == CheckStatus::Inconclusive)
                .count();
            wording.undecided(undecided)
        }
        None => wording.clear.to_string(),
        Some(top) if top.benign => format!("Not a failure: {} ({}).", top.title, top.code),
        Some(top) => wording.failing(top.code.as_str(), &top.title, top.confidence),
    }
}

/// A few words for a heading: the top cause's code, or what the verdict is.
pub(crate) fn short_verdict(report: &Report) -> String {
    let wording = report.purpose.wording();
    match report.candidates.first() {
        None if report.verdict == Conclusion::Inconclusive => "undecided".to_string(),
        None => wording.short_clear.to_string(),
        Some(top) if top.benign => format!("not a failure ({})", top.code),
        Some(top) => wording.short_failing.replace("{code}", top.code.as_str()),
    }
}

/// The heading of the candidate list.
pub(crate) fn candidates_heading(report: &Report) -> &'static str {
    report.purpose.wording().heading
}

/// One log line of an excerpt: `▶` marks the lines that matter, with why.
/// `show_time` adds the CloudWatch timestamp (left out when the application
/// writes its own, see [`ecs_doctor_checks::logs::excerpt::has_own_times`]).
pub(crate) fn log_line(line: &ExcerptLine, show_time: bool) -> String {
    let time = match (&line.timestamp, show_time) {
        (Some(t), true) => format!("{t} "),
        _ => String::new(),
    };
    let message = line.message.replace('\t', "    ");
    match &line.highlight {
        Some(why) => format!("▶ {time}{message}   ◀ {why}"),
        None => format!("  {time}{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecs_doctor_checks::{diagnose, testkit};

    /// A line that carries its own time is not given CloudWatch's as well,
    /// whatever the logger's format.
    #[test]
    fn own_times_are_not_repeated() {
        let line = |m: &str| ExcerptLine {
            message: m.to_string(),
            timestamp: Some("2024-05-01T12:00:00.123Z".into()),
            highlight: None,
        };
        // Go's log, logrus, glog, a JSON logger, Kafka's log4j. An epoch
        // number (pino) is no time a reader can read: CloudWatch's is kept.
        for own in [
            "2024/05/01 12:00:00 listen tcp :8080: bind: address already in use",
            "time=\"2024-05-01T12:00:00Z\" level=fatal msg=\"failed to connect\"",
            "E0501 12:00:00.000000       1 main.go:42] failed to start",
            "{\"time\":\"2024-05-01T12:00:00.000Z\",\"level\":\"error\",\"msg\":\"boom\"}",
            "[2024-05-01 12:00:00,000] ERROR Exiting Kafka.",
        ] {
            assert!(
                ecs_doctor_checks::logs::excerpt::has_own_times(&[line(own)]),
                "{own}"
            );
        }
        for plain in [
            "Error: Cannot find module '/app/server.js'",
            "panic: runtime error: invalid memory address or nil pointer dereference",
            "{\"level\":50,\"time\":1714564800000,\"msg\":\"boom\"}",
        ] {
            assert!(
                !ecs_doctor_checks::logs::excerpt::has_own_times(&[line(plain)]),
                "{plain}"
            );
            assert!(log_line(&line(plain), true).contains("2024-05-01T12:00:00.123Z"));
        }
    }

    /// A ready task's report ends with the command to run, in every text format,
    /// and a preflight says what it checked rather than naming a task.
    #[test]
    fn each_question_reads_as_its_own_report() {
        let ready = diagnose(&testkit::exec::ready(), "test");
        for format in [OutputFormat::Table, OutputFormat::Markdown] {
            let text = render(&ready, Style::plain(format));
            let command = text.rfind("aws ecs execute-command").expect("the command");
            assert!(
                text[command..].lines().count() <= 4,
                "{format:?} ends with the command:\n{text}"
            );
            assert!(text.contains("ECS Exec can reach this task"), "{text}");
        }
        let preflight = diagnose(&testkit::preflight::clean(), "test");
        let text = render(&preflight, Style::plain(OutputFormat::Markdown));
        assert!(text.contains("**Checked** `task definition arn:aws:ecs:us-east-1:123456789012:task-definition/web:7 (preflight, service web, cluster prod, us-east-1)`"), "{text}");
        assert!(text.contains("Preflight passed"), "{text}");
    }
}
