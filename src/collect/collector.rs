//! The state of one collection run ([`Collector`]): the shared SDK
//! configuration and deadline, the run's answers and paces, each task's
//! gaps, and how a call's result becomes a [`Fact`]. Every AWS client is
//! made here, by one factory.

use super::deadline::Deadline;
use super::error_class::{error_class, ErrorClass};
use super::{iam, memo, pace};
use aws_config::{Region, SdkConfig};
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use ecs_doctor_checks::evidence::{Fact, Gap, Service};
use std::sync::{Arc, Mutex};

/// Shared state of one collection run.
#[derive(Clone)]
pub struct Collector {
    pub sdk: SdkConfig,
    pub(super) deadline: Deadline,
    pub region: String,
    pub account: Option<String>,
    pub(super) gaps: Arc<Mutex<Vec<Gap>>>,
    /// The run's answers, shared by every task it diagnoses.
    pub memo: memo::Memo,
    /// The run's pace of `GetLogEvents` per Region.
    pub(super) log_reads: Arc<pace::Pacer>,
    /// Whether IAM's policy simulator is out for this run.
    pub(super) simulator: iam::SimulatorOutage,
    /// Services this run has already described: a sweep starts from them,
    /// so its tasks do not wait on DescribeServices again.
    pub(super) described_services: Arc<[Service]>,
}

impl Collector {
    /// A new run on `sdk`, with no answers, gaps or described services yet.
    pub(super) fn new(
        sdk: SdkConfig,
        deadline: Deadline,
        account: Option<String>,
        memo: memo::Memo,
    ) -> Collector {
        Collector {
            region: sdk.region().map(|r| r.to_string()).unwrap_or_default(),
            sdk,
            deadline,
            account,
            gaps: Arc::default(),
            memo,
            log_reads: Arc::new(pace::Pacer::log_reads()),
            simulator: iam::SimulatorOutage::default(),
            described_services: Arc::new([]),
        }
    }

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

    /// The same run, for tasks of `account`.
    pub fn with_account(self, account: Option<String>) -> Collector {
        Collector { account, ..self }
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
        let (class, message) = error_class(err);
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
}

/// The one client factory: each line below is a client of one AWS service
/// on the run's SDK configuration and deadline; `(region)` makes it take the
/// Region of what it reads (an image's, a log group's, a secret's) instead
/// of the run's.
macro_rules! clients {
    ($($(#[$doc:meta])* $name:ident $(($region:ident))? => $sdk:ident;)*) => {
        impl Collector {
            $(
                $(#[$doc])*
                pub fn $name(&self $(, $region: &str)?) -> $sdk::Client {
                    let conf = $sdk::config::Builder::from(&self.sdk).interceptor(self.deadline);
                    $(let conf = conf.region(Region::new($region.to_string()));)?
                    $sdk::Client::from_conf(conf.build())
                }
            )*
        }
    };
}

clients! {
    ecs => aws_sdk_ecs;
    ec2 => aws_sdk_ec2;
    iam => aws_sdk_iam;
    sts => aws_sdk_sts;
    efs => aws_sdk_efs;
    elb => aws_sdk_elasticloadbalancingv2;
    /// ECR in the image's own Region.
    ecr_in(region) => aws_sdk_ecr;
    /// CloudWatch Logs in the log configuration's Region.
    logs_in(region) => aws_sdk_cloudwatchlogs;
    secretsmanager_in(region) => aws_sdk_secretsmanager;
    ssm_in(region) => aws_sdk_ssm;
    /// KMS in the key's own Region.
    kms_in(region) => aws_sdk_kms;
}

impl Collector {
    /// S3 in a bucket's own Region (a bucket answers only there). With an
    /// endpoint URL, path-style requests: a bucket name is no host name of
    /// a local endpoint.
    pub fn s3_in(&self, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .interceptor(self.deadline)
            .region(Region::new(region.to_string()))
            .force_path_style(self.sdk.endpoint_url().is_some());
        aws_sdk_s3::Client::from_conf(conf.build())
    }
}
