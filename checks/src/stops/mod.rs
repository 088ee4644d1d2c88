//! Stop codes and stop texts: what a `stopCode`, a `stoppedReason` or a
//! container `reason` says, classified once per diagnosis against the one
//! catalogue ([`catalogue`]).
//!
//! Texts vary by platform version, by date and by agent, AWS writes both
//! `can't` and `can’t`, and platform version 1.4 truncates long messages.
//! So matching is on distinctive parts, case-insensitively, after
//! normalising apostrophes and white space, never on one exact sentence.

pub mod catalogue;
pub mod chain;
pub mod refusal;
#[cfg(test)]
mod tests;

use crate::codes::{Cause, Family};
use crate::evidence::{Container, Evidence};
pub use crate::placement::Shortage;
use crate::text::normalize;
use catalogue::{DETAILS, KINDS};
use strum::EnumIter;

/// `Task.stopCode`, with a catch-all for values AWS adds later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopCode {
    TaskFailedToStart,
    EssentialContainerExited,
    UserInitiated,
    ServiceSchedulerInitiated,
    SpotInterruption,
    /// The 2023 name of the Spot termination notice.
    TerminationNotice,
    InfrastructureHealth,
    Other(String),
    /// The task has no stop code (running, or an old record).
    None,
}

impl StopCode {
    pub fn parse(code: Option<&str>) -> StopCode {
        match code.map(str::trim) {
            None | Some("") => StopCode::None,
            Some(c) => match c.to_ascii_lowercase().as_str() {
                "taskfailedtostart" => StopCode::TaskFailedToStart,
                "essentialcontainerexited" => StopCode::EssentialContainerExited,
                "userinitiated" => StopCode::UserInitiated,
                "serviceschedulerinitiated" => StopCode::ServiceSchedulerInitiated,
                "spotinterruption" => StopCode::SpotInterruption,
                "terminationnotice" => StopCode::TerminationNotice,
                "infrastructurehealth" => StopCode::InfrastructureHealth,
                _ => StopCode::Other(c.to_string()),
            },
        }
    }

    pub fn of(ev: &Evidence) -> StopCode {
        StopCode::parse(ev.task.stop_code.as_deref())
    }
}

/// What a stop text is about (a row of [`catalogue::KINDS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter)]
pub enum StopKind {
    /// `OutOfMemoryError: Container killed due to memory usage`, in any spelling.
    OutOfMemory,
    /// The image was built for another CPU architecture (`exec format error`).
    ImagePlatform,
    /// The EFS mount helper failed to mount a volume.
    EfsMount,
    /// A disk filled up: `no space left on device`.
    DiskFull,
    /// ECS could not set up or attach the task's ECS-managed EBS volume.
    EbsVolume,
    /// The runtime could not execute the command or entry point.
    ExecFailure,
    /// The runtime could not mount a volume into the container.
    MountFailure,
    /// `CannotCreateVolumeError`.
    VolumeCreate,
    /// The runtime timed out moving the container to RUNNING or STOPPED.
    RuntimeTimeout,
    /// The container runtime or the agent failed (`ContainerRuntimeError`, `CannotStopContainerError`, …).
    RuntimeError,
    /// The image could not be pulled (`CannotPullContainerError`, rate limits, …).
    ImagePull,
    /// Secrets, logging or IAM could not be set up (`ResourceInitializationError`, …).
    TaskResources,
    /// A connection or the task's network interface failed.
    Network,
    /// The task could not be placed (capacity, resources, compatibility).
    Placement,
    /// `Task failed container health checks`.
    ContainerHealth,
    /// `Task failed ELB health checks in (target-group …)`.
    ElbHealth,
    /// `Scaling activity initiated by (deployment ecs-svc/…)`.
    Deployment,
    /// `Task stopped by user`, `Container instance deregistration forced by user`.
    UserStop,
    /// `Your Spot Task was interrupted.`
    Spot,
    /// `ECS is performing maintenance on the underlying infrastructure hosting the task`.
    Maintenance,
    /// `Host EC2 (instance i-…) stopped/terminated`.
    HostLifecycle,
    /// `Essential container in task exited`: the cause is in the container exits.
    EssentialExited,
    /// The bare console text `Task failed to start`: says nothing by itself.
    FailedToStartBare,
}

