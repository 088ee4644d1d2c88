//! Many tasks at once: a service's or a cluster's stopped tasks, each
//! diagnosed on its own, then grouped by root cause, with what the service
//! scheduler's events add (a service that never placed a task has no
//! stopped task to diagnose, only events).
//!
//! Pure functions over task reports and the service's evidence, like the
//! checks: the collector decides which tasks are in the window.

pub mod deployment;
pub mod events;
pub mod protection;

use crate::codes::Cause;
use crate::evidence::{Deployment, Fact, Gap, Service};
use crate::placement::Shortage;
use crate::report::{Conclusion, Report};
use crate::SCHEMA_VERSION;
use events::EventKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One stopped task of a sweep: its report and the deployment that started it.
#[derive(Debug, Clone)]
pub struct Swept {
    pub report: Report,
    /// `startedBy`: the service deployment (`ecs-svc/…`) that launched the task.
    pub started_by: Option<String>,
}

/// Which stopped tasks a sweep looked at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Window {
    /// RFC 3339 (UTC): tasks that stopped at or after this.
    pub since: String,
    /// At most this many tasks were diagnosed, newest first.
    pub limit: usize,
    /// Stopped tasks in the window (all of them, diagnosed or not).
    pub stopped_tasks: usize,
    /// Tasks diagnosed (the newest `limit` of `stopped_tasks`).
    pub diagnosed: usize,
}

/// What a group of tasks has in common: a cause, or no decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "code")]
pub enum GroupKey {
    /// The top candidate of each task's report.
    Cause(Cause),
    /// No cause found and a deciding fact missing.
    Undecided,
    /// No cause found and every check ran: nothing wrong was seen.
    Clean,
}

impl GroupKey {
    fn of(report: &Report) -> GroupKey {
        match report.candidates.first() {
            Some(c) => GroupKey::Cause(c.code),
            None if report.verdict == Conclusion::Inconclusive => GroupKey::Undecided,
            None => GroupKey::Clean,
        }
    }

    /// The kebab-case label: the cause code, `inconclusive` or `no-failure`.
    pub fn label(self) -> String {
        match self {
            GroupKey::Cause(c) => c.to_string(),
            GroupKey::Undecided => "inconclusive".into(),
            GroupKey::Clean => "no-failure".into(),
        }
    }

    fn verdict(self) -> Conclusion {
        match self {
            GroupKey::Cause(c) if !c.is_benign() => Conclusion::Failure,
            GroupKey::Undecided => Conclusion::Inconclusive,
            _ => Conclusion::NoFailure,
        }
    }

    /// Failures first, then undecided, then benign stops, then clean.
    fn severity(self) -> u8 {
        match self {
            GroupKey::Cause(c) if !c.is_benign() => 3,
            GroupKey::Undecided => 2,
            GroupKey::Cause(_) => 1,
            GroupKey::Clean => 0,
        }
    }
}

/// Tasks that stopped for the same reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CauseGroup {
    /// The cause code, `inconclusive`, or `no-failure`.
    pub cause: String,
    pub benign: bool,
    pub verdict: Conclusion,
    pub count: usize,
    /// The newest task's top candidate (or why nothing was decided).
    pub title: String,
    /// The newest task's evidence for it.
    pub evidence: Vec<String>,
    pub fix: Vec<String>,
    /// Task ids, newest first.
    pub tasks: Vec<String>,
    pub first_stopped_at: Option<String>,
    pub latest_stopped_at: Option<String>,
    /// The task definitions the tasks ran (family:revision).
    pub task_definitions: Vec<String>,
    /// The deployments that started them, oldest first.
    pub deployments: Vec<String>,
    /// When the group started: `deployment ecs-svc/… at …` or the first stop.
    pub since: Option<String>,
    /// One line: `7 of 8 stopped tasks: image-not-found (…), since deployment … at …`.
    pub summary: String,
}

/// A problem the service scheduler's events show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceIssue {
    pub kind: EventKind,
    pub title: String,
    /// Events of this kind in the window.
    pub count: usize,
    pub latest_at: Option<String>,
    /// The newest messages, with their times.
    pub evidence: Vec<String>,
    pub fix: Vec<String>,
    /// The cause code the events name, when ecs-doctor reads them as one
    /// (`placement-failed` for a task the scheduler could not place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// What a placement failure was short of, when the newest event that
    /// says so names it (CPU, memory, ports, Fargate capacity, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Shortage>,
    /// The read that found the issue, when the tasks themselves (not the
    /// scheduler's events) show it: `count` is then a number of tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
}

