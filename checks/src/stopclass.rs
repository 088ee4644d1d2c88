//! The stop-text catalogue: what a `stoppedReason` or container `reason`
//! is about, from its distinctive parts.
//!
//! Every pattern is a handful of short fragments matched case-insensitively
//! after [`normalize`](crate::classify::normalize) (straight apostrophes,
//! collapsed white space), so re-worded, re-cased and truncated messages
//! still land in the right place. The order of [`CATALOGUE`] matters: the
//! more specific kinds come first (an exec failure inside a
//! `CannotStartContainerError` is a command problem, not a runtime one).
//!
//! Checks of the app, benign and platform codes use it directly, and the
//! `unknown` check uses it to tell "no pattern matched" from "another
//! family's pattern matched".

use crate::classify::{normalize, StopCode};
use crate::evidence::{Container, Evidence};

/// What a stop text is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopKind {
    /// `OutOfMemoryError: Container killed due to memory usage`, in any spelling.
    OutOfMemory,
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
    /// A pattern another family's checks explain (image, IAM, network, placement).
    Foreign(&'static str),
}

impl StopKind {
    /// A short label for "checked and passed" details.
    pub fn label(self) -> &'static str {
        match self {
            StopKind::OutOfMemory => "out of memory",
            StopKind::ExecFailure => "command could not be executed",
            StopKind::MountFailure => "volume mount failed",
            StopKind::VolumeCreate => "volume could not be created",
            StopKind::RuntimeTimeout => "container runtime timeout",
            StopKind::RuntimeError => "container runtime error",
            StopKind::ContainerHealth => "container health check",
            StopKind::ElbHealth => "load balancer health check",
            StopKind::Deployment => "deployment or scale-in",
            StopKind::UserStop => "stopped by a user",
            StopKind::Spot => "Spot interruption",
            StopKind::Maintenance => "infrastructure maintenance",
            StopKind::HostLifecycle => "EC2 host stopped or terminated",
            StopKind::EssentialExited => "essential container exited",
            StopKind::FailedToStartBare => "task failed to start",
            StopKind::Foreign(what) => what,
        }
    }
}

/// One catalogue entry: the kind and the fragments that identify it.
pub struct Pattern {
    pub kind: StopKind,
    /// Lower-case fragments; any one of them identifies the kind.
    pub any: &'static [&'static str],
    /// Lower-case fragments of which one must also be present (empty: none needed).
    pub with: &'static [&'static str],
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

/// The catalogue, most specific first.
pub const CATALOGUE: &[Pattern] = &[
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
        kind: StopKind::Foreign("image platform"),
        any: &["exec format error", "descriptor matching platform"],
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
        kind: StopKind::Foreign("image pull"),
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
            "no space left on device",
            "registry auth",
        ],
        with: &[],
    },
    Pattern {
        kind: StopKind::Foreign("task resources (secrets, logging, IAM)"),
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
            "efs utils",
            "efs volume",
            "elasticfilesystem",
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
        kind: StopKind::Foreign("network"),
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
        kind: StopKind::Foreign("placement"),
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

/// Every kind a text matches, in catalogue order (most specific first).
pub fn kinds(text: &str) -> Vec<StopKind> {
    let t = normalize(text);
    CATALOGUE
        .iter()
        .filter(|p| {
            p.any.iter().any(|n| t.contains(n))
                && (p.with.is_empty() || p.with.iter().any(|n| t.contains(n)))
        })
        .map(|p| p.kind)
        .collect()
}

/// The most specific kind of a text, if any pattern matches.
pub fn kind(text: &str) -> Option<StopKind> {
    kinds(text).into_iter().next()
}

/// Does the text match `kind` (as its most specific kind or at all)?
pub fn is(text: &str, kind: StopKind) -> bool {
    kinds(text).contains(&kind)
}

/// Where a stop text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Task,
    Container(String),
}

/// A stop text with its source, for quoting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopText {
    pub source: Source,
    pub text: String,
}

