//! Evidence collection: the only code that calls AWS. Read-only (describe,
//! get, list; never create, tag, write or assume), concurrent, and honest:
//! every refused or failed call becomes a [`Gap`] and a non-gathered [`Fact`].

mod ecr;
mod ecs;
mod efs;
mod elb;
pub mod event;
mod iam;
mod logs;
pub mod memo;
mod network;
mod pace;
mod secrets;
pub mod sweep;
mod td_file;
#[cfg(test)]
mod tests;

use crate::cli::{AwsArgs, PreflightArgs, TaskArgs};
use crate::error::DoctorError;
use crate::target::TaskTarget;
use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use ecs_doctor_checks::evidence::{
    Evidence, ExecEvidence, Fact, Gap, Inputs, NetworkInterface, Question, Service, Task,
    TaskDefinition,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How AWS answered a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Denied,
    NotFound,
    Throttled,
    Network,
    Other,
}

const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
    "NotAuthorized",
    "AuthFailure",
];
const THROTTLED_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// Classify an SDK error by its error code (AccessDenied vs NotFound vs a network failure).
pub fn classify<E, R>(err: &SdkError<E, R>) -> (ErrorClass, String)
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
            let text = crate::error::one_line(err);
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

/// The deadline of the whole diagnosis (`--timeout`): no call starts after
/// it, so a slow or silent AWS bounds the run instead of each call.
#[derive(Debug, Clone, Copy)]
struct Deadline(std::time::Instant);

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
        if std::time::Instant::now() >= self.0 {
            Err("the --timeout deadline of the diagnosis passed before this call".into())
        } else {
            Ok(())
        }
    }
}

/// Shared state of one collection run.
#[derive(Clone)]
pub struct Collector {
    pub sdk: SdkConfig,
    deadline: Deadline,
    pub region: String,
    pub account: Option<String>,
    gaps: Arc<Mutex<Vec<Gap>>>,
    /// The run's answers, shared by every task it diagnoses.
    pub memo: memo::Memo,
    /// The run's pace of `GetLogEvents` per Region.
    log_reads: Arc<pace::Pacer>,
    /// Whether IAM's policy simulator is out for this run.
    simulator: iam::SimulatorOutage,
    /// Services this run has already described: a sweep starts from them,
    /// so its tasks do not wait on DescribeServices again.
    described_services: Arc<[Service]>,
}

impl Collector {
    /// A collector for one more task of the same run: the same SDK
    /// configuration, deadline and answers; its own gaps.
    pub fn for_task(&self, account: Option<String>) -> Collector {
        Collector {
            account,
            gaps: Arc::default(),
            ..self.clone()
        }
    }

    /// With `ECS_DOCTOR_STATS=1`, how many AWS requests the run sent and
    /// how many repeats it answered itself, on stderr.
    pub fn print_stats(&self) {
        if std::env::var_os("ECS_DOCTOR_STATS").is_some_and(|v| v == "1") {
            use std::sync::atomic::Ordering;
            let counts = &self.memo.counts;
            let by_operation = counts.by_operation.lock().expect("counts lock");
            eprintln!(
                "ecs-doctor: {} AWS requests sent, {} repeats answered from this run",
                by_operation.values().sum::<usize>(),
                counts.reused.load(Ordering::Relaxed)
            );
            for (operation, n) in by_operation.iter() {
                eprintln!("ecs-doctor:   {n:>5} {operation}");
            }
        }
    }

    /// The same run, knowing `services` as already described.
    pub fn with_described_services(self, services: Vec<Service>) -> Collector {
        Collector {
            described_services: services.into(),
            ..self
        }
    }

    /// The gaps recorded so far.
    pub fn gaps(&self) -> Vec<Gap> {
        self.gaps.lock().expect("gap list lock").clone()
    }

