//! What ECS Exec depends on outside the task: the cluster's exec configuration
//! and the caller.

use super::{Fact, Role, SimulationResult};
use serde::{Deserialize, Serialize};

/// What ECS Exec depends on outside the task and its task definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ExecEvidence {
    /// `configuration.executeCommandConfiguration` of the task's cluster.
    pub cluster: Fact<ExecConfiguration>,
    /// Who runs `aws ecs execute-command` (`sts:GetCallerIdentity`).
    pub caller: Fact<Caller>,
}

/// A cluster's `executeCommandConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ExecConfiguration {
    pub cluster_arn: String,
    /// `kmsKeyId`: the session data is encrypted with it.
    pub kms_key_id: Option<String>,
    /// `logging`: `DEFAULT`, `NONE` or `OVERRIDE`; absent means `DEFAULT`.
    pub logging: Option<String>,
    /// `logConfiguration.cloudWatchLogGroupName` (with `OVERRIDE`).
    pub log_group: Option<String>,
    /// `logConfiguration.s3BucketName` (with `OVERRIDE`).
    pub s3_bucket: Option<String>,
    pub s3_key_prefix: Option<String>,
}

/// The identity that would call `ecs:ExecuteCommand`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Caller {
    /// `sts:GetCallerIdentity`'s ARN (an assumed-role session, a user, root).
    pub arn: String,
    /// The IAM principal whose policies apply: the role of an assumed-role
    /// session, the user; none for root or a federated user.
    pub principal_arn: Option<String>,
    /// `iam:SimulatePrincipalPolicy` for `ecs:ExecuteCommand` on the task.
    pub simulation: Fact<Vec<SimulationResult>>,
    /// The principal's own policies, for ecs-doctor's evaluation when the
    /// simulator does not answer (a user's include its groups' policies).
    pub policies: Fact<Role>,
}
