//! The task definition: its containers, volumes, port mappings, secrets
//! references, log configuration and health checks.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TaskDefinition {
    pub arn: String,
    pub family: String,
    pub revision: i32,
    pub network_mode: Option<String>,
    pub requires_compatibilities: Vec<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub execution_role_arn: Option<String>,
    pub task_role_arn: Option<String>,
    /// `runtimePlatform.cpuArchitecture`; AWS defaults to X86_64 when absent.
    pub cpu_architecture: Option<String>,
    pub os_family: Option<String>,
    pub containers: Vec<ContainerDefinition>,
    /// `ephemeralStorage.sizeInGiB`; Fargate gives 20 GiB when absent.
    #[serde(default)]
    pub ephemeral_storage_gib: Option<i32>,
    #[serde(default)]
    pub volumes: Vec<Volume>,
    /// `proxyConfiguration.containerName` (an App Mesh Envoy), when set.
    #[serde(default)]
    pub proxy_container: Option<String>,
}

/// A task definition volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Volume {
    pub name: String,
    /// `efsVolumeConfiguration`, for an EFS volume.
    pub efs: Option<EfsVolume>,
    /// `configuredAtLaunch`: an EBS volume whose configuration comes from the
    /// service or `RunTask`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub configured_at_launch: bool,
}

/// `efsVolumeConfiguration` of a volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EfsVolume {
    pub file_system_id: String,
    pub root_directory: Option<String>,
    /// `ENABLED` or `DISABLED` (the default).
    pub transit_encryption: Option<String>,
    pub access_point_id: Option<String>,
    /// `authorizationConfig.iam`: `ENABLED` or `DISABLED` (the default).
    pub iam: Option<String>,
}

impl EfsVolume {
    /// EFS IAM authorization: the task role is the client's identity.
    pub fn uses_iam(&self) -> bool {
        self.iam
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("ENABLED"))
    }
}

/// A container's `mountPoints[]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MountPoint {
    pub source_volume: String,
    pub container_path: String,
    pub read_only: bool,
}

impl TaskDefinition {
    /// `family:revision`, or the family alone for one not registered yet (a file).
    pub fn label(&self) -> String {
        if self.revision > 0 {
            format!("{}:{}", self.family, self.revision)
        } else {
            self.family.clone()
        }
    }

    pub fn container(&self, name: &str) -> Option<&ContainerDefinition> {
        self.containers.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: String,
    /// ECS treats a container as essential unless it says otherwise.
    pub essential: bool,
    pub port_mappings: Vec<PortMapping>,
    /// Names and (redacted) values of `environment`.
    pub environment: Vec<EnvVar>,
    pub environment_files: Vec<String>,
    pub secrets: Vec<SecretRef>,
    pub log_configuration: Option<LogConfiguration>,
    pub health_check: Option<HealthCheck>,
    pub depends_on: Vec<ContainerDependency>,
    pub start_timeout: Option<i32>,
    pub stop_timeout: Option<i32>,
    pub memory: Option<i32>,
    pub memory_reservation: Option<i32>,
    /// `repositoryCredentials.credentialsParameter`.
    pub repository_credentials: Option<String>,
    pub command: Vec<String>,
    pub entry_point: Vec<String>,
    #[serde(default)]
    pub mount_points: Vec<MountPoint>,
    /// `firelensConfiguration.type` (`fluentbit` or `fluentd`): a log router.
    #[serde(default)]
    pub firelens: Option<String>,
    /// `readonlyRootFilesystem`: the ECS Exec agent cannot run in such a container.
    #[serde(default)]
    pub readonly_root_filesystem: Option<bool>,
    /// `restartPolicy`: ECS restarts the container in place when it exits.
    #[serde(default)]
    pub restart_policy: Option<ContainerRestartPolicy>,
}

/// A container's `restartPolicy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ContainerRestartPolicy {
    pub enabled: bool,
    /// Exit codes ECS never restarts the container on.
    #[serde(default)]
    pub ignored_exit_codes: Vec<i32>,
    /// Seconds the container must run before ECS restarts it (300 when unset).
    #[serde(default)]
    pub restart_attempt_period: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PortMapping {
    pub container_port: Option<i32>,
    pub host_port: Option<i32>,
    pub protocol: Option<String>,
}

/// An environment variable. Values are redacted at collection time unless
/// they are plainly harmless (a numeric `*PORT` value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SecretRef {
    pub name: String,
    pub value_from: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LogConfiguration {
    pub driver: String,
    pub options: BTreeMap<String, String>,
    pub secret_options: Vec<SecretRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HealthCheck {
    pub command: Vec<String>,
    pub interval: Option<i32>,
    pub timeout: Option<i32>,
    pub retries: Option<i32>,
    pub start_period: Option<i32>,
}

impl HealthCheck {
    /// The command as the shell runs it, without the `CMD` / `CMD-SHELL` marker.
    pub fn command_line(&self) -> String {
        self.command
            .iter()
            .skip_while(|c| c.eq_ignore_ascii_case("CMD-SHELL") || c.eq_ignore_ascii_case("CMD"))
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ContainerDependency {
    pub container_name: String,
    pub condition: String,
}
