//! A long-lived session's AWS configurations (`ecs-doctor mcp`): one per
//! Region and profile asked for, loaded once and reused by every later call
//! (`collect::connect` loads and keeps them). Only the configuration is
//! shared: each call still sends its requests through a memo of its own.

use aws_config::SdkConfig;
use std::collections::HashMap;

/// What a configuration is kept under: the Region asked for and the profile.
pub type Key = (Option<String>, Option<String>);

/// The configurations loaded so far.
#[derive(Debug, Default)]
pub struct Session {
    pub(crate) configs: tokio::sync::Mutex<HashMap<Key, SdkConfig>>,
}
