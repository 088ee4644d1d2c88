//! The evidence model: everything ecs-doctor learned about one task, as plain
//! serialisable data with provenance. Collectors fill it; checks only read it.
//!
//! Every piece that comes from an AWS call is a [`Fact`], so a check can tell
//! "AWS says this does not exist" from "we were not allowed to look".

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// The task role, read when a check needs its permissions (EFS IAM
    /// authorization); not applicable otherwise.
    #[serde(default)]
    pub task_role: Fact<Role>,
    /// What the user told ecs-doctor beyond the task itself.
    pub inputs: Inputs,
    /// Calls that were refused or failed.
    pub gaps: Vec<Gap>,
    /// The question this evidence answers: why a task stopped (the
    /// default), or whether ECS Exec can reach a running task.
    #[serde(default)]
    pub purpose: Purpose,
    /// What ECS Exec needs beyond the task: the cluster's exec
    /// configuration and the caller's permission (an `exec` diagnosis only).
    #[serde(default)]
    pub exec: Fact<ExecEvidence>,
}

/// The question a diagnosis answers: see [`crate::question`].
pub use crate::question::Question as Purpose;

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
}

/// Where a container's logs went and what the last lines were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ContainerLogs {
    pub container: String,
    /// The log driver (`awslogs`, `awsfirelens`, `splunk`, ... or `none`).
    pub driver: String,
    pub group: Option<String>,
    pub stream: Option<String>,
    pub region: Option<String>,
    /// The last lines up to the task's stop, oldest first.
    pub lines: Fact<Vec<LogLine>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LogLine {
    /// RFC 3339.
    pub timestamp: Option<String>,
    pub message: String,
}

