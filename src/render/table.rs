use super::{task_line, verdict_line, Renderer};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, Color, ContentArrangement, Table};
use ecs_doctor_checks::evidence::Purpose;
use ecs_doctor_checks::{CheckStatus, Report};
use owo_colors::OwoColorize;
use std::fmt::Write;

/// A terminal report for a person at 3 a.m.
pub struct TableRenderer {
    pub color: bool,
}

impl TableRenderer {
    fn heading(&self, text: &str) -> String {
        if self.color {
            text.bold().to_string()
        } else {
            text.to_string()
        }
    }
    fn mark(&self, ok: bool) -> String {
        match (ok, self.color) {
            (true, true) => "✓".green().to_string(),
            (false, true) => "✗".red().to_string(),
            (true, false) => "✓".into(),
            (false, false) => "✗".into(),
        }
    }
}

impl Renderer for TableRenderer {
    fn render(&self, report: &Report) -> String {
        let mut o = String::new();
        let label = if report.purpose == Purpose::Preflight {
            "Checked"
        } else {
            "Task"
        };
        let _ = writeln!(o, "{} {}", self.heading(label), task_line(report));
        if let Some(r) = &report.task.stopped_reason {
            let _ = writeln!(o, "{} {r}", self.heading("Stopped reason"));
        }
        let _ = writeln!(o, "\n{}\n", self.heading(&verdict_line(report)));

        if !report.candidates.is_empty() {
            let mut table = Table::new();
            table
                .load_style(UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(110);
            table.set_header(vec!["#", "cause", "confidence", "finding"]);
            for (i, c) in report.candidates.iter().enumerate() {
                let mut code = Cell::new(if c.benign {
                    format!("{} (benign)", c.code)
                } else {
                    c.code.to_string()
                });
                if self.color {
                    code = code.fg(if c.benign { Color::Green } else { Color::Red });
                }
                table.add_row(vec![
                    Cell::new(i + 1),
                    code,
                    Cell::new(format!("{:.2}", c.confidence)),
                    Cell::new(&c.title),
                ]);
            }
            let _ = writeln!(o, "{table}\n");
            for (i, c) in report.candidates.iter().enumerate() {
                let _ = writeln!(
                    o,
                    "{}",
                    self.heading(&format!("{}. {} — {}", i + 1, c.code, c.title))
                );
                for e in &c.evidence {
                    let _ = writeln!(o, "   • {e}");
                }
                for a in &c.against {
                    let _ = writeln!(o, "   − against: {a}");
                }
                for f in &c.fix {
                    let _ = writeln!(o, "   → fix: {f}");
                }
                for d in &c.docs {
                    let _ = writeln!(o, "   docs: {d}");
                }
                o.push('\n');
            }
        }
        if report
            .logs
            .iter()
            .any(|l| !l.lines.is_empty() || l.note.is_some())
        {
            let _ = writeln!(
                o,
                "{}",
                self.heading(&match &report.task.stopped_at {
                    Some(at) => format!("Last log lines (up to the stop at {at})"),
                    None => "Last log lines".to_string(),
                })
            );
            for l in &report.logs {
                let _ = writeln!(o, "   {} ({})", self.heading(&l.container), l.source);
                if let Some(note) = &l.note {
                    let _ = writeln!(o, "      {note}");
                }
                let show_time = !super::has_own_times(&l.lines);
                for line in &l.lines {
                    let text = super::log_line(line, show_time);
                    if line.highlight.is_some() && self.color {
                        let _ = writeln!(o, "   {}", text.yellow());
                    } else {
                        let _ = writeln!(o, "   {text}");
                    }
                }
            }
            o.push('\n');
        }
        if !report.network_paths.is_empty() {
            let _ = writeln!(o, "{}", self.heading("Network paths"));
            for p in &report.network_paths {
                let _ = writeln!(
                    o,
                    "   {} {}: {}",
                    self.mark(p.outcome() != "blocked"),
                    p.destination,
                    p.chain()
                );
            }
            o.push('\n');
        }
        let passed: Vec<_> = report
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Pass)
            .collect();
        if !passed.is_empty() {
            let _ = writeln!(o, "{}", self.heading("Checked and passed"));
            for c in passed {
                let _ = writeln!(o, "   {} {}: {}", self.mark(true), c.id, c.detail);
            }
            o.push('\n');
        }
        let undecided: Vec<_> = report
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Inconclusive)
            .collect();
        if !undecided.is_empty() {
            let _ = writeln!(o, "{}", self.heading("Could not decide"));
            for c in undecided {
                let _ = writeln!(o, "   ? {}: {}", c.id, c.detail);
            }
            o.push('\n');
        }
        let _ = writeln!(o, "{}", self.heading("Gaps"));
        if report.gaps.is_empty() {
            let _ = writeln!(o, "   none: every AWS call ecs-doctor needed was answered");
        }
        for g in &report.gaps {
            let _ = writeln!(o, "   ! {} ({}): {}", g.action, g.error, g.impact);
        }
        // Last, where the prompt returns: the command to run next.
        if let Some(line) = &report.next_step {
            let _ = writeln!(
                o,
                "\n{} (with the Session Manager plugin installed):\n   {line}",
                self.heading("Open a shell")
            );
        }
        o
    }
}
