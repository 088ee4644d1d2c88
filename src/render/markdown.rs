mod deployment;

use super::{candidates_heading, short_verdict, sweep_verdict, task_line, verdict_line, Renderer};
use ecs_doctor_checks::sweep::deployment::DeploymentReport;
use ecs_doctor_checks::sweep::{
    short_time, CauseGroup, ClusterReport, ServiceIssue, ServiceReport, Source,
};
use ecs_doctor_checks::{CheckStatus, Gap, Report};
use std::fmt::Write;

/// Markdown for pasting into a ticket.
pub struct MarkdownRenderer;

/// Escape text for a Markdown table cell (AWS messages can contain `|`).
pub(super) fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

/// Inline code that survives backticks inside the text.
pub(super) fn code(text: &str) -> String {
    let fence = if text.contains('`') { "``" } else { "`" };
    format!("{fence}{}{fence}", text.replace('\n', " "))
}

impl Renderer for MarkdownRenderer {
    fn deployment(&self, r: &DeploymentReport) -> String {
        deployment::deployment(r)
    }

    fn service(&self, r: &ServiceReport) -> String {
        let mut o = String::new();
        let svc = &r.service;
        let _ = writeln!(
            o,
            "## ecs-doctor: service {} — {}\n",
            cell(&svc.name),
            sweep_verdict(r.verdict)
        );
        let _ = writeln!(o, "**{}**\n", cell(&r.headline));
        let td = svc
            .task_definition
            .as_deref()
            .map(|t| format!("; task definition {}", t.rsplit('/').next().unwrap_or(t)))
            .unwrap_or_default();
        let _ = writeln!(o, "**Service** {}\n", code(&svc.line(&td)));
        let _ = writeln!(
            o,
            "**Window** stopped since {}: {} stopped task{}, {} diagnosed\n",
            short_time(&r.window.since),
            r.window.stopped_tasks,
            if r.window.stopped_tasks == 1 { "" } else { "s" },
            r.window.diagnosed
        );
        cause_groups(&mut o, &r.groups, r.window.stopped_tasks);
        scheduler_issues(&mut o, &r.issues);
        if !r.deployments.is_empty() {
            let _ = writeln!(o, "### Deployments\n");
            let _ = writeln!(
                o,
                "| deployment | status | rollout | task definition | running | failed | created |\n|---|---|---|---|---|---|---|"
            );
            for d in &r.deployments {
                let rollout = match (&d.rollout_state, &d.rollout_state_reason) {
                    (Some(s), Some(why)) => format!("{s}: {why}"),
                    (Some(s), None) => s.clone(),
                    _ => String::new(),
                };
                let count = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_default();
                let _ = writeln!(
                    o,
                    "| `{}` | {} | {} | {} | {} | {} | {} |",
                    d.id,
                    d.status.as_deref().unwrap_or_default(),
                    cell(&rollout),
                    d.task_definition
                        .as_deref()
                        .map(|t| t.rsplit('/').next().unwrap_or(t))
                        .unwrap_or_default(),
                    count(d.running_count),
                    count(d.failed_tasks),
                    d.created_at.as_deref().map(short_time).unwrap_or_default()
                );
            }
            o.push('\n');
        }
        gaps(&mut o, &r.gaps);
        if let Some(task) = r.groups.first().and_then(|g| g.tasks.first()) {
            let _ = writeln!(
                o,
                "One task's whole report: `ecs-doctor task {task} --cluster {} --region {}`",
                svc.cluster, svc.region
            );
        }
        o
    }

