//! What EFS says about the file systems the task mounts.

use super::Fact;
use serde::{Deserialize, Serialize};

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
