//! The stop-text catalogue: every fragment of a `stoppedReason` or a
//! container `reason` that ecs-doctor knows, in two tables.
//!
//! [`KINDS`] says what a text is about, most specific first: the first row
//! that matches is the text's kind, and each kind belongs to one family.
//! [`DETAILS`] lists the specific facts a text may state (an image that does
//! not exist, a registry that refused the credentials, a connection that
//! timed out); a text has every detail whose fragments it contains, so the
//! check that judges that fact reads it from here and keeps no list of its own.
//!
//! Every fragment is lower case and matched after
//! [`normalize`](crate::text::normalize) (straight apostrophes, collapsed
//! white space), so re-worded, re-cased and truncated messages still land.

use super::{Detail, StopKind};

/// One row of [`KINDS`]: the kind and the fragments that identify it.
pub struct Pattern {
    pub kind: StopKind,
    /// Lower-case fragments; any one of them identifies the kind.
    pub any: &'static [&'static str],
    /// Lower-case fragments of which one must also be present (empty: none needed).
    pub with: &'static [&'static str],
}

/// One row of [`DETAILS`].
pub struct DetailPattern {
    pub detail: Detail,
    /// Lower-case fragments; any one of them states the detail.
    pub any: &'static [&'static str],
    /// Fragments of which one must also be present (empty: none needed).
    pub with: &'static [&'static str],
    /// Fragments none of which may be present (empty: none excluded).
    pub without: &'static [&'static str],
}

/// Context fragments of an error raised while the runtime started the container.
const START_CONTEXT: &[&str] = &[
    "cannotstartcontainer",
    "oci runtime",
    "runc",
    "container init",
    "starting container process",
    "start container process",
    "create shim task",
    "failed to create container",
];

