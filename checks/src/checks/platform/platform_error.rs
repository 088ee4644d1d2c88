//! ## What it detects
//! The container runtime or the ECS platform failed rather than the
//! application: `ContainerRuntimeError`, `ContainerRuntimeTimeoutError` /
//! `DockerTimeoutError` («Could not transition to running; timed out after
//! waiting …»), `CannotStopContainerError`, `CannotInspectContainerError`,
//! `CannotCreateContainerError`, `DockerStateError`, `InternalError`, a
//! `CannotStartContainerError` that is neither an exec failure nor memory,
//! `CannotCreateVolumeError`, a volume that could not be mounted into the
//! container (`error mounting … to rootfs`), and the undocumented
//! `stopCode = InfrastructureHealth`.
//!
//! ## Why it matters
//! These errors say little about the application. Most are transient and a
//! new task succeeds; when they repeat, the task definition (a volume or
//! mount) or the platform version is usually involved, and the next step is
//! a support case. A start timeout on platform version 1.3 usually hides a
//! network problem reaching the registry.
//!
//! ## Example
//! ```text
//! stopCode = TaskFailedToStart
//! container web: reason = "ContainerRuntimeTimeoutError: Could not transition to running; timed out after waiting 1m: …"
//! ```
//!
//! ## How to fix
//! Retry. If the error repeats, check the volumes and mount points the
//! message names, the image size (slow pulls push starts past the timeout),
//! and the platform version; then open an AWS Support case with the task ARN
//! and the full reason.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-runtime-error.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cannot-create-volume.html

use crate::context::Ctx;
use crate::stops::StopCode;
use crate::codes::Cause;
use crate::evidence::Evidence;
use crate::report::{Finding, Strength, Verdict};
use crate::stops::{Source, StopKind, StopText};

const KINDS: &[StopKind] = &[StopKind::MountFailure, StopKind::VolumeCreate, StopKind::RuntimeTimeout, StopKind::RuntimeError];

/// The `<ErrorName>` prefix of an agent message, if it has one.
pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    if !ev.is_stopped() {
        return Verdict::Skipped("the task is not stopped".into());
    }
    let hit: Option<(StopKind, StopText)> = KINDS
        .iter()
        .find_map(|k| ctx.stops.find(*k).map(|t| (*k, t.clone())));
    let stop = StopCode::of(ev);
    let Some((kind, text)) = hit else {
        if stop == StopCode::InfrastructureHealth {
            return infrastructure_health(ev).into_verdict();
        }
        return Verdict::Pass("no runtime, volume or platform error in the stop reasons".into());
    };
    let container = match &text.source {
        Source::Container(n) => Some(n.clone()),
        Source::Task | Source::EbsAttachment(_) => None,
    };
    let on = container.as_deref().map(|n| format!(" (container `{n}`)")).unwrap_or_default();
    let name = text.error_name().map(str::to_string);
    let title = match kind {
        StopKind::MountFailure => match text.mount_target() {
            Some(p) => format!("A volume could not be mounted at `{p}`{on}: the runtime refused the mount"),
            None => format!("A volume could not be mounted{on}: the runtime refused the mount"),
        },
        StopKind::VolumeCreate => "ECS could not create a volume of the task (CannotCreateVolumeError)".to_string(),
        StopKind::RuntimeTimeout => format!("The container runtime timed out changing the container's state{on}"),
        _ => format!(
            "The container runtime failed{on}: {}",
            name.clone().unwrap_or_else(|| "runtime error".into())
        ),
    };
    let old_platform = ev
        .task
        .platform_version
        .as_deref()
        .is_some_and(|v| v.starts_with("1.3") || v.starts_with("1.2") || v.starts_with("1.1") || v.starts_with("1.0"));
    let mut f = Finding::new(Cause::PlatformError, Strength::Direct, title).evidence(format!(
        "stopCode = {}; {}",
        ev.task.stop_code.as_deref().unwrap_or("unset"),
        text.quote()
    ));
    if let Some(pv) = &ev.task.platform_version {
        f = f.evidence(format!("platformVersion = {pv}"));
    }
    if kind == StopKind::RuntimeTimeout && old_platform {
        f = f.against("on platform version 1.3 and earlier a start timeout usually means the task could not reach the image registry: see the network checks");
        f.strength = Strength::Corroborating;
    }
    let repeating = ev.service.value().and_then(|s| {
        s.events
            .iter()
            .find(|e| crate::text::contains_any(&e.message, &["unable to consistently start tasks", "deployment failed"]))
    });
    if let Some(e) = repeating {
        f = f.evidence(format!("the service keeps failing the same way: \"{}\"", e.message));
    }
    f = match kind {
        StopKind::MountFailure => {
            let target = text.mount_target().unwrap_or_else(|| "<containerPath>".into());
            f.fix(format!(
                "Check the container's `mountPoints` entry for `{target}` and its volume: a directory volume cannot be mounted over a file of the image (and a file not over a directory), and the path must be absolute."
            ))
            .fix("Register a corrected task definition revision and redeploy.")
        }
        StopKind::VolumeCreate => f
            .fix("Check the task definition's `volumes`: the EFS file system and access point ids, the EFS mount targets in the task's subnets, and (for Docker volumes on EC2) the driver and its options.")
            .fix(format!("Retry once; if it repeats, {}", support_case(ev))),
        StopKind::RuntimeTimeout => f
            .fix("Retry; if it repeats, look at the image size (a slow pull pushes the start past the timeout) and the container's `startTimeout`.")
            .fix("On platform version 1.3 or earlier, check the network path to the registry (see the network checks) and consider `LATEST` (1.4.0).")
            .fix(format!("If it keeps happening, {}", support_case(ev))),
        _ => f
            .fix("This is an error of the container runtime, not of the application: run the task again (a service does so by itself).")
            .fix(format!("If it repeats, {}", support_case(ev))),
    };
    f.doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html")
        .into_verdict()
}

