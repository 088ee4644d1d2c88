//! The one way ecs-doctor starts its async runtime: every command that
//! calls AWS and the Lambda handler run their work on it.

use anyhow::Context;

/// A multi-threaded tokio runtime with its I/O and timers enabled.
pub fn start() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}