impl StopText {
    /// `stoppedReason = "…"` or `` container `web` reason = "…" ``.
    pub fn quote(&self) -> String {
        match &self.source {
            Source::Task => format!("stoppedReason = \"{}\"", self.text),
            Source::Container(name) => format!("container `{name}` reason = \"{}\"", self.text),
        }
    }
}

/// Every stop text of the task with its source.
pub fn texts(ev: &Evidence) -> Vec<StopText> {
    let mut out = Vec::new();
    if let Some(r) = ev
        .task
        .stopped_reason
        .as_deref()
        .filter(|r| !r.trim().is_empty())
    {
        out.push(StopText {
            source: Source::Task,
            text: r.to_string(),
        });
    }
    for c in &ev.task.containers {
        if let Some(r) = c.reason.as_deref().filter(|r| !r.trim().is_empty()) {
            out.push(StopText {
                source: Source::Container(c.name.clone()),
                text: r.to_string(),
            });
        }
    }
    out
}

/// The first stop text whose most specific kind is `kind`, preferring a
/// container's reason (it names the container) over the task's.
pub fn find(ev: &Evidence, kind: StopKind) -> Option<StopText> {
    let matching: Vec<StopText> = texts(ev)
        .into_iter()
        .filter(|t| self::kind(&t.text) == Some(kind))
        .collect();
    matching
        .iter()
        .find(|t| matches!(t.source, Source::Container(_)))
        .or(matching.first())
        .cloned()
}