    /// Turn a call's result into a fact, recording a gap when it was refused or failed.
    /// `impact` says which checks lose this fact.
    pub fn fact<T, E, R>(
        &self,
        action: &str,
        impact: &str,
        result: Result<T, SdkError<E, R>>,
    ) -> Fact<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match result {
            Ok(v) => Fact::gathered(v),
            Err(err) => self.fact_from_error(action, impact, &err),
        }
    }

    pub fn fact_from_error<T, E, R>(
        &self,
        action: &str,
        impact: &str,
        err: &SdkError<E, R>,
    ) -> Fact<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let (class, message) = classify(err);
        match class {
            ErrorClass::NotFound => Fact::absent(message),
            ErrorClass::Denied => {
                self.gap(action, &message, impact);
                Fact::Denied {
                    action: action.to_string(),
                    error: message,
                }
            }
            _ => {
                self.gap(action, &message, impact);
                Fact::Failed {
                    action: action.to_string(),
                    error: message,
                }
            }
        }
    }

    /// Every item of a paginated listing, as one fact: the items of all
    /// pages, or the failure of a page as a gap. A listing cut short is
    /// never passed off as the whole list.
    pub fn listed<O, T, I, E, R>(
        &self,
        action: &str,
        impact: &str,
        pages: Vec<Result<O, SdkError<E, R>>>,
        items: impl Fn(&O) -> I,
    ) -> Fact<Vec<T>>
    where
        I: IntoIterator<Item = T>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let mut all = Vec::new();
        for page in pages {
            match page {
                Ok(out) => all.extend(items(&out)),
                Err(e) => return self.fact_from_error(action, impact, &e),
            }
        }
        Fact::gathered(all)
    }

    pub fn gap(&self, action: &str, error: &str, impact: &str) {
        let error = error
            .lines()
            .next()
            .unwrap_or(error)
            .chars()
            .take(300)
            .collect::<String>();
        self.gaps.lock().expect("gap list lock").push(Gap {
            action: action.into(),
            error,
            impact: impact.into(),
        });
    }

    pub fn ecs(&self) -> aws_sdk_ecs::Client {
        let conf = aws_sdk_ecs::config::Builder::from(&self.sdk)
            .interceptor(self.deadline)
            .build();
        aws_sdk_ecs::Client::from_conf(conf)
    }
    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.sdk)
            .interceptor(self.deadline)
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }
    pub fn iam(&self) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::config::Builder::from(&self.sdk)
            .interceptor(self.deadline)
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }
    pub fn sts(&self) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::config::Builder::from(&self.sdk)
            .interceptor(self.deadline)
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }
    pub fn efs(&self) -> aws_sdk_efs::Client {
        let conf = aws_sdk_efs::config::Builder::from(&self.sdk)
            .interceptor(self.deadline)
            .build();
        aws_sdk_efs::Client::from_conf(conf)
    }
    pub fn elb(&self) -> aws_sdk_elasticloadbalancingv2::Client {
        let conf = aws_sdk_elasticloadbalancingv2::config::Builder::from(&self.sdk)
            .interceptor(self.deadline)
            .build();
        aws_sdk_elasticloadbalancingv2::Client::from_conf(conf)
    }
    /// ECR in the image's own Region.
    pub fn ecr_in(&self, region: &str) -> aws_sdk_ecr::Client {
        let conf = aws_sdk_ecr::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .interceptor(self.deadline)
            .build();
        aws_sdk_ecr::Client::from_conf(conf)
    }
    /// CloudWatch Logs in the log configuration's Region.
    pub fn logs_in(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        let conf = aws_sdk_cloudwatchlogs::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .interceptor(self.deadline)
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(conf)
    }
    pub fn secretsmanager_in(&self, region: &str) -> aws_sdk_secretsmanager::Client {
        let conf = aws_sdk_secretsmanager::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .interceptor(self.deadline)
            .build();
        aws_sdk_secretsmanager::Client::from_conf(conf)
    }
    pub fn ssm_in(&self, region: &str) -> aws_sdk_ssm::Client {
        let conf = aws_sdk_ssm::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .interceptor(self.deadline)
            .build();
        aws_sdk_ssm::Client::from_conf(conf)
    }
}

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
fn checked_endpoint(url: &str) -> Result<&str, DoctorError> {
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
pub async fn sdk_config(
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
    let deadline =
        Deadline(std::time::Instant::now() + Duration::from_secs(args.timeout.clamp(1, 600)));
    let memo = memo::Memo::new();
    let sdk = sdk_config(arn_region, args, &memo).await?;
    let region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
    Ok(Collector {
        sdk,
        deadline,
        region,
        account,
        gaps: Arc::default(),
        memo,
        log_reads: Arc::new(pace::Pacer::log_reads()),
        simulator: iam::SimulatorOutage::default(),
        described_services: Arc::new([]),
    })
}

/// Collect every piece of evidence about the target task that `purpose` needs.
pub async fn collect(
    target: &TaskTarget,
    args: &TaskArgs,
    purpose: Question,
) -> Result<Evidence, DoctorError> {
    let collector = connect(target.region.as_ref(), target.account.clone(), &args.aws).await?;
    let task = ecs::describe_task(
        &collector.ecs(),
        &collector.region,
        target,
        args.aws.profile.as_deref(),
    )
    .await?;
    let inputs = Inputs {
        from_cidr: Some(args.from_cidr.clone()),
        subnets: args.placement.subnets.clone(),
        security_groups: args.placement.security_groups.clone(),
        assign_public_ip: args.placement.assign_public_ip,
        log_lines: args.log_lines,
        task_source: None,
    };
    let evidence = collect_found(&collector, task, &target.cluster, inputs, purpose).await;
    collector.print_stats();
    Ok(evidence)
}

/// Everything about a task already described (by DescribeTasks, a sweep's
/// batch, or an EventBridge event): its own gaps, the run's shared answers.
pub async fn collect_found(
    collector: &Collector,
    task: Task,
    cluster: &str,
    inputs: Inputs,
    purpose: Question,
) -> Evidence {
    let account = collector
        .account
        .clone()
        .or_else(|| task.arn.split(':').nth(4).map(str::to_string));
    let collector = collector.for_task(account);
    let (task_definition, service, eni) = tokio::join!(
        ecs::task_definition(&collector, &task),
        ecs::service(&collector, &task, cluster),
        network::task_eni(&collector, &task),
    );
    gather(
        collector,
        task,
        task_definition,
        service,
        eni,
        inputs,
        purpose,
    )
    .await
}

/// Collect what a preflight judges: the task definition (registered, or
/// from a file), the service's network configuration and load balancers
/// (or the subnets and groups given), and everything a task of it would
/// need to start. No task has run, so there is no task to describe.
pub async fn preflight(args: &PreflightArgs) -> Result<Evidence, DoctorError> {
    let file = match &args.file {
        Some(path) => Some(td_file::read(path)?),
        None => None,
    };
    let arn_region = args
        .cluster
        .as_deref()
        .filter(|c| c.starts_with("arn:"))
        .and_then(|c| c.split(':').nth(3))
        .map(str::to_string);
    let collector = connect(arn_region.as_ref(), None, &args.aws).await?;
    let mut task = Task {
        cluster_arn: args.cluster.clone().unwrap_or_default(),
        last_status: "PREFLIGHT".into(),
        ..Default::default()
    };
    let service = match (&args.service, &args.cluster) {
        (Some(name), Some(cluster)) => {
            let service = ecs::service_named(&collector, cluster, name).await;
            let found = required(
                &service,
                |detail| format!("{detail} in cluster {cluster} ({})", collector.region),
                args.aws.profile.as_deref(),
                "a preflight of a service needs its task definition and network configuration",
            )?;
            if let Some(value) = found {
                task.group = Some(format!("service:{}", value.name));
                task.launch_type = value.launch_type.clone();
                task.platform_version = value.platform_version.clone();
                // The service ARN names the cluster's account.
                if let Some(account) = value
                    .arn
                    .split(':')
                    .nth(4)
                    .filter(|_| !cluster.starts_with("arn:"))
                {
                    task.cluster_arn = format!(
                        "arn:{}:ecs:{}:{account}:cluster/{cluster}",
                        ecs_doctor_checks::iam::permissions::partition(&collector.region),
                        collector.region
                    );
                }
            }
            service
        }
        _ => Fact::not_applicable("no --service given"),
    };
    let task_definition = match file {
        Some(td) => Fact::gathered(td),
        None => {
            task.task_definition_arn = match (&args.task_definition, service.value()) {
                (Some(td), _) => td.clone(),
                (None, Some(s)) => s.task_definition.clone().unwrap_or_default(),
                (None, None) => {
                    return Err(DoctorError::BadInput(
                        "preflight needs --service and --cluster, --task-definition, or --file"
                            .into(),
                    ))
                }
            };
            ecs::task_definition(&collector, &task).await
        }
    };
    if let Some(td) = task_definition.value() {
        task.task_definition_arn = if td.arn.is_empty() {
            format!("{} (from a file)", td.label())
        } else {
            td.arn.clone()
        };
        if task.launch_type.is_none()
            && td
                .requires_compatibilities
                .iter()
                .any(|c| c.eq_ignore_ascii_case("FARGATE"))
        {
            task.launch_type = Some("FARGATE".into());
        }
    } else {
        let name = task.task_definition_arn.clone();
        required(
            &task_definition,
            |detail| format!("task definition {name}: {detail}"),
            args.aws.profile.as_deref(),
            "a preflight judges the task definition",
        )?;
    }
    let placement = &args.placement;
    if service.value().is_none() && placement.subnets.is_empty() {
        return Err(DoctorError::BadInput(
            "give --service (its network configuration) or --subnet and --security-group: the network is part of what a preflight checks".into(),
        ));
    }
    let account = [
        service.value().map(|s| s.arn.as_str()),
        task_definition.value().map(|t| t.arn.as_str()),
        task_definition
            .value()
            .and_then(|t| t.execution_role_arn.as_deref()),
    ]
    .into_iter()
    .flatten()
    .find_map(|arn| {
        arn.split(':')
            .nth(4)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
    });
    let collector = Collector {
        account,
        ..collector
    };
    let inputs = Inputs {
        from_cidr: None,
        subnets: placement.subnets.clone(),
        security_groups: placement.security_groups.clone(),
        // AWS defaults assignPublicIp to DISABLED.
        assign_public_ip: placement
            .assign_public_ip
            .or_else(|| (!placement.subnets.is_empty()).then_some(false)),
        log_lines: 0,
        task_source: None,
    };
    let eni = Fact::not_applicable("no task has run yet");
    Ok(gather(
        collector,
        task,
        task_definition,
        service,
        eni,
        inputs,
        Question::Preflight,
    )
    .await)
}

/// A fact a preflight cannot do without: its value (none when not
/// applicable), or the one-line error that ends the run. What the user named
/// and AWS does not know is bad input (`absent` words it); a refused or
/// failed call is the run failing (exit 3), or the credentials refused.
pub fn required<'f, T>(
    fact: &'f Fact<T>,
    absent: impl FnOnce(&str) -> String,
    profile: Option<&str>,
    needed_for: &str,
) -> Result<Option<&'f T>, DoctorError> {
    match fact {
        Fact::Gathered { value } => Ok(Some(value)),
        Fact::NotApplicable { .. } => Ok(None),
        Fact::Absent { detail } => Err(DoctorError::BadInput(absent(detail))),
        Fact::Denied { action, error } | Fact::Failed { action, error } => Err(
            credentials_rejected(error, profile).unwrap_or_else(|| DoctorError::Unreadable {
                action: action.to_string(),
                error: error.to_string(),
                needed_for: needed_for.to_string(),
            }),
        ),
    }
}

