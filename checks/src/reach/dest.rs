//! Which destinations a task must reach to start, read from its task
//! definition: ECR (API, registry, S3 layers), CloudWatch Logs, Secrets
//! Manager and Parameter Store, and other registries.

use crate::evidence::{Evidence, Fact};
use crate::image_ref::{self, Registry};
use crate::reach::routes::dialed_addresses;
use crate::stops::{Detail, StopTexts};
use crate::text::{contains_any, normalize};
use std::net::IpAddr;

/// A service a task talks to while it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AwsService {
    EcrApi,
    EcrRegistry,
    S3,
    SecretsManager,
    Ssm,
    Logs,
    /// A registry outside ECR (Docker Hub, ECR Public, any other host).
    Registry,
    /// An EFS mount target (NFS inside the VPC, not an API endpoint).
    Efs,
    /// Session Manager's message channels, which ECS Exec rides on.
    SsmMessages,
    /// KMS, for an ECS Exec session encrypted with the cluster's key.
    Kms,
}

impl AwsService {
    pub fn label(self) -> &'static str {
        match self {
            AwsService::EcrApi => "ECR API",
            AwsService::EcrRegistry => "ECR registry",
            AwsService::S3 => "S3",
            AwsService::SecretsManager => "Secrets Manager",
            AwsService::Ssm => "SSM Parameter Store",
            AwsService::Logs => "CloudWatch Logs",
            AwsService::Registry => "registry",
            AwsService::Efs => "EFS",
            AwsService::SsmMessages => "SSM messages",
            AwsService::Kms => "KMS",
        }
    }

    /// The last part of the VPC endpoint service name, when one exists.
    fn endpoint_suffix(self) -> Option<&'static str> {
        match self {
            AwsService::EcrApi => Some("ecr.api"),
            AwsService::EcrRegistry => Some("ecr.dkr"),
            AwsService::S3 => Some("s3"),
            AwsService::SecretsManager => Some("secretsmanager"),
            AwsService::Ssm => Some("ssm"),
            AwsService::Logs => Some("logs"),
            AwsService::SsmMessages => Some("ssmmessages"),
            AwsService::Kms => Some("kms"),
            AwsService::Registry | AwsService::Efs => None,
        }
    }

    /// Distinctive words of a stop text that talks about this service.
    fn keywords(self) -> &'static [&'static str] {
        match self {
            AwsService::EcrApi => &["api.ecr.", "registry auth", "getauthorizationtoken"],
            AwsService::EcrRegistry => &[".dkr.ecr."],
            AwsService::S3 => &[
                "starport-layer-bucket",
                ".s3.",
                "s3.amazonaws",
                "httpreaderseeker",
                "httpreadseeker",
                "getimageblob",
                "failed to copy",
            ],
            AwsService::SecretsManager => {
                &["secretsmanager.", "from asm", "asm:", "secrets manager"]
            }
            AwsService::Ssm => &["ssm.", "from ssm", "parameter store", "systems manager"],
            AwsService::Logs => &["logs.", "logging driver", "logger", "cloudwatch logs"],
            AwsService::Registry => &[],
            AwsService::Efs => &[".efs.", "efs utils", "mount.nfs", "mount target"],
            AwsService::SsmMessages => &["ssmmessages"],
            AwsService::Kms => &["kms."],
        }
    }
}

/// One destination the task needs, on TCP 443.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub service: AwsService,
    pub region: String,
    pub host: String,
    pub port: u16,
    /// Why the task needs it: `image … (container web)`, `secret DB_URL`.
    pub reasons: Vec<String>,
    /// Why the Region is the task's by assumption, when no fact named it
    /// (a bucket whose Region could not be read).
    pub assumed: Option<String>,
}

