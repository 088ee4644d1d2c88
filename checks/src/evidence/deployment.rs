//! A service deployment as ECS's service deployments API describes it
//! (`ListServiceDeployments`, `DescribeServiceDeployments`,
//! `DescribeServiceRevisions`): its state and why, what watched it (the
//! circuit breaker, CloudWatch alarms, lifecycle hooks), and the service
//! revisions it went from and to.
//!
//! API: <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html>

use serde::{Deserialize, Serialize};

/// `ServiceDeployment.status`, a closed set as AWS documents it; a value
/// this version does not know is kept as it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentStatus {
    Pending,
    #[default]
    InProgress,
    Successful,
    StopRequested,
    Stopped,
    RollbackRequested,
    RollbackInProgress,
    RollbackSuccessful,
    RollbackFailed,
    /// A status added after this version.
    #[serde(untagged)]
    Other(String),
}

impl DeploymentStatus {
    /// The status as AWS writes it.
    pub fn parse(text: &str) -> DeploymentStatus {
        match text {
            "PENDING" => DeploymentStatus::Pending,
            "IN_PROGRESS" => DeploymentStatus::InProgress,
            "SUCCESSFUL" => DeploymentStatus::Successful,
            "STOP_REQUESTED" => DeploymentStatus::StopRequested,
            "STOPPED" => DeploymentStatus::Stopped,
            "ROLLBACK_REQUESTED" => DeploymentStatus::RollbackRequested,
            "ROLLBACK_IN_PROGRESS" => DeploymentStatus::RollbackInProgress,
            "ROLLBACK_SUCCESSFUL" => DeploymentStatus::RollbackSuccessful,
            "ROLLBACK_FAILED" => DeploymentStatus::RollbackFailed,
            other => DeploymentStatus::Other(other.to_string()),
        }
    }

    /// The status as AWS writes it.
    pub fn as_str(&self) -> &str {
        match self {
            DeploymentStatus::Pending => "PENDING",
            DeploymentStatus::InProgress => "IN_PROGRESS",
            DeploymentStatus::Successful => "SUCCESSFUL",
            DeploymentStatus::StopRequested => "STOP_REQUESTED",
            DeploymentStatus::Stopped => "STOPPED",
            DeploymentStatus::RollbackRequested => "ROLLBACK_REQUESTED",
            DeploymentStatus::RollbackInProgress => "ROLLBACK_IN_PROGRESS",
            DeploymentStatus::RollbackSuccessful => "ROLLBACK_SUCCESSFUL",
            DeploymentStatus::RollbackFailed => "ROLLBACK_FAILED",
            DeploymentStatus::Other(s) => s,
        }
    }
}

/// A service revision a deployment went from or to: the task definition it
/// runs and its task counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Revision {
    pub arn: String,
    /// From `DescribeServiceRevisions`; none when that could not be read.
    pub task_definition: Option<String>,
    pub requested: i32,
    pub running: i32,
    pub pending: i32,
}

/// What a watcher of the deployment (the circuit breaker, the alarms) saw:
/// `DISABLED`, `MONITORING`, `MONITORING_COMPLETE` or `TRIGGERED`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CircuitBreakerState {
    pub status: Option<String>,
    /// Tasks of the deployment that failed, as the circuit breaker counts them.
    pub failure_count: i32,
    /// The count at which the deployment fails (0.5 × desired, 3 to 200).
    pub threshold: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AlarmsState {
    pub status: Option<String>,
    pub alarm_names: Vec<String>,
    /// The alarms that fired during the deployment.
    pub triggered: Vec<String>,
}

/// A lifecycle hook (a Lambda function ECS calls at a stage) and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LifecycleHook {
    pub id: Option<String>,
    pub target_arn: Option<String>,
    /// `IN_PROGRESS`, `AWAITING_ACTION`, `SUCCEEDED`, `FAILED` or `TIMED_OUT`.
    pub status: Option<String>,
    /// `AWS_LAMBDA` (a function ECS calls) or `PAUSE` (waits for `ContinueServiceDeployment`).
    #[serde(default)]
    pub target_type: Option<String>,
    /// What a timed-out hook does to the deployment: `CONTINUE` or `ROLLBACK`.
    #[serde(default)]
    pub timeout_action: Option<String>,
}

/// The rollback ECS started, when it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Rollback {
    pub reason: Option<String>,
    pub started_at: Option<String>,
    /// The revision rolled back to.
    pub revision: Option<Revision>,
}

/// One service deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServiceDeployment {
    pub arn: String,
    pub status: DeploymentStatus,
    /// Why the deployment is in its status, in ECS's words.
    pub status_reason: Option<String>,
    pub created_at: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub stopped_at: Option<String>,
    pub updated_at: Option<String>,
    /// The stage a blue/green, linear or canary deployment is in (`SCALE_UP`, `BAKE_TIME`, …).
    pub lifecycle_stage: Option<String>,
    /// The revision being deployed.
    pub target: Option<Revision>,
    /// The revisions running when it started.
    pub sources: Vec<Revision>,
    pub circuit_breaker: Option<CircuitBreakerState>,
    pub alarms: Option<AlarmsState>,
    pub hooks: Vec<LifecycleHook>,
    pub rollback: Option<Rollback>,
}

impl ServiceDeployment {
    /// The last part of the ARN, which the console shows as the deployment's id.
    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }
}
