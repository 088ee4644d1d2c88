//! Where the containers logged, the lines they wrote, and the log groups they
//! log to.

use super::Fact;
use serde::{Deserialize, Serialize};

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
