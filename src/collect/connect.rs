//! Credentials and the one shared SDK configuration: Region, profile,
//! endpoint, retries, timeouts and the deadline, and the one-line errors of
//! credentials AWS does not accept.

use super::deadline::Deadline;
use super::{memo, Collector};
use crate::cli::AwsArgs;
use crate::error::DoctorError;
use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Region, SdkConfig};
use std::time::Duration;

/// Error codes of credentials AWS does not accept.
const REJECTED_CREDENTIALS: &[&str] = &[
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "ExpiredTokenException",
    "ExpiredToken",
    "RequestExpired",
];

/// A refusal of the credentials themselves, said in one line with the fix.
pub fn credentials_rejected(message: &str, profile: Option<&str>) -> Option<DoctorError> {
    let code = REJECTED_CREDENTIALS
        .iter()
        .find(|c| message.starts_with(*c))?;
    let whose = match profile {
        Some(p) => format!("the credentials of profile {p}"),
        None => "the credentials (AWS_ACCESS_KEY_ID / AWS_PROFILE)".to_string(),
    };
    let fix = if code.contains("Expired") {
        match profile {
            Some(p) => format!("they have expired: refresh them (for an SSO profile: `aws sso login --profile {p}`)"),
            None => "they have expired: refresh the session token, or use a profile (`aws sso login --profile <profile>`)".to_string(),
        }
    } else {
        "check the access key, the secret key and any session token, or pass --profile".to_string()
    };
    Some(DoctorError::CredentialsRejected(format!(
        "AWS rejected {whose} ({code}): {fix}"
    )))
}

/// `--endpoint-url` must be an http(s) URL with a host: anything else is
/// bad usage, said before any call is made.
pub(super) fn checked_endpoint(url: &str) -> Result<&str, DoctorError> {
    let bad = |why: &str| {
        DoctorError::BadInput(format!(
            "--endpoint-url {} is not usable: {why} (expected e.g. http://localhost:4566)",
            crate::error::echo(url)
        ))
    };
    let parsed = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad(&format!(
            "the scheme is {}, not http or https",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("it names no host"));
    }
    Ok(url)
}

/// The one shared SDK configuration: region, profile, endpoint, retries, timeouts.
/// `arn_region` is the Region of the ARN the user gave, if any.
async fn sdk_config(
    arn_region: Option<&String>,
    args: &AwsArgs,
    memo: &memo::Memo,
) -> Result<SdkConfig, DoctorError> {
    let region = match (arn_region, &args.region) {
        (Some(arn_region), Some(flag)) if arn_region != flag => {
            return Err(DoctorError::BadInput(format!(
                "the ARN is in {arn_region} but --region says {flag}: drop --region or fix the ARN"
            )))
        }
        (Some(r), _) | (None, Some(r)) => Some(Region::new(r.clone())),
        (None, None) => None,
    };
    // One call may use half of --timeout: with no call starting after the
    // deadline, the whole diagnosis ends within about 1.5 × --timeout.
    let per_call = Duration::from_millis(args.timeout.clamp(1, 600) * 500);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(memo.clone())
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3).min(per_call))
                .operation_attempt_timeout(per_call)
                .operation_timeout(per_call)
                .build(),
        );
    if let Some(r) = region {
        loader = loader.region(r);
    }
    if let Some(p) = &args.profile {
        loader = loader.profile_name(p);
    }
    if let Some(url) = &args.endpoint_url {
        loader = loader.endpoint_url(checked_endpoint(url)?);
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(DoctorError::NoRegion);
    }
    // Resolve credentials once up front, so "no credentials" is one clear line.
    use aws_credential_types::provider::ProvideCredentials;
    match sdk.credentials_provider() {
        Some(provider) => {
            if let Err(e) = provider.provide_credentials().await {
                let text = crate::error::one_line(&e);
                let lower = text.to_ascii_lowercase();
                if lower.contains("sso") || lower.contains("token") && lower.contains("expired") {
                    let login = match &args.profile {
                        Some(p) => format!("aws sso login --profile {p}"),
                        None => "aws sso login --profile <profile>".to_string(),
                    };
                    return Err(DoctorError::CredentialsRejected(format!(
                        "the credentials could not be loaded ({text}): for an SSO profile, run `{login}`"
                    )));
                }
                return Err(DoctorError::NoCredentials);
            }
        }
        None => return Err(DoctorError::NoCredentials),
    }
    Ok(sdk)
}

/// A collector for one run: the shared SDK configuration and the deadline.
pub async fn connect(
    arn_region: Option<&String>,
    account: Option<String>,
    args: &AwsArgs,
) -> Result<Collector, DoctorError> {
    let deadline = Deadline::after(Duration::from_secs(args.timeout.clamp(1, 600)));
    let memo = memo::Memo::new();
    let sdk = sdk_config(arn_region, args, &memo).await?;
    Ok(Collector::new(sdk, deadline, account, memo))
}
