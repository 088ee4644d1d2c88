//! The evidence model: everything ecs-doctor learned about one task, as plain
//! serialisable data with provenance. Collectors fill it; checks only read it.
//!
//! Every piece that comes from an AWS call is a [`Fact`], so a check can tell
//! "AWS says this does not exist" from "we were not allowed to look".

use serde::{Deserialize, Serialize};

mod deployment;
mod ebs;
mod efs;
mod envfiles;
mod exec;
mod iam;
mod image;
mod kms;
mod lb;
mod logs;
mod network;
mod secrets;
mod service;
mod task;
mod task_definition;

pub use deployment::{
    AlarmsState, CircuitBreakerState, DeploymentStatus, LifecycleHook, Revision, Rollback,
    ServiceDeployment,
};
pub use ebs::{EbsAttachment, EbsEvidence, EbsVolume, KmsKey, ManagedEbsVolume, Snapshot};
pub use efs::{AccessPoint, EfsEvidence, FileSystem, MountTarget};
pub use envfiles::{bucket_region, s3_object, EnvFileEvidence, S3Object};
pub use exec::{Caller, ExecConfiguration, ExecEvidence};
pub use iam::{AttachedPolicy, InlinePolicy, Role, SimulationResult};
pub use image::{EcrImage, EcrImageDetail, ImageEvidence, Platform};
pub use kms::{KeyEvidence, KmsEvidence};
pub use lb::{LoadBalancer, TargetGroup, TargetGroupEvidence, TargetHealth};
pub use logs::{ContainerLogs, LogGroup, LogGroupEvidence, LogLine};
pub use network::{
    InternetGateway, NatGateway, Network, NetworkAcl, NetworkAclEntry, NetworkInterface,
    NetworkSource, PrefixList, Route, RouteTable, SecurityGroup, SecurityGroupRule, Subnet,
    TaskPlacement, Vpc, VpcEndpoint,
};
pub use secrets::{SecretEvidence, SecretMetadata};
pub use service::{
    AwsVpcConfiguration, Deployment, Service, ServiceEvent, ServiceLoadBalancer, TaskProtection,
};
pub use task::{Container, EniAttachment, ManagedAgent, Task, TaskTimestamps};
pub use task_definition::{
    ContainerDefinition, ContainerDependency, ContainerRestartPolicy, EfsVolume, EnvVar,
    HealthCheck, LogConfiguration, MountPoint, PortMapping, SecretRef, TaskDefinition, Volume,
};

/// One piece of evidence and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Fact<T> {
    /// AWS answered and this is what it said.
    Gathered { value: T },
    /// AWS said the thing does not exist (NotFound-style error or empty answer).
    Absent { detail: String },
    /// The caller was not allowed to look: `action` is the IAM action refused.
    Denied { action: String, error: String },
    /// The call failed for another reason (network, throttling, service error).
    Failed { action: String, error: String },
    /// Nothing to collect here (e.g. no execution role configured).
    NotApplicable { reason: String },
}

