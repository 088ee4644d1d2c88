//! KMS keys the task depends on beyond its IAM roles: the customer managed
//! keys of its secrets and parameters, and the key the cluster gives Fargate
//! for ephemeral storage, each with what `kms:DescribeKey` and
//! `kms:GetKeyPolicy` say of it.

use super::{Fact, KmsKey};
use serde::{Deserialize, Serialize};

/// What was learned about the KMS keys the task needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct KmsEvidence {
    /// The cluster's
    /// `configuration.managedStorageConfiguration.fargateEphemeralStorageKmsKeyId`
    /// (`ecs:DescribeClusters`); not applicable for a task not on Fargate
    /// or a cluster that sets none.
    #[serde(default)]
    pub fargate_storage_key: Fact<String>,
    /// Every customer managed key named by a secret's or parameter's
    /// metadata, or by the cluster for Fargate ephemeral storage, read once.
    #[serde(default)]
    pub keys: Vec<KeyEvidence>,
}

impl KmsEvidence {
    /// The key read for `key` (an ARN or id, as a secret or the cluster names it).
    pub fn key(&self, key: &str) -> Option<&KeyEvidence> {
        self.keys.iter().find(|k| {
            k.key == key
                || k.described
                    .value()
                    .is_some_and(|d| d.arn.as_deref() == Some(key) || d.key_id == key)
        })
    }
}

/// One key: its state and its key policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct KeyEvidence {
    /// The key as named (an ARN, a key id or an alias).
    pub key: String,
    /// `kms:DescribeKey`.
    pub described: Fact<KmsKey>,
    /// `kms:GetKeyPolicy` (policy name `default`); refused for another
    /// account's key, whose account alone reads its policy.
    pub policy: Fact<serde_json::Value>,
}
