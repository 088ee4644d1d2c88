//! The cause catalogue: every root cause ecs-doctor can name.
//!
//! The kebab-case names are a public contract (`candidates[].code` in JSON).
//! Add codes freely; never rename one (a snapshot test makes a rename visible).

use serde::{Deserialize, Serialize};
use strum::{Display, EnumIter, EnumString, IntoStaticStr};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Display,
    EnumString,
    EnumIter,
    IntoStaticStr,
    Serialize,
    Deserialize,
)]
#[strum(serialize_all = "kebab-case")]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    // The app family.
    AppExitError,
    AppExitZero,
    AppOutOfMemory,
    AppCommandNotFound,
    AppMissingConfig,
    AppPortMismatch,
    AppHealthCheckFailed,
    LbHealthCheckFailed,
    AppSigtermTimeout,
    // The image / IAM family.
    ImageNotFound,
    ImagePlatformMismatch,
    RegistryAuthFailed,
    RegistryRateLimited,
    ExecutionRoleMissing,
    ExecutionRoleNotFound,
    ExecutionRoleUntrusted,
    ExecutionRolePermissions,
    SecretNotFound,
    LogGroupMissing,
    LogConfigInvalid,
    // The network family.
    NoPublicIp,
    NoEgressRoute,
    VpcEndpointMissing,
    SecurityGroupEgressBlocked,
    SecurityGroupIngressClosed,
    NaclBlocked,
    VpcDnsDisabled,
    SubnetIpExhausted,
    // Benign stops and the platform.
    StoppedByDeployment,
    StoppedByUser,
    SpotInterruption,
    PlatformMaintenance,
    PlatformError,
    EniProvisioningTimeout,
    Unknown,
}

/// The failure family a cause belongs to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Display, Serialize, Deserialize,
)]
#[strum(serialize_all = "kebab-case")]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    App,
    Image,
    Network,
    Platform,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn family(self) -> Family {
        use Cause::*;
        match self {
            AppExitError | AppExitZero | AppOutOfMemory | AppCommandNotFound | AppMissingConfig
            | AppPortMismatch | AppHealthCheckFailed | LbHealthCheckFailed | AppSigtermTimeout => {
                Family::App
            }
            ImageNotFound
            | ImagePlatformMismatch
            | RegistryAuthFailed
            | RegistryRateLimited
            | ExecutionRoleMissing
            | ExecutionRoleNotFound
            | ExecutionRoleUntrusted
            | ExecutionRolePermissions
            | SecretNotFound
            | LogGroupMissing
            | LogConfigInvalid => Family::Image,
            NoPublicIp
            | NoEgressRoute
            | VpcEndpointMissing
            | SecurityGroupEgressBlocked
            | SecurityGroupIngressClosed
            | NaclBlocked
            | VpcDnsDisabled
            | SubnetIpExhausted => Family::Network,
            StoppedByDeployment
            | StoppedByUser
            | SpotInterruption
            | PlatformMaintenance
            | PlatformError
            | EniProvisioningTimeout
            | Unknown => Family::Platform,
        }
    }

    /// Benign stops are not failures: they do not make the exit code 1.
    pub fn is_benign(self) -> bool {
        matches!(
            self,
            Cause::StoppedByDeployment
                | Cause::StoppedByUser
                | Cause::SpotInterruption
                | Cause::PlatformMaintenance
        )
    }

    /// One line saying what the cause is.
    pub fn description(self) -> &'static str {
        use Cause::*;
        match self {
            AppExitError => "An essential container exited with an error",
            AppExitZero => "An essential container of a service exited normally (code 0)",
            AppOutOfMemory => "A container was killed for using more memory than it was given",
            AppCommandNotFound => "The container's command or entry point could not be run",
            AppMissingConfig => {
                "The app needs an environment variable or secret the task definition does not set"
            }
            AppPortMismatch => "The app listens on a port that is not the container port",
            AppHealthCheckFailed => "The container health check failed",
            LbHealthCheckFailed => "The load balancer's health check failed",
            AppSigtermTimeout => {
                "The container did not stop within stopTimeout after SIGTERM and was killed"
            }
            ImageNotFound => "The image repository, tag or digest does not exist",
            ImagePlatformMismatch => "The image was built for another CPU architecture or OS",
            RegistryAuthFailed => "The registry refused the pull: credentials are missing or wrong",
            RegistryRateLimited => "The registry rate-limited the pull (Docker Hub pull limits)",
            ExecutionRoleMissing => "The task needs an execution role and has none",
            ExecutionRoleNotFound => "The execution role does not exist",
            ExecutionRoleUntrusted => "The execution role does not trust ecs-tasks.amazonaws.com",
            ExecutionRolePermissions => {
                "The execution role is not allowed to do what the task needs"
            }
            SecretNotFound => "A secret or parameter the task references does not exist",
            LogGroupMissing => "The awslogs log group does not exist",
            LogConfigInvalid => "The awslogs log configuration is incomplete or invalid",
            NoPublicIp => {
                "The task is in a subnet that routes to an internet gateway but has no public IP"
            }
            NoEgressRoute => "The task's subnet has no route to the services it needs",
            VpcEndpointMissing => "The VPC relies on endpoints but one the task needs is missing",
            SecurityGroupEgressBlocked => {
                "The task's security groups block the outbound traffic it needs"
            }
            SecurityGroupIngressClosed => {
                "A security group does not admit the traffic: the task's on its container port, or a VPC endpoint's on 443"
            }
            NaclBlocked => "A network ACL denies the traffic the task needs",
            VpcDnsDisabled => "VPC DNS support or hostnames is disabled",
            SubnetIpExhausted => "The subnet has no free IP addresses for the task's ENI",
            StoppedByDeployment => {
                "The service scheduler replaced or scaled in the task (not a failure)"
            }
            StoppedByUser => "Someone or something called StopTask (not a failure of the task)",
            SpotInterruption => "Fargate Spot reclaimed the capacity (not a failure of the task)",
            PlatformMaintenance => {
                "AWS retired the task for infrastructure maintenance (not a failure of the task)"
            }
            PlatformError => "The container runtime or the ECS platform failed",
            EniProvisioningTimeout => "The task's network interface was not provisioned in time",
            Unknown => "The stop reason matches no known pattern",
        }
    }
}
