//! The checks: one file per cause code, each a pure function over the
//! evidence, each documented in its file's `//!` header in fixed sections
//! (what it detects / why it matters / example / how to fix / references).
//! `ecs-doctor explain <code>` prints that header.

use crate::codes::Cause;
use crate::evidence::Evidence;
use crate::report::Verdict;

/// One registered check.
pub struct Check {
    pub code: Cause,
    pub run: fn(&Evidence) -> Verdict,
    /// The check's source file; its `//!` header is the documentation.
    source: &'static str,
}

impl Check {
    /// The documentation from the file's `//!` header.
    pub fn docs(&self) -> String {
        doc_header(self.source)
    }
}

/// The leading `//!` lines of a source file, without the markers.
pub fn doc_header(source: &str) -> String {
    source
        .lines()
        .take_while(|l| l.starts_with("//!") || l.trim().is_empty())
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// Registration is one line per check: `CauseVariant => module_name`.
macro_rules! register_checks {
    ($($code:ident => $module:ident),* $(,)?) => {
        $(mod $module;)*
        /// Every check, in catalogue order.
        pub static CHECKS: &[Check] = &[
            $(Check { code: Cause::$code, run: $module::check, source: include_str!(concat!(stringify!($module), ".rs")) },)*
        ];
    };
}

register_checks! {
    AppExitError => app_exit_error,
    AppExitZero => app_exit_zero,
    AppOutOfMemory => app_out_of_memory,
    AppCommandNotFound => app_command_not_found,
    AppMissingConfig => app_missing_config,
    AppPortMismatch => app_port_mismatch,
    AppHealthCheckFailed => app_health_check_failed,
    LbHealthCheckFailed => lb_health_check_failed,
    AppSigtermTimeout => app_sigterm_timeout,
    ImageNotFound => image_not_found,
    ImagePlatformMismatch => image_platform_mismatch,
    RegistryAuthFailed => registry_auth_failed,
    RegistryRateLimited => registry_rate_limited,
    ExecutionRoleMissing => execution_role_missing,
    ExecutionRoleNotFound => execution_role_not_found,
    ExecutionRoleUntrusted => execution_role_untrusted,
    ExecutionRolePermissions => execution_role_permissions,
    SecretNotFound => secret_not_found,
    LogGroupMissing => log_group_missing,
    LogConfigInvalid => log_config_invalid,
    NoPublicIp => no_public_ip,
    NoEgressRoute => no_egress_route,
    VpcEndpointMissing => vpc_endpoint_missing,
    SecurityGroupEgressBlocked => security_group_egress_blocked,
    SecurityGroupIngressClosed => security_group_ingress_closed,
    NaclBlocked => nacl_blocked,
    VpcDnsDisabled => vpc_dns_disabled,
    SubnetIpExhausted => subnet_ip_exhausted,
    EniProvisioningTimeout => eni_provisioning_timeout,
    StoppedByDeployment => stopped_by_deployment,
    StoppedByUser => stopped_by_user,
    SpotInterruption => spot_interruption,
    PlatformMaintenance => platform_maintenance,
    PlatformError => platform_error,
    Unknown => unknown,
}

/// The check that reports `code`, if one is registered.
pub fn for_code(code: Cause) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.code == code)
}
