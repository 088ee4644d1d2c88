//! A container restart policy (`restartPolicy`), and what it says about an
//! exit that stopped the task.
//!
//! With a restart policy, ECS restarts an exited container in place and the
//! task stays `RUNNING`. The container agent decides each exit the same way
//! (`ShouldRestart` in the agent's restart tracker): no restart when the
//! container was asked to stop, when the exit code is one of
//! `ignoredExitCodes`, or when less than `restartAttemptPeriod` seconds
//! (default 300) have passed since the container's last start or restart. So
//! when an essential container with a policy stops its task, one of those
//! held, and the report says which one the facts show.
//!
//! `DescribeTasks` does not report restarts (the task metadata endpoint's
//! `RestartCount` and Container Insights do, from inside or beside the task);
//! what ecs-doctor can read is the task's own run time and the container's
//! log, which keeps every run of the container in one stream.

use crate::evidence::{Container, ContainerRestartPolicy, Evidence};
use crate::logs::excerpt::decisive;
use crate::report::Finding;
use crate::task::{definition, seconds_between};
use crate::text::duration;

/// The period ECS waits between restarts when the policy names none.
pub const DEFAULT_PERIOD: i32 = 300;

/// Why a container with a restart policy ended its task instead of being
/// restarted in place: a closed set, one per rule of the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRestarted {
    /// The exit code is one the policy ignores.
    IgnoredExitCode { code: i32 },
    /// The whole task ran less than the period: the container was never
    /// restarted, and this first exit came too soon to be.
    FirstRunTooShort { ran: i32 },
    /// The task ran longer than the period: ECS may have restarted the
    /// container before; this exit came within the period of its last start.
    WithinPeriodOfLastStart { ran: Option<i32> },
}

/// What the policy and the facts say about one container's exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartReading {
    pub container: String,
    pub period: i32,
    pub why: NotRestarted,
    /// The decisive log line, when it appears more than once among the
    /// lines read of a container that may have restarted: how often, and
    /// between which times.
    pub repeats: Option<Repeats>,
}

/// A log line seen more than once among the lines read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeats {
    pub line: String,
    pub count: usize,
    pub first: Option<String>,
    pub last: Option<String>,
}

impl ContainerRestartPolicy {
    /// The period in seconds, ECS's default when the policy names none.
    pub fn period(&self) -> i32 {
        self.restart_attempt_period.unwrap_or(DEFAULT_PERIOD)
    }
}

/// The enabled restart policy of a task container, if it has one.
pub fn policy<'a>(ev: &'a Evidence, container: &Container) -> Option<&'a ContainerRestartPolicy> {
    definition(ev, container)?
        .restart_policy
        .as_ref()
        .filter(|p| p.enabled)
}

/// How long the task ran: from `startedAt` to the moment it began stopping.
fn task_ran(ev: &Evidence) -> Option<i32> {
    let t = &ev.task.timestamps;
    let end = t
        .stopping_at
        .as_deref()
        .or(t.execution_stopped_at.as_deref())
        .or(t.stopped_at.as_deref())?;
    seconds_between(t.started_at.as_deref()?, end).filter(|s| *s >= 0)
}

/// Why the container's exit ended the task although it has a restart
/// policy; `None` when it has none (or no exit code, which the agent never
/// restarts either and which other checks read).
pub fn reading(ev: &Evidence, container: &Container) -> Option<RestartReading> {
    if !crate::task::is_essential(ev, container) {
        return None;
    }
    let p = policy(ev, container)?;
    let code = container.exit_code?;
    let period = p.period();
    let why = if p.ignored_exit_codes.contains(&code) {
        NotRestarted::IgnoredExitCode { code }
    } else {
        match task_ran(ev) {
            Some(ran) if ran < period => NotRestarted::FirstRunTooShort { ran },
            ran => NotRestarted::WithinPeriodOfLastStart { ran },
        }
    };
    // Only a run that may have followed a restart can have left earlier
    // runs' lines in the stream.
    let may_have_restarted = matches!(why, NotRestarted::WithinPeriodOfLastStart { .. });
    let repeats = decisive(ev, &container.name)
        .filter(|_| may_have_restarted)
        .and_then(|d| {
            let same: Vec<_> = ev
                .log_lines(&container.name)
                .iter()
                .filter(|l| l.message.trim() == d.message.trim())
                .collect();
            (same.len() > 1).then(|| Repeats {
                line: d.message.trim().to_string(),
                count: same.len(),
                first: same.first().and_then(|l| l.timestamp.clone()),
                last: same.last().and_then(|l| l.timestamp.clone()),
            })
        });
    Some(RestartReading {
        container: container.name.clone(),
        period,
        why,
        repeats,
    })
}

impl RestartReading {
    /// The evidence lines: the policy, and why it did not restart the container.
    pub fn evidence(&self) -> Vec<String> {
        let name = &self.container;
        let period = self.period;
        let mut out = vec![match &self.why {
            NotRestarted::IgnoredExitCode { code } => format!(
                "container `{name}` has a restart policy, but exit code {code} is one of its ignoredExitCodes: ECS did not restart it in place"
            ),
            NotRestarted::FirstRunTooShort { ran } => format!(
                "container `{name}` has a restart policy (restartAttemptPeriod {period} s), but the task ran {} in all: ECS restarts a container only after it has run {period} s, so it was never restarted",
                duration(*ran)
            ),
            NotRestarted::WithinPeriodOfLastStart { ran } => format!(
                "container `{name}` has a restart policy (restartAttemptPeriod {period} s){}: this exit came less than {period} s after its last start or restart, so ECS stopped the task instead (DescribeTasks does not count restarts; the task metadata endpoint's RestartCount does)",
                ran.map(|r| format!(" and the task ran {}: ECS may have restarted it in place before", duration(r)))
                    .unwrap_or_default()
            ),
        }];
        if let Some(r) = &self.repeats {
            let span = match (&r.first, &r.last) {
                (Some(a), Some(b)) => seconds_between(a, b)
                    .filter(|s| *s > 0)
                    .map(|s| format!(" over {}", duration(s)))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            out.push(format!(
                "its log holds \"{}\" {} times{span} (every run of the container writes to this one stream)",
                r.line, r.count
            ));
        }
        out
    }

    /// The fix the reading adds: a restart policy hides nothing here, the
    /// exit itself must be fixed; only a transient failure that needs a
    /// quicker retry is helped by a shorter period.
    pub fn fix(&self) -> String {
        match &self.why {
            NotRestarted::IgnoredExitCode { code } => format!(
                "Exit code {code} is listed in `restartPolicy.ignoredExitCodes` of `{}`: ECS treats it as final. Remove it from the list if this exit should be retried in place, or fix what makes the container exit.",
                self.container
            ),
            NotRestarted::FirstRunTooShort { .. } | NotRestarted::WithinPeriodOfLastStart { .. } => format!(
                "A restart policy only retries a container that ran {} s since its last start: fix what makes `{}` exit. If the failure is transient and the container needs a quicker retry, lower `restartPolicy.restartAttemptPeriod` (60 s at least).",
                self.period, self.container
            ),
        }
    }
}

/// Adds what the container's restart policy says to a finding about its exit.
pub fn annotate(f: Finding, ev: &Evidence, container: &Container) -> Finding {
    let Some(r) = reading(ev, container) else {
        return f;
    };
    let mut f = f;
    for line in r.evidence() {
        f = f.evidence(line);
    }
    f.fix(r.fix())
}

#[cfg(test)]
mod tests;