pub(crate) fn domain(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

impl Destination {
    pub(crate) fn aws(
        service: AwsService,
        region: &str,
        host: String,
        reason: String,
    ) -> Destination {
        Destination {
            service,
            region: region.to_string(),
            host,
            port: 443,
            reasons: vec![reason],
            assumed: None,
        }
    }

    /// `ECR API (api.ecr.us-east-1.amazonaws.com)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.service.label(), self.host)
    }

    /// `com.amazonaws.us-east-1.ecr.api`, when a VPC endpoint can serve it.
    pub fn endpoint_service(&self) -> Option<String> {
        let suffix = self.service.endpoint_suffix()?;
        let prefix = if self.region.starts_with("cn-") {
            "cn.com.amazonaws"
        } else {
            "com.amazonaws"
        };
        Some(format!("{prefix}.{}.{suffix}", self.region))
    }

    /// S3 is served by a gateway endpoint (a route), not an interface endpoint.
    pub fn is_gateway_service(&self) -> bool {
        self.service == AwsService::S3
    }
}

fn region_of_arn(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:")
        .and_then(|rest| rest.split(':').nth(2))
        .filter(|r| !r.is_empty())
}

/// The destinations the task definition implies, in a stable order; `None`
/// when the task definition is unknown.
pub fn destinations(ev: &Evidence) -> Option<Vec<Destination>> {
    let td = ev.task_def()?;
    let mut out: Vec<Destination> = Vec::new();
    let mut add = |d: Destination| {
        let key_host = d.service == AwsService::EcrRegistry || d.service == AwsService::Registry;
        match out.iter_mut().find(|o| {
            o.service == d.service && o.region == d.region && (!key_host || o.host == d.host)
        }) {
            Some(existing) => {
                existing.assumed = existing.assumed.take().or(d.assumed);
                for r in d.reasons {
                    if !existing.reasons.contains(&r) {
                        existing.reasons.push(r);
                    }
                }
            }
            None => out.push(d),
        }
    };
    let region = ev.region.as_str();
    for c in &td.containers {
        let image = image_ref::parse(&c.image);
        let why = format!("image {} (container {})", c.image, c.name);
        match &image.registry {
            Registry::EcrPrivate { account, region: r } => {
                let dom = domain(r);
                add(Destination::aws(
                    AwsService::EcrApi,
                    r,
                    format!("api.ecr.{r}.{dom}"),
                    why.clone(),
                ));
                add(Destination::aws(
                    AwsService::EcrRegistry,
                    r,
                    format!("{account}.dkr.ecr.{r}.{dom}"),
                    why.clone(),
                ));
                add(Destination::aws(
                    AwsService::S3,
                    r,
                    format!("prod-{r}-starport-layer-bucket.s3.{r}.{dom}"),
                    format!("image layers of {} (container {})", c.image, c.name),
                ));
            }
            other => {
                let host = match other {
                    Registry::DockerHub => "registry-1.docker.io".to_string(),
                    Registry::EcrPublic => "public.ecr.aws".to_string(),
                    _ => image.host.clone(),
                };
                add(Destination {
                    service: AwsService::Registry,
                    region: region.to_string(),
                    host,
                    port: 443,
                    reasons: vec![why.clone()],
                    assumed: None,
                });
            }
        }
        let mut secret_refs: Vec<(String, String)> = c
            .secrets
            .iter()
            .map(|s| {
                (
                    format!("secret {} (container {})", s.name, c.name),
                    s.value_from.clone(),
                )
            })
            .collect();
        if let Some(cred) = &c.repository_credentials {
            secret_refs.push((
                format!("repositoryCredentials (container {})", c.name),
                cred.clone(),
            ));
        }
        if let Some(log) = &c.log_configuration {
            secret_refs.extend(log.secret_options.iter().map(|s| {
                (
                    format!("log secretOption {} (container {})", s.name, c.name),
                    s.value_from.clone(),
                )
            }));
            if log.driver == "awslogs" {
                let r = log
                    .options
                    .get("awslogs-region")
                    .map(String::as_str)
                    .unwrap_or(region);
                add(Destination::aws(
                    AwsService::Logs,
                    r,
                    format!("logs.{r}.{}", domain(r)),
                    format!("awslogs (container {})", c.name),
                ));
            }
        }
        for (why, value_from) in secret_refs {
            let (service, r) = if value_from.starts_with("arn:") {
                let r = region_of_arn(&value_from).unwrap_or(region);
                if value_from.contains(":secretsmanager:") {
                    (AwsService::SecretsManager, r)
                } else {
                    (AwsService::Ssm, r)
                }
            } else {
                // A bare name is a Parameter Store parameter in the task's Region.
                (AwsService::Ssm, region)
            };
            let host = match service {
                AwsService::SecretsManager => format!("secretsmanager.{r}.{}", domain(r)),
                _ => format!("ssm.{r}.{}", domain(r)),
            };
            add(Destination::aws(service, r, host, why));
        }
        for f in &c.environment_files {
            // A bucket answers in its own Region (a gateway endpoint serves
            // only its own Region's buckets): the task's, unless S3 said
            // otherwise; a Region that could not be read is assumed, and said.
            let read = ev
                .env_files
                .iter()
                .find(|e| e.container == c.name && &e.arn == f);
            let (r, assumed) = match read.map(|e| &e.bucket_region) {
                Some(Fact::Gathered { value }) => (value.as_str(), None),
                // No such bucket, or no S3 object ARN: only the task's Region is asked.
                Some(Fact::Absent { .. } | Fact::NotApplicable { .. }) => (region, None),
                Some(gap) => (region, gap.gap_reason()),
                None => (region, Some("not read".to_string())),
            };
            let mut d = Destination::aws(
                AwsService::S3,
                r,
                format!("s3.{r}.{}", domain(r)),
                format!("environmentFiles (container {})", c.name),
            );
            d.assumed = assumed.map(|why| {
                format!("(the task's Region {region} assumed: the Region of the bucket of {f} is unknown: {why})")
            });
            add(d);
        }
    }
    out.sort_by(|a, b| (a.service, &a.region, &a.host).cmp(&(b.service, &b.region, &b.host)));
    Some(out)
}

