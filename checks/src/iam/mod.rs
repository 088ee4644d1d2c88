//! IAM, read as AWS decides it: policy documents and their evaluation
//! (`policy`), what an execution role needs for a task (`permissions`), and
//! the decision per requirement, by the simulator or by evaluation (`access`),
//! and a KMS key policy as KMS applies it (`key_policy`).

pub mod access;
pub mod key_policy;
pub mod permissions;
pub mod policy;
