//! The terminal report of a deployment: the revisions and what ECS says
//! first, the verdict, then the stopped tasks by cause and the next steps.

use super::TableRenderer;
use ecs_doctor_checks::sweep::deployment::DeploymentReport;
use ecs_doctor_checks::sweep::short_time;
use std::fmt::Write;

impl TableRenderer {
    pub(super) fn deployment_report(&self, r: &DeploymentReport) -> String {
        let mut o = String::new();
        let svc = &r.service;
        let id = r
            .deployment
            .as_ref()
            .map(|d| format!("{} ", d.id()))
            .unwrap_or_default();
        self.labelled(&mut o, "Deployment", &format!("{id}of {}", svc.line("")));
        let rev = &r.revisions;
        let mut revisions = format!(
            "{} → {}",
            rev.before_label(),
            rev.after.as_deref().unwrap_or("?")
        );
        if let Some(back) = &rev.rolled_back_to {
            revisions.push_str(&format!(" (rolled back to {back})"));
        }
        if rev.after.is_some() {
            self.labelled(&mut o, "Revisions", &revisions);
        }
        if let Some(w) = &r.waited {
            self.labelled(
                &mut o,
                "Waited",
                &format!(
                    "{}s, {} poll{}{}",
                    w.seconds,
                    w.polls,
                    if w.polls == 1 { "" } else { "s" },
                    if w.timed_out {
                        " (--wait-timeout ran out)"
                    } else {
                        ""
                    }
                ),
            );
        }
        self.sweep_headline(&mut o, r.verdict, &r.headline);
        if !r.evidence.is_empty() {
            let _ = writeln!(o, "{}", self.heading("What ECS says"));
            for e in &r.evidence {
                self.para(&mut o, "  • ", "    ", e);
            }
            o.push('\n');
        }
        if r.window.stopped_tasks > 0 {
            let _ = writeln!(
                o,
                "{} stopped since {}: {} stopped, {} diagnosed",
                self.heading("Its tasks"),
                short_time(&r.window.since),
                r.window.stopped_tasks,
                r.window.diagnosed
            );
        }
        self.cause_groups(&mut o, &r.groups, r.window.stopped_tasks);
        self.scheduler_issues(&mut o, &r.issues);
        // The groups' fixes are printed with them; what is left is the trigger's and the grant's.
        let shown: Vec<&String> = r.groups.iter().flat_map(|g| g.fix.iter()).collect();
        let next: Vec<&String> = r
            .next_steps
            .iter()
            .filter(|s| !shown.contains(s))
            .filter(|s| !r.issues.iter().any(|i| i.fix.contains(s)))
            .collect();
        if !next.is_empty() {
            let _ = writeln!(o, "{}", self.heading("Next"));
            for s in next {
                self.para(&mut o, "  → ", "    ", s);
            }
            o.push('\n');
        }
        self.gaps(&mut o, &r.gaps);
        o
    }
}