/// What a text is about, most specific first.
pub const KINDS: &[Pattern] = &[
    Pattern {
        kind: StopKind::OutOfMemory,
        any: &[
            "outofmem",
            "out of mem",
            "killed due to mem",
            "oomkill",
            "oom-kill",
            "oom kill",
            "oom_kill",
            "memory limit exceeded",
        ],
        with: &[],
    },
    // Architecture mismatch belongs to the image family; it must win over exec failures.
    Pattern {
        kind: StopKind::ImagePlatform,
        any: &["exec format error", "descriptor matching platform"],
        with: &[],
    },
    // EFS mount helper texts, before the generic mount and resource rows.
    Pattern {
        kind: StopKind::EfsMount,
        any: &[
            "efs utils",
            "efs-utils",
            "efs volume",
            "elasticfilesystem",
            "mount.nfs",
            "amazon-efs-mount",
            "efs mount",
            ".efs.",
            "mount target",
        ],
        with: &[],
    },
    // A full disk outranks the step (pull, extraction, write) it broke.
    Pattern {
        kind: StopKind::DiskFull,
        any: &[
            "no space left on",
            "disk quota exceeded",
            "not enough space on the disk",
            "insufficient disk space",
            "enospc",
        ],
        with: &[],
    },
    Pattern {
        kind: StopKind::ExecFailure,
        any: &[
            "executable file not found",
            "executable not found",
            "not found in $path",
            "exec: \"",
            "exec: '",
            "exec user process caused",
            "exec failed",
            "process caused: exec",
            "container process: exec",
            "command not found",
        ],
        with: &[],
    },
    Pattern {
        kind: StopKind::MountFailure,
        any: &[
            "error mounting",
            "rootfs at",
            "to rootfs",
            "invalid mount",
            "mount denied",
            "failed to mount",
            "mount failed",
            "mountpoint",
            "mount point",
        ],
        with: START_CONTEXT,
    },
    Pattern {
        kind: StopKind::VolumeCreate,
        any: &[
            "cannotcreatevolume",
            "can't create the volume",
            "cannot create volume",
            "failed to create volume",
        ],
        with: &[],
    },
    Pattern {
        kind: StopKind::RuntimeTimeout,
        any: &[
            "containerruntimetimeout",
            "dockertimeouterror",
            "could not transition to",
            "timed out after waiting",
            "docker timeout error",
            "timeout after wait",
        ],
        with: &[],
    },
    // Named runtime errors: the `<ErrorName>:` prefix outranks the detail after it.
    Pattern {
        kind: StopKind::RuntimeError,
        any: &[
            "containerruntimeerror",
            "cannotstopcontainer",
            "cannotinspectcontainer",
            "cannotdescribecontainer",
            "cannotcreatecontainer",
            "cannotstartcontainer",
            "dockerstateerror",
            "failed sending sigterm",
            "failed to get container status",
        ],
        with: &[],
    },
    // Image pull, secrets, logging and network texts: other families' patterns.
    Pattern {
        kind: StopKind::ImagePull,
        any: &[
            "cannotpullcontainer",
            "cannotpullimage",
            "pull image",
            "failed to resolve ref",
            "manifest unknown",
            "check whether the image exists",
            "pull access denied",
            "can't pull the image",
            "cannot pull",
            "toomanyrequests",
            "pull rate limit",
            "rate limit",
            "httpreaderseeker",
            "error pulling image",
            "registry auth",
        ],
        with: &[],
    },
    Pattern {
        kind: StopKind::TaskResources,
        any: &[
            "resourceinitializationerror",
            "unable to pull secrets",
            "unable to retrieve secret",
            "secrets manager",
            "secretsmanager",
            "parameter store",
            "ssm",
            "log group",
            "logging driver",
            "logger",
            "env files",
            "environment files",
            "accessdenied",
            "not authorized to perform",
            "resourcenotfoundexception",
            "execution role",
        ],
        with: &[],
    },
    Pattern {
        kind: StopKind::Network,
        any: &[
            "i/o timeout",
            "context deadline exceeded",
            "connection issue between the task",
            "request canceled while waiting",
            "context canceled",
            "network interface",
            "check your network configuration",
            "check your task network configuration",
            "subnet",
        ],
        with: &[],
    },
    Pattern {
        kind: StopKind::Placement,
        any: &[
            "taskfailedtostart:",
            "resource:cpu",
            "resource:memory",
            "placement constraint",
            "no active instances",
            "empty capacity provider",
            "not compatible with the selected compute",
            "capacity is unavailable",
            "agent",
        ],
        with: &[],
    },
    // Generic runtime failures, once no other family claimed the text.
    Pattern {
        kind: StopKind::RuntimeError,
        any: &[
            "internalerror",
            "internal error",
            "oci runtime",
            "runc create failed",
            "failed to create shim",
        ],
        with: &[],
    },
    Pattern {
        kind: StopKind::ContainerHealth,
        any: &[
            "failed container health",
            "container health check",
            "container healthcheck",
        ],
        with: &[],
    },
    Pattern {
        kind: StopKind::ElbHealth,
        any: &[
            "failed elb health",
            "elb health check",
            "unhealthy in (target-group",
            "unhealthy in target-group",
            "load balancer health check",
            "health checks failed with these codes",
        ],
        with: &[],
    },
    Pattern {
        kind: StopKind::Maintenance,
        any: &[
            "performing maintenance",
            "maintenance on the underlying",
            "underlying infrastructure hosting",
            "task retirement",
            "scheduled for retirement",
        ],
        with: &[],
    },
    Pattern {
        kind: StopKind::Spot,
        any: &[
            "your spot task",
            "spot task was",
            "spot task interrupted",
            "spot interruption",
            "spotinterruption",
            "terminationnotice",
            "termination notice",
            "spot capacity",
        ],
        with: &[],
    },
    Pattern {
        kind: StopKind::Deployment,
        any: &[
            "scaling activity",
            "initiated by (deployment",
            "initiated by deployment",
        ],
        with: &[],
    },
    Pattern {
        kind: StopKind::HostLifecycle,
        any: &["host ec2", "instance stopped/terminated"],
        with: &[],
    },
    Pattern {
        kind: StopKind::UserStop,
        any: &["stopped by user", "stopped by the user", "forced by user"],
        with: &[],
    },
    Pattern {
        kind: StopKind::EssentialExited,
        any: &["essential container in", "essential container exited"],
        with: &[],
    },
    Pattern {
        kind: StopKind::FailedToStartBare,
        any: &["task failed to start"],
        with: &[],
    },
];