/// A stop text that shows a connection (or a name lookup) failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub text: String,
    /// The `dial tcp <ip>:<port>` address, when the text has one.
    pub dialed: Option<(IpAddr, u16)>,
    /// True when the text names this destination (its host or service).
    pub names_destination: bool,
    /// True when the failure was a DNS lookup.
    pub dns: bool,
}

fn names_service(text: &str, dest: &Destination) -> bool {
    let t = normalize(text);
    t.contains(&dest.host.to_ascii_lowercase()) || contains_any(text, dest.service.keywords())
}

/// Does the text name any of the services a task talks to at start?
fn names_any_service(text: &str) -> bool {
    [
        AwsService::EcrApi,
        AwsService::EcrRegistry,
        AwsService::S3,
        AwsService::SecretsManager,
        AwsService::Ssm,
        AwsService::Logs,
    ]
    .iter()
    .any(|s| contains_any(text, s.keywords()))
}

/// The network failure in the stop texts that concerns `dest`: one that
/// names it, else one that names no service at all (it may be any).
pub fn observed(stops: &StopTexts, dest: &Destination) -> Option<Observed> {
    let failures: Vec<(String, bool)> = stops
        .all()
        .iter()
        .filter(|t| !about_a_mount(t))
        .filter_map(|t| {
            if t.class.states(Detail::DnsFailed) {
                Some((t.text.clone(), true))
            } else if t.class.states(Detail::ConnectionFailed) {
                Some((t.text.clone(), false))
            } else {
                None
            }
        })
        .collect();
    let named = failures.iter().find(|(t, _)| names_service(t, dest));
    let chosen = named.or_else(|| {
        failures
            .iter()
            .find(|(t, _)| !names_any_service(t) || dest.service == AwsService::Registry)
    })?;
    Some(Observed {
        text: chosen.0.clone(),
        dialed: dialed_addresses(&chosen.0).into_iter().next(),
        names_destination: named.is_some(),
        dns: chosen.1,
    })
}

/// A failure of an EFS mount concerns the mount target, which
/// `efs-mount-failed` judges, not a path to an AWS service endpoint.
fn about_a_mount(t: &crate::stops::StopText) -> bool {
    t.class
        .reading
        .areas
        .contains(&crate::stops::chain::Domain::Efs)
}

/// Any network or DNS failure in the stop texts but an EFS mount's, whatever it names.
pub fn any_network_failure(stops: &StopTexts) -> Option<String> {
    stops
        .all()
        .iter()
        .filter(|t| !about_a_mount(t))
        .find(|t| t.class.states(Detail::ConnectionFailed) || t.class.states(Detail::DnsFailed))
        .map(|t| t.text.clone())
}