    fn cluster(&self, r: &ClusterReport) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "## ecs-doctor: cluster {} — {}\n",
            cell(&r.cluster),
            sweep_verdict(r.verdict)
        );
        let _ = writeln!(
            o,
            "**Window** stopped since {} ({}): {} stopped task{}, {} diagnosed\n",
            short_time(&r.window.since),
            r.region,
            r.window.stopped_tasks,
            if r.window.stopped_tasks == 1 { "" } else { "s" },
            r.window.diagnosed
        );
        if r.rows.is_empty() {
            let _ = writeln!(o, "No service or task group has a failure in the window.\n");
        } else {
            let _ = writeln!(
                o,
                "| service or task group | cause | tasks | latest stop | finding |\n|---|---|---|---|---|"
            );
            for row in &r.rows {
                let name = match row.source {
                    Source::Service => row.name.clone(),
                    Source::Standalone => format!("{} (no service)", row.name),
                };
                let _ = writeln!(
                    o,
                    "| {} | `{}` | {} of {} | {} | {} |",
                    cell(&name),
                    row.cause,
                    row.count,
                    row.of,
                    row.latest.as_deref().map(short_time).unwrap_or_default(),
                    cell(&row.title)
                );
            }
            o.push('\n');
        }
        if !r.quiet.is_empty() {
            let _ = writeln!(o, "Nothing wrong seen: {}\n", r.quiet.join(", "));
        }
        if !r.gaps.is_empty() {
            let _ = writeln!(o, "### Gaps (calls refused or failed)\n");
            for g in &r.gaps {
                let _ = writeln!(o, "- `{}`: {} — {}", g.action, cell(&g.error), g.impact);
            }
            o.push('\n');
        }
        o
    }

    fn render(&self, report: &Report) -> String {
        let mut o = String::new();
        let t = &report.task;
        // A short heading a ticket can take as its title; the sentence below it.
        let _ = writeln!(o, "## ecs-doctor: {}\n", cell(&short_verdict(report)));
        let _ = writeln!(o, "**{}**\n", cell(&verdict_line(report)));
        let subject = report.purpose.wording().subject;
        let label = subject.label();
        let _ = writeln!(o, "**{label}** {}\n", code(&task_line(report)));
        if let Some(reason) = &t.stopped_reason {
            let _ = writeln!(o, "**Stopped reason** {}\n", code(reason));
        }
        if let Some(source) = &t.source {
            let _ = writeln!(o, "**Task record** from {}\n", cell(source));
        }
        if let Some(td) = t
            .task_definition
            .as_ref()
            .filter(|_| subject.shows_task_definition())
        {
            let _ = writeln!(o, "**Task definition** {}\n", code(td));
        }
        let _ = writeln!(o, "### {}\n", candidates_heading(report));
        if report.candidates.is_empty() {
            let _ = writeln!(o, "None found.\n");
        } else {
            if report.candidates.len() > 1 {
                // One candidate's section says all a one-row table would.
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
            }
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
                        let show_time = !ecs_doctor_checks::logs::excerpt::has_own_times(&l.lines);
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
        let rows = |status: CheckStatus| -> Vec<String> {
            report
                .checks
                .iter()
                .filter(|c| c.status == status)
                .map(|c| format!("| `{}` | {} |", c.id, cell(&c.detail)))
                .collect()
        };
        let undecided = rows(CheckStatus::Inconclusive);
        if !undecided.is_empty() {
            let _ = writeln!(
                o,
                "### Could not decide\n\n| check | detail |\n|---|---|\n{}\n",
                undecided.join("\n")
            );
        }
        // What passed matters to the reader who wants to know what was
        // ruled out, not to everyone: folded.
        let passed = rows(CheckStatus::Pass);
        if !passed.is_empty() {
            let _ = writeln!(
                o,
                "<details><summary>Checked and passed ({})</summary>\n\n| check | detail |\n|---|---|\n{}\n\n</details>\n",
                passed.len(),
                passed.join("\n")
            );
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

/// Stopped tasks grouped by cause: a table, then each group's evidence, fix and tasks.
pub(super) fn cause_groups(o: &mut String, groups: &[CauseGroup], total: usize) {
    if !groups.is_empty() {
        let _ = writeln!(o, "### Stopped tasks by cause\n");
        let _ = writeln!(
            o,
            "| tasks | cause | since | latest stop | finding |\n|---|---|---|---|---|"
        );
        for g in groups {
            let benign = if g.benign { " (benign)" } else { "" };
            let _ = writeln!(
                o,
                "| {} of {} | `{}`{benign} | {} | {} | {} |",
                g.count,
                total,
                g.cause,
                cell(g.since.as_deref().unwrap_or("")),
                g.latest_stopped_at
                    .as_deref()
                    .map(short_time)
                    .unwrap_or_default(),
                cell(&g.title)
            );
        }
        o.push('\n');
        for (i, g) in groups.iter().enumerate() {
            let plural = if g.count == 1 { "" } else { "s" };
            let _ = writeln!(
                o,
                "#### {}. `{}` — {} task{plural}\n",
                i + 1,
                g.cause,
                g.count
            );
            let _ = writeln!(o, "{}\n", g.title);
            if !g.evidence.is_empty() {
                let newest = g.tasks.first().map(String::as_str).unwrap_or_default();
                let _ = writeln!(o, "Evidence (newest task, {}):\n", code(newest));
                for e in &g.evidence {
                    let _ = writeln!(o, "- {e}");
                }
                o.push('\n');
            }
            if !g.fix.is_empty() {
                let _ = writeln!(o, "Fix:\n");
                for f in &g.fix {
                    let _ = writeln!(o, "1. {f}");
                }
                o.push('\n');
            }
            let tasks: Vec<String> = g.tasks.iter().map(|t| code(t)).collect();
            let _ = writeln!(
                o,
                "Tasks: {}; task definition{}: {}\n",
                tasks.join(", "),
                if g.task_definitions.len() == 1 {
                    ""
                } else {
                    "s"
                },
                g.task_definitions.join(", ")
            );
        }
    }
}

/// What the scheduler's events say, kind by kind.
pub(super) fn scheduler_issues(o: &mut String, issues: &[ServiceIssue]) {
    if !issues.is_empty() {
        let _ = writeln!(o, "### What the scheduler's events say\n");
        for issue in issues {
            let _ = writeln!(
                o,
                "#### `{}` — {} ({})\n",
                issue.kind.as_str(),
                issue.named(),
                issue.counted()
            );
            for e in &issue.evidence {
                let _ = writeln!(o, "- {e}");
            }
            let _ = writeln!(o, "\nFix:\n");
            for f in &issue.fix {
                let _ = writeln!(o, "1. {f}");
            }
            o.push('\n');
        }
    }
}

/// The calls refused or failed.
pub(super) fn gaps(o: &mut String, gaps: &[Gap]) {
    if !gaps.is_empty() {
        let _ = writeln!(o, "### Gaps (calls refused or failed)\n");
        for g in gaps {
            let _ = writeln!(o, "- `{}`: {} — {}", g.action, cell(&g.error), g.impact);
        }
        o.push('\n');
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
