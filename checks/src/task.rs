//! Facts about the task itself that several checks read: which container
//! failed, whether it ran, where it runs, what it waited for, and when.

use crate::evidence::{Container, ContainerDefinition, Evidence};
use crate::text::contains_any;

/// Is this container essential? ECS defaults `essential` to true.
pub fn is_essential(ev: &Evidence, container: &Container) -> bool {
    ev.task_def()
        .and_then(|td| td.container(&container.name))
        .map(|d| d.essential)
        .unwrap_or(true)
}

/// What a sidecar container is for, when `name` is one: a log router, a
/// proxy or an agent that runs beside the app rather than the app itself.
pub fn sidecar_role(ev: &Evidence, name: &str) -> Option<&'static str> {
    let def = ev.task_def().and_then(|td| td.container(name));
    if let Some(kind) = def.and_then(|d| d.firelens.as_deref()) {
        return Some(if kind.eq_ignore_ascii_case("fluentd") {
            "FireLens log router (fluentd)"
        } else {
            "FireLens log router (Fluent Bit)"
        });
    }
    let image = def
        .map(|d| d.image.clone())
        .or_else(|| {
            ev.task
                .containers
                .iter()
                .find(|c| c.name == name)
                .and_then(|c| c.image.clone())
        })
        .unwrap_or_default()
        .to_ascii_lowercase();
    let lower = name.to_ascii_lowercase();
    let is = |needle: &str| lower.starts_with(needle) || image.contains(needle);
    // Without the task definition's firelensConfiguration, the image tells.
    if image.contains("aws-for-fluent-bit") || image.contains("fluent-bit") {
        return Some("FireLens log router (Fluent Bit)");
    }
    if image.contains("fluentd") {
        return Some("FireLens log router (fluentd)");
    }
    if is("ecs-service-connect") {
        Some("Service Connect proxy")
    } else if is("aws-guardduty-agent") || is("aws-gd-agent") {
        Some("GuardDuty runtime monitoring agent")
    } else if ev
        .task_def()
        .and_then(|td| td.proxy_container.as_deref())
        .is_some_and(|p| p == name)
        || image.contains("aws-appmesh-envoy")
    {
        Some("App Mesh Envoy proxy")
    } else if image.contains("aws-xray-daemon") {
        Some("X-Ray daemon")
    } else if image.contains("aws-otel-collector") || image.contains("opentelemetry-collector") {
        Some("OpenTelemetry collector")
    } else if image.contains("datadog/agent") || image.contains("datadog-agent") {
        Some("Datadog agent")
    } else {
        None
    }
}

/// Exit codes that mean "killed while the task was being torn down".
pub fn is_teardown_exit(code: i32) -> bool {
    code == 137 || code == 143
}

/// The essential container that explains the stop.
///
/// When an essential container exits, ECS stops the others with SIGTERM and
/// then SIGKILL, so sidecars torn down afterwards report 143 or 137: they
/// are context, not the cause. The order is: a non-zero exit that is not a
/// teardown signal; then a clean exit 0 (which also stops the task); then a
/// 137 whose reason names memory; then 137; then 143. Ties go to a container
/// that another one depends on, then to the one whose log stopped first,
/// then to task order.
pub fn failed_essential_container(ev: &Evidence) -> Option<&Container> {
    let rank = |c: &Container| -> u8 {
        match c.exit_code {
            Some(0) => 1,
            Some(code) if !is_teardown_exit(code) => 0,
            Some(137)
                if c.reason
                    .as_deref()
                    .is_some_and(|r| contains_any(r, &["outofmem", "out of mem", "memory"])) =>
            {
                2
            }
            Some(137) => 3,
            _ => 4,
        }
    };
    let depended_on = |c: &Container| -> u8 {
        let is_dependency = ev.task_def().is_some_and(|td| {
            td.containers
                .iter()
                .any(|d| d.depends_on.iter().any(|dep| dep.container_name == c.name))
        });
        u8::from(!is_dependency)
    };
    let last_log = |c: &Container| -> String {
        ev.log_lines(&c.name)
            .iter()
            .rev()
            .find_map(|l| l.timestamp.as_deref())
            .map(timestamp_key)
            // No log: sort after every container whose log is known.
            .unwrap_or_else(|| "~".to_string())
    };
    ev.task
        .containers
        .iter()
        .filter(|c| c.exit_code.is_some() && is_essential(ev, c))
        .min_by_key(|c| (rank(c), depended_on(c), last_log(c)))
}

