//! Reading ECS stop codes and the free text of stop reasons.
//!
//! Texts vary by platform version, by date and by agent, AWS writes both
//! `can't` and `can’t`, and platform version 1.4 truncates long messages. So
//! matching is on distinctive parts, case-insensitively, after normalising
//! apostrophes and white space, never on one exact sentence.

use crate::evidence::{Container, ContainerDefinition, Evidence};

/// `Task.stopCode`, with a catch-all for values AWS adds later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopCode {
    TaskFailedToStart,
    EssentialContainerExited,
    UserInitiated,
    ServiceSchedulerInitiated,
    SpotInterruption,
    /// The 2023 name of the Spot termination notice.
    TerminationNotice,
    InfrastructureHealth,
    Other(String),
    /// The task has no stop code (running, or an old record).
    None,
}

impl StopCode {
    pub fn parse(code: Option<&str>) -> StopCode {
        match code.map(str::trim) {
            None | Some("") => StopCode::None,
            Some(c) => match c.to_ascii_lowercase().as_str() {
                "taskfailedtostart" => StopCode::TaskFailedToStart,
                "essentialcontainerexited" => StopCode::EssentialContainerExited,
                "userinitiated" => StopCode::UserInitiated,
                "serviceschedulerinitiated" => StopCode::ServiceSchedulerInitiated,
                "spotinterruption" => StopCode::SpotInterruption,
                "terminationnotice" => StopCode::TerminationNotice,
                "infrastructurehealth" => StopCode::InfrastructureHealth,
                _ => StopCode::Other(c.to_string()),
            },
        }
    }

    pub fn of(ev: &Evidence) -> StopCode {
        StopCode::parse(ev.task.stop_code.as_deref())
    }
}

/// Lower-case, straighten quotes and collapse white space.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = false;
    for ch in text.chars() {
        let ch = match ch {
            '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' | '`' => '\'',
            '\u{201C}' | '\u{201D}' => '"',
            c => c,
        };
        if ch.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.extend(ch.to_lowercase());
            last_space = false;
        }
    }
    out.trim().to_string()
}

/// True when the normalised text contains any of the (lower-case) needles.
pub fn contains_any(text: &str, needles: &[&str]) -> bool {
    let t = normalize(text);
    needles.iter().any(|n| t.contains(n))
}

/// All stop texts of the task: the task's stopped reason and every container reason.
pub fn stop_texts(ev: &Evidence) -> Vec<String> {
    let mut texts = Vec::new();
    if let Some(r) = &ev.task.stopped_reason {
        texts.push(r.clone());
    }
    for c in &ev.task.containers {
        if let Some(r) = &c.reason {
            texts.push(r.clone());
        }
    }
    texts
}

/// The first stop text that contains any of the needles, verbatim.
pub fn find_stop_text(ev: &Evidence, needles: &[&str]) -> Option<String> {
    stop_texts(ev)
        .into_iter()
        .find(|t| contains_any(t, needles))
}

/// Is this container essential? ECS defaults `essential` to true.
pub fn is_essential(ev: &Evidence, container: &Container) -> bool {
    ev.task_def()
        .and_then(|td| td.container(&container.name))
        .map(|d| d.essential)
        .unwrap_or(true)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_codes_including_unknown_future_values() {
        assert_eq!(
            StopCode::parse(Some("TaskFailedToStart")),
            StopCode::TaskFailedToStart
        );
        assert_eq!(
            StopCode::parse(Some("InfrastructureHealth")),
            StopCode::InfrastructureHealth
        );
        assert_eq!(
            StopCode::parse(Some("TerminationNotice")),
            StopCode::TerminationNotice
        );
        assert_eq!(
            StopCode::parse(Some("SomethingNew")),
            StopCode::Other("SomethingNew".into())
        );
        assert_eq!(StopCode::parse(None), StopCode::None);
    }

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

    #[test]
    fn normalisation_straightens_apostrophes_and_case() {
        assert_eq!(
            normalize("The task can’t  pull\nthe IMAGE"),
            "the task can't pull the image"
        );
        assert!(contains_any(
            "The task can’t pull the image.",
            &["can't pull the image"]
        ));
    }
}