impl StopKind {
    /// A short label for "checked and passed" details.
    pub fn label(self) -> &'static str {
        match self {
            StopKind::OutOfMemory => "out of memory",
            StopKind::ImagePlatform => "image platform",
            StopKind::EfsMount => "EFS mount",
            StopKind::DiskFull => "disk full",
            StopKind::EbsVolume => "EBS volume",
            StopKind::ExecFailure => "command could not be executed",
            StopKind::MountFailure => "volume mount failed",
            StopKind::VolumeCreate => "volume could not be created",
            StopKind::RuntimeTimeout => "container runtime timeout",
            StopKind::RuntimeError => "container runtime error",
            StopKind::ImagePull => "image pull",
            StopKind::TaskResources => "task resources (secrets, logging, IAM)",
            StopKind::Network => "network",
            StopKind::Placement => "placement",
            StopKind::ContainerHealth => "container health check",
            StopKind::ElbHealth => "load balancer health check",
            StopKind::Deployment => "deployment or scale-in",
            StopKind::UserStop => "stopped by a user",
            StopKind::Spot => "Spot interruption",
            StopKind::Maintenance => "infrastructure maintenance",
            StopKind::HostLifecycle => "EC2 host stopped or terminated",
            StopKind::EssentialExited => "essential container exited",
            StopKind::FailedToStartBare => "task failed to start",
        }
    }

    /// The family whose checks explain a text of this kind.
    pub fn family(self) -> Family {
        use StopKind::*;
        match self {
            OutOfMemory | ExecFailure | ContainerHealth | ElbHealth | EssentialExited => {
                Family::App
            }
            ImagePlatform | ImagePull | TaskResources => Family::Image,
            EfsMount | DiskFull | EbsVolume => Family::Storage,
            Network => Family::Network,
            MountFailure | VolumeCreate | RuntimeTimeout | RuntimeError | Placement
            | Deployment | UserStop | Spot | Maintenance | HostLifecycle | FailedToStartBare => {
                Family::Platform
            }
        }
    }

    /// The checks that explain a text of this kind (a meta-test holds each
    /// check to its claims).
    pub fn claimed_by(self) -> &'static [Cause] {
        use Cause::*;
        use StopKind::*;
        match self {
            OutOfMemory => &[AppOutOfMemory],
            ImagePlatform => &[ImagePlatformMismatch],
            ExecFailure => &[AppCommandNotFound],
            EfsMount => &[EfsMountFailed],
            DiskFull => &[EphemeralStorageExhausted],
            EbsVolume => &[EbsVolumeFailed],
            MountFailure | VolumeCreate | RuntimeTimeout | RuntimeError => &[PlatformError],
            ImagePull => &[
                ImageNotFound,
                ImagePlatformMismatch,
                RegistryAuthFailed,
                RegistryRateLimited,
                ExecutionRoleMissing,
                ExecutionRolePermissions,
                EcrRepositoryPolicyDenied,
                VpcEndpointPolicyDenied,
            ],
            TaskResources => &[
                SecretNotFound,
                SecretKeyMissing,
                EnvFileFailed,
                LogGroupMissing,
                LogConfigInvalid,
                ExecutionRoleMissing,
                ExecutionRoleNotFound,
                ExecutionRoleUntrusted,
                ExecutionRolePermissions,
                VpcEndpointPolicyDenied,
            ],
            Network => &[
                NoPublicIp,
                NoEgressRoute,
                VpcEndpointMissing,
                SecurityGroupEgressBlocked,
                SecurityGroupIngressClosed,
                NaclBlocked,
                VpcDnsDisabled,
                SubnetIpExhausted,
                EniProvisioningTimeout,
            ],
            Placement => &[PlacementFailed],
            ContainerHealth => &[AppHealthCheckFailed],
            ElbHealth => &[LbHealthCheckFailed],
            Deployment => &[StoppedByDeployment],
            UserStop => &[StoppedByUser],
            Spot => &[SpotInterruption],
            Maintenance => &[PlatformMaintenance],
            // `InfrastructureHealth` with a host stop: retired host or failed platform.
            HostLifecycle => &[PlatformMaintenance, PlatformError],
            EssentialExited => &[
                AppExitError,
                AppExitZero,
                AppOutOfMemory,
                AppCommandNotFound,
                SidecarFailed,
            ],
            FailedToStartBare => &[Unknown],
        }
    }
}