/// The essential container that failed with an error: a non-zero exit
/// that is not ECS tearing the task down.
pub fn failed_with_an_error(ev: &Evidence) -> Option<&Container> {
    failed_essential_container(ev).filter(|c| {
        c.exit_code
            .is_some_and(|code| code != 0 && !is_teardown_exit(code))
    })
}

/// Did container `name` end the task with an error?
pub fn ended_the_task(ev: &Evidence, name: &str) -> bool {
    failed_with_an_error(ev).is_some_and(|c| c.name == name)
}

/// When something changed in AWS (`at`), against the task's start (the
/// pull, else its creation): `None` before the start, else when.
pub enum Changed {
    /// After the task stopped, by this long (`12 minutes`).
    AfterTheStop(String),
    /// After the start, before the stop (or no stop is known).
    WhileStarting,
}

pub fn changed_since_the_start(ev: &Evidence, at: &str) -> Option<Changed> {
    let t = &ev.task.timestamps;
    let started = t.pull_started_at.as_deref().or(t.created_at.as_deref())?;
    seconds_between(started, at).filter(|s| *s > 0)?;
    Some(
        match t.stopped_at.as_deref().and_then(|s| seconds_between(s, at)) {
            Some(after) if after > 0 => Changed::AfterTheStop(crate::text::duration(after)),
            _ => Changed::WhileStarting,
        },
    )
}

/// An RFC 3339 UTC timestamp as a key that sorts in time order, whatever
/// its fractional seconds (`…:05Z` and `…:05.250Z`).
pub fn timestamp_key(ts: &str) -> String {
    let t = ts.trim().trim_end_matches('Z').trim_end_matches("+00:00");
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    format!("{whole}.{frac:0<9}")
}

/// `b - a` in whole seconds for two RFC 3339 UTC timestamps.
pub fn seconds_between(a: &str, b: &str) -> Option<i32> {
    fn epoch(ts: &str) -> Option<i64> {
        let ts = ts.trim().trim_end_matches('Z');
        let (date, time) = ts.split_once('T')?;
        let mut d = date.split('-').map(|x| x.parse::<i64>());
        let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
        let time = time.split(['.', '+']).next()?;
        let mut t = time.split(':').map(|x| x.parse::<i64>());
        let (hh, mm, ss) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
        // Days from civil (Howard Hinnant's algorithm).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
    }
    i32::try_from(epoch(b)? - epoch(a)?).ok()
}

/// The definition of a task container, when the task definition was read.
pub fn definition<'a>(ev: &'a Evidence, container: &Container) -> Option<&'a ContainerDefinition> {
    ev.task_def().and_then(|td| td.container(&container.name))
}

/// A field quoted for an evidence line: `stopCode = EssentialContainerExited`.
pub fn quote_field(name: &str, value: &str) -> String {
    format!("{name} = \"{value}\"")
}

/// The verdict of a check that needs the task definition and has none.
pub fn unknown_task_definition(ev: &Evidence) -> crate::report::Verdict {
    crate::report::Verdict::Inconclusive(format!(
        "the task definition is unknown: {}",
        ev.task_definition.gap_reason().unwrap_or_default()
    ))
}

/// Is the task on Fargate (where image, secret and log traffic uses the task ENI)?
pub fn on_fargate(ev: &Evidence) -> Option<bool> {
    if let Some(lt) = &ev.task.launch_type {
        return Some(lt.eq_ignore_ascii_case("FARGATE"));
    }
    if let Some(cp) = &ev.task.capacity_provider_name {
        return Some(cp.to_ascii_uppercase().starts_with("FARGATE"));
    }
    ev.task_def().map(|td| {
        td.requires_compatibilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case("FARGATE"))
    })
}

/// Is the task (or was it ever) running its containers? Then the start-up
/// paths worked when it launched.
pub fn task_started(ev: &Evidence) -> Option<String> {
    if ev.task.last_status.eq_ignore_ascii_case("RUNNING") {
        return Some("the task is RUNNING".into());
    }
    if let Some(c) = ev.task.containers.iter().find(|c| c.exit_code.is_some()) {
        return Some(format!(
            "container {} ran and exited with code {}",
            c.name,
            c.exit_code.unwrap_or_default()
        ));
    }
    ev.task
        .timestamps
        .started_at
        .as_ref()
        .map(|t| format!("the task started at {t}"))
}

