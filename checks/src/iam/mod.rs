//! IAM, read as AWS decides it: policy documents and their evaluation
//! (`policy`), what an execution role needs for a task (`permissions`), and
//! the decision per requirement, by the simulator or by evaluation (`access`).

pub mod access;
pub mod permissions;
pub mod policy;