/// A specific fact a stop text states (a row of [`catalogue::DETAILS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter)]
pub enum Detail {
    /// The image, its tag or its repository does not exist: the innermost
    /// link of a pull failure says "not found".
    ImageMissing,
    /// The image pull failed (whatever the reason).
    ImagePullFailed,
    /// No image for the task's platform, or a binary for another architecture.
    PlatformMismatch,
    /// The registry refused the credentials, or there were none.
    RegistryAuthRefused,
    /// The registry rate-limited the pull.
    RateLimited,
    /// A secret or parameter does not exist.
    SecretMissing,
    /// A secret exists but not the JSON key or version `valueFrom` names.
    SecretKeyMissing,
    /// KMS refused to decrypt a secret or parameter.
    KmsDenied,
    /// The EFS server refused the mount (IAM authorization, file system policy).
    EfsAccessDenied,
    /// The EFS mount target could not be resolved or reached.
    EfsUnreachable,
    /// The awslogs log group does not exist (the innermost link of a
    /// logging failure says "not found").
    LogGroupMissing,
    /// The logging driver failed to start, whatever the reason.
    LogDriverFailed,
    /// The logging driver refused its options.
    LogDriverRefused,
    /// The agent had no credentials to pull or to read secrets.
    NoCredentials,
    /// ECS could not assume the execution role.
    AssumeRoleFailed,
    /// A start-up resource (image, secret, log stream) could not be retrieved.
    ResourceRetrievalFailed,
    /// The subnet had no free address for the task's network interface.
    NoFreeAddresses,
    /// The task's network interface was not provisioned in time.
    EniProvisioning,
    /// A connection timed out, was refused or was reset.
    ConnectionFailed,
    /// A host name did not resolve.
    DnsFailed,
    /// The command exists but is not executable (permission denied).
    NotExecutable,
    /// The command's interpreter (its `#!` line) could not be run.
    BadInterpreter,
    /// The text is about images: a pull, ECR, registry credentials.
    AboutImages,
    /// The text is about logs or the logging driver.
    AboutLogs,
    /// The text is about Secrets Manager secrets.
    AboutSecretsManager,
    /// The text is about Parameter Store parameters (or secrets).
    AboutParameterStore,
    /// The text is about KMS decryption (of a secret or a parameter).
    AboutKms,
    /// An environment file could not be downloaded from S3, for a reason
    /// other than the network path (`failed to download env files: …`
    /// ending on a refusal, a missing thing or an error of its own).
    AboutEnvFiles,
    /// The load balancer's health checks got an HTTP code they do not accept.
    HealthCheckCodeMismatch,
    /// The storage bucket behind a registry refused a layer download (403).
    LayerRefused,
    /// The runtime cannot pull what the image's manifest lists (an
    /// attestation, an unknown media type).
    UnsupportedManifest,
    /// A port the container binds is taken (Docker's `port is already allocated`).
    PortAllocated,
    /// AWS refused a call and names a VPC endpoint policy as what refused it
    /// (`… because no VPC endpoint policy allows the … action`, `… with an
    /// explicit deny in a VPC endpoint policy`).
    EndpointPolicyDenied,
    /// ECS could not assume the infrastructure role of an EBS volume
    /// (`ECS was unable to assume the configured ECS Infrastructure Role …`).
    EbsRoleUnassumable,
    /// ECS could not create the EBS volume (`ECS failed to set up the EBS
    /// volume. Encountered IdempotentParameterMismatch …`): a KMS key that is
    /// not valid or that the infrastructure role may not use.
    EbsSetupFailed,
    /// ECS timed out attaching the EBS volume (`ECS timed out while
    /// configuring the EBS volume attachment to your Task`): a file system
    /// type the task's OS cannot mount.
    EbsAttachTimedOut,
}

impl Detail {
    /// Does the text report a specific error, a named thing AWS could not
    /// find (an image, a secret, its key or version, a log group)? Such an
    /// observed error outranks a cause inferred from configuration.
    pub fn is_observed_error(self) -> bool {
        matches!(
            self,
            Detail::ImageMissing
                | Detail::SecretMissing
                | Detail::SecretKeyMissing
                | Detail::LogGroupMissing
        )
    }

