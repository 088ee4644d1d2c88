//! The cause catalogue: every root cause ecs-doctor can name.
//!
//! The codes are rows of one table, [`causes!`]; the checks that report
//! them are registered from the same rows in [`crate::checks`].

use serde::{Deserialize, Serialize};
use strum::Display;

/// The failure family a cause belongs to (and the folder its check lives in).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Display, Serialize, Deserialize,
)]
#[strum(serialize_all = "kebab-case")]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    App,
    Image,
    Network,
    Storage,
    Platform,
    /// ECS Exec readiness (`ecs-doctor exec`), not why a task stopped.
    Exec,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The cause catalogue, one row per cause code: its variant (the kebab-case
/// code is derived from it), the check module that reports it (one file in
/// the family's folder), whether it is a benign stop, and its one-line
/// description. Adding a cause code is adding a row and its file; the enum,
/// the family, the description, the registration and the `explain` docs all
/// follow from the row.
///
/// The table is handed to a macro: [`define_causes`] here makes the
/// [`Cause`] enum, and `define_checks` in [`crate::checks`] registers each
/// row's check, so the codes know nothing of the checks.
macro_rules! causes {
    ($then:ident) => {
        $then! {
            app / App {
                AppExitError => app_exit_error: "An essential container exited with an error",
                AppExitZero => app_exit_zero: "An essential container of a service exited normally (code 0)",
                AppOutOfMemory => app_out_of_memory: "A container was killed for using more memory than it was given",
                AppCommandNotFound => app_command_not_found: "The container's command or entry point could not be run",
                AppMissingConfig => app_missing_config: "The app needs an environment variable or secret the task definition does not set",
                AppPortMismatch => app_port_mismatch: "The app listens on a port that is not the container port",
                AppHealthCheckFailed => app_health_check_failed: "The container health check failed",
                LbHealthCheckFailed => lb_health_check_failed: "The load balancer's health check failed",
                AppSigtermTimeout => app_sigterm_timeout: "The container did not stop within stopTimeout after SIGTERM and was killed",
                AppBoundToLocalhost => app_bound_to_localhost: "The app listens on localhost only, so nothing outside the container reaches it",
                HealthCheckGraceTooShort => health_check_grace_too_short: "The load balancer judged the app before it had finished starting",
                SidecarFailed => sidecar_failed: "An essential sidecar (log router, Service Connect or App Mesh proxy, agent) stopped the task",
                TaskDefinitionInvalid => task_definition_invalid: "The task definition has a mistake ECS reports only at registration, deployment or start (memory, dependsOn, load balancer container, port)",
                TaskRolePermissions => task_role_permissions: "The app was refused an AWS call: its task role does not allow the action on the resource",
                PortConflict => port_conflict: "Two containers of the task (or a task and its host) bind the same port",
            }
            image / Image {
                ImageNotFound => image_not_found: "The image repository, tag or digest does not exist",
                ImagePlatformMismatch => image_platform_mismatch: "The image was built for another CPU architecture or OS",
                RegistryAuthFailed => registry_auth_failed: "The registry refused the pull: credentials are missing or wrong",
                RegistryRateLimited => registry_rate_limited: "The registry rate-limited the pull (Docker Hub pull limits)",
                ExecutionRoleMissing => execution_role_missing: "The task needs an execution role and has none",
                ExecutionRoleNotFound => execution_role_not_found: "The execution role does not exist",
                ExecutionRoleUntrusted => execution_role_untrusted: "The execution role does not trust ecs-tasks.amazonaws.com",
                ExecutionRolePermissions => execution_role_permissions: "The execution role is not allowed to do what the task needs",
                EcrRepositoryPolicyDenied => ecr_repository_policy_denied: "The ECR repository's policy does not let the execution role pull the image (another account's repository, or a restrictive policy)",
                KmsKeyPolicyDenied => kms_key_policy_denied: "The KMS key of a secret or parameter refused the execution role: its policy or its state",
                SecretNotFound => secret_not_found: "A secret or parameter the task references does not exist",
                SecretKeyMissing => secret_key_missing: "The secret exists, but not the JSON key or version valueFrom names",
                EnvFileFailed => env_file_failed: "An environment file in S3 could not be downloaded: the object, its bucket or its Region",
                LogGroupMissing => log_group_missing: "The awslogs log group does not exist",
                LogConfigInvalid => log_config_invalid: "The awslogs log configuration is incomplete or invalid",
            }
            network / Network {
                NoPublicIp => no_public_ip: "The task is in a subnet that routes to an internet gateway but has no public IP",
                NoEgressRoute => no_egress_route: "The task's subnet has no route to the services it needs",
                VpcEndpointMissing => vpc_endpoint_missing: "The VPC relies on endpoints but one the task needs is missing",
                VpcEndpointPolicyDenied => vpc_endpoint_policy_denied: "A VPC endpoint on the task's path exists, but its policy refuses what the task asks",
                SecurityGroupEgressBlocked => security_group_egress_blocked: "The task's security groups block the outbound traffic it needs",
                SecurityGroupIngressClosed => security_group_ingress_closed: "A security group does not admit the traffic: the task's on its container port, or a VPC endpoint's on 443",
                NaclBlocked => nacl_blocked: "A network ACL denies the traffic the task needs",
                VpcDnsDisabled => vpc_dns_disabled: "VPC DNS support or hostnames is disabled",
                SubnetIpExhausted => subnet_ip_exhausted: "The subnet has no free IP addresses for the task's ENI",
            }
            storage / Storage {
                EfsMountFailed => efs_mount_failed: "An EFS volume could not be mounted",
                EphemeralStorageExhausted => ephemeral_storage_exhausted: "The task's ephemeral storage filled up (no space left on device)",
                ReadOnlyFilesystem => read_only_filesystem: "The container's root file system is read-only and the app had to write to it",
                EbsVolumeFailed => ebs_volume_failed: "ECS could not create or attach the task's EBS volume (infrastructure role, KMS key, snapshot, file system type)",
                EphemeralStorageKeyFailed => ephemeral_storage_key_failed: "Fargate could not use the cluster's customer managed key for ephemeral storage: the key's state or policy",
            }
            platform / Platform {
                EniProvisioningTimeout => eni_provisioning_timeout: "The task's network interface was not provisioned in time",
                PlacementFailed => placement_failed: "ECS could not place the task: no capacity, resources, ports or instances met its requirements",
                StoppedByDeployment => stopped_by_deployment benign: "The service scheduler replaced or scaled in the task (not a failure)",
                StoppedByUser => stopped_by_user benign: "Someone or something called StopTask (not a failure of the task)",
                SpotInterruption => spot_interruption benign: "Fargate Spot reclaimed the capacity (not a failure of the task)",
                PlatformMaintenance => platform_maintenance benign: "AWS retired the task for infrastructure maintenance (not a failure of the task)",
                PlatformError => platform_error: "The container runtime or the ECS platform failed",
                Unknown => unknown: "The stop reason matches no known pattern",
            }
            exec / Exec {
                ExecNotEnabled => exec_not_enabled: "ECS Exec is not enabled on the task (enableExecuteCommand is false)",
                ExecAgentNotRunning => exec_agent_not_running: "The ECS Exec agent is not running in the task's containers",
                ExecTaskRolePermissions => exec_task_role_permissions: "The task role does not allow what ECS Exec's agent needs (ssmmessages, KMS, session logs)",
                ExecNoSsmPath => exec_no_ssm_path: "The task has no network path to Session Manager (ssmmessages) or the session's KMS and log endpoints",
                ExecCallerNotAllowed => exec_caller_not_allowed: "The caller is not allowed ecs:ExecuteCommand on the task",
            }
        }
    };
}
pub(crate) use causes;

macro_rules! define_causes {
    ($( $folder:ident / $family:ident {
        $( $code:ident => $module:ident $($benign:ident)? : $description:literal, )*
    } )*) => {
        /// Every root cause ecs-doctor can name. The kebab-case names are a
        /// public contract (`candidates[].code` in JSON): add codes freely,
        /// never rename one (a snapshot test makes a rename visible).
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            strum::Display, strum::EnumString, strum::EnumIter, strum::IntoStaticStr,
            serde::Serialize, serde::Deserialize,
        )]
        #[strum(serialize_all = "kebab-case")]
        #[serde(rename_all = "kebab-case")]
        pub enum Cause {
            $($( $code, )*)*
        }

        impl Cause {
            /// The failure family a cause belongs to.
            pub fn family(self) -> Family {
                match self { $($( Cause::$code => Family::$family, )*)* }
            }

            /// Benign stops are not failures: they do not make the exit code 1.
            pub fn is_benign(self) -> bool {
                match self { $($( Cause::$code => define_causes!(@benign $($benign)?), )*)* }
            }

            /// One line saying what the cause is.
            pub fn description(self) -> &'static str {
                match self { $($( Cause::$code => $description, )*)* }
            }
        }

    };
    (@benign benign) => { true };
    (@benign) => { false };
}

causes!(define_causes);