/// The verdict of a check of what a task needs to start, when it lacks a
/// fact: a task whose containers ran got through its start-up, so it passes
/// on that; one that never started stays undecided.
pub fn startup_undecided(ev: &Evidence, undecided: String) -> crate::report::Verdict {
    match task_started(ev) {
        Some(started) => crate::report::Verdict::Pass(format!(
            "{started}, so it got through its start-up ({undecided})"
        )),
        None => crate::report::Verdict::Inconclusive(undecided),
    }
}

/// The cluster's name, from the task's cluster ARN.
pub fn cluster_name(ev: &Evidence) -> &str {
    ev.task.cluster_arn.rsplit('/').next().unwrap_or_default()
}

/// An essential container that never started because a container it
/// depends on (`dependsOn`) did not reach the required condition in time.
#[derive(Debug, Clone, PartialEq)]
pub struct DependencyFailure<'a> {
    /// The container that waited.
    pub dependent: String,
    /// The container it waited for.
    pub dependency: &'a Container,
    /// `START`, `COMPLETE`, `SUCCESS` or `HEALTHY`.
    pub condition: String,
    /// The dependency's `startTimeout`, when set.
    pub start_timeout: Option<i32>,
    /// What the dependency did instead, e.g. "exited with code 1".
    pub outcome: String,
}

impl DependencyFailure<'_> {
    /// The evidence line: who waited for whom, for what, and what happened.
    pub fn describe(&self) -> String {
        let timeout = match self.start_timeout {
            Some(t) => format!("its startTimeout is {t}s"),
            None => "its startTimeout is not set (ECS waits 3 minutes by default)".to_string(),
        };
        format!(
            "container `{}` dependsOn `{}` with condition {}; `{}` {}; {timeout}",
            self.dependent,
            self.dependency.name,
            self.condition,
            self.dependency.name,
            self.outcome
        )
    }
}

/// The first `dependsOn` condition that was not met, for a task whose
/// dependent container never started.
pub fn dependency_failure(ev: &Evidence) -> Option<DependencyFailure<'_>> {
    let td = ev.task_def()?;
    if !ev.is_stopped() {
        return None;
    }
    for def in &td.containers {
        let Some(dependent) = ev.task.containers.iter().find(|c| c.name == def.name) else {
            continue;
        };
        // A dependent that ran is not waiting for anything.
        if dependent.exit_code.is_some() {
            continue;
        }
        for dep in &def.depends_on {
            let Some(dependency) = ev
                .task
                .containers
                .iter()
                .find(|c| c.name == dep.container_name)
            else {
                continue;
            };
            let condition = dep.condition.to_ascii_uppercase();
            let health = dependency.health_status.as_deref().unwrap_or("UNKNOWN");
            let outcome = match (condition.as_str(), dependency.exit_code) {
                ("HEALTHY", _) if !health.eq_ignore_ascii_case("HEALTHY") => match dependency.exit_code {
                    Some(code) => Some(format!(
                        "never became healthy (health status {health}) and was stopped with exit code {code}"
                    )),
                    None => Some(format!("never became healthy (health status {health})")),
                },
                ("SUCCESS", Some(code)) if code != 0 && !is_teardown_exit(code) => {
                    Some(format!("exited with code {code}"))
                }
                ("SUCCESS" | "COMPLETE", Some(code)) if is_teardown_exit(code) => Some(format!(
                    "was still running when the task gave up, and was stopped with exit code {code}"
                )),
                ("SUCCESS" | "COMPLETE", None) => Some("never exited".to_string()),
                ("START", None) if dependency.last_status.as_deref() != Some("RUNNING") => {
                    Some("never started".to_string())
                }
                _ => None,
            };
            if let Some(outcome) = outcome {
                return Some(DependencyFailure {
                    dependent: def.name.clone(),
                    dependency,
                    condition,
                    start_timeout: td.container(&dependency.name).and_then(|d| d.start_timeout),
                    outcome,
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_between_timestamps() {
        assert_eq!(
            seconds_between("2026-01-01T11:59:30Z", "2026-01-01T12:00:05.250Z"),
            Some(35)
        );
        assert_eq!(
            seconds_between("2025-12-31T23:59:59Z", "2026-01-01T00:00:01Z"),
            Some(2)
        );
        assert!(timestamp_key("2026-01-01T12:00:05Z") < timestamp_key("2026-01-01T12:00:05.250Z"));
    }
}
