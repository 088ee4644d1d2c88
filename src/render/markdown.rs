use super::{candidates_heading, task_line, verdict_line, Renderer};
use ecs_doctor_checks::evidence::Purpose;
use ecs_doctor_checks::{CheckStatus, Report};
use std::fmt::Write;

/// Markdown for pasting into a ticket.
pub struct MarkdownRenderer;

/// Escape text for a Markdown table cell (AWS messages can contain `|`).
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

/// Inline code that survives backticks inside the text.
fn code(text: &str) -> String {
    let fence = if text.contains('`') { "``" } else { "`" };
    format!("{fence}{}{fence}", text.replace('\n', " "))
}

impl Renderer for MarkdownRenderer {
    fn render(&self, report: &Report) -> String {
        let mut o = String::new();
        let t = &report.task;
        let _ = writeln!(o, "## ecs-doctor: {}\n", cell(&verdict_line(report)));
        let preflight = report.purpose == Purpose::Preflight;
        let label = if preflight { "Checked" } else { "Task" };
        let _ = writeln!(o, "**{label}** {}\n", code(&task_line(report)));
        if let Some(reason) = &t.stopped_reason {
            let _ = writeln!(o, "**Stopped reason** {}\n", code(reason));
        }
        if let Some(td) = t.task_definition.as_ref().filter(|_| !preflight) {
            let _ = writeln!(o, "**Task definition** {}\n", code(td));
        }
        let _ = writeln!(o, "### {}\n", candidates_heading(report));
        if report.candidates.is_empty() {
            let _ = writeln!(o, "None found.\n");
        } else {
            let _ = writeln!(o, "| # | code | confidence | finding |\n|---|---|---|---|");
            for (i, c) in report.candidates.iter().enumerate() {
                let benign = if c.benign { " (benign)" } else { "" };
                let _ = writeln!(
                    o,
                    "| {} | `{}`{benign} | {:.2} | {} |",
                    i + 1,
                    c.code,
                    c.confidence,
                    cell(&c.title)
                );
            }
            o.push('\n');
            for (i, c) in report.candidates.iter().enumerate() {
                let _ = writeln!(o, "#### {}. `{}` — {}\n", i + 1, c.code, c.title);
                let _ = writeln!(o, "Evidence:\n");
                for e in &c.evidence {
                    let _ = writeln!(o, "- {e}");
                }
                if !c.against.is_empty() {
                    let _ = writeln!(o, "\nAgainst:\n");
                    for a in &c.against {
                        let _ = writeln!(o, "- {a}");
                    }
                }
                let _ = writeln!(o, "\nFix:\n");
                for f in &c.fix {
                    let _ = writeln!(o, "1. {f}");
                }
                if !c.docs.is_empty() {
                    let _ = writeln!(o, "\nDocs: {}", c.docs.join(", "));
                }
                o.push('\n');
            }
        }
        if report
            .logs
            .iter()
            .any(|l| !l.lines.is_empty() || l.note.is_some())
        {
            let _ = writeln!(o, "### Last log lines\n");
            if let Some(at) = &t.stopped_at {
                let _ = writeln!(o, "Up to the stop at {} (UTC).\n", code(at));
            }
            for l in &report.logs {
                let _ = write!(o, "**{}** — {}", code(&l.container), code(&l.source));
                match &l.note {
                    Some(note) => {
                        let _ = writeln!(o, ": {}\n", note);
                    }
                    None => {
                        let _ = writeln!(o, "\n\n````text");
                        let show_time = !super::has_own_times(&l.lines);
                        for line in &l.lines {
                            let _ = writeln!(o, "{}", super::log_line(line, show_time));
                        }
                        let _ = writeln!(o, "````\n");
                    }
                }
            }
        }
        if !report.network_paths.is_empty() {
            let _ = writeln!(o, "### Network paths\n");
            for p in &report.network_paths {
                let _ = writeln!(
                    o,
                    "- **{}** ({}): {}",
                    p.destination,
                    p.outcome(),
                    code(&p.chain())
                );
            }
            o.push('\n');
        }
        for (title, status) in [
            ("Checked and passed", CheckStatus::Pass),
            ("Could not decide", CheckStatus::Inconclusive),
        ] {
            let rows: Vec<_> = report
                .checks
                .iter()
                .filter(|c| c.status == status)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let _ = writeln!(o, "### {title}\n\n| check | detail |\n|---|---|");
            for c in rows {
                let _ = writeln!(o, "| `{}` | {} |", c.id, cell(&c.detail));
            }
            o.push('\n');
        }
        let _ = writeln!(o, "### Gaps\n");
        if report.gaps.is_empty() {
            let _ = writeln!(o, "None: every AWS call ecs-doctor needed was answered.\n");
        } else {
            let _ = writeln!(o, "| action | error | impact |\n|---|---|---|");
            for g in &report.gaps {
                let _ = writeln!(
                    o,
                    "| `{}` | {} | {} |",
                    g.action,
                    cell(&g.error),
                    cell(&g.impact)
                );
            }
            o.push('\n');
        }
        if let Some(line) = &report.next_step {
            let _ = writeln!(o, "### Open a shell\n\nWith the Session Manager plugin installed:\n\n```sh\n{line}\n```\n");
        }
        let _ = writeln!(o, "<sub>ecs-doctor {}</sub>", report.ecs_doctor_version);
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_are_escaped_in_cells() {
        assert_eq!(cell("a | b"), "a \\| b");
        assert_eq!(code("x `y`"), "``x `y```");
    }
}