    /// The checks that judge this fact.
    pub fn claimed_by(self) -> &'static [Cause] {
        use Cause::*;
        match self {
            Detail::ImageMissing | Detail::ImagePullFailed => &[ImageNotFound],
            Detail::PlatformMismatch => &[ImagePlatformMismatch],
            Detail::RegistryAuthRefused => &[RegistryAuthFailed, EcrRepositoryPolicyDenied],
            Detail::RateLimited => &[RegistryRateLimited],
            Detail::SecretMissing => &[SecretNotFound],
            Detail::SecretKeyMissing => &[SecretKeyMissing, SecretNotFound],
            Detail::KmsDenied => &[ExecutionRolePermissions, KmsKeyPolicyDenied],
            Detail::EfsAccessDenied | Detail::EfsUnreachable => &[EfsMountFailed],
            Detail::LogGroupMissing => &[LogGroupMissing],
            Detail::LogDriverRefused => &[LogConfigInvalid],
            Detail::NoCredentials => &[ExecutionRoleMissing],
            Detail::AssumeRoleFailed => &[ExecutionRoleNotFound, ExecutionRoleUntrusted],
            Detail::ResourceRetrievalFailed => &[ExecutionRolePermissions],
            Detail::NoFreeAddresses => &[SubnetIpExhausted],
            Detail::EniProvisioning => &[EniProvisioningTimeout],
            Detail::LogDriverFailed => &[LogGroupMissing],
            Detail::LayerRefused => &[Unknown, VpcEndpointPolicyDenied],
            Detail::UnsupportedManifest => &[Unknown],
            Detail::EndpointPolicyDenied => &[VpcEndpointPolicyDenied],
            Detail::EbsRoleUnassumable | Detail::EbsSetupFailed | Detail::EbsAttachTimedOut => {
                &[EbsVolumeFailed]
            }
            Detail::NotExecutable | Detail::BadInterpreter => &[AppCommandNotFound],
            Detail::HealthCheckCodeMismatch => &[LbHealthCheckFailed],
            Detail::PortAllocated => &[PortConflict],
            Detail::AboutImages
            | Detail::AboutLogs
            | Detail::AboutSecretsManager
            | Detail::AboutParameterStore
            | Detail::AboutKms => &[ExecutionRolePermissions],
            Detail::AboutEnvFiles => &[EnvFileFailed, ExecutionRolePermissions],
            Detail::ConnectionFailed | Detail::DnsFailed => &[
                NoPublicIp,
                NoEgressRoute,
                VpcEndpointMissing,
                SecurityGroupEgressBlocked,
                NaclBlocked,
                VpcDnsDisabled,
            ],
        }
    }
}

/// What the catalogue says of one text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classified {
    /// Every kind the text matches, most specific first.
    pub kinds: Vec<StopKind>,
    /// Every detail the text states.
    pub details: Vec<Detail>,
    /// What the text's structure says: its innermost outcome, the area of
    /// the failing step, the action refused, whether it was cut.
    pub reading: chain::Reading,
    /// For a placement failure, what ECS could not find (CPU, memory,
    /// ports, Fargate capacity, …), when the text says.
    pub shortage: Option<Shortage>,
}

impl Classified {
    /// The most specific kind, if any row matches.
    pub fn kind(&self) -> Option<StopKind> {
        self.kinds.first().copied()
    }

    /// Does the text match `kind` (as its most specific kind or at all)?
    pub fn is(&self, kind: StopKind) -> bool {
        self.kinds.contains(&kind)
    }

    pub fn states(&self, detail: Detail) -> bool {
        self.details.contains(&detail)
    }

    /// Does the text report a specific error AWS observed, a named thing it
    /// could not find, rather than a refusal? (A refused pull also reads
    /// "failed to resolve ref", so a refusal is never a missing thing.)
    pub fn reports_missing(&self) -> bool {
        self.details.iter().any(|d| d.is_observed_error())
            && !self.states(Detail::RegistryAuthRefused)
            && !self.states(Detail::KmsDenied)
    }

    /// Did the catalogue recognise the text at all?
    pub fn is_recognised(&self) -> bool {
        !self.kinds.is_empty() || !self.details.is_empty()
    }

    /// Was the text cut short (ECS's `...`)? It states nothing after the cut.
    pub fn is_cut(&self) -> bool {
        self.reading.cut
    }
}

