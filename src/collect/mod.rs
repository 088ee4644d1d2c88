//! Evidence collection: the only code that calls AWS. Read-only (describe,
//! get, list; never create, tag, write or assume), concurrent, and honest:
//! every refused or failed call becomes a [`Gap`] and a non-gathered [`Fact`].
//!
//! By job: [`error_class`] (how AWS answered a failed call), `deadline`
//! (the `--timeout` interceptor), `collector` (a run's state, and its one
//! client factory), `connect` (credentials and the SDK configuration),
//! `gather` and `preflight` (the orchestrations of a diagnosis), `listing`
//! (what a sweep starts from), and one module per AWS service.
//!
//! [`Gap`]: ecs_doctor_checks::evidence::Gap

pub mod call_log;
mod collector;
mod connect;
mod deadline;
pub mod deployments;
mod ebs;
mod ecr;
mod ecs;
mod efs;
mod elb;
mod envfiles;
mod error_class;
pub mod event;
mod gather;
mod iam;
mod kms;
mod listing;
mod logs;
pub mod memo;
mod network;
mod pace;
#[cfg(test)]
mod pagination;
mod preflight;
mod protection;
mod secrets;
pub mod td_file;
#[cfg(test)]
mod tests;

pub use collector::Collector;
pub use connect::{connect, credentials_rejected, unmemoised_config};
pub use ecs::{cluster_of_service_arn, service_named};
pub use error_class::{error_class, ErrorClass};
pub use gather::{collect, collect_found};
pub use listing::{cluster_services, stopped_tasks};
pub use preflight::{preflight, preflight_of};
pub use protection::old_task_protection;

use crate::error::DoctorError;
use ecs_doctor_checks::evidence::Fact;

/// A fact a preflight cannot do without: its value (none when not
/// applicable), or the one-line error that ends the run. What the user named
/// and AWS does not know is not found (`absent` words it), a refused or
/// failed call the run failing, or the credentials refused: all exit 3.
pub fn required<'f, T>(
    fact: &'f Fact<T>,
    absent: impl FnOnce(&str) -> String,
    profile: Option<&str>,
    needed_for: &str,
) -> Result<Option<&'f T>, DoctorError> {
    match fact {
        Fact::Gathered { value } => Ok(Some(value)),
        Fact::NotApplicable { .. } => Ok(None),
        Fact::Absent { detail } => Err(DoctorError::NotFound(absent(detail))),
        Fact::Denied { action, error } | Fact::Failed { action, error } => Err(
            credentials_rejected(error, profile).unwrap_or_else(|| DoctorError::Unreadable {
                action: action.to_string(),
                error: error.to_string(),
                needed_for: needed_for.to_string(),
            }),
        ),
    }
}

/// What a service AWS does not know is, in one line: the service, or the
/// cluster it was looked for in.
pub fn service_absent(detail: &str, cluster: &str, region: &str) -> String {
    if detail.contains("ClusterNotFound") {
        format!("cluster {cluster} was not found in {region}: check the cluster name and --region")
    } else {
        format!("{detail} in cluster {cluster} ({region})")
    }
}

/// RFC 3339 text of an SDK timestamp.
pub fn ts(dt: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    dt.and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}
