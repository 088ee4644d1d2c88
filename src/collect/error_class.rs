//! How AWS answered a failed call: refused, not found, throttled, the
//! network, or something else, read from the error's code.

use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;

/// How AWS answered a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Denied,
    NotFound,
    Throttled,
    Network,
    Other,
}

/// Refusals: the one list, shared with the report's gaps.
use ecs_doctor_checks::evidence::REFUSAL_CODES as DENIED_CODES;
const THROTTLED_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// The class of an SDK error by its error code (AccessDenied vs NotFound
/// vs a network failure), and its one-line message.
pub fn error_class<E, R>(err: &SdkError<E, R>) -> (ErrorClass, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code().unwrap_or("Unknown").to_string();
            let message = e
                .message()
                .map(|m| format!("{code}: {m}"))
                .unwrap_or_else(|| code.clone());
            let class = if DENIED_CODES.contains(&code.as_str()) {
                ErrorClass::Denied
            } else if THROTTLED_CODES.contains(&code.as_str()) {
                ErrorClass::Throttled
            } else if code == "NoSuchEntity"
                || code == "NoSuchBucket"
                || code == "NoSuchBucketPolicy"
                || code.ends_with("NotFound")
                || code.ends_with("NotFoundException")
                || code.ends_with(".NotFound")
            {
                ErrorClass::NotFound
            } else {
                ErrorClass::Other
            };
            (class, message)
        }
        SdkError::TimeoutError(_) => (ErrorClass::Network, "timed out".into()),
        SdkError::DispatchFailure(d) => {
            // What failed on the way (connect, DNS, TLS) and why, not the
            // wrappers around it.
            let text = crate::error::root_cause(err);
            let class = if d.is_io() || d.is_timeout() {
                ErrorClass::Network
            } else {
                ErrorClass::Other
            };
            (class, text)
        }
        other => (ErrorClass::Other, crate::error::one_line(other)),
    }
}
