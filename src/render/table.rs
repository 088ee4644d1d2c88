mod deployment;

use super::{sweep_verdict, task_line, verdict_line, Renderer};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, Color, ContentArrangement, Table};
use ecs_doctor_checks::sweep::deployment::DeploymentReport;
use ecs_doctor_checks::sweep::{
    short_time, CauseGroup, ClusterReport, ServiceIssue, ServiceReport, Source,
};
use ecs_doctor_checks::Conclusion;
use ecs_doctor_checks::{CheckStatus, Report};
use owo_colors::OwoColorize;
use std::fmt::Write;

/// A terminal report for a person at 3 a.m.: it fits the terminal's width,
/// wraps prose at word boundaries, folds what passed into one line (unless
/// `verbose`), and ends with the verdict and the first fix, so the last
/// screen is the one that matters.
pub struct TableRenderer {
    pub color: bool,
    /// The columns the report may take.
    pub width: u16,
    /// List every check that passed instead of counting them.
    pub verbose: bool,
}

/// The report's width when the terminal's is not known (a pipe, a file).
pub const DEFAULT_WIDTH: u16 = 100;

/// The narrowest width a report is laid out for.
const NARROWEST: u16 = 40;

/// The width of the terminal standard output is, else `COLUMNS`, else
/// [`DEFAULT_WIDTH`].
pub fn terminal_width() -> u16 {
    let columns = terminal_size::terminal_size_of(std::io::stdout())
        .map(|(w, _)| w.0)
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .unwrap_or(DEFAULT_WIDTH);
    columns.max(NARROWEST)
}

