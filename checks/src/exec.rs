//! What the ECS Exec checks share: the agent's name, the containers an
//! exec session can open in, the cluster's exec configuration, and the
//! exact `aws ecs execute-command` line a ready task gets.

use crate::evidence::{Container, Evidence, ExecConfiguration, Fact};

/// The managed agent ECS Exec talks to.
pub const AGENT: &str = "ExecuteCommandAgent";

/// The container's ECS Exec agent status, when the container reports one.
pub fn agent_status(c: &Container) -> Option<&str> {
    c.managed_agents
        .iter()
        .find(|a| a.name == AGENT)
        .map(|a| a.last_status.as_deref().unwrap_or("UNKNOWN"))
}

/// The containers whose ECS Exec agent is running, essential ones first.
pub fn ready_containers(ev: &Evidence) -> Vec<&Container> {
    let mut ready: Vec<&Container> = ev
        .task
        .containers
        .iter()
        .filter(|c| agent_status(c).is_some_and(|s| s.eq_ignore_ascii_case("RUNNING")))
        .collect();
    ready.sort_by_key(|c| !crate::task::is_essential(ev, c));
    ready
}

/// True when the task is running (ECS Exec reaches nothing else).
pub fn task_running(ev: &Evidence) -> bool {
    ev.task.last_status.eq_ignore_ascii_case("RUNNING")
}

/// The cluster's exec configuration, or why it is unknown.
pub fn cluster_config(ev: &Evidence) -> Result<&ExecConfiguration, String> {
    match &ev.exec {
        Fact::Gathered { value } => match &value.cluster {
            Fact::Gathered { value } => Ok(value),
            other => Err(format!(
                "the cluster's exec configuration: {}",
                other.gap_reason().unwrap_or_default()
            )),
        },
        other => Err(other.gap_reason().unwrap_or_default()),
    }
}

/// The command that opens a shell in the task, for a report whose every
/// exec check passed.
pub fn command_line(ev: &Evidence) -> Option<String> {
    let container = ready_containers(ev).into_iter().next()?;
    Some(format!(
        "aws ecs execute-command --region {} --cluster {} --task {} --container {} --interactive --command \"/bin/sh\"",
        ev.region,
        crate::task::cluster_name(ev),
        ev.task.id,
        container.name
    ))
}
