//! IAM roles, their policies, and the policy simulator's answers.

use super::Fact;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Role {
    pub arn: String,
    pub name: String,
    pub trust_policy: serde_json::Value,
    /// The managed policies attached to the role, or why they could not be listed.
    #[serde(deserialize_with = "super::listed")]
    pub attached_policies: Fact<Vec<AttachedPolicy>>,
    /// The role's inline policies, or why they could not be listed.
    #[serde(deserialize_with = "super::listed")]
    pub inline_policies: Fact<Vec<InlinePolicy>>,
    pub permissions_boundary_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AttachedPolicy {
    pub arn: String,
    pub name: String,
    /// The default version's document.
    pub document: Fact<serde_json::Value>,
    /// When its newest version was created (`GetPolicy`'s `UpdateDate`):
    /// a policy changed after a task stopped no longer shows what refused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct InlinePolicy {
    pub name: String,
    pub document: Fact<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SimulationResult {
    pub action: String,
    pub resource: String,
    /// `allowed`, `explicitDeny` or `implicitDeny`.
    pub decision: String,
    #[serde(default)]
    pub missing_context_values: Vec<String>,
    /// The policies and statements the simulator says decided (`SourcePolicyId`).
    #[serde(default)]
    pub matched_statements: Vec<String>,
    /// `OrganizationsDecisionDetail.AllowedByOrganizations`: `Some(false)` when an SCP denies.
    #[serde(default)]
    pub allowed_by_organizations: Option<bool>,
    /// `PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary`.
    #[serde(default)]
    pub allowed_by_permissions_boundary: Option<bool>,
}
