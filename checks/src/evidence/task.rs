//! The task as ECS describes it: its containers, their managed agents, its ENI
//! attachment.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Task {
    pub arn: String,
    pub id: String,
    pub cluster_arn: String,
    pub task_definition_arn: String,
    pub last_status: String,
    pub desired_status: Option<String>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub launch_type: Option<String>,
    pub platform_version: Option<String>,
    pub capacity_provider_name: Option<String>,
    pub group: Option<String>,
    pub started_by: Option<String>,
    pub availability_zone: Option<String>,
    pub health_status: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    /// RFC 3339 timestamps, as ECS reported them.
    pub timestamps: TaskTimestamps,
    pub containers: Vec<Container>,
    /// The task's ENI attachment, when it has one.
    pub eni_attachment: Option<EniAttachment>,
    /// The task's `AmazonElasticBlockStorage` attachment, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ebs_attachment: Option<super::EbsAttachment>,
    /// `enableExecuteCommand`: whether ECS Exec was enabled when the task started.
    #[serde(default)]
    pub enable_execute_command: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TaskTimestamps {
    pub created_at: Option<String>,
    pub pull_started_at: Option<String>,
    pub pull_stopped_at: Option<String>,
    pub started_at: Option<String>,
    pub stopping_at: Option<String>,
    pub execution_stopped_at: Option<String>,
    pub stopped_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Container {
    pub name: String,
    pub image: Option<String>,
    pub image_digest: Option<String>,
    pub last_status: Option<String>,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub health_status: Option<String>,
    /// `managedAgents[]`: the ECS Exec agent among them.
    #[serde(default)]
    pub managed_agents: Vec<ManagedAgent>,
}

/// A container's managed agent (`ExecuteCommandAgent`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ManagedAgent {
    pub name: String,
    pub last_status: Option<String>,
    pub reason: Option<String>,
    pub last_started_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EniAttachment {
    pub status: Option<String>,
    pub eni_id: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ip: Option<String>,
}
