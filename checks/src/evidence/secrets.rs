//! The secrets and parameters the task references (metadata only, never a value).

use super::Fact;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