/// Classify one text against the catalogue: the one way to read a stop text.
pub fn classify(text: &str) -> Classified {
    let t = normalize(text);
    let matches = |any: &[&str], with: &[&str]| {
        any.iter().any(|n| t.contains(n)) && (with.is_empty() || with.iter().any(|n| t.contains(n)))
    };
    let reading = chain::read(text);
    let mut details = Vec::new();
    for p in DETAILS.iter().filter(|p| {
        (p.any.is_empty() || matches(p.any, p.with))
            && !p.without.iter().any(|n| t.contains(n))
            && p.gate.holds(&reading)
    }) {
        if !details.contains(&p.detail) {
            details.push(p.detail);
        }
    }
    let kinds: Vec<StopKind> = KINDS
        .iter()
        .filter(|p| matches(p.any, p.with))
        .map(|p| p.kind)
        .chain(
            catalogue::RUNTASK_REASONS
                .contains(&t.as_str())
                .then_some(StopKind::Placement),
        )
        .collect();
    let shortage = kinds
        .contains(&StopKind::Placement)
        .then(|| catalogue::shortage(&t))
        .flatten();
    Classified {
        kinds,
        details,
        reading,
        shortage,
    }
}

/// Where a stop text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Task,
    Container(String),
    /// The `statusReason` of the task's EBS attachment (its volume's name).
    EbsAttachment(String),
}

/// A stop text with its source and its classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopText {
    pub source: Source,
    pub text: String,
    pub class: Classified,
}

impl StopText {
    /// `stoppedReason = "…"` or `` container `web` reason = "…" ``.
    /// A cut text says so: it states nothing after the cut.
    pub fn quote(&self) -> String {
        let cut = if self.class.is_cut() {
            " (cut short by ECS: what followed is not known)"
        } else {
            ""
        };
        match &self.source {
            Source::Task => format!("stoppedReason = \"{}\"{cut}", self.text),
            Source::Container(name) => {
                format!("container `{name}` reason = \"{}\"{cut}", self.text)
            }
            Source::EbsAttachment(volume) => {
                format!(
                    "EBS attachment of volume `{volume}` statusReason = \"{}\"{cut}",
                    self.text
                )
            }
        }
    }

    /// Does the text name `what` (a repository, a log group, a secret), as written?
    pub fn names(&self, what: &str) -> bool {
        self.text.contains(what)
    }

    /// The text before its first colon, when it is one word: the error's
    /// name, such as `CannotPullContainerError`.
    pub fn head(&self) -> Option<&str> {
        self.text
            .split(':')
            .next()
            .map(str::trim)
            .filter(|h| !h.contains(' ') && !h.is_empty())
    }

    /// The error the text names (`ContainerRuntimeError: …` → `ContainerRuntimeError`).
    pub fn error_name(&self) -> Option<&str> {
        self.head()
            .filter(|h| h.ends_with("Error") || h.ends_with("Exception"))
    }

    /// The path a mount error names (`… to rootfs at "/etc/app/config.yml" …`).
    pub fn mount_target(&self) -> Option<String> {
        regex::Regex::new(r#"rootfs at "?(?P<p>/[^"\s:]*)"#)
            .expect("valid mount regex")
            .captures(&self.text)
            .map(|c| c["p"].to_string())
    }

    /// The deployment a scaling-activity text names (`… (deployment
    /// ecs-svc/1234567890123456789)` → `ecs-svc/1234567890123456789`).
    pub fn deployment(&self) -> Option<String> {
        regex::Regex::new(r"deployment (ecs-svc/\d+)")
            .expect("valid regex")
            .captures(&self.text)
            .map(|c| c[1].to_string())
    }

    /// Does the text name `key` as the JSON key a secret lacks (`… did not
    /// contain json key password`)?
    pub fn names_json_key(&self, key: &str) -> bool {
        let lower = self.text.to_ascii_lowercase();
        lower.split("json key").skip(1).any(|after| {
            after
                .trim_start_matches([' ', ':', '"', '\''])
                .split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',')
                .next()
                .is_some_and(|word| word.eq_ignore_ascii_case(key))
        })
    }
}

