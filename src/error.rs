//! Errors a user sees, each with its exit code.

use thiserror::Error;

/// Exit codes (the public contract).
pub mod exit {
    /// Report produced, no failure cause found.
    pub const OK: i32 = 0;
    /// Report produced, at least one failure cause found.
    pub const FAILURE_FOUND: i32 = 1;
    /// Bad usage or input.
    pub const USAGE: i32 = 2;
    /// The diagnosis could not run.
    pub const CANNOT_RUN: i32 = 3;
}

#[derive(Debug, Error)]
pub enum DoctorError {
    #[error("{0}")]
    BadTarget(String),
    #[error("{0}")]
    BadInput(String),
    #[error("task {task} was not found in cluster {cluster} ({region}); ECS forgets stopped tasks about an hour after they stop — for an older task, replay a saved evidence bundle")]
    TaskNotFound {
        task: String,
        cluster: String,
        region: String,
    },
    #[error("cluster {cluster} was not found in {region}: check the cluster name and --region")]
    ClusterNotFound { cluster: String, region: String },
    #[error("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --profile")]
    NoCredentials,
    #[error("no AWS region: pass --region, set AWS_REGION, or give a task ARN")]
    NoRegion,
    #[error("AWS refused ecs:DescribeTasks ({0}): ecs-doctor needs at least ecs:DescribeTasks to diagnose a task")]
    DescribeTasksDenied(String),
    #[error("AWS is throttling ecs:DescribeTasks ({0}); retry in a moment")]
    Throttled(String),
    #[error("could not reach AWS: {0}")]
    Unreachable(String),
}

impl DoctorError {
    pub fn exit_code(&self) -> i32 {
        match self {
            DoctorError::BadTarget(_) | DoctorError::BadInput(_) | DoctorError::NoRegion => {
                exit::USAGE
            }
            _ => exit::CANNOT_RUN,
        }
    }
}
