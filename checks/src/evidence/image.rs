//! The container images and what their registry (ECR) says about them.

use super::Fact;
use serde::{Deserialize, Serialize};

/// A container image and what its registry says about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ImageEvidence {
    pub container: String,
    pub image: String,
    /// ECR's answer for ECR private images; not applicable for other registries.
    pub ecr: Fact<EcrImage>,
    /// When the repository does not exist: the repositories the image's
    /// registry does hold (for "did you mean"), at most a few hundred.
    #[serde(default)]
    pub registry_repositories: Fact<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EcrImage {
    pub registry_id: String,
    pub region: String,
    pub repository: String,
    pub repository_arn: Option<String>,
    /// The tag or digest the task asked for.
    pub reference: String,
    /// The image, when the tag or digest exists.
    pub found: Option<EcrImageDetail>,
    /// The most recently pushed tags, newest first (for "did you mean").
    #[serde(deserialize_with = "super::listed")]
    pub recent_tags: Fact<Vec<String>>,
    /// The repository policy, for cross-account pulls.
    #[serde(default)]
    pub repository_policy: Fact<serde_json::Value>,
    /// For an image named by tag and digest (`repo:v3@sha256:…`, in the task
    /// definition, or as ECS resolved the tag when it deployed) whose digest
    /// is gone: what the tag names today (absent when the tag is gone). Not
    /// applicable otherwise.
    #[serde(default)]
    pub tag_now: Fact<EcrImageDetail>,
    /// The repository's lifecycle policy (its rules), read for a digest
    /// that is gone: a rule may have expired it.
    #[serde(default)]
    pub lifecycle_policy: Fact<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EcrImageDetail {
    pub digest: Option<String>,
    pub tags: Vec<String>,
    pub pushed_at: Option<String>,
    pub manifest_media_type: Option<String>,
    /// Platforms from the manifest or image index, when they could be read.
    pub platforms: Fact<Vec<Platform>>,
    pub size_bytes: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}