impl TableRenderer {
    fn heading(&self, text: &str) -> String {
        if self.color {
            text.bold().to_string()
        } else {
            text.to_string()
        }
    }
    /// `text` wrapped at word boundaries to the report's width: the first
    /// line starts with `first`, the others with `rest` (a hanging indent).
    fn para(&self, o: &mut String, first: &str, rest: &str, text: &str) {
        let options = textwrap::Options::new(usize::from(self.width.max(NARROWEST)))
            .initial_indent(first)
            .subsequent_indent(rest)
            // ARNs, host names and commands hold hyphens: break only at
            // spaces, and never inside a word, so a command stays copyable
            // (a word longer than the line overflows it instead).
            .word_separator(textwrap::WordSeparator::AsciiSpace)
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .break_words(false);
        for line in textwrap::wrap(text, options) {
            let _ = writeln!(o, "{line}");
        }
    }
    /// A labelled line (`Task arn:…`), wrapped; the label in bold.
    fn labelled(&self, o: &mut String, label: &str, text: &str) {
        let mut wrapped = String::new();
        self.para(&mut wrapped, &format!("{label} "), "   ", text);
        let _ = write!(o, "{}", wrapped.replacen(label, &self.heading(label), 1));
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

impl TableRenderer {
    fn table(&self, header: Vec<&str>) -> Table {
        let mut table = Table::new();
        table
            .load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(self.width);
        table.set_header(header);
        table
    }
    fn verdict_cell(&self, text: String, verdict: Conclusion) -> Cell {
        let cell = Cell::new(text);
        if !self.color {
            return cell;
        }
        cell.fg(match verdict {
            Conclusion::Failure => Color::Red,
            Conclusion::Inconclusive => Color::Yellow,
            Conclusion::NoFailure => Color::Green,
        })
    }
    fn gaps(&self, o: &mut String, gaps: &[ecs_doctor_checks::Gap]) {
        if gaps.is_empty() {
            return;
        }
        let _ = writeln!(o, "{}", self.heading("Gaps (calls refused or failed)"));
        for g in gaps {
            self.para(
                o,
                "  ",
                "    ",
                &format!("{}: {} — {}", g.action, g.error, g.impact),
            );
        }
        o.push('\n');
    }
}

impl TableRenderer {
    /// A sweep's verdict and headline, wrapped, in bold, after a blank line.
    fn sweep_headline(&self, o: &mut String, verdict: Conclusion, headline: &str) {
        let mut text = String::new();
        self.para(
            &mut text,
            "",
            "   ",
            &format!("{}: {headline}", sweep_verdict(verdict)),
        );
        let _ = writeln!(o, "\n{}", self.heading(&text));
    }

    /// Stopped tasks grouped by cause: one row per group, then each failing group's fix.
    fn cause_groups(&self, o: &mut String, groups: &[CauseGroup], total: usize) {
        if !groups.is_empty() {
            let mut table = self.table(vec!["tasks", "cause", "since", "latest stop", "finding"]);
            for g in groups {
                let cause = if g.benign {
                    format!("{} (benign)", g.cause)
                } else {
                    g.cause.clone()
                };
                table.add_row(vec![
                    Cell::new(format!("{} of {}", g.count, total)),
                    self.verdict_cell(cause, g.verdict),
                    Cell::new(g.since.as_deref().unwrap_or_default()),
                    Cell::new(
                        g.latest_stopped_at
                            .as_deref()
                            .map(short_time)
                            .unwrap_or_default(),
                    ),
                    Cell::new(&g.title),
                ]);
            }
            let _ = writeln!(o, "{table}\n");
            for g in groups.iter().filter(|g| !g.benign && !g.fix.is_empty()) {
                let _ = writeln!(o, "{} {}", self.heading("Fix"), g.cause);
                for f in &g.fix {
                    self.para(o, "  → ", "    ", f);
                }
                self.para(o, "  tasks: ", "    ", &g.tasks.join(", "));
                o.push('\n');
            }
        }
    }

    /// What the scheduler's events say, with the first fix of each kind.
    fn scheduler_issues(&self, o: &mut String, issues: &[ServiceIssue]) {
        for issue in issues {
            let _ = writeln!(
                o,
                "{} {} — {} ({})",
                self.heading("Scheduler"),
                issue.kind.as_str(),
                issue.named(),
                issue.counted()
            );
            for e in &issue.evidence {
                self.para(o, "  ", "    ", e);
            }
            for f in &issue.fix {
                self.para(o, "  → ", "    ", f);
            }
            o.push('\n');
        }
    }
}

impl Renderer for TableRenderer {
    fn deployment(&self, r: &DeploymentReport) -> String {
        self.deployment_report(r)
    }

    fn service(&self, r: &ServiceReport) -> String {
        let mut o = String::new();
        let svc = &r.service;
        let _ = writeln!(o, "{} {}", self.heading("Service"), svc.line(""));
        let _ = writeln!(
            o,
            "{} stopped since {}: {} stopped, {} diagnosed",
            self.heading("Window"),
            short_time(&r.window.since),
            r.window.stopped_tasks,
            r.window.diagnosed
        );
        self.sweep_headline(&mut o, r.verdict, &r.headline);
        self.cause_groups(&mut o, &r.groups, r.window.stopped_tasks);
        self.scheduler_issues(&mut o, &r.issues);
        if !r.deployments.is_empty() {
            let mut table = self.table(vec![
                "deployment",
                "status",
                "rollout",
                "task definition",
                "running",
                "failed",
            ]);
            for d in &r.deployments {
                let count = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_default();
                table.add_row(vec![
                    Cell::new(&d.id),
                    Cell::new(d.status.as_deref().unwrap_or_default()),
                    Cell::new(d.rollout_state.as_deref().unwrap_or_default()),
                    Cell::new(
                        d.task_definition
                            .as_deref()
                            .map(|t| t.rsplit('/').next().unwrap_or(t))
                            .unwrap_or_default(),
                    ),
                    Cell::new(count(d.running_count)),
                    Cell::new(count(d.failed_tasks)),
                ]);
            }
            let _ = writeln!(o, "{}\n{table}\n", self.heading("Deployments"));
        }
        self.gaps(&mut o, &r.gaps);
        o
    }

    fn cluster(&self, r: &ClusterReport) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{} {} ({}); stopped since {}: {} stopped, {} diagnosed",
            self.heading("Cluster"),
            r.cluster,
            r.region,
            short_time(&r.window.since),
            r.window.stopped_tasks,
            r.window.diagnosed
        );
        let _ = writeln!(o, "\n{}\n", self.heading(sweep_verdict(r.verdict)));
        if r.rows.is_empty() {
            let _ = writeln!(o, "No service or task group has a failure in the window.\n");
        } else {
            let mut table = self.table(vec![
                "service or task group",
                "cause",
                "tasks",
                "latest stop",
                "finding",
            ]);
            for row in &r.rows {
                let name = match row.source {
                    Source::Service => row.name.clone(),
                    Source::Standalone => format!("{} (no service)", row.name),
                };
                table.add_row(vec![
                    Cell::new(name),
                    self.verdict_cell(row.cause.clone(), row.verdict),
                    Cell::new(format!("{} of {}", row.count, row.of)),
                    Cell::new(row.latest.as_deref().map(short_time).unwrap_or_default()),
                    Cell::new(&row.title),
                ]);
            }
            let _ = writeln!(o, "{table}\n");
        }
        if !r.quiet.is_empty() {
            self.para(&mut o, "Nothing wrong seen: ", "   ", &r.quiet.join(", "));
            o.push('\n');
        }
        self.gaps(&mut o, &r.gaps);
        o
    }