/// Everything after the task itself: what `purpose` needs, concurrently.
async fn gather(
    collector: Collector,
    task: Task,
    task_definition: Fact<TaskDefinition>,
    service: Fact<Service>,
    eni: Fact<NetworkInterface>,
    inputs: Inputs,
    purpose: Question,
) -> Evidence {
    let region = collector.region.clone();
    let account = collector.account.clone();
    let td = task_definition.value().cloned();
    let placement = network::placement(&task, td.as_ref(), service.value(), &eni, &inputs);

    if purpose == Question::Exec {
        // ECS Exec needs the task's network, its task role, the cluster's
        // exec configuration and the caller; nothing about images or logs.
        let (network, task_role, cluster, caller) = tokio::join!(
            network::network(&collector, placement, eni),
            iam::task_role(&collector, td.as_ref(), purpose),
            ecs::exec_configuration(&collector, &task),
            iam::caller(&collector, &task.arn),
        );
        let gaps = collector.gaps.lock().expect("gap list lock").clone();
        return Evidence {
            region,
            account,
            task,
            task_definition,
            service,
            execution_role: Fact::not_applicable("not needed for ECS Exec"),
            simulation: Fact::not_applicable("not needed for ECS Exec"),
            network,
            task_role,
            inputs,
            gaps,
            purpose,
            exec: Fact::gathered(ExecEvidence { cluster, caller }),
            ..Default::default()
        };
    }

    // The simulation needs the secrets' KMS keys, so it follows the secrets.
    let secrets_then_simulation = async {
        let secrets = secrets::secrets(&collector, td.as_ref()).await;
        let simulation = iam::simulation(&collector, td.as_ref(), &secrets).await;
        (secrets, simulation)
    };
    let (
        (logs, images, execution_role, (secrets, simulation), log_groups, network, load_balancing),
        (efs, task_role),
    ) = tokio::join!(
        async {
            tokio::join!(
                async {
                    if purpose == Question::Preflight {
                        Vec::new() // no task has run, so there are no logs to read
                    } else {
                        logs::container_logs(&collector, &task, td.as_ref(), inputs.log_lines).await
                    }
                },
                ecr::images(&collector, td.as_ref(), &task),
                iam::execution_role(&collector, td.as_ref()),
                secrets_then_simulation,
                logs::log_groups(&collector, td.as_ref()),
                network::network(&collector, placement, eni),
                elb::load_balancing(&collector, service.value()),
            )
        },
        async {
            tokio::join!(
                efs::file_systems(&collector, td.as_ref()),
                iam::task_role(&collector, td.as_ref(), purpose),
            )
        },
    );

    let gaps = collector.gaps.lock().expect("gap list lock").clone();
    Evidence {
        region,
        account,
        task,
        task_definition,
        service,
        logs,
        images,
        execution_role,
        simulation,
        secrets,
        log_groups,
        network,
        load_balancing,
        efs,
        task_role,
        inputs,
        gaps,
        purpose,
        exec: Fact::not_applicable("not an ECS Exec diagnosis"),
    }
}

/// RFC 3339 text of an SDK timestamp.
pub fn ts(dt: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    dt.and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}