/// What AWS Support needs to look into a platform failure (a stopped task
/// is forgotten within the hour, so collect it now).
fn support_case(ev: &Evidence) -> String {
    let t = &ev.task;
    format!(
        "open an AWS Support case with the task ARN ({}), the Region ({}), the platform version ({}), the stop time ({}), the stop code and the full stopped reason; ECS forgets a stopped task within about an hour, so save them now with `ecs-doctor task … --save-evidence FILE` and attach the file.",
        t.arn,
        ev.region,
        t.platform_version.as_deref().unwrap_or("unknown"),
        t.timestamps.stopped_at.as_deref().unwrap_or("unknown"),
    )
}

fn infrastructure_health(ev: &Evidence) -> Finding {
    let mut f = Finding::new(
        Cause::PlatformError,
        Strength::Circumstantial,
        "ECS stopped the task for the health of the infrastructure under it (InfrastructureHealth)",
    )
    .evidence(format!(
        "stopCode = InfrastructureHealth; stoppedReason = \"{}\"",
        ev.task.stopped_reason.as_deref().unwrap_or("")
    ))
    .evidence("InfrastructureHealth is a 2026 stop code without documentation: it relates to the agent's connectivity or the host's health, not to the application");
    if ev.task.launch_type.as_deref().is_some_and(|l| l.eq_ignore_ascii_case("EC2")) {
        f = f.fix("Check the container instance: `aws ecs describe-container-instances` (agentConnected, status) and its EC2 status checks.");
    }
    f.fix(format!("Run the task again; if it repeats, {}", support_case(ev)))
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    
    use crate::testkit::found;

    crate::check_under_test!();
    use crate::testkit::{running, stopped, EvidenceExt};


    #[test]
    fn runtime_errors_are_named() {
        let ev = stopped("TaskFailedToStart", "Essential container in task exited")
            .exit("web", None, Some("ContainerRuntimeError: failed to start container: internal"));
        let f = found(check(&ev));
        assert_eq!(f.title, "The container runtime failed (container `web`): ContainerRuntimeError");
        assert!(f.evidence[0].contains("container `web` reason = \"ContainerRuntimeError"));
        assert!(!f.code.is_benign());
    }

    #[test]
    fn timeouts_are_weaker_on_old_platforms() {
        let mut ev = stopped("TaskFailedToStart", "DockerTimeoutError: Could not transition to created; timed out after waiting 4m0s");
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        ev.task.platform_version = Some("1.3.0".into());
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Corroborating);
        assert_eq!(f.against.len(), 1);
        // Retry guidance, and what AWS Support needs, saved before ECS forgets the task.
        let support = f.fix.iter().find(|x| x.contains("AWS Support")).expect("a support line");
        assert!(support.contains(&ev.task.arn) && support.contains("platform version (1.3.0)") && support.contains("--save-evidence"), "{support}");
        assert!(f.fix[0].starts_with("Retry"), "{:?}", f.fix);
    }

    #[test]
    fn a_bad_mount_names_the_path() {
        let reason = "CannotStartContainerError: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error mounting \"/var/lib/ecs/volumes/cfg\" to rootfs at \"/etc/app/config.yml\": mount …: not a directory: unknown";
        let f = found(check(&stopped("TaskFailedToStart", "Essential container in task exited").exit("web", None, Some(reason))));
        assert!(f.title.contains("mounted at `/etc/app/config.yml` (container `web`)"), "{}", f.title);
        assert!(f.fix[0].contains("mountPoints"));
    }

    #[test]
    fn volume_and_other_runtime_names_are_found() {
        for reason in [
            "CannotCreateVolumeError: the agent can’t create the volume",
            "CannotStopContainerError: failed sending SIGTERM to container",
            "CannotInspectContainerError: no such container",
            "InternalError: failed to start",
        ] {
            assert!(matches!(check(&stopped("TaskFailedToStart", reason)), Verdict::Found(_)), "{reason}");
        }
    }

    #[test]
    fn infrastructure_health_is_low_confidence() {
        let f = found(check(&stopped("InfrastructureHealth", "")));
        assert_eq!(f.strength, Strength::Circumstantial);
    }

    #[test]
    fn exec_failures_oom_and_app_exits_are_not_platform_errors() {
        for (code, reason) in [
            ("TaskFailedToStart", "CannotStartContainerError: exec: \"gunicorn\": executable file not found in $PATH"),
            ("EssentialContainerExited", "OutOfMemoryError: Container killed due to memory usage"),
            ("EssentialContainerExited", "Essential container in task exited"),
            ("TaskFailedToStart", "InternalError: failed to attach network interface"),
        ] {
            assert!(matches!(check(&stopped(code, reason)), Verdict::Pass(_)), "{reason}");
        }
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
    }
}