    fn render(&self, report: &Report) -> String {
        let mut o = String::new();
        let label = report.purpose.wording().subject.label();
        self.labelled(&mut o, label, &task_line(report));
        if let Some(r) = &report.task.stopped_reason {
            self.labelled(&mut o, "Stopped reason", r);
        }
        if let Some(source) = &report.task.source {
            self.labelled(&mut o, "Task record", &format!("from {source}"));
        }
        let mut verdict = String::new();
        self.para(&mut verdict, "", "   ", &verdict_line(report));
        let _ = writeln!(o, "\n{}", self.heading(&verdict));

        if !report.candidates.is_empty() {
            let mut table = self.table(vec!["#", "cause", "confidence", "finding"]);
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
                let mut title = String::new();
                self.para(
                    &mut title,
                    "",
                    "   ",
                    &format!("{}. {} — {}", i + 1, c.code, c.title),
                );
                let _ = write!(o, "{}", self.heading(&title));
                for e in &c.evidence {
                    self.para(&mut o, "   • ", "     ", e);
                }
                for a in &c.against {
                    self.para(&mut o, "   − against: ", "     ", a);
                }
                for f in &c.fix {
                    self.para(&mut o, "   → fix: ", "     ", f);
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
                    self.para(&mut o, "      ", "      ", note);
                }
                let show_time = !ecs_doctor_checks::logs::excerpt::has_own_times(&l.lines);
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
                let mark = self.mark(p.outcome() != "blocked");
                let mut text = String::new();
                self.para(
                    &mut text,
                    "   ✓ ",
                    "     ",
                    &format!("{}: {}", p.destination, p.chain()),
                );
                // The mark is coloured after wrapping, so escapes never count as width.
                let _ = write!(o, "{}", text.replacen('✓', &mark, 1));
            }
            o.push('\n');
        }
        let passed: Vec<_> = report
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Pass)
            .collect();
        if self.verbose && !passed.is_empty() {
            let _ = writeln!(o, "{}", self.heading("Checked and passed"));
            for c in &passed {
                let mut text = String::new();
                self.para(
                    &mut text,
                    "   ✓ ",
                    "     ",
                    &format!("{}: {}", c.id, c.detail),
                );
                let _ = write!(o, "{}", text.replacen('✓', &self.mark(true), 1));
            }
            o.push('\n');
        } else if !passed.is_empty() {
            let plural = if passed.len() == 1 { "" } else { "s" };
            let mut text = String::new();
            self.para(
                &mut text,
                "",
                "   ",
                &format!(
                    "{} {} check{plural} (-v lists them).",
                    self.heading("Checked and passed:"),
                    passed.len()
                ),
            );
            let _ = writeln!(o, "{text}");
        }
        let undecided: Vec<_> = report
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Inconclusive)
            .collect();
        if !undecided.is_empty() {
            let _ = writeln!(o, "{}", self.heading("Could not decide"));
            for c in undecided {
                self.para(&mut o, "   ? ", "     ", &format!("{}: {}", c.id, c.detail));
            }
            o.push('\n');
        }
        let _ = writeln!(o, "{}", self.heading("Gaps"));
        if report.gaps.is_empty() {
            let _ = writeln!(o, "   none: every AWS call ecs-doctor needed was answered");
        }
        for g in &report.gaps {
            self.para(
                &mut o,
                "   ! ",
                "     ",
                &format!("{} ({}): {}", g.action, g.error, g.impact),
            );
        }
        // The last screen is the one that matters: the verdict and what to do.
        o.push('\n');
        let mut verdict = String::new();
        self.para(&mut verdict, "", "   ", &verdict_line(report));
        let _ = write!(o, "{}", self.heading(&verdict));
        if let Some(fix) = report
            .candidates
            .first()
            .filter(|c| !c.benign)
            .and_then(|c| c.fix.first())
        {
            self.para(&mut o, "   → first fix: ", "     ", fix);
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

#[cfg(test)]
mod tests;
