//! Credentials and the one shared SDK configuration: Region, profile,
//! endpoint, retries, timeouts and the deadline, and the one-line errors of
//! credentials AWS does not accept.

use super::deadline::Deadline;
use super::{memo, Collector};
use crate::cli::AwsArgs;
use crate::error::DoctorError;
use crate::session::Session;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::http::HttpClient;
use aws_types::os_shim_internal::{Env, Fs};
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

/// The Region asked for: the ARN's, or `--region`; both, only when they agree.
fn region_asked(
    arn_region: Option<&String>,
    args: &AwsArgs,
) -> Result<Option<String>, DoctorError> {
    match (arn_region, &args.region) {
        (Some(arn_region), Some(flag)) if arn_region != flag => {
            Err(DoctorError::BadInput(format!(
                "the ARN is in {arn_region} but --region says {flag}: drop --region or fix the ARN"
            )))
        }
        (Some(r), _) | (None, Some(r)) => Ok(Some(r.clone())),
        (None, None) => Ok(None),
    }
}

/// The one shared SDK configuration: region, profile, endpoint, retries, timeouts.
/// `arn_region` is the Region of the ARN the user gave, if any; `http` sends
/// every request, the credential providers' too.
async fn sdk_config(
    arn_region: Option<&String>,
    args: &AwsArgs,
    http: impl HttpClient + Clone + 'static,
) -> Result<SdkConfig, DoctorError> {
    let region = region_asked(arn_region, args)?.map(Region::new);
    // One call may use half of --timeout: with no call starting after the
    // deadline, the whole diagnosis ends within about 1.5 × --timeout.
    let per_call = Duration::from_millis(args.timeout.clamp(1, 600) * 500);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http.clone())
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
    if let Some(p) = &args.profile {
        profile_exists(p).await?;
    }
    let mut sdk = loader.load().await;
    let Some(region) = sdk.region() else {
        return Err(DoctorError::NoRegion);
    };
    if !is_region_name(region.as_ref()) {
        let from = if args.region.is_some() {
            "--region"
        } else {
            "the Region (AWS_REGION, AWS_DEFAULT_REGION or the profile's region)"
        };
        return Err(DoctorError::BadInput(format!(
            "{from} {} is not an AWS Region name (e.g. us-east-1)",
            crate::error::echo(region.as_ref())
        )));
    }
    if let Some(p) = &args.profile {
        // A profile named on the command line wins over credentials in the
        // environment, as in the AWS CLI: a diagnosis of another account is
        // worse than none.
        let config = ProviderConfig::without_region()
            .with_region(sdk.region().cloned())
            .with_http_client(http);
        let provider = ProfileFileCredentialsProvider::builder()
            .configure(&config)
            .profile_name(p)
            .build();
        sdk = sdk
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
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
                // The profile was named: say what it lacks, not "pass --profile".
                if let Some(p) = &args.profile {
                    return Err(DoctorError::CredentialsRejected(format!(
                        "profile {p} gave no usable credentials ({text}): check its keys, role or SSO settings in ~/.aws/config and ~/.aws/credentials"
                    )));
                }
                return Err(DoctorError::NoCredentials);
            }
        }
        None => return Err(DoctorError::NoCredentials),
    }
    Ok(sdk)
}

/// Whether `name` can be a Region: what the SDK puts in a host name
/// (lower-case letters, digits and inner hyphens). Which Regions exist is
/// AWS's to say; a name that cannot be one is the user's typo.
fn is_region_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `--profile NAME` must name a profile of the shared config or credentials
/// file: the AWS CLI refuses an unknown one, and so does ecs-doctor.
async fn profile_exists(name: &str) -> Result<(), DoctorError> {
    let set = aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), None).await;
    let known: Vec<String> = match &set {
        Ok(set) if set.get_profile(name).is_some() => return Ok(()),
        Ok(set) => set.profiles().map(str::to_string).collect(),
        Err(_) => Vec::new(),
    };
    let listed = if known.is_empty() {
        "no profile is defined in ~/.aws/config or ~/.aws/credentials".to_string()
    } else {
        format!("the profiles defined are {}", known.join(", "))
    };
    Err(DoctorError::BadInput(format!(
        "The config profile ({name}) could not be found: {listed}"
    )))
}

/// A collector for one run: the shared SDK configuration and the deadline.
/// In a session (`ecs-doctor mcp`), the configuration is the session's for
/// that Region and profile; the run's requests still go through its own memo.
pub async fn connect(
    arn_region: Option<&String>,
    account: Option<String>,
    args: &AwsArgs,
) -> Result<Collector, DoctorError> {
    let deadline = Deadline::after(Duration::from_secs(args.timeout.clamp(1, 600)));
    let memo = memo::Memo::new();
    let sdk = match &args.session {
        None => sdk_config(arn_region, args, memo.clone()).await?,
        Some(session) => session_config(session, arn_region, args)
            .await?
            .into_builder()
            .http_client(memo.clone())
            .build(),
    };
    Ok(Collector::new(sdk, deadline, account, memo))
}

/// The shared SDK configuration over a client that keeps nothing: for
/// the Lambda's own writes and the reads that decide them, each of which
/// must reach AWS every time.
pub async fn unmemoised_config(args: &AwsArgs) -> Result<SdkConfig, DoctorError> {
    sdk_config(None, args, memo::https_client()).await
}

/// The configuration of `session` for the Region and profile `args` (and
/// the ARN) ask for, loaded on first use. Its credential providers use a
/// client that keeps nothing, so refreshed credentials are never an old
/// answer. A configuration that could not be loaded is not kept: the next
/// call tries again (after `aws sso login`, say).
async fn session_config(
    session: &Session,
    arn_region: Option<&String>,
    args: &AwsArgs,
) -> Result<SdkConfig, DoctorError> {
    let key = (region_asked(arn_region, args)?, args.profile.clone());
    let mut configs = session.configs.lock().await;
    if let Some(sdk) = configs.get(&key) {
        return Ok(sdk.clone());
    }
    let sdk = sdk_config(arn_region, args, memo::https_client()).await?;
    configs.insert(key, sdk.clone());
    Ok(sdk)
}

#[cfg(test)]
mod tests {
    use super::is_region_name;

    #[test]
    fn region_names() {
        for ok in [
            "us-east-1",
            "us-gov-west-1",
            "cn-northwest-1",
            "eu-isoe-west-1",
            "il-central-1",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "",
            "us east",
            "US-EAST-1",
            "us-east-1-",
            "-us",
            "us--east-1",
            "us_east_1",
            "1us",
        ] {
            assert!(!is_region_name(bad), "{bad:?}");
        }
    }
}