impl ServiceIssue {
    /// Whether the issue is a failure, by its kind (see [`EventKind::is_failure`]).
    pub fn verdict(&self) -> Conclusion {
        if self.kind.is_failure() {
            Conclusion::Failure
        } else {
            Conclusion::NoFailure
        }
    }

    /// The issue for a headline: its cause code first, when it names one.
    pub fn named(&self) -> String {
        match self.cause {
            Some(c) => format!("{c}: {}", self.title),
            None => self.title.clone(),
        }
    }

    /// `4 events`, or `1 task` for an issue a read of the tasks found.
    pub fn counted(&self) -> String {
        let unit = match self.read {
            Some(_) => "task",
            None => "event",
        };
        let s = if self.count == 1 { "" } else { "s" };
        format!("{} {unit}{s}", self.count)
    }
}

/// The service a sweep looked at, as DescribeServices showed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServiceSummary {
    pub name: String,
    pub arn: String,
    pub cluster: String,
    pub region: String,
    pub status: Option<String>,
    pub desired_count: i32,
    pub running_count: i32,
    pub task_definition: Option<String>,
}

impl ServiceSummary {
    /// `web (cluster prod, us-east-1; 2 of 2 running{more})`: the service and
    /// where it stands, as every report's header names it.
    pub fn line(&self, more: &str) -> String {
        format!(
            "{} (cluster {}, {}; {} of {} running{more})",
            self.name, self.cluster, self.region, self.running_count, self.desired_count
        )
    }
}

/// A service's stopped tasks grouped by cause (`ecs-doctor service`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceReport {
    pub schema_version: u32,
    /// Always `service`.
    pub kind: String,
    /// `failure`, `no-failure` or `inconclusive`, as for a task.
    pub verdict: Conclusion,
    pub ecs_doctor_version: String,
    /// One line that says what is wrong, for the top of the ticket.
    pub headline: String,
    pub service: ServiceSummary,
    pub window: Window,
    /// Worst first: failures, then undecided, then benign stops.
    pub groups: Vec<CauseGroup>,
    /// What the scheduler's events in the window say.
    pub issues: Vec<ServiceIssue>,
    pub deployments: Vec<Deployment>,
    /// Calls refused or failed that the sweep itself needed (the tasks' own gaps are in `tasks`).
    pub gaps: Vec<Gap>,
    /// Each diagnosed task's report, newest first.
    pub tasks: Vec<Report>,
}

/// Group reports by their top cause, worst first. `total` is the number of
/// stopped tasks in the window (for "7 of 8").
pub fn group(tasks: &[Swept], deployments: &[Deployment], total: usize) -> Vec<CauseGroup> {
    let mut by_key: BTreeMap<GroupKey, Vec<&Swept>> = BTreeMap::new();
    for t in tasks {
        by_key.entry(GroupKey::of(&t.report)).or_default().push(t);
    }
    let mut groups: Vec<(GroupKey, CauseGroup)> = by_key
        .into_iter()
        .map(|(key, mut members)| {
            // Newest first.
            members.sort_by(|a, b| b.report.task.stopped_at.cmp(&a.report.task.stopped_at));
            (key, cause_group(key, &members, deployments, total))
        })
        .collect();
    groups.sort_by(|(ka, a), (kb, b)| {
        kb.severity()
            .cmp(&ka.severity())
            .then(b.count.cmp(&a.count))
            .then(b.latest_stopped_at.cmp(&a.latest_stopped_at))
    });
    groups.into_iter().map(|(_, g)| g).collect()
}

