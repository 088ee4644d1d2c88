//! One renderer per output format behind a small trait. Every renderer gets
//! an already-redacted report.

mod json;
mod markdown;
mod table;

use crate::cli::OutputFormat;
use ecs_doctor_checks::{redact, Report};

/// Turns a report into the text of one output format.
pub trait Renderer {
    fn render(&self, report: &Report) -> String;
}

/// Render `report` in `format`, redacting every credential-looking string first.
pub fn render(report: &Report, format: OutputFormat, color: bool) -> String {
    let report = redact::redact_serde(report);
    match format {
        OutputFormat::Table => table::TableRenderer { color }.render(&report),
        OutputFormat::Json => json::JsonRenderer.render(&report),
        OutputFormat::Markdown => markdown::MarkdownRenderer.render(&report),
    }
}

/// Render several reports: a JSON array, or the reports one after another.
pub fn render_many(reports: &[Report], format: OutputFormat, color: bool) -> String {
    if format == OutputFormat::Json {
        let redacted: Vec<Report> = reports.iter().map(redact::redact_serde).collect();
        let mut out = serde_json::to_string_pretty(&redacted).expect("reports serialise");
        out.push('\n');
        return out;
    }
    let separator = match format {
        OutputFormat::Markdown => "\n---\n\n",
        _ => "\n────────────────────────────────────────────────────────────────────────\n\n",
    };
    reports
        .iter()
        .map(|r| render(r, format, color))
        .collect::<Vec<_>>()
        .join(separator)
}

/// The one-line task summary every format starts with.
pub(crate) fn task_line(report: &Report) -> String {
    let t = &report.task;
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

/// A sentence that says what the verdict is, for the top of each report.
pub(crate) fn verdict_line(report: &Report) -> String {
    match report.candidates.first() {
        None => {
            "No root cause found: every check passed or could not decide (see gaps).".to_string()
        }
        Some(top) if top.benign => format!("Not a failure: {} ({}).", top.title, top.code),
        Some(top) => format!(
            "Most likely cause: {} — {} (confidence {:.2}).",
            top.code, top.title, top.confidence
        ),
    }
}
