//! The Markdown report of a deployment, for the ticket or a CI job summary.

use super::{cause_groups, cell, code, gaps, scheduler_issues};
use crate::render::sweep_verdict;
use ecs_doctor_checks::sweep::deployment::DeploymentReport;
use ecs_doctor_checks::sweep::short_time;
use std::fmt::Write;

pub(super) fn deployment(r: &DeploymentReport) -> String {
    let mut o = String::new();
    let svc = &r.service;
    let _ = writeln!(
        o,
        "## ecs-doctor: deployment of {} — {}\n",
        cell(&svc.name),
        sweep_verdict(r.verdict)
    );
    let _ = writeln!(o, "**{}**\n", cell(&r.headline));
    let id = r
        .deployment
        .as_ref()
        .map(|d| format!("{} ", d.id()))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "**Deployment** {}\n",
        code(&format!("{id}of {}", svc.line("")))
    );
    let rev = &r.revisions;
    let before = rev.before_label();
    let back = rev
        .rolled_back_to
        .as_deref()
        .map(|b| format!(" (rolled back to `{b}`)"))
        .unwrap_or_default();
    if let Some(after) = &rev.after {
        let _ = writeln!(o, "**Revisions** `{before}` → `{after}`{back}\n");
    }
    if let Some(w) = &r.waited {
        let _ = writeln!(
            o,
            "**Waited** {}s, {} poll{}{}\n",
            w.seconds,
            w.polls,
            if w.polls == 1 { "" } else { "s" },
            if w.timed_out {
                " (`--wait-timeout` ran out)"
            } else {
                ""
            }
        );
    }
    if !r.evidence.is_empty() {
        let _ = writeln!(o, "### What ECS says\n");
        for e in &r.evidence {
            let _ = writeln!(o, "- {}", cell(e));
        }
        o.push('\n');
    }
    if r.window.stopped_tasks > 0 {
        let _ = writeln!(
            o,
            "**Its tasks** stopped since {}: {} stopped, {} diagnosed\n",
            short_time(&r.window.since),
            r.window.stopped_tasks,
            r.window.diagnosed
        );
    }
    cause_groups(&mut o, &r.groups, r.window.stopped_tasks);
    scheduler_issues(&mut o, &r.issues);
    let shown: Vec<&String> = r
        .groups
        .iter()
        .flat_map(|g| g.fix.iter())
        .chain(r.issues.iter().flat_map(|i| i.fix.iter()))
        .collect();
    let next: Vec<&String> = r.next_steps.iter().filter(|s| !shown.contains(s)).collect();
    if !next.is_empty() {
        let _ = writeln!(o, "### Next steps\n");
        for s in next {
            let _ = writeln!(o, "1. {s}");
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
