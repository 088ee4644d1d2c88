//! What a placement failure was short of: the one closed set shared by the
//! `placement-failed` check (a stopped task's text) and the service sweep
//! (the scheduler's events), with what each means and how to fix it. The
//! fragments that recognise each one are in the stop-text catalogue
//! (`stops::catalogue::placement`), the one place texts are read.

use serde::{Deserialize, Serialize};

/// What ECS could not find to place a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shortage {
    /// Fargate (or Fargate Spot) had no capacity in the Availability Zones
    /// asked: `Capacity is unavailable at this time`, `RESOURCE:FARGATE`.
    FargateCapacity,
    /// No container instance had the CPU units the task reserves.
    Cpu,
    /// No container instance had the memory the task reserves.
    Memory,
    /// No container instance had the GPUs the task reserves.
    Gpu,
    /// Every container instance already uses a host port the task needs.
    Ports,
    /// No container instance had a free network interface for an `awsvpc` task.
    Eni,
    /// The cluster or the capacity provider has no container instances.
    NoInstances,
    /// The closest container instance's agent is disconnected.
    Agent,
    /// No container instance has an attribute the task requires.
    Attribute,
    /// A placement constraint ruled out every container instance.
    Constraint,
    /// No container instance is in the Availability Zones of the task's subnets.
    Location,
    /// An account quota (tasks, vCPUs, a task size) refused the task.
    Quota,
    /// The task definition does not suit the launch type or capacity provider.
    Compatibility,
}

impl Shortage {
    /// The kebab-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Shortage::FargateCapacity => "fargate-capacity",
            Shortage::Cpu => "cpu",
            Shortage::Memory => "memory",
            Shortage::Gpu => "gpu",
            Shortage::Ports => "ports",
            Shortage::Eni => "eni",
            Shortage::NoInstances => "no-instances",
            Shortage::Agent => "agent",
            Shortage::Attribute => "attribute",
            Shortage::Constraint => "constraint",
            Shortage::Location => "location",
            Shortage::Quota => "quota",
            Shortage::Compatibility => "compatibility",
        }
    }

    /// Is this Fargate's own capacity (nothing in the account to add)?
    pub fn is_fargate(self) -> bool {
        self == Shortage::FargateCapacity
    }

    /// What was missing, to follow "ECS could not place the task: ".
    pub fn what(self) -> &'static str {
        match self {
            Shortage::FargateCapacity => {
                "Fargate had no capacity for it in the Availability Zones asked"
            }
            Shortage::Cpu => "no container instance had enough free CPU units",
            Shortage::Memory => "no container instance had enough free memory",
            Shortage::Gpu => "no container instance had enough free GPUs",
            Shortage::Ports => "every container instance already uses a host port the task needs",
            Shortage::Eni => {
                "no container instance had a free network interface for an awsvpc task"
            }
            Shortage::NoInstances => {
                "the cluster or its capacity provider has no container instances"
            }
            Shortage::Agent => "the closest container instance's ECS agent is disconnected",
            Shortage::Attribute => "no container instance has an attribute the task requires",
            Shortage::Constraint => "its placement constraints ruled out every container instance",
            Shortage::Location => {
                "no container instance is in the Availability Zones of the task's subnets"
            }
            Shortage::Quota => {
                "an account quota (concurrent tasks or vCPUs, or a task size limit) was reached"
            }
            Shortage::Compatibility => {
                "the task definition does not suit the launch type or capacity provider"
            }
        }
    }

    /// How to fix it, first step first. Nothing here removes a task or
    /// changes capacity by itself: each line is the user's decision.
    pub fn fix(self) -> &'static [&'static str] {
        match self {
            Shortage::FargateCapacity => &[
                "Fargate capacity is AWS's, and usually returns: retry later (a service retries by itself; for RunTask, retry with back-off)",
                "Give the task subnets in more Availability Zones (`awsvpcConfiguration.subnets`), or another capacity provider: Fargate beside Fargate Spot in the capacity provider strategy",
                "Another task size (CPU and memory combination) may find capacity where this one did not",
            ],
            Shortage::Cpu | Shortage::Memory | Shortage::Gpu => &[
                "Add container instances with room for the task: raise the Auto Scaling group's desired capacity, or let a capacity provider with managed scaling add them",
                "Or make the task smaller (task or container cpu, memory, GPU reservations), or use larger instance types: `aws ecs describe-container-instances --cluster <cluster> --container-instances <id> --query 'containerInstances[].remainingResources'`",
            ],
            Shortage::Ports => &[
                "Use dynamic host ports (`hostPort` 0 or omitted, in bridge mode) so tasks on one instance do not need the same port, or the awsvpc network mode",
                "Or run no more of the service's tasks than there are container instances (a `distinctInstance` constraint), and add instances for more",
            ],
            Shortage::Eni => &[
                "Each awsvpc task takes a network interface of its instance: turn on ENI trunking (`aws ecs put-account-setting --name awsvpcTrunking --value enabled`, for instances launched afterwards, of supported types)",
                "Or use instance types with more network interfaces, add instances, or place fewer awsvpc tasks on each instance",
            ],
            Shortage::NoInstances => &[
                "Register container instances: check the Auto Scaling group behind the capacity provider (desired capacity, launch failures in its activity history, instance quotas) and that instances join the cluster (`ECS_CLUSTER` in their user data, an instance role with the ECS policy)",
            ],
            Shortage::Agent => &[
                "Reconnect or replace the container instance whose agent is disconnected (`aws ecs describe-container-instances --query 'containerInstances[].agentConnected'`); the agent's log on the instance says why",
            ],
            Shortage::Attribute | Shortage::Constraint | Shortage::Location => &[
                "Compare the task's placement constraints and required attributes with the instances' (`aws ecs list-attributes --cluster <cluster> --target-type container-instance`) and their Availability Zones with the task's subnets; relax the constraint or add instances that meet it",
            ],
            Shortage::Quota => &[
                "Request a higher quota in Service Quotas for the Region (Fargate On-Demand or Spot vCPUs, tasks), or run fewer or smaller tasks",
            ],
            Shortage::Compatibility => &[
                "Match the task definition's `requiresCompatibilities`, network mode and size to the launch type or capacity provider the service uses",
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Shortage; 13] = [
        Shortage::FargateCapacity,
        Shortage::Cpu,
        Shortage::Memory,
        Shortage::Gpu,
        Shortage::Ports,
        Shortage::Eni,
        Shortage::NoInstances,
        Shortage::Agent,
        Shortage::Attribute,
        Shortage::Constraint,
        Shortage::Location,
        Shortage::Quota,
        Shortage::Compatibility,
    ];

    #[test]
    fn json_names_are_the_report_names_and_each_has_a_fix() {
        for s in ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert!(!s.fix().is_empty(), "{s:?}");
            assert!(!s.what().is_empty(), "{s:?}");
        }
    }
}
