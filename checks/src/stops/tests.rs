//! The catalogue's tests: every text of the facts catalogue lands in its
//! kind, and the whole pipeline ranks each stop code × reason × exit right.

mod kinds {
    use super::super::*;
    use crate::task::dependency_failure;
    use StopKind::*;

    #[test]
    fn stop_codes_including_unknown_future_values() {
        assert_eq!(
            StopCode::parse(Some("TaskFailedToStart")),
            StopCode::TaskFailedToStart
        );
        assert_eq!(
            StopCode::parse(Some("InfrastructureHealth")),
            StopCode::InfrastructureHealth
        );
        assert_eq!(
            StopCode::parse(Some("TerminationNotice")),
            StopCode::TerminationNotice
        );
        assert_eq!(
            StopCode::parse(Some("SomethingNew")),
            StopCode::Other("SomethingNew".into())
        );
        assert_eq!(StopCode::parse(None), StopCode::None);
    }

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
        ("exec /usr/local/bin/app: exec format error", ImagePlatform),
        // §3.3 EFS: the mount helper's words, whatever step failed.
        (
            "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: mount.nfs4: Connection timed out : unsuccessful EFS utils command execution; code: 32",
            EfsMount,
        ),
        (
            "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: b'mount.nfs4: access denied by server while mounting 127.0.0.1:/'",
            EfsMount,
        ),
        ("Failed to resolve \"fs-1.efs.us-east-1.amazonaws.com\" - ensure that the VPC has an EFS mount target", EfsMount),
        // A full disk, at pull time or at run time.
        (
            "CannotPullContainerError: failed to register layer: write /usr/lib/libLLVM.so: no space left on device",
            DiskFull,
        ),
        ("CannotPullContainerError: failed to extract layer sha256:9f3…: write /var/lib/containerd/…: no space left on devi", DiskFull),
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
            ImagePull,
        ),
        (
            // A secret, not an image: the wrapper names neither.
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException",
            TaskResources,
        ),
        ("ResourceInitializationError: failed to initialize logging driver: <reason>", TaskResources),
        ("Timeout waiting for network interface provisioning to complete.", Network),
        ("TaskFailedToStart: RESOURCE:MEMORY", Placement),
        ("The selected task definition is not compatible with the selected compute strategy", Placement),
    ];

    #[test]
    fn every_catalogue_text_lands_in_its_kind() {
        let mut wrong = Vec::new();
        for (text, want) in CASES {
            let got = classify(text).kind();
            if got != Some(*want) {
                wrong.push(format!("{text:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "misclassified:\n{}", wrong.join("\n"));
    }

    #[test]
    fn curly_apostrophes_and_odd_spacing_do_not_matter() {
        assert_eq!(
            classify("CannotCreateVolumeError: the agent can’t  create the volume").kind(),
            Some(VolumeCreate)
        );
        assert_eq!(
            classify("Task   failed\ncontainer HEALTH checks").kind(),
            Some(ContainerHealth)
        );
    }

    #[test]
    fn ordinary_words_do_not_match() {
        for text in ["", "all good", "Stopped", "Task is stopping"] {
            assert_eq!(classify(text).kind(), None, "{text:?}");
        }
    }

    #[test]
    fn a_mount_word_without_runtime_context_is_not_a_mount_failure() {
        assert_ne!(
            classify("mount point /data is read-only").kind(),
            Some(MountFailure)
        );
    }

    #[test]
    fn dependency_failures_name_who_waited_for_what() {
        use crate::evidence::ContainerDependency;
        use crate::testkit::{stopped, EvidenceExt};
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
        use crate::testkit::stopped;
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
mod catalogue_rows {
    use crate::codes::Cause;
    use crate::evidence::Evidence;
    use crate::testkit::{stopped, EvidenceExt};

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
                        || matches!(c.code, Cause::PlatformError | Cause::StoppedByDeployment | Cause::StoppedByUser | Cause::SpotInterruption | Cause::PlatformMaintenance)
                })
                .map(|c| c.code)
                .collect();
            assert!(mine.is_empty(), "{reason}: claimed by {mine:?}");
            // The fixture holds no image, secret or network facts: when the
            // family's checks cannot decide, the failure is unknown, not healthy.
            assert!(report.has_failure(), "{reason}: a failed start read as healthy");
            // Unknown, or explained by a check of another family.
            match report.candidates.iter().find(|c| c.code == Cause::Unknown) {
                Some(u) => assert!(u.title.starts_with("The task failed, and no check"), "{reason}: {}", u.title),
                None => assert!(!report.candidates.is_empty(), "{reason}: neither unknown nor explained"),
            }
        }
    }
}