/// A container image and what its registry says about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ImageEvidence {
    pub container: String,
    pub image: String,
    /// ECR's answer for ECR private images; not applicable for other registries.
    pub ecr: Fact<EcrImage>,
    /// When the repository does not exist: the repositories the image's
    /// registry does hold (for "did you mean"), at most a few hundred.
    #[serde(default)]
    pub registry_repositories: Fact<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EcrImage {
    pub registry_id: String,
    pub region: String,
    pub repository: String,
    pub repository_arn: Option<String>,
    /// The tag or digest the task asked for.
    pub reference: String,
    /// The image, when the tag or digest exists.
    pub found: Option<EcrImageDetail>,
    /// The most recently pushed tags, newest first (for "did you mean").
    #[serde(deserialize_with = "listed")]
    pub recent_tags: Fact<Vec<String>>,
    /// The repository policy, for cross-account pulls.
    #[serde(default)]
    pub repository_policy: Fact<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EcrImageDetail {
    pub digest: Option<String>,
    pub tags: Vec<String>,
    pub pushed_at: Option<String>,
    pub manifest_media_type: Option<String>,
    /// Platforms from the manifest or image index, when they could be read.
    pub platforms: Fact<Vec<Platform>>,
    pub size_bytes: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Role {
    pub arn: String,
    pub name: String,
    pub trust_policy: serde_json::Value,
    /// The managed policies attached to the role, or why they could not be listed.
    #[serde(deserialize_with = "listed")]
    pub attached_policies: Fact<Vec<AttachedPolicy>>,
    /// The role's inline policies, or why they could not be listed.
    #[serde(deserialize_with = "listed")]
    pub inline_policies: Fact<Vec<InlinePolicy>>,
    pub permissions_boundary_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AttachedPolicy {
    pub arn: String,
    pub name: String,
    /// The default version's document.
    pub document: Fact<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct InlinePolicy {
    pub name: String,
    pub document: Fact<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SimulationResult {
    pub action: String,
    pub resource: String,
    /// `allowed`, `explicitDeny` or `implicitDeny`.
    pub decision: String,
    #[serde(default)]
    pub missing_context_values: Vec<String>,
    /// The policies and statements the simulator says decided (`SourcePolicyId`).
    #[serde(default)]
    pub matched_statements: Vec<String>,
    /// `OrganizationsDecisionDetail.AllowedByOrganizations`: `Some(false)` when an SCP denies.
    #[serde(default)]
    pub allowed_by_organizations: Option<bool>,
    /// `PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary`.
    #[serde(default)]
    pub allowed_by_permissions_boundary: Option<bool>,
}

/// A `secrets[].valueFrom` (or `repositoryCredentials` / log `secretOptions`) reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SecretEvidence {
    pub container: String,
    /// The variable name, or `repositoryCredentials`.
    pub name: String,
    pub value_from: String,
    /// Metadata only: ecs-doctor never reads a secret's value.
    pub metadata: Fact<SecretMetadata>,
    /// When the reference names another Region and is missing there: the
    /// ARN of the secret or parameter of the same name in the task's Region.
    #[serde(default)]
    pub found_in_task_region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SecretMetadata {
    pub arn: Option<String>,
    pub name: Option<String>,
    pub kms_key_id: Option<String>,
    /// `secretsmanager` or `ssm`.
    pub service: String,
    /// Secrets Manager's `VersionIdsToStages`: each version id and its
    /// staging labels (`AWSCURRENT`, …). Parameter Store has none.
    #[serde(default)]
    pub versions: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LogGroupEvidence {
    pub name: String,
    pub region: String,
    pub group: Fact<LogGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LogGroup {
    pub arn: Option<String>,
    pub retention_days: Option<i32>,
    pub kms_key_id: Option<String>,
}

/// Where the task's network settings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkSource {
    /// The task's ENI still exists.
    Eni,
    /// The service's network configuration.
    Service,
    /// The task's ENI attachment details.
    TaskAttachment,
    /// Given on the command line (assumed, not read from AWS).
    User,
    #[default]
    Unknown,
}

/// The task's own place in the network, as far as it could be recovered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TaskPlacement {
    pub subnet_ids: Vec<String>,
    pub subnet_source: NetworkSource,
    pub security_group_ids: Vec<String>,
    pub security_groups_source: NetworkSource,
    pub assign_public_ip: Option<bool>,
    pub assign_public_ip_source: NetworkSource,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Network {
    /// Not applicable for tasks outside `awsvpc`.
    pub placement: Fact<TaskPlacement>,
    pub eni: Fact<NetworkInterface>,
    pub vpc: Fact<Vpc>,
    /// The task's subnets first, then the VPC's other subnets (where NAT
    /// gateways and interface endpoints sit), as far as they could be read.
    pub subnets: Fact<Vec<Subnet>>,
    /// Every route table of the VPC (the main one included).
    pub route_tables: Fact<Vec<RouteTable>>,
    pub internet_gateways: Fact<Vec<InternetGateway>>,
    pub nat_gateways: Fact<Vec<NatGateway>>,
    pub vpc_endpoints: Fact<Vec<VpcEndpoint>>,
    pub security_groups: Fact<Vec<SecurityGroup>>,
    pub network_acls: Fact<Vec<NetworkAcl>>,
    pub prefix_lists: Fact<Vec<PrefixList>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NetworkInterface {
    pub id: String,
    pub status: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub security_group_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Vpc {
    pub id: String,
    pub cidr_blocks: Vec<String>,
    pub enable_dns_support: Fact<bool>,
    pub enable_dns_hostnames: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub availability_zone: Option<String>,
    pub cidr_block: Option<String>,
    pub available_ip_address_count: Option<i32>,
    pub map_public_ip_on_launch: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    pub main: bool,
    /// Subnets explicitly associated with this table.
    pub subnet_ids: Vec<String>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Route {
    pub destination_cidr: Option<String>,
    pub destination_ipv6_cidr: Option<String>,
    pub destination_prefix_list_id: Option<String>,
    /// `igw-…`, `nat-…`, `vpce-…`, `tgw-…`, `pcx-…`, `eni-…`, `local`, …
    pub target: String,
    /// `active` or `blackhole`.
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct InternetGateway {
    pub id: String,
    pub attached_vpc_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NatGateway {
    pub id: String,
    pub subnet_id: Option<String>,
    pub state: Option<String>,
    /// `public` or `private`.
    pub connectivity_type: Option<String>,
    pub public_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct VpcEndpoint {
    pub id: String,
    pub service_name: String,
    /// `Interface` or `Gateway`.
    pub endpoint_type: String,
    pub state: Option<String>,
    pub private_dns_enabled: Option<bool>,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub route_table_ids: Vec<String>,
    pub policy: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SecurityGroup {
    pub id: String,
    pub name: Option<String>,
    pub vpc_id: Option<String>,
    pub ingress: Vec<SecurityGroupRule>,
    pub egress: Vec<SecurityGroupRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SecurityGroupRule {
    /// `-1` (all), `tcp`, `udp`, `icmp`, or a protocol number.
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub ipv4_ranges: Vec<String>,
    pub ipv6_ranges: Vec<String>,
    pub prefix_list_ids: Vec<String>,
    pub group_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NetworkAcl {
    pub id: String,
    pub vpc_id: Option<String>,
    pub is_default: bool,
    pub subnet_ids: Vec<String>,
    pub entries: Vec<NetworkAclEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NetworkAclEntry {
    pub rule_number: i32,
    pub egress: bool,
    /// `-1` (all), or a protocol number such as `6` (TCP).
    pub protocol: String,
    /// `allow` or `deny`.
    pub action: String,
    pub cidr_block: Option<String>,
    pub ipv6_cidr_block: Option<String>,
    pub port_from: Option<i32>,
    pub port_to: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PrefixList {
    pub id: String,
    pub name: String,
    pub cidrs: Vec<String>,
}

/// A load balancer target group the service registers the task with.
/// What EFS says about one file system the task mounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EfsEvidence {
    pub file_system_id: String,
    pub file_system: Fact<FileSystem>,
    pub mount_targets: Fact<Vec<MountTarget>>,
    /// The file system policy: `Absent` when it has none (EFS then lets
    /// every client that can connect mount it).
    pub policy: Fact<serde_json::Value>,
    /// Each access point a volume names, by id.
    pub access_points: Vec<(String, Fact<AccessPoint>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FileSystem {
    pub arn: Option<String>,
    pub life_cycle_state: Option<String>,
    /// One Zone file systems live in one Availability Zone.
    pub availability_zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MountTarget {
    pub id: String,
    pub subnet_id: String,
    pub availability_zone: Option<String>,
    pub ip_address: Option<String>,
    pub life_cycle_state: Option<String>,
    pub security_groups: Fact<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AccessPoint {
    pub id: String,
    pub file_system_id: String,
    pub life_cycle_state: Option<String>,
    pub root_directory: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TargetGroupEvidence {
    pub arn: String,
    pub target_group: Fact<TargetGroup>,
    pub target_health: Fact<Vec<TargetHealth>>,
    /// Security groups of the load balancer(s) in front of the target group.
    pub load_balancer_security_groups: Fact<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TargetGroup {
    pub name: String,
    pub protocol: Option<String>,
    pub port: Option<i32>,
    pub target_type: Option<String>,
    pub health_check_protocol: Option<String>,
    pub health_check_port: Option<String>,
    pub health_check_path: Option<String>,
    pub health_check_interval_seconds: Option<i32>,
    pub health_check_timeout_seconds: Option<i32>,
    pub healthy_threshold_count: Option<i32>,
    pub unhealthy_threshold_count: Option<i32>,
    pub matcher: Option<String>,
    pub load_balancer_arns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TargetHealth {
    pub target_id: String,
    pub port: Option<i32>,
    pub state: Option<String>,
    pub reason: Option<String>,
    pub description: Option<String>,
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

    /// Log lines collected for a container (empty when none).
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
