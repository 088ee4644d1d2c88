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

/// The essential container that explains the stop: the first essential
/// container with a non-zero exit that is not a teardown signal, else the
/// first essential container with any exit code. Sidecars killed with
/// 137/143 after the app died are context, not the cause.
pub fn failed_essential_container(ev: &Evidence) -> Option<&Container> {
    let essential: Vec<&Container> = ev
        .task
        .containers
        .iter()
        .filter(|c| is_essential(ev, c))
        .collect();
    essential
        .iter()
        .find(|c| matches!(c.exit_code, Some(code) if code != 0 && !is_teardown_exit(code)))
        .or_else(|| {
            essential
                .iter()
                .find(|c| matches!(c.exit_code, Some(code) if code != 0))
        })
        .or_else(|| essential.iter().find(|c| c.exit_code.is_some()))
        .copied()
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