/// A container's reason when it matches `kind`.
pub fn container_reason_is(c: &Container, kind: StopKind) -> bool {
    c.reason
        .as_deref()
        .is_some_and(|r| self::kind(r) == Some(kind))
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
            kinds(reason).iter().any(|k| {
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

/// An essential container that never started because a container it
/// depends on (`dependsOn`) did not reach the required condition in time.
#[derive(Debug, Clone, PartialEq)]
pub struct DependencyFailure<'a> {
    /// The container that waited.
    pub dependent: String,
    /// The container it waited for.
    pub dependency: &'a Container,
    /// `START`, `COMPLETE`, `SUCCESS` or `HEALTHY`.
    pub condition: String,
    /// The dependency's `startTimeout`, when set.
    pub start_timeout: Option<i32>,
    /// What the dependency did instead, e.g. "exited with code 1".
    pub outcome: String,
}

impl DependencyFailure<'_> {
    /// The evidence line: who waited for whom, for what, and what happened.
    pub fn describe(&self) -> String {
        let timeout = match self.start_timeout {
            Some(t) => format!("its startTimeout is {t}s"),
            None => "its startTimeout is not set (ECS waits 3 minutes by default)".to_string(),
        };
        format!(
            "container `{}` dependsOn `{}` with condition {}; `{}` {}; {timeout}",
            self.dependent,
            self.dependency.name,
            self.condition,
            self.dependency.name,
            self.outcome
        )
    }
}

/// The first `dependsOn` condition that was not met, for a task whose
/// dependent container never started.
pub fn dependency_failure(ev: &Evidence) -> Option<DependencyFailure<'_>> {
    let td = ev.task_def()?;
    if !ev.is_stopped() {
        return None;
    }
    for def in &td.containers {
        let Some(dependent) = ev.task.containers.iter().find(|c| c.name == def.name) else {
            continue;
        };
        // A dependent that ran is not waiting for anything.
        if dependent.exit_code.is_some() {
            continue;
        }
        for dep in &def.depends_on {
            let Some(dependency) = ev
                .task
                .containers
                .iter()
                .find(|c| c.name == dep.container_name)
            else {
                continue;
            };
            let condition = dep.condition.to_ascii_uppercase();
            let health = dependency.health_status.as_deref().unwrap_or("UNKNOWN");
            let outcome = match (condition.as_str(), dependency.exit_code) {
                ("HEALTHY", _) if !health.eq_ignore_ascii_case("HEALTHY") => match dependency.exit_code {
                    Some(code) => Some(format!(
                        "never became healthy (health status {health}) and was stopped with exit code {code}"
                    )),
                    None => Some(format!("never became healthy (health status {health})")),
                },
                ("SUCCESS", Some(code)) if code != 0 && !crate::classify::is_teardown_exit(code) => {
                    Some(format!("exited with code {code}"))
                }
                ("SUCCESS" | "COMPLETE", Some(code)) if crate::classify::is_teardown_exit(code) => Some(format!(
                    "was still running when the task gave up, and was stopped with exit code {code}"
                )),
                ("SUCCESS" | "COMPLETE", None) => Some("never exited".to_string()),
                ("START", None) if dependency.last_status.as_deref() != Some("RUNNING") => {
                    Some("never started".to_string())
                }
                _ => None,
            };
            if let Some(outcome) = outcome {
                return Some(DependencyFailure {
                    dependent: def.name.clone(),
                    dependency,
                    condition,
                    start_timeout: td.container(&dependency.name).and_then(|d| d.start_timeout),
                    outcome,
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use StopKind::*;

    /// Every stop text of the facts catalogue that the app, benign and
    /// platform checks rely on, with re-worded and truncated variants.
    const CASES: &[(&str, StopKind)] = &[
        // §3.6 OutOfMemoryError in every spelling.
        ("OutOfMemoryError: Container killed due to memory usage", OutOfMemory),
        ("OutOfMemoryError: container killed due to memory usage", OutOfMemory),
        ("outofmemoryerror: CONTAINER KILLED DUE TO MEMORY USAGE", OutOfMemory),
        ("OutOfMemoryErr", OutOfMemory),
        ("Container killed due to memory usa", OutOfMemory),
        ("OOMKilled", OutOfMemory),
        ("oom-kill event in the container", OutOfMemory),
        ("The container ran out of memory", OutOfMemory),
        // §3.5 CannotStartContainerError with an exec failure.
        (
            "CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"/app/server\": stat /app/server: no such file or directory: unknown",
            ExecFailure,
        ),
        (
            "OCI runtime create failed: runc create failed: unable to start container process: exec: \"gunicorn\": executable file not found in $PATH: unknown",
            ExecFailure,
        ),
        (
            "CannotStartContainerError: … unable to start container process: exec: \"/entrypoint.sh\": permission denied: unkn",
            ExecFailure,
        ),
        ("CannotStartContainerError: exec: 'node': executable file not fou", ExecFailure),
        ("starting container process caused: exec: \"npm\": executable not found", ExecFailure),
        ("standard_init_linux.go:228: exec user process caused: no such file or directory", ExecFailure),
        // Architecture mismatch is the image family's, even with exec wording.
        ("exec /usr/local/bin/app: exec format error", Foreign("image platform")),
        // §3.5 bad mount.
        (
            "CannotStartContainerError: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error mounting \"/var/lib/ecs/volumes/data\" to rootfs at \"/etc/app/config.yml\": mount /var/lib/ecs/volumes/data:/etc/app/config.yml (via /proc/self/fd/6), flags: 0x5000: not a directory: unknown",
            MountFailure,
        ),
        ("CannotStartContainerError: OCI runtime create failed: error mounting \"/data\" to rootf", MountFailure),
        // §3.5 runtime errors and timeouts.
        ("CannotCreateVolumeError: the agent can't create the volume mount", VolumeCreate),
        ("ContainerRuntimeError: failed to start container", RuntimeError),
        ("CannotStopContainerError: failed sending SIGTERM to container: context deadline exce", RuntimeError),
        ("CannotStopContainerError: failed sending SIGTERM to container", RuntimeError),
        ("CannotInspectContainerError: Could not transition to inspecting", RuntimeTimeout),
        ("CannotInspectContainerError: no such container", RuntimeError),
        ("CannotStartContainerError: failed to get container status: <reason>", RuntimeError),
        ("ContainerRuntimeTimeoutError: Could not transition to running; timed out after waiting 1m: <reason>", RuntimeTimeout),
        ("DockerTimeoutError: Could not transition to created; timed out after waiting 4m0s", RuntimeTimeout),
        ("dockertimeouterror unable transition start timeout after wait 3m0s", RuntimeTimeout),
        ("InternalError: failed to start the task", RuntimeError),
        ("DockerStateError: container in unexpected state", RuntimeError),
        // §3.7 health checks.
        ("Task failed container health checks", ContainerHealth),
        ("Task failed container health ch", ContainerHealth),
        (
            "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef)",
            ElbHealth,
        ),
        ("Task failed ELB health checks in (elb web-elb)", ElbHealth),
        ("Task failed ELB health chec", ElbHealth),
        (
            "(service web) (task 0123) (port 8080) is unhealthy in (target-group arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/1) due to (reason Health checks failed with these codes: [503])",
            ElbHealth,
        ),
        // §3.7 deployment, maintenance; §3.8 Spot and user stops.
        ("Scaling activity initiated by (deployment ecs-svc/1234567890123456789)", Deployment),
        ("Scaling activity initiated b", Deployment),
        ("scaling activity INITIATED BY (DEPLOYMENT ecs-svc/1)", Deployment),
        (
            "Service web: ECS is performing maintenance on the underlying infrastructure hosting the task",
            Maintenance,
        ),
        ("ECS is performing maintenance on the underlying infrastr", Maintenance),
        ("Your Spot Task was interrupted.", Spot),
        ("Your Spot Task was interru", Spot),
        ("Task stopped by user", UserStop),
        ("Container instance deregistration forced by user", UserStop),
        ("Host EC2 (instance i-0123456789abcdef0) stopped/terminated", HostLifecycle),
        // §2 EssentialContainerExited and the opaque console text.
        ("Essential container in task exited", EssentialExited),
        ("Essential container in ta", EssentialExited),
        ("Task failed to start", FailedToStartBare),
        // Other families' texts are recognised as theirs.
        (
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 1.dkr.ecr.us-east-1.amazonaws.com/web:v3: not found",
            Foreign("image pull"),
        ),
        (
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException",
            Foreign("image pull"),
        ),
        ("ResourceInitializationError: failed to initialize logging driver: <reason>", Foreign("task resources (secrets, logging, IAM)")),
        ("Timeout waiting for network interface provisioning to complete.", Foreign("network")),
        ("TaskFailedToStart: RESOURCE:MEMORY", Foreign("placement")),
        ("The selected task definition is not compatible with the selected compute strategy", Foreign("placement")),
    ];

    #[test]
    fn every_catalogue_text_lands_in_its_kind() {
        let mut wrong = Vec::new();
        for (text, want) in CASES {
            let got = kind(text);
            if got != Some(*want) {
                wrong.push(format!("{text:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "misclassified:\n{}", wrong.join("\n"));
    }

    #[test]
    fn curly_apostrophes_and_odd_spacing_do_not_matter() {
        assert_eq!(
            kind("CannotCreateVolumeError: the agent can’t  create the volume"),
            Some(VolumeCreate)
        );
        assert_eq!(
            kind("Task   failed\ncontainer HEALTH checks"),
            Some(ContainerHealth)
        );
    }

    #[test]
    fn ordinary_words_do_not_match() {
        for text in ["", "all good", "Stopped", "Task is stopping"] {
            assert_eq!(kind(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_mount_word_without_runtime_context_is_not_a_mount_failure() {
        assert_ne!(kind("mount point /data is read-only"), Some(MountFailure));
    }

    #[test]
    fn dependency_failures_name_who_waited_for_what() {
        use crate::evidence::ContainerDependency;
        use crate::fixtures::{stopped, EvidenceExt};
        let ev = stopped("TaskFailedToStart", "Task failed to start")
            .sidecar("migrate", false)
            .exit("migrate", Some(1), None)
            .def("web", |d| {
                d.depends_on.push(ContainerDependency {
                    container_name: "migrate".into(),
                    condition: "SUCCESS".into(),
                })
            });
        let f = dependency_failure(&ev).expect("a failed dependency");
        assert_eq!(f.dependent, "web");
        assert_eq!(f.dependency.name, "migrate");
        assert!(
            f.describe().contains("exited with code 1"),
            "{}",
            f.describe()
        );
        assert!(f.describe().contains("3 minutes"));

        let healthy = stopped("TaskFailedToStart", "Task failed to start")
            .sidecar("proxy", true)
            .exit("proxy", Some(137), None)
            .def("proxy", |d| d.start_timeout = Some(60))
            .def("web", |d| {
                d.depends_on.push(ContainerDependency {
                    container_name: "proxy".into(),
                    condition: "HEALTHY".into(),
                })
            });
        let f = dependency_failure(&healthy).expect("an unhealthy dependency");
        assert!(f.describe().contains("never became healthy"));
        assert!(f.describe().contains("startTimeout is 60s"));

        // The dependent ran: nothing was waiting.
        let ran = ev.clone().exit("web", Some(0), None);
        assert!(dependency_failure(&ran).is_none());
    }

    #[test]
    fn stop_requests_are_told_from_exits() {
        use crate::fixtures::stopped;
        assert!(stop_request(&stopped("UserInitiated", "Task stopped by user")).is_some());
        assert!(stop_request(&stopped(
            "ServiceSchedulerInitiated",
            "Scaling activity initiated by (deployment ecs-svc/1)"
        ))
        .is_some());
        assert!(stop_request(&stopped(
            "SpotInterruption",
            "Your Spot Task was interrupted."
        ))
        .is_some());
        assert!(stop_request(&stopped("", "Task stopped by user")).is_some());
        assert!(stop_request(&stopped(
            "EssentialContainerExited",
            "Essential container in task exited"
        ))
        .is_none());
        assert!(stop_request(&stopped("SomethingNew", "mystery")).is_none());
    }
}

/// The whole pipeline over the catalogue: stop code × reason × container
/// exit code and reason → the top candidate, including truncated and
/// re-worded texts, multi-container tasks and unknown future stop codes.
#[cfg(test)]
mod catalogue_tests {
    use crate::codes::Cause;
    use crate::evidence::Evidence;
    use crate::fixtures::{stopped, EvidenceExt};

    struct Row {
        stop_code: &'static str,
        reason: &'static str,
        exit: Option<i32>,
        container_reason: Option<&'static str>,
        log: &'static [&'static str],
        want: Cause,
    }

    const fn row(
        stop_code: &'static str,
        reason: &'static str,
        exit: Option<i32>,
        want: Cause,
    ) -> Row {
        Row {
            stop_code,
            reason,
            exit,
            container_reason: None,
            log: &[],
            want,
        }
    }

    const ECE: &str = "EssentialContainerExited";
    const EXITED: &str = "Essential container in task exited";
    const SSI: &str = "ServiceSchedulerInitiated";

    fn rows() -> Vec<Row> {
        use Cause::*;
        vec![
            // Exit codes of the essential container (§3.10).
            Row { log: &["Error: connect ECONNREFUSED 10.0.3.25:5432"], ..row(ECE, EXITED, Some(1), AppExitError) },
            row(ECE, EXITED, Some(134), AppExitError),
            row(ECE, EXITED, Some(139), AppExitError),
            row(ECE, EXITED, Some(2), AppExitError),
            row(ECE, EXITED, Some(0), AppExitZero),
            row(ECE, EXITED, Some(126), AppCommandNotFound),
            row(ECE, EXITED, Some(127), AppCommandNotFound),
            row(ECE, EXITED, Some(137), AppOutOfMemory),
            row(ECE, EXITED, Some(143), AppExitError),
            row(ECE, "Essential container in ta", Some(1), AppExitError),
            // OOM in every spelling (§3.6).
            Row { container_reason: Some("OutOfMemoryError: Container killed due to memory usage"), ..row(ECE, EXITED, Some(137), AppOutOfMemory) },
            Row { container_reason: Some("OutOfMemoryError: container killed due to memory usage"), ..row(ECE, EXITED, Some(137), AppOutOfMemory) },
            Row { container_reason: Some("OutOfMemoryErr"), ..row(ECE, EXITED, Some(137), AppOutOfMemory) },
            row(ECE, "OutOfMemoryError: Container killed due to memory usa", Some(137), AppOutOfMemory),
            // CannotStartContainerError: exec failures and mounts (§3.5).
            row("TaskFailedToStart", "CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"gunicorn\": executable file not found in $PATH: unknown", None, AppCommandNotFound),
            row("TaskFailedToStart", "CannotStartContainerError: … exec: \"/entrypoint.sh\": permission den", None, AppCommandNotFound),
            row("TaskFailedToStart", "CannotStartContainerError: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error mounting \"/var/lib/ecs/volumes/cfg\" to rootfs at \"/etc/app/config.yml\": not a directory: unknown", None, PlatformError),
            // Runtime errors and timeouts (§3.5).
            row("TaskFailedToStart", "ContainerRuntimeError: failed to start", None, PlatformError),
            row("TaskFailedToStart", "ContainerRuntimeTimeoutError: Could not transition to running; timed out after waiting 1m: <reason>", None, PlatformError),
            row("TaskFailedToStart", "DockerTimeoutError: Could not transition to created; timed out after waiting 4m0s", None, PlatformError),
            row("TaskFailedToStart", "CannotStopContainerError: failed sending SIGTERM to container: <reason>", None, PlatformError),
            row("TaskFailedToStart", "CannotInspectContainerError: <reason>", None, PlatformError),
            row("TaskFailedToStart", "CannotCreateVolumeError: the agent can’t create the volume", None, PlatformError),
            row("TaskFailedToStart", "InternalError: failed to start", None, PlatformError),
            row("InfrastructureHealth", "", None, PlatformError),
            // Health checks (§3.7).
            row(SSI, "Task failed container health checks", Some(143), AppHealthCheckFailed),
            row(SSI, "Task failed container health ch", Some(0), AppHealthCheckFailed),
            row(SSI, "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef)", Some(143), LbHealthCheckFailed),
            row(SSI, "Task failed ELB health checks in (elb web-elb)", Some(0), LbHealthCheckFailed),
            row(SSI, "task FAILED elb health chec", Some(0), LbHealthCheckFailed),
            // Benign stops (§3.7, §3.8) and their forced kills.
            row(SSI, "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)", Some(0), StoppedByDeployment),
            row(SSI, "Scaling activity initiated b", Some(143), StoppedByDeployment),
            row(SSI, "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)", Some(137), AppSigtermTimeout),
            row("UserInitiated", "Task stopped by user", Some(143), StoppedByUser),
            row("UserInitiated", "nightly cleanup by ops", Some(0), StoppedByUser),
            row("UserInitiated", "Task stopped by user", Some(137), AppSigtermTimeout),
            row("SpotInterruption", "Your Spot Task was interrupted.", Some(143), SpotInterruption),
            row("TerminationNotice", "Your Spot Task was interru", Some(143), SpotInterruption),
            row(SSI, "Service web: ECS is performing maintenance on the underlying infrastructure hosting the task", Some(0), PlatformMaintenance),
            row(SSI, "ECS is performing maintenance on the underlying infrastr", Some(143), PlatformMaintenance),
            // Unknown future stop codes and unmatched or opaque reasons (§2, §3.4).
            row("WorkloadRebalancing", "Task moved to rebalance placement", Some(143), Unknown),
            row(SSI, "Frobnicator overheated", Some(143), Unknown),
            row("TaskFailedToStart", "Task failed to start", None, Unknown),
        ]
    }

    fn evidence(r: &Row) -> Evidence {
        let mut ev = stopped(r.stop_code, r.reason).exit("web", r.exit, r.container_reason);
        if !r.log.is_empty() {
            ev = ev.log("web", r.log);
        }
        if r.reason.to_ascii_lowercase().contains("spot") {
            ev.task.capacity_provider_name = Some("FARGATE_SPOT".into());
        }
        if r.reason.to_ascii_lowercase().contains("container health") {
            ev = ev.def("web", |d| {
                d.health_check = Some(crate::evidence::HealthCheck {
                    command: vec![
                        "CMD-SHELL".into(),
                        "curl -f http://localhost:8080/ || exit 1".into(),
                    ],
                    ..Default::default()
                })
            });
        }
        ev
    }

    #[test]
    fn every_row_ranks_its_cause_first() {
        let mut wrong = Vec::new();
        for r in rows() {
            let report = crate::diagnose(&evidence(&r), "test");
            let top = report.candidates.first().map(|c| c.code);
            if top != Some(r.want) {
                wrong.push(format!(
                    "{} / {:?} / exit {:?} / {:?}: got {:?}, want {}",
                    r.stop_code,
                    r.reason,
                    r.exit,
                    r.container_reason,
                    report
                        .candidates
                        .iter()
                        .map(|c| (c.code, c.confidence))
                        .collect::<Vec<_>>(),
                    r.want
                ));
            }
            let failure = report.has_failure();
            if failure == r.want.is_benign() {
                wrong.push(format!(
                    "{:?}: has_failure = {failure} for {}",
                    r.reason, r.want
                ));
            }
        }
        assert!(wrong.is_empty(), "misranked:\n{}", wrong.join("\n"));
    }

    #[test]
    fn a_sidecar_killed_after_the_app_never_outranks_it() {
        for (sidecar_exit, app_exit, want) in [
            (137, Some(1), Cause::AppExitError),
            (143, Some(1), Cause::AppExitError),
            (137, Some(0), Cause::AppExitZero),
            (143, Some(127), Cause::AppCommandNotFound),
        ] {
            let ev = stopped(ECE, EXITED)
                .sidecar("envoy", true)
                .exit("envoy", Some(sidecar_exit), None)
                .exit("web", app_exit, None);
            let report = crate::diagnose(&ev, "test");
            assert_eq!(
                report.candidates[0].code, want,
                "{sidecar_exit}/{app_exit:?}: {:?}",
                report.candidates
            );
            assert!(
                !report
                    .candidates
                    .iter()
                    .any(|c| matches!(c.code, Cause::AppOutOfMemory | Cause::AppSigtermTimeout)),
                "the sidecar's {sidecar_exit} was blamed: {:?}",
                report.candidates
            );
        }
    }

    #[test]
    fn other_families_texts_are_left_to_them() {
        for (code, reason) in [
            ("TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 1.dkr.ecr.us-east-1.amazonaws.com/web:v3: not found"),
            ("TaskFailedToStart", "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException"),
            ("TaskFailedToStart", "ResourceInitializationError: failed to initialize logging driver: <reason>"),
            ("TaskFailedToStart", "Timeout waiting for network interface provisioning to complete."),
            ("TaskFailedToStart", "CannotPullContainerError: exec format error"),
        ] {
            let report = crate::diagnose(&stopped(code, reason), "test");
            let mine: Vec<_> = report
                .candidates
                .iter()
                .filter(|c| {
                    c.code.family() == crate::codes::Family::App
                        || matches!(c.code, Cause::PlatformError | Cause::Unknown | Cause::StoppedByDeployment | Cause::StoppedByUser | Cause::SpotInterruption | Cause::PlatformMaintenance)
                })
                .map(|c| c.code)
                .collect();
            assert!(mine.is_empty(), "{reason}: claimed by {mine:?}");
        }
    }
}