impl<T> Fact<T> {
    pub fn gathered(value: T) -> Self {
        Fact::Gathered { value }
    }
    pub fn absent(detail: impl Into<String>) -> Self {
        Fact::Absent {
            detail: detail.into(),
        }
    }
    pub fn not_applicable(reason: impl Into<String>) -> Self {
        Fact::NotApplicable {
            reason: reason.into(),
        }
    }
    /// The value, or the same gap as a fact of another type (for a fact
    /// derived from this one, which cannot be gathered either).
    pub fn gathered_or_gap<U>(self) -> Result<T, Fact<U>> {
        match self {
            Fact::Gathered { value } => Ok(value),
            Fact::Absent { detail } => Err(Fact::Absent { detail }),
            Fact::Denied { action, error } => Err(Fact::Denied { action, error }),
            Fact::Failed { action, error } => Err(Fact::Failed { action, error }),
            Fact::NotApplicable { reason } => Err(Fact::NotApplicable { reason }),
        }
    }
    pub fn value_mut(&mut self) -> Option<&mut T> {
        match self {
            Fact::Gathered { value } => Some(value),
            _ => None,
        }
    }
    pub fn value(&self) -> Option<&T> {
        match self {
            Fact::Gathered { value } => Some(value),
            _ => None,
        }
    }
    pub fn is_absent(&self) -> bool {
        matches!(self, Fact::Absent { .. })
    }
    /// A one-line description of why the value is missing, for "inconclusive" details.
    pub fn gap_reason(&self) -> Option<String> {
        match self {
            Fact::Gathered { .. } => None,
            Fact::Absent { detail } => Some(format!("not found: {detail}")),
            Fact::Denied { action, error } => Some(format!("{action} was denied ({error})")),
            Fact::Failed { action, error } => Some(format!("{action} failed ({error})")),
            Fact::NotApplicable { reason } => Some(reason.clone()),
        }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Fact<U> {
        match self {
            Fact::Gathered { value } => Fact::Gathered { value: f(value) },
            Fact::Absent { detail } => Fact::Absent { detail },
            Fact::Denied { action, error } => Fact::Denied { action, error },
            Fact::Failed { action, error } => Fact::Failed { action, error },
            Fact::NotApplicable { reason } => Fact::NotApplicable { reason },
        }
    }
}

impl<T> Default for Fact<T> {
    fn default() -> Self {
        Fact::NotApplicable {
            reason: "not collected".into(),
        }
    }
}

/// A call that could not be made or answered, and which checks it blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct Gap {
    /// The IAM action, e.g. `iam:GetRole`.
    pub action: String,
    /// The error code or message AWS (or the network) gave.
    pub error: String,
    /// What could not be checked because of it.
    pub impact: String,
}

/// The error codes with which AWS refuses a caller an action.
pub const REFUSAL_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
    "NotAuthorized",
    "AuthFailure",
];

impl Gap {
    /// Would granting the call help? Only when AWS refused it (the gap's
    /// error starts with a refusal code); a throttle, an outage or a
    /// service that does not answer is not fixed by a grant.
    pub fn needs_a_grant(&self) -> bool {
        let code = self.error.split(':').next().unwrap_or_default().trim();
        REFUSAL_CODES.contains(&code)
    }
}

/// Everything collected about one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Evidence {
    pub region: String,
    pub account: Option<String>,
    pub task: Task,
    pub task_definition: Fact<TaskDefinition>,
    /// The service that launched the task, when its group is `service:NAME`.
    pub service: Fact<Service>,
    /// One entry per container of the task definition.
    pub logs: Vec<ContainerLogs>,
    /// One entry per container image.
    pub images: Vec<ImageEvidence>,
    pub execution_role: Fact<Role>,
    /// `iam:SimulatePrincipalPolicy` answers for the execution role, when AWS allowed it.
    #[serde(default)]
    pub simulation: Fact<Vec<SimulationResult>>,
    pub secrets: Vec<SecretEvidence>,
    pub log_groups: Vec<LogGroupEvidence>,
    pub network: Network,
    pub load_balancing: Vec<TargetGroupEvidence>,
    /// One entry per EFS file system the task definition mounts.
    #[serde(default)]
    pub efs: Vec<EfsEvidence>,
    /// The task's ECS-managed EBS volume, when its task definition has one
    /// configured at launch; not applicable otherwise.
    #[serde(default)]
    pub ebs: Fact<EbsEvidence>,
    /// One entry per environment file of the task definition's containers.
    #[serde(default)]
    pub env_files: Vec<EnvFileEvidence>,
    /// The customer managed KMS keys of the task's secrets and of the
    /// cluster's Fargate ephemeral storage: state and key policy.
    #[serde(default)]
    pub kms: KmsEvidence,
    /// The task role, read when a check needs its permissions (EFS IAM
    /// authorization); not applicable otherwise.
    #[serde(default)]
    pub task_role: Fact<Role>,
    /// What the user told ecs-doctor beyond the task itself.
    pub inputs: Inputs,
    /// Calls that were refused or failed.
    pub gaps: Vec<Gap>,
    /// The question this evidence answers (see [`crate::question`]): why a
    /// task stopped (the default), whether ECS Exec can reach a running
    /// task, or whether a task would start.
    #[serde(default)]
    pub purpose: Question,
    /// What ECS Exec needs beyond the task: the cluster's exec
    /// configuration and the caller's permission (an `exec` diagnosis only).
    #[serde(default)]
    pub exec: Fact<ExecEvidence>,
}

