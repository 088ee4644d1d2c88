//! What a text is about: [`KINDS`], most specific first.

use super::Pattern;
use crate::stops::StopKind;

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
        any: &[
            "exec format error",
            "descriptor matching platform",
            "descriptor for platform",
        ],
        with: &[],
    },
    // ECS-managed EBS volumes: the attachment's status reasons (troubleshoot-ebs-volumes-scenarios),
    // before the EFS, mount, timeout and IAM rows their words would also match.
    Pattern {
        kind: StopKind::EbsVolume,
        any: &[
            "ecs infrastructure role",
            "set up the ebs volume",
            "ebs volume attachment",
        ],
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
            // Docker's devmapper storage on an EC2 host running out.
            "free data blocks which is less than minimum required",
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
            // Registry credentials, not the wrapper "unable to pull secrets or registry auth".
            "ecr registry auth",
            "registry auth from",
            "cannotpullecrcontainer",
            "pull command failed",
            // A registry's own API.
            ".dkr.ecr.",
            "registry-1.docker.io",
            "error response from daemon: get",
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
            "resource:gpu",
            "resource:ports",
            "resource:fargate",
            "resource:ephemeral",
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
            "unhealthy in (elb",
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
    // The host left too when a user forced its deregistration.
    Pattern {
        kind: StopKind::HostLifecycle,
        any: &["container instance deregistration"],
        with: &[],
    },
    Pattern {
        kind: StopKind::EssentialExited,
        any: &["essential container in", "essential container exited"],
        with: &[],
    },
    Pattern {
        kind: StopKind::FailedToStartBare,
        any: &["task failed to start", "taskfailedtostart"],
        with: &[],
    },
];