/// The program an exec failure names, in a stop text or a log line
/// (`exec: "gunicorn": …` → `gunicorn`).
pub fn named_program(text: &str) -> Option<String> {
    let re = regex::Regex::new(r#"exec:?\s*["'](?P<p>[^"']+)["']|exec (?P<q>/[^\s:]+)|(?P<r>[\w./-]+): (?:command )?not found|(?P<s>/[^\s:]+): (?:bad interpreter|Permission denied)"#)
        .expect("valid program regex");
    let caps = re.captures(text)?;
    ["p", "q", "r", "s"]
        .iter()
        .find_map(|g| caps.name(g))
        .map(|m| m.as_str().to_string())
}

/// Every stop text of a task, classified: the task's stopped reason first,
/// then each container's reason in task order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StopTexts(Vec<StopText>);

impl StopTexts {
    pub fn of(ev: &Evidence) -> StopTexts {
        let task = ev.task.stopped_reason.as_deref().map(|r| (Source::Task, r));
        let containers = ev.task.containers.iter().filter_map(|c| {
            c.reason
                .as_deref()
                .map(|r| (Source::Container(c.name.clone()), r))
        });
        let ebs = ev.task.ebs_attachment.as_ref().and_then(|a| {
            a.status_reason.as_deref().map(|r| {
                (
                    Source::EbsAttachment(a.volume_name.clone().unwrap_or_default()),
                    r,
                )
            })
        });
        StopTexts(
            task.into_iter()
                .chain(containers)
                .chain(ebs)
                .filter(|(_, r)| !r.trim().is_empty())
                .map(|(source, text)| StopText {
                    source,
                    text: text.to_string(),
                    class: classify(text),
                })
                .collect(),
        )
    }

    pub fn all(&self) -> &[StopText] {
        &self.0
    }

    /// The task's stopped reason, when it has one.
    pub fn task(&self) -> Option<&StopText> {
        self.0.iter().find(|t| t.source == Source::Task)
    }

    /// The reason of the container named `name`, when it has one.
    pub fn container(&self, name: &str) -> Option<&StopText> {
        self.0
            .iter()
            .find(|t| matches!(&t.source, Source::Container(n) if n == name))
    }

    /// Does the task's stopped reason match `kind` (at all, not only as its
    /// most specific kind)?
    pub fn task_is(&self, kind: StopKind) -> bool {
        self.task().is_some_and(|t| t.class.is(kind))
    }

    /// Does the reason of container `name` match `kind` (at all)?
    pub fn container_is(&self, name: &str, kind: StopKind) -> bool {
        self.container(name).is_some_and(|t| t.class.is(kind))
    }

    /// The first text whose most specific kind is `kind`, preferring a
    /// container's reason (it names the container) over the task's.
    pub fn find(&self, kind: StopKind) -> Option<&StopText> {
        let mut matching = self.0.iter().filter(|t| t.class.kind() == Some(kind));
        let first = matching.next()?;
        if matches!(first.source, Source::Container(_)) {
            return Some(first);
        }
        matching
            .find(|t| matches!(t.source, Source::Container(_)))
            .or(Some(first))
    }

    /// The first text that states `detail`, the task's reason before the containers'.
    pub fn stating(&self, detail: Detail) -> Option<&StopText> {
        self.0.iter().find(|t| t.class.states(detail))
    }

    /// The first text that states any of `details`, in text order.
    pub fn stating_any(&self, details: &[Detail]) -> Option<&StopText> {
        self.0
            .iter()
            .find(|t| details.iter().any(|d| t.class.states(*d)))
    }
}

/// A container's reason when it matches `kind` as its most specific kind.
pub fn container_reason_is(c: &Container, kind: StopKind) -> bool {
    c.reason
        .as_deref()
        .is_some_and(|r| classify(r).kind() == Some(kind))
}

/// Why ECS asked the task to stop, when something asked (as opposed to an
/// essential container exiting on its own): the stop code and reason quoted.
pub fn stop_request(ev: &Evidence) -> Option<String> {
    let reason = ev.task.stopped_reason.as_deref().unwrap_or("");
    let code = ev.task.stop_code.as_deref().unwrap_or("unset");
    let requested = match StopCode::of(ev) {
        StopCode::UserInitiated
        | StopCode::ServiceSchedulerInitiated
        | StopCode::SpotInterruption
        | StopCode::TerminationNotice => true,
        StopCode::EssentialContainerExited | StopCode::TaskFailedToStart => false,
        StopCode::InfrastructureHealth | StopCode::Other(_) | StopCode::None => {
            classify(reason).kinds.iter().any(|k| {
                matches!(
                    k,
                    StopKind::Deployment
                        | StopKind::UserStop
                        | StopKind::Spot
                        | StopKind::Maintenance
                        | StopKind::ElbHealth
                        | StopKind::ContainerHealth
                        | StopKind::HostLifecycle
                )
            })
        }
    };
    requested.then(|| format!("stopCode = {code}; stoppedReason = \"{reason}\""))
}