pub use crate::question::Question;

/// Options given on the command line that change what is evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Inputs {
    /// `--from CIDR`: where inbound traffic to a running task comes from.
    pub from_cidr: Option<String>,
    /// `--subnet`, supplied because AWS no longer holds it.
    #[serde(default)]
    pub subnets: Vec<String>,
    /// `--security-group`.
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// `--assign-public-ip`.
    pub assign_public_ip: Option<bool>,
    pub log_lines: u32,
    /// Where the task's own record came from when not DescribeTasks (an EventBridge event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_source: Option<String>,
}

impl Evidence {
    /// The task definition, when it was read.
    pub fn task_def(&self) -> Option<&TaskDefinition> {
        self.task_definition.value()
    }

    /// The service name from the task's group (`service:NAME`).
    pub fn service_name(&self) -> Option<&str> {
        self.task
            .group
            .as_deref()
            .and_then(|g| g.strip_prefix("service:"))
    }

    pub fn is_stopped(&self) -> bool {
        self.task.last_status.eq_ignore_ascii_case("STOPPED")
            || self.task.desired_status.as_deref() == Some("STOPPED")
    }

    /// Why a container's log lines could not be read, when a call was
    /// refused or failed (a container without logs, or with an empty or
    /// missing stream, has nothing to read: no gap).
    pub fn log_gap(&self, container: &str) -> Option<String> {
        let lines = &self.logs.iter().find(|l| l.container == container)?.lines;
        match lines {
            Fact::Denied { .. } | Fact::Failed { .. } => lines.gap_reason(),
            _ => None,
        }
    }

    /// Log lines collected for a container: empty when there are none, and
    /// when they could not be read ([`Evidence::log_gap`] tells which).
    pub fn log_lines(&self, container: &str) -> &[LogLine] {
        self.logs
            .iter()
            .find(|l| l.container == container)
            .and_then(|l| l.lines.value())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// A listing that may have failed. Bundles saved before listings carried
/// their provenance hold a bare list: that list was gathered.
fn listed<'de, D, T>(deserializer: D) -> Result<Fact<Vec<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Listed<T> {
        Fact(Fact<Vec<T>>),
        Bare(Vec<T>),
    }
    Ok(match Listed::deserialize(deserializer)? {
        Listed::Fact(f) => f,
        Listed::Bare(list) => Fact::gathered(list),
    })
}

#[cfg(test)]
mod gap_tests {
    use super::Gap;

    #[test]
    fn only_a_grant_that_would_help_is_advised() {
        let gap = |action: &str, error: &str| Gap {
            action: action.into(),
            error: error.into(),
            impact: String::new(),
        };
        for refused in [
            gap(
                "ecr:DescribeImages",
                "AccessDeniedException: User: x is not authorized",
            ),
            gap(
                "iam:SimulatePrincipalPolicy",
                "AccessDenied: User: x is not authorized",
            ),
            gap(
                "ec2:DescribeSubnets",
                "UnauthorizedOperation: You are not authorized",
            ),
        ] {
            assert!(refused.needs_a_grant(), "{refused:?}");
        }
        for failed in [
            gap("ecs:DescribeServices", "ServiceUnavailable: HTTP 503"),
            gap("logs:GetLogEvents", "ThrottlingException: Rate exceeded"),
            gap("iam:SimulatePrincipalPolicy", "HTTP 500 with no error code"),
        ] {
            assert!(!failed.needs_a_grant(), "{failed:?}");
        }
    }
}