/// The specific facts a stop text may state. Order does not matter: a text
/// has every detail that matches.
pub const DETAILS: &[DetailPattern] = &[
    DetailPattern {
        detail: Detail::ImageMissing,
        any: &[
            "failed to resolve ref",
            "manifest unknown",
            "check whether the image exists",
            "not found",
            "repository does not exist",
            "name unknown",
            "requested access to the resource is denied",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::ImagePullFailed,
        any: &[
            "cannotpullcontainer",
            "pull image",
            "failed to resolve ref",
            "manifest unknown",
            "check whether the image exists",
            "can't pull the image",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::PlatformMismatch,
        any: &[
            "descriptor matching platform",
            "no matching manifest for",
            "does not match the detected host platform",
            "does not match the specified platform",
            "exec format error",
            "platform mismatch",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::RegistryAuthRefused,
        any: &[
            "pull access denied",
            "unauthorized",
            "authentication required",
            "401",
            "403 forbidden",
            "requested access to the resource is denied",
            "may require 'docker login'",
            "incorrect username or password",
            "no basic auth credentials",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::RateLimited,
        any: &[
            "toomanyrequests",
            "too many requests",
            "pull rate limit",
            "increase-rate-limits",
        ],
        with: &[],
        without: &[],
    },
    // A key or version of a secret that exists; the secret-missing row below
    // would also match these texts, so its check defers to this detail.
    DetailPattern {
        detail: Detail::SecretKeyMissing,
        any: &[
            "did not contain json key",
            "does not contain json key",
            "json key",
            "secret value for staging label",
            "secret value for versionid",
            "secret value for version id",
            "version stage",
            "versionstage",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::KmsDenied,
        any: &[
            "access to kms is not allowed",
            "kms:decrypt",
            "kmsaccessdenied",
            "kms.accessdenied",
            "kms key",
            "kmsinvalidstate",
            "kms.kmsinvalidstate",
            "key is disabled",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::EfsAccessDenied,
        any: &[
            "access denied by server",
            "permission denied",
            "accessdenied",
            "access denied",
        ],
        with: &["efs", "mount", "nfs", "elasticfilesystem"],
        without: &[],
    },
    DetailPattern {
        detail: Detail::EfsUnreachable,
        any: &[
            "connection timed out",
            "timed out",
            "failed to resolve",
            "could not resolve",
            "name or service not known",
            "no route to host",
            "connection refused",
        ],
        with: &["efs", "mount.nfs", "mount target", "elasticfilesystem"],
        without: &[],
    },
    DetailPattern {
        detail: Detail::SecretMissing,
        any: &[
            "can't find the specified secret",
            "resourcenotfoundexception",
            "check whether the secret exists",
            "parameternotfound",
            "invalid ssm parameters",
            "invalid parameters",
            "parameter does not exist",
            "secret not found",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::LogGroupMissing,
        any: &[
            "log group does not exist",
            "cannot find the amazon cloudwatch log group",
            "can't find the amazon cloudwatch log group",
            "failed to validate logger args",
            "failed to initialize logging driver",
            "failed to create cloudwatch log stream",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::LogDriverRefused,
        any: &[
            "failed to initialize logging driver",
            "unknown log opt",
            "failed to validate logger args",
            "log opt",
            "logging driver",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::NoCredentials,
        any: &[
            "no basic auth credentials",
            "nocredentialproviders",
            "no valid providers in chain",
            "unable to retrieve ecr registry auth",
            "unable to pull secrets or registry auth",
            "execution role",
            "executionrolearn",
            "authorization token",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::AssumeRoleFailed,
        any: &[
            "unable to assume the role",
            "unable to assume role",
            "could not assume role",
            "not authorized to perform: sts:assumerole",
            "nosuchentity",
            "role does not exist",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::ResourceRetrievalFailed,
        any: &[
            "cannotpullcontainer",
            "can't pull the image",
            "resourceinitializationerror",
            "unable to pull secrets or registry auth",
            "unable to retrieve secret",
            "unable to retrieve ecr registry auth",
            "failed to validate logger args",
            "failed to initialize logging driver",
            "accessdenied",
            "access denied",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::NoFreeAddresses,
        any: &[
            "unexpected ec2 error while attempting to create network interface",
            "insufficientfreeaddressesinsubnet",
            "insufficient free addresses",
            "no free addresses",
            "not enough ip",
            "no available ip",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::EniProvisioning,
        any: &[
            "waiting for network interface provisioning",
            "network interface provisioning",
            "eni provisioning",
            "waiting for eni",
            "timed out waiting for network interface",
        ],
        with: &[],
        without: &[],
    },
    // A network interface that timed out or hit an internal error, in other words.
    DetailPattern {
        detail: Detail::EniProvisioning,
        any: &["network interface", " eni"],
        with: &["internalerror", "timeout", "timed out"],
        without: &[],
    },
    DetailPattern {
        detail: Detail::ConnectionFailed,
        any: &[
            "i/o timeout",
            "context deadline exceeded",
            "connection issue between the task and",
            "request canceled while waiting for connection",
            "context canceled",
            "statuscode: 0",
            "check your network configuration",
            "check your task network configuration",
            "check your network connection",
            "network is unreachable",
            "no route to host",
            "connection refused",
            "connection reset",
            "tls handshake timeout",
        ],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::DnsFailed,
        any: &[
            "no such host",
            "server misbehaving",
            "temporary failure in name resolution",
            "name resolution",
            "dns resolution",
        ],
        with: &[],
        without: &[],
    },
    // Said outright: "not found" and no refusal (every image pull failure
    // says "failed to resolve ref", a refused one too).
    DetailPattern {
        detail: Detail::ImageNotFoundOutright,
        any: &[
            "not found",
            "manifest unknown",
            "does not exist",
            "name unknown",
        ],
        with: &[],
        without: &["denied", "not authorized", "unauthorized", "forbidden"],
    },
    // Said outright: a thing is not there (with a logging failure, the log group).
    DetailPattern {
        detail: Detail::LogGroupMissingOutright,
        any: &[
            "does not exist",
            "can't find",
            "cannot find",
            "resourcenotfoundexception",
        ],
        with: &[],
        without: &[],
    },
    // Why a command could not run (a stop text or a log line of an exec failure).
    DetailPattern {
        detail: Detail::NotExecutable,
        any: &["permission den", "cannot execute", "not executable"],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::BadInterpreter,
        any: &["bad interpreter", "exec user process caused"],
        with: &[],
        without: &[],
    },
    // The area of a start-up failure, to tie it to a refused IAM action.
    DetailPattern {
        detail: Detail::AboutImages,
        any: &["pull", "ecr", "registry auth", "image"],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::AboutLogs,
        any: &["log", "logger"],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::AboutSecretsManager,
        any: &["secret", "asm"],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::AboutParameterStore,
        any: &["ssm", "parameter", "secret"],
        with: &[],
        without: &[],
    },
    DetailPattern {
        detail: Detail::AboutKms,
        any: &["kms", "decrypt", "secret", "ssm", "asm"],
        with: &[],
        without: &[],
    },
    // A load balancer's health checks, in a stop text or a service event.
    DetailPattern {
        detail: Detail::HealthCheckCodeMismatch,
        any: &["failed with these codes"],
        with: &[],
        without: &[],
    },
    // A port a container binds is taken (Docker's text in a container reason).
    DetailPattern {
        detail: Detail::PortAllocated,
        any: &[
            "port is already allocated",
            "address already in use",
            "eaddrinuse",
        ],
        with: &[],
        without: &[],
    },
];
