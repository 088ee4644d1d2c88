//! ECS-managed EBS volumes: the volume configured at launch (the service's
//! `volumeConfigurations[].managedEBSVolume`), the task's
//! `AmazonElasticBlockStorage` attachment, and what IAM, KMS and EC2 say of
//! the infrastructure role, the key and the snapshot it names.

use super::{Fact, Role};
use serde::{Deserialize, Serialize};

/// What was learned about the task's ECS-managed EBS volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EbsEvidence {
    /// The task definition's volume with `configuredAtLaunch: true`.
    pub volume_name: String,
    /// `managedEBSVolume` of the service's `volumeConfigurations` for this
    /// volume; not applicable for a standalone task (`RunTask` keeps it nowhere
    /// ECS returns it later).
    pub config: Fact<ManagedEbsVolume>,
    /// The infrastructure role (`roleArn` of the configuration, else of the
    /// attachment's details), read with `iam:GetRole`.
    pub role: Fact<Role>,
    /// The configuration's `kmsKeyId`, read with `kms:DescribeKey`; not
    /// applicable without one.
    pub kms_key: Fact<KmsKey>,
    /// The key policy of that key (`kms:GetKeyPolicy`); not applicable
    /// without a customer managed key.
    #[serde(default)]
    pub key_policy: Fact<serde_json::Value>,
    /// The configuration's `snapshotId`, read with `ec2:DescribeSnapshots`;
    /// not applicable without one.
    pub snapshot: Fact<Snapshot>,
    /// The attachment's `volumeId`, read with `ec2:DescribeVolumes`; absent
    /// once ECS deleted it (`deleteOnTermination`), not applicable when ECS
    /// created none.
    #[serde(default)]
    pub volume: Fact<EbsVolume>,
}

/// What `ec2:DescribeVolumes` says of the task's volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EbsVolume {
    pub id: String,
    pub availability_zone: Option<String>,
    /// `creating`, `available`, `in-use`, `deleting`, `deleted`, `error`.
    pub state: Option<String>,
}

/// `managedEBSVolume` of a volume configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ManagedEbsVolume {
    pub role_arn: Option<String>,
    pub kms_key_id: Option<String>,
    pub encrypted: Option<bool>,
    pub snapshot_id: Option<String>,
    pub filesystem_type: Option<String>,
    pub volume_type: Option<String>,
    pub size_in_gib: Option<i32>,
}

/// The task's `AmazonElasticBlockStorage` attachment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EbsAttachment {
    /// `PRECREATED`, `CREATED`, `ATTACHING`, `ATTACHED`, `DETACHING`,
    /// `DETACHED`, `DELETED` or `FAILED`.
    pub status: Option<String>,
    /// The details ECS writes: `volumeName`, `volumeId`, `roleArn`,
    /// `deleteOnTermination`, and `statusReason` when the attachment failed.
    pub volume_name: Option<String>,
    pub volume_id: Option<String>,
    pub role_arn: Option<String>,
    pub status_reason: Option<String>,
}

impl EbsAttachment {
    pub fn failed(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("FAILED"))
    }
}

/// What `kms:DescribeKey` says of a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct KmsKey {
    pub key_id: String,
    pub arn: Option<String>,
    /// `Enabled`, `Disabled`, `PendingDeletion`, `PendingImport`, `Unavailable`, …
    pub key_state: Option<String>,
    pub deletion_date: Option<String>,
    /// `CUSTOMER` or `AWS` (`KeyManager`).
    #[serde(default)]
    pub key_manager: Option<String>,
    /// `MultiRegion`: Fargate ephemeral storage takes single-Region keys only.
    #[serde(default)]
    pub multi_region: Option<bool>,
}

impl KmsKey {
    pub fn is_enabled(&self) -> bool {
        self.key_state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("Enabled"))
    }

    /// The key's ARN, else the id it was described by.
    pub fn name(&self) -> &str {
        self.arn.as_deref().unwrap_or(&self.key_id)
    }

    /// The key's state, as `kms:DescribeKey` gave it.
    pub fn state(&self) -> &str {
        self.key_state.as_deref().unwrap_or("in an unknown state")
    }

    /// `kms:DescribeKey: key … is Disabled` (with its deletion date when pending).
    pub fn state_evidence(&self) -> String {
        format!(
            "kms:DescribeKey: key {} is {}{}",
            self.name(),
            self.state(),
            self.deletion_date
                .as_deref()
                .map(|d| format!(", to be deleted on {d}"))
                .unwrap_or_default()
        )
    }

    /// The one command that makes a key that is not enabled usable again:
    /// cancel a pending deletion and enable it, or enable it; `None` for an
    /// enabled key.
    pub fn state_fix(&self) -> Option<String> {
        if self.is_enabled() {
            return None;
        }
        let key = self.name();
        Some(if self.state().eq_ignore_ascii_case("PendingDeletion") {
            format!("Cancel the key's deletion, then enable it: aws kms cancel-key-deletion --key-id {key} && aws kms enable-key --key-id {key}")
        } else {
            format!("Enable the key: aws kms enable-key --key-id {key}")
        })
    }
}

/// What `ec2:DescribeSnapshots` says of a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Snapshot {
    pub id: String,
    /// `pending`, `completed`, `error`, …
    pub state: Option<String>,
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
}