fn cause_group(
    key: GroupKey,
    members: &[&Swept],
    deployments: &[Deployment],
    total: usize,
) -> CauseGroup {
    let newest = &members[0].report;
    let (title, evidence, fix) = match newest.candidates.first() {
        Some(c) => (c.title.clone(), c.evidence.clone(), c.fix.clone()),
        None if key == GroupKey::Undecided => {
            let missing: Vec<String> = newest
                .gaps
                .iter()
                .map(|g| format!("{} ({})", g.action, g.error))
                .collect();
            let fix = if newest.gaps.iter().any(crate::evidence::Gap::needs_a_grant) {
                "Grant the calls the gaps name (docs/iam-policy.json) and run again"
            } else {
                "Run again once AWS answers the calls the gaps name (they failed; none was refused)"
            };
            (
                "No cause could be decided: facts were missing".to_string(),
                missing,
                vec![fix.into()],
            )
        }
        None => (
            "Stopped with no failure seen".to_string(),
            Vec::new(),
            Vec::new(),
        ),
    };
    let mut task_definitions: Vec<String> = Vec::new();
    let mut started: Vec<String> = Vec::new();
    // Oldest first, so the first deployment is the one the group began with.
    for m in members.iter().rev() {
        if let Some(td) = &m.report.task.task_definition {
            let label = td.rsplit('/').next().unwrap_or(td).to_string();
            if !task_definitions.contains(&label) {
                task_definitions.push(label);
            }
        }
        if let Some(by) = m.started_by.as_ref().filter(|b| b.starts_with("ecs-svc/")) {
            if !started.contains(by) {
                started.push(by.clone());
            }
        }
    }
    let first = members
        .last()
        .and_then(|m| m.report.task.stopped_at.clone());
    let latest = newest.task.stopped_at.clone();
    let since = match started.as_slice() {
        [one] => Some(match deployments.iter().find(|d| &d.id == one) {
            Some(Deployment {
                created_at: Some(at),
                ..
            }) => format!("deployment {one} at {}", short_time(at)),
            _ => format!("deployment {one}"),
        }),
        _ => first.as_deref().map(short_time),
    };
    let label = key.label();
    let benign = matches!(key, GroupKey::Cause(c) if c.is_benign());
    let mut summary = format!(
        "{} of {total} stopped task{}: {label}",
        members.len(),
        if total == 1 { "" } else { "s" }
    );
    if matches!(key, GroupKey::Cause(_)) {
        summary.push_str(&format!(" ({title})"));
    }
    if let Some(s) = &since {
        summary.push_str(&format!(", since {s}"));
    }
    if benign {
        summary.push_str(" (benign)");
    }
    CauseGroup {
        cause: label,
        benign,
        verdict: key.verdict(),
        count: members.len(),
        title,
        evidence,
        fix,
        tasks: members
            .iter()
            .map(|m| {
                m.report
                    .task
                    .arn
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect(),
        first_stopped_at: first,
        latest_stopped_at: latest,
        task_definitions,
        deployments: started,
        since,
        summary,
    }
}

/// `2026-12-03T10:42:13.123Z` → `2026-12-03 10:42 UTC`.
pub fn short_time(rfc3339: &str) -> String {
    match rfc3339.get(..16) {
        Some(head) if rfc3339.ends_with('Z') || rfc3339.ends_with("+00:00") => {
            format!("{} UTC", head.replace('T', " "))
        }
        Some(head) => head.replace('T', " "),
        None => rfc3339.to_string(),
    }
}

/// At or after `since`, comparing RFC 3339 UTC texts to the second; a
/// time not reported (a task still stopping) counts as inside.
pub fn in_window(at: Option<&str>, since: &str) -> bool {
    match at {
        Some(at) => at.get(..19).unwrap_or(at) >= since.get(..19).unwrap_or(since),
        None => true,
    }
}

/// The problems the scheduler's events in the window show, most recent first.
pub fn issues(service: &Service, since: &str) -> Vec<ServiceIssue> {
    let mut by_kind: BTreeMap<EventKind, Vec<(&Option<String>, &str)>> = BTreeMap::new();
    for e in service
        .events
        .iter()
        .filter(|e| in_window(e.created_at.as_deref(), since))
    {
        let kind = events::kind_of(&e.message);
        if kind.is_problem() {
            by_kind
                .entry(kind)
                .or_default()
                .push((&e.created_at, &e.message));
        }
    }
    let mut out: Vec<ServiceIssue> = by_kind
        .into_iter()
        .map(|(kind, seen)| {
            let resource = seen
                .iter()
                .find_map(|(_, msg)| events::shortage_of(kind, msg));
            (kind, seen, resource)
        })
        .map(|(kind, seen, resource)| ServiceIssue {
            kind,
            title: match resource {
                Some(r) => format!("{}: {}", kind.title(), r.what()),
                None => kind.title().to_string(),
            },
            cause: kind.cause(),
            resource,
            read: None,
            count: seen.len(),
            latest_at: seen.first().and_then(|(at, _)| (*at).clone()),
            evidence: seen
                .iter()
                .take(3)
                .map(|(at, msg)| match at {
                    Some(at) => format!("{}: {msg}", short_time(at)),
                    None => msg.to_string(),
                })
                .collect(),
            fix: resource
                .map_or(kind.fix(), Shortage::fix)
                .iter()
                .map(|s| s.to_string())
                .collect(),
        })
        .collect();
    out.sort_by(|a, b| b.latest_at.cmp(&a.latest_at));
    out
}

/// Everything `ecs-doctor service` reports, from the service's evidence and
/// the stopped tasks' reports (newest first). `tasks` is not gathered when
/// the stopped tasks could not be listed or described.
pub fn summarize_service(
    service: &Service,
    cluster: &str,
    region: &str,
    window: Window,
    tasks: Fact<Vec<Swept>>,
    gaps: Vec<Gap>,
    version: &str,
) -> ServiceReport {
    let issues = issues(service, &window.since);
    let (groups, reports) = match tasks.value() {
        Some(tasks) => (
            group(tasks, &service.deployments, window.stopped_tasks),
            tasks.iter().map(|t| t.report.clone()).collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let failing = groups.iter().any(|g| g.verdict == Conclusion::Failure)
        || issues.iter().any(|i| i.verdict() == Conclusion::Failure);
    let listed = tasks.value().is_some();
    let short_of_tasks = service.running_count < service.desired_count;
    let verdict = if failing {
        Conclusion::Failure
    } else if !listed
        || groups.iter().any(|g| g.verdict == Conclusion::Inconclusive)
        || (groups.is_empty() && short_of_tasks)
    {
        Conclusion::Inconclusive
    } else {
        Conclusion::NoFailure
    };
    let since = short_time(&window.since);
    let headline = match (groups.first(), issues.first()) {
        (Some(g), _) if g.verdict == Conclusion::Failure => g.summary.clone(),
        (_, Some(issue)) => format!(
            "{}{} ({} event{} since {since}, latest {})",
            match (listed, groups.is_empty()) {
                (false, _) =>
                    "The stopped tasks could not be listed (see the gaps); the scheduler says: ",
                (true, true) => "No task stopped in the window; the scheduler says: ",
                (true, false) => "",
            },
            issue.named(),
            issue.count,
            if issue.count == 1 { "" } else { "s" },
            issue
                .latest_at
                .as_deref()
                .map(short_time)
                .unwrap_or_default()
        ),
        (Some(g), None) => g.summary.clone(),
        (None, None) if !listed => {
            "The stopped tasks could not be listed, and the events show no problem".to_string()
        }
        (None, None) if short_of_tasks => format!(
            "{} of {} tasks running, none stopped since {since}, and the events do not say why",
            service.running_count, service.desired_count
        ),
        (None, None) => format!(
            "No task stopped since {since}; {} of {} tasks running",
            service.running_count, service.desired_count
        ),
    };
    ServiceReport {
        schema_version: SCHEMA_VERSION,
        kind: "service".into(),
        verdict,
        ecs_doctor_version: version.to_string(),
        headline,
        service: ServiceSummary {
            name: service.name.clone(),
            arn: service.arn.clone(),
            cluster: cluster.rsplit('/').next().unwrap_or(cluster).to_string(),
            region: region.to_string(),
            status: service.status.clone(),
            desired_count: service.desired_count,
            running_count: service.running_count,
            task_definition: service.task_definition.clone(),
        },
        window,
        groups,
        issues,
        deployments: service.deployments.clone(),
        gaps,
        tasks: reports,
    }
}

/// Where a cluster row's tasks came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Service,
    /// Tasks started without a service (RunTask), grouped by their `group`.
    Standalone,
}

/// One line of a cluster sweep: a service (or task group) and one cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterRow {
    /// The service name, or the task group (`family:batch`).
    pub name: String,
    pub source: Source,
    /// A cause code, `inconclusive`, or a service event kind.
    pub cause: String,
    pub verdict: Conclusion,
    pub count: usize,
    /// Stopped tasks of this service or group in the window.
    pub of: usize,
    pub latest: Option<String>,
    pub title: String,
}

/// Every failing service and task group of a cluster (`ecs-doctor cluster`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterReport {
    pub schema_version: u32,
    /// Always `cluster`.
    pub kind: String,
    pub verdict: Conclusion,
    pub ecs_doctor_version: String,
    /// One line that says what is wrong, for the top of the ticket.
    #[serde(default)]
    pub headline: String,
    pub cluster: String,
    pub region: String,
    pub window: Window,
    /// Worst first: failures, then undecided; most tasks first.
    pub rows: Vec<ClusterRow>,
    /// Services and task groups with nothing wrong in the window.
    pub quiet: Vec<String>,
    /// Calls refused or failed, the sweep's own and its tasks' (deduplicated).
    pub gaps: Vec<Gap>,
}

/// A service's or task group's share of a cluster sweep.
pub struct ClusterPart {
    pub name: String,
    pub source: Source,
    pub groups: Vec<CauseGroup>,
    pub issues: Vec<ServiceIssue>,
    /// Stopped tasks in the window.
    pub stopped: usize,
    /// The sweep could not decide for lack of a fact (tasks not listed).
    pub undecided: Option<String>,
}

/// One row per failing (or undecided) cause of each part, worst first.
pub fn summarize_cluster(
    cluster: &str,
    region: &str,
    window: Window,
    parts: Vec<ClusterPart>,
    gaps: Vec<Gap>,
    version: &str,
) -> ClusterReport {
    let mut rows = Vec::new();
    let mut quiet = Vec::new();
    for part in parts {
        let before = rows.len();
        for g in part
            .groups
            .iter()
            .filter(|g| g.verdict != Conclusion::NoFailure)
        {
            rows.push(ClusterRow {
                name: part.name.clone(),
                source: part.source,
                cause: g.cause.clone(),
                verdict: g.verdict,
                count: g.count,
                of: part.stopped,
                latest: g.latest_stopped_at.clone(),
                title: g.title.clone(),
            });
        }
        for issue in &part.issues {
            rows.push(ClusterRow {
                name: part.name.clone(),
                source: part.source,
                cause: format!("event:{}", issue.kind.as_str()),
                verdict: issue.verdict(),
                count: issue.count,
                of: part.stopped,
                latest: issue.latest_at.clone(),
                title: issue.named(),
            });
        }
        if let Some(why) = &part.undecided {
            rows.push(ClusterRow {
                name: part.name.clone(),
                source: part.source,
                cause: "inconclusive".into(),
                verdict: Conclusion::Inconclusive,
                count: 0,
                of: part.stopped,
                latest: None,
                title: why.clone(),
            });
        }
        if rows.len() == before {
            quiet.push(part.name);
        }
    }
    let rank = |c: Conclusion| match c {
        Conclusion::Failure => 2,
        Conclusion::Inconclusive => 1,
        Conclusion::NoFailure => 0,
    };
    rows.sort_by(|a, b| {
        rank(b.verdict)
            .cmp(&rank(a.verdict))
            .then(b.count.cmp(&a.count))
            .then(b.latest.cmp(&a.latest))
            .then(a.name.cmp(&b.name))
    });
    let verdict = if rows.iter().any(|r| r.verdict == Conclusion::Failure) {
        Conclusion::Failure
    } else if rows.iter().any(|r| r.verdict == Conclusion::Inconclusive) {
        Conclusion::Inconclusive
    } else {
        Conclusion::NoFailure
    };
    ClusterReport {
        schema_version: SCHEMA_VERSION,
        kind: "cluster".into(),
        verdict,
        ecs_doctor_version: version.to_string(),
        headline: cluster_headline(&rows, &window),
        cluster: cluster.rsplit('/').next().unwrap_or(cluster).to_string(),
        region: region.to_string(),
        window,
        rows,
        quiet,
        gaps,
    }
}

/// A cluster sweep in one line: its worst row, and how many more there are.
fn cluster_headline(rows: &[ClusterRow], window: &Window) -> String {
    let since = short_time(&window.since);
    let Some(worst) = rows.first() else {
        return format!(
            "No failure since {since}: {} stopped task{}, none failed",
            window.stopped_tasks,
            if window.stopped_tasks == 1 { "" } else { "s" }
        );
    };
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let tasks = match worst.count {
        0 => format!(" ({})", worst.cause),
        n if worst.cause.starts_with("event:") => format!(" ({n} event{})", plural(n)),
        n => format!(" ({}, {n} of {} stopped tasks)", worst.cause, worst.of),
    };
    let more = match rows.len() - 1 {
        0 => String::new(),
        1 => "; and 1 more finding".to_string(),
        n => format!("; and {n} more findings"),
    };
    let title = worst.title.replace('\n', " ");
    format!("{}: {title}{tasks}{more}", worst.name)
}

#[cfg(test)]
mod tests;
