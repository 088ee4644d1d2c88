//! The service that launched the task: its network configuration, load
//! balancers, events and deployments.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Service {
    pub name: String,
    pub arn: String,
    pub status: Option<String>,
    pub desired_count: i32,
    pub running_count: i32,
    pub network_configuration: Option<AwsVpcConfiguration>,
    pub health_check_grace_period_seconds: Option<i32>,
    pub load_balancers: Vec<ServiceLoadBalancer>,
    /// Most recent first, as ECS returns them.
    pub events: Vec<ServiceEvent>,
    pub deployments: Vec<Deployment>,
    /// `enableExecuteCommand`: applies to the tasks it starts from now on.
    #[serde(default)]
    pub enable_execute_command: Option<bool>,
    /// The service's current task definition (its PRIMARY deployment's).
    #[serde(default)]
    pub task_definition: Option<String>,
    #[serde(default)]
    pub launch_type: Option<String>,
    #[serde(default)]
    pub platform_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AwsVpcConfiguration {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServiceLoadBalancer {
    pub target_group_arn: Option<String>,
    pub load_balancer_name: Option<String>,
    pub container_name: Option<String>,
    pub container_port: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServiceEvent {
    pub created_at: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Deployment {
    pub id: String,
    pub status: Option<String>,
    pub task_definition: Option<String>,
    pub rollout_state: Option<String>,
    pub rollout_state_reason: Option<String>,
    pub network_configuration: Option<AwsVpcConfiguration>,
    pub created_at: Option<String>,
    #[serde(default)]
    pub desired_count: Option<i32>,
    #[serde(default)]
    pub running_count: Option<i32>,
    /// Tasks of this deployment that failed to start or to stay up (the circuit breaker counts these).
    #[serde(default)]
    pub failed_tasks: Option<i32>,
    /// `volumeConfigurations`: the EBS volume each task of this deployment
    /// gets, by the task definition volume's name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_configurations: Vec<(String, super::ManagedEbsVolume)>,
}

/// A running task of a service and its scale-in protection, as
/// `GetTaskProtection` reports it (read for the older tasks a deployment
/// waits on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TaskProtection {
    pub task_arn: String,
    /// The task's task definition (from `DescribeTasks`).
    pub task_definition: Option<String>,
    pub protection_enabled: bool,
    /// When the protection ends, unless the app renews it.
    pub expiration_date: Option<String>,
}
