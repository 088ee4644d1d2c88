//! The deadline of the whole diagnosis (`--timeout`), as an SDK interceptor
//! on every client: no call starts after it, so a slow or silent AWS bounds
//! the run instead of each call.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::time::{Duration, Instant};

/// The instant after which no call starts.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    /// The deadline `within` from now.
    pub fn after(within: Duration) -> Deadline {
        Deadline(Instant::now() + within)
    }
}

impl Intercept for Deadline {
    fn name(&self) -> &'static str {
        "Deadline"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if Instant::now() >= self.0 {
            Err("the --timeout deadline of the diagnosis passed before this call".into())
        } else {
            Ok(())
        }
    }
}
