//! The corpus of real stop texts (`checks/src/corpus/real-stop-texts.jsonl`):
//! texts quoted verbatim from AWS documentation and public issue threads,
//! each with its source, where ECS shows it, the facts it states and the
//! facts a careless reader would wrongly take from it. This test holds the
//! corpus itself to that shape, so every row stays citable and labelled;
//! the classifier is held to the rows by the stop-text tests.

use std::collections::BTreeSet;

const FIELDS: &[&str] = &[
    "stoppedReason",
    "container.reason",
    "service-event",
    "runtask-failure",
    "ebs-attachment.statusReason",
    "app-log",
    "stopCode",
];

fn rows() -> Vec<serde_json::Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/corpus/real-stop-texts.jsonl"
    );
    std::fs::read_to_string(path)
        .expect("the corpus")
        .lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", i + 1))
        })
        .collect()
}

fn labels(row: &serde_json::Value, key: &str) -> Vec<String> {
    row[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is a list: {row}"))
        .iter()
        .map(|v| v.as_str().expect("a label").to_string())
        .collect()
}

#[test]
fn every_row_is_real_sourced_and_labelled() {
    let rows = rows();
    assert!(rows.len() >= 100, "{} rows", rows.len());
    let mut texts = BTreeSet::new();
    for row in &rows {
        let text = row["text"].as_str().expect("a text");
        assert!(!text.trim().is_empty(), "{row}");
        // The same text may come with different stop codes (Spot's notice
        // was `TerminationNotice`, now `SpotInterruption`), never twice alike.
        let key = (
            text.to_string(),
            row["field"].to_string(),
            row["stop_code"].to_string(),
        );
        assert!(texts.insert(key), "twice: {text}");
        let source = row["source"].as_str().expect("a source");
        assert!(source.starts_with("https://"), "a citable source: {row}");
        let field = row["field"].as_str().expect("a field");
        assert!(FIELDS.contains(&field), "field {field:?}: {row}");
        let states = labels(row, "states");
        let not = labels(row, "must_not_state");
        assert!(!states.is_empty(), "states something: {row}");
        for label in states.iter().chain(&not) {
            assert!(
                label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-:".contains(c))
                    || label.starts_with("permission-denied:"),
                "label {label:?}: {row}"
            );
        }
        for label in &states {
            assert!(
                !not.contains(label),
                "states and must not state {label}: {row}"
            );
        }
    }
}

/// How ecs-doctor reads one row, by where ECS shows the text: stop texts
/// through the one catalogue, service events through the events catalogue,
/// application log lines through the log classifier, stop codes as parsed.
/// `Some(true)` or `Some(false)` is whether the reading states the label;
/// `None` is a label ecs-doctor does not read from that kind of text.
mod reading {
    use ecs_doctor_checks::logs::{line_kind, LineKind};
    use ecs_doctor_checks::placement::Shortage;
    use ecs_doctor_checks::stops::chain::{Domain, Outcome};
    use ecs_doctor_checks::stops::{classify, Classified, Detail, StopCode, StopKind};
    use ecs_doctor_checks::sweep::events::{kind_of, shortage_of, EventKind};

    /// The placement labels, each a shortage: read the same from a stop
    /// text and from a scheduler event.
    fn shortage_label(label: &str) -> Option<Shortage> {
        Some(match label {
            "capacity-unavailable" => Shortage::FargateCapacity,
            "insufficient-cpu" => Shortage::Cpu,
            "insufficient-memory" => Shortage::Memory,
            "host-port-unavailable" => Shortage::Ports,
            "eni-limit" => Shortage::Eni,
            "no-container-instances" => Shortage::NoInstances,
            "agent-disconnected" => Shortage::Agent,
            "missing-attribute" => Shortage::Attribute,
            "constraint-unsatisfied" => Shortage::Constraint,
            "az-mismatch" => Shortage::Location,
            "quota-exceeded" => Shortage::Quota,
            _ => return None,
        })
    }

    pub fn states(field: &str, text: &str, label: &str) -> Option<bool> {
        match field {
            "stoppedReason"
            | "container.reason"
            | "runtask-failure"
            | "ebs-attachment.statusReason" => stop_text(&classify(text), label),
            "service-event" => event(kind_of(text), text, label),
            "app-log" => log_line(line_kind(text), label),
            "stopCode" => stop_code(&StopCode::parse(Some(text)), label),
            other => panic!("field {other}"),
        }
    }

    fn stop_text(c: &Classified, label: &str) -> Option<bool> {
        use Detail as D;
        use StopKind as K;
        if let Some(action) = label.strip_prefix("permission-denied:") {
            return Some(
                c.reading
                    .denied_action
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(action)),
            );
        }
        if let Some(short) = shortage_label(label) {
            return Some(c.shortage == Some(short));
        }
        Some(match label {
            "image-pull-failed" => c.is(K::ImagePull) || c.states(D::ImagePullFailed),
            "image-missing" => c.states(D::ImageMissing),
            "registry-auth-refused" => c.states(D::RegistryAuthRefused),
            "connection-failed" => c.states(D::ConnectionFailed),
            "dns-failed" => c.states(D::DnsFailed),
            "rate-limited" => c.states(D::RateLimited),
            "secret-missing" => c.states(D::SecretMissing),
            "secret-retrieval-failed" => {
                c.states(D::AboutSecretsManager) || c.states(D::AboutParameterStore)
            }
            "log-group-missing" => c.states(D::LogGroupMissing),
            "log-driver-failed" => c.states(D::AboutLogs),
            "permission-denied" => c.reading.outcome == Some(Outcome::Denied),
            "kms-denied" => c.states(D::KmsDenied),
            "role-assume-failed" => c.states(D::AssumeRoleFailed),
            "out-of-memory" => c.is(K::OutOfMemory),
            "disk-full" => c.is(K::DiskFull),
            "platform-mismatch" => c.states(D::PlatformMismatch),
            "command-not-found" => c.is(K::ExecFailure),
            "efs-mount-failed" => c.is(K::EfsMount),
            "user-stopped" => c.is(K::UserStop),
            "spot-interrupted" => c.is(K::Spot),
            "maintenance" => c.is(K::Maintenance),
            "host-stopped" => c.is(K::HostLifecycle),
            "benign-deployment" => c.is(K::Deployment),
            "elb-health-check-failed" | "target-unhealthy" => c.is(K::ElbHealth),
            "container-health-check-failed" => c.is(K::ContainerHealth),
            "placement-failed" => c.is(K::Placement),
            "runtime-timeout" => c.is(K::RuntimeTimeout),
            "subnet-ip-exhausted" => c.states(D::NoFreeAddresses),
            "eni-provisioning-timeout" => c.states(D::EniProvisioning),
            "essential-container-exited" => c.is(K::EssentialExited),
            "task-failed-to-start" => c.is(K::FailedToStartBare),
            "text-cut" => c.is_cut(),
            "s3-layer-refused" | "layer-refused" => c.states(D::LayerRefused),
            "unsupported-media-type" => c.states(D::UnsupportedManifest),
            "port-conflict" => c.states(D::PortAllocated),
            "vpce-policy-denied" => c.states(D::EndpointPolicyDenied),
            "env-file-failed" => c.reading.areas.contains(&Domain::EnvFiles),
            "ebs-volume-failed" => c.is(K::EbsVolume),
            "ebs-role-unassumable" => c.states(D::EbsRoleUnassumable),
            "ebs-setup-failed" => c.states(D::EbsSetupFailed),
            "ebs-attach-timed-out" => c.states(D::EbsAttachTimedOut),
            _ => return None,
        })
    }

    fn event(kind: EventKind, text: &str, label: &str) -> Option<bool> {
        use EventKind as E;
        // The agent also fails outside placement (a start that timed out):
        // only a placement event's agent is read, as what it was short of.
        if label != "agent-disconnected" {
            if let Some(short) = shortage_label(label) {
                return Some(shortage_of(kind, text) == Some(short));
            }
        }
        Some(match label {
            "placement-failed" => kind == E::CannotPlaceTask || kind == E::NoFreeIps,
            "target-unhealthy" => kind == E::UnhealthyTargets,
            "start-impaired" => kind == E::FailingToStart,
            "deployment-failed" | "rollback" => kind == E::CircuitBreaker,
            "task-protection-blocking" => kind == E::TasksProtected,
            "role-assume-failed" => kind == E::UnableToAssumeRole,
            "target-registration-failed" => kind == E::TargetRegistrationFailed,
            "tasks-started" | "tasks-stopped" | "targets-registered" => kind == E::Routine,
            // A scheduler event quoting a stop text states what the text states.
            _ => return None,
        })
    }

    fn log_line(kind: Option<LineKind>, label: &str) -> Option<bool> {
        use LineKind as L;
        Some(match label {
            "port-conflict" => kind == Some(L::AddressInUse),
            "read-only-filesystem" => kind == Some(L::ReadOnlyFilesystem),
            // An ordinary start-up line states no failure of any kind.
            "starting" => kind.is_none(),
            "exec-format-error" => kind == Some(L::ExecFormat),
            "file-not-found" => kind == Some(L::MissingFile),
            "connection-failed" => matches!(kind, Some(L::ConnectionRefused | L::Timeout)),
            "permission-denied" => kind == Some(L::PermissionDenied),
            _ => return None,
        })
    }

    fn stop_code(code: &StopCode, label: &str) -> Option<bool> {
        Some(match label {
            "task-failed-to-start" => *code == StopCode::TaskFailedToStart,
            "essential-container-exited" => *code == StopCode::EssentialContainerExited,
            "user-stopped" => *code == StopCode::UserInitiated,
            "scheduler-stopped" => *code == StopCode::ServiceSchedulerInitiated,
            "spot-interrupted" => {
                matches!(
                    code,
                    StopCode::SpotInterruption | StopCode::TerminationNotice
                )
            }
            "infrastructure-health" => *code == StopCode::InfrastructureHealth,
            "host-stopped" | "benign-deployment" | "maintenance" | "out-of-memory" => false,
            "image-pull-failed" | "container-health-check-failed" | "elb-health-check-failed" => {
                false
            }
            _ => return None,
        })
    }
}

/// Facts ecs-doctor does not read from a kind of text yet, each with why
/// (`*`: from any kind of text). A new label must be read, or listed here:
/// a row is never silently unjudged.
const NOT_READ: &[(&str, &str, &str)] = &[
    (
        "*",
        "resource-init-failed",
        "the error name; every start-up failure's wrapper",
    ),
    ("*", "ref-unresolved", "a step of the pull, not an outcome"),
    (
        "*",
        "network-suspected",
        "AWS's hint, read as connection-failed where it says so",
    ),
    (
        "*",
        "registry-auth-fetch-failed",
        "the step; its outcome is read (connection, refusal)",
    ),
    (
        "*",
        "container-start-failed",
        "the error name; its cause is read",
    ),
    (
        "*",
        "container-create-failed",
        "the error name; its cause is read",
    ),
    (
        "*",
        "container-stop-failed",
        "the error name of a runtime failure",
    ),
    ("*", "runtime-error", "the error name of a runtime failure"),
    ("*", "internal-error", "AWS's own failure: no cause to read"),
    (
        "*",
        "layer-download-failed",
        "a step of the pull; its outcome is read",
    ),
    (
        "*",
        "layer-extract-failed",
        "a step of the pull; its outcome is read",
    ),
    (
        "*",
        "missing-or-denied",
        "ambiguous by design: neither missing nor refused is stated",
    ),
    (
        "*",
        "file-not-found",
        "a file named by a runtime text is the command's (command-not-found)",
    ),
    (
        "*",
        "exec-failed",
        "ECS Exec errors are read by the exec question, not as stop texts",
    ),
    (
        "*",
        "exec-agent-not-connected",
        "ECS Exec errors are read by the exec question",
    ),
    ("*", "service-unavailable", "an API error of ECS Exec"),
    (
        "*",
        "port-conflict",
        "read from the app's log lines and the task definition",
    ),
    (
        "*",
        "read-only-filesystem",
        "read from the app's log lines and the task definition",
    ),
    (
        "service-event",
        "agent-disconnected",
        "read from a placement event only, as what it was short of; the agent also fails outside placement",
    ),
    (
        "*",
        "provisioning-limit",
        "a placement detail: the placement failure is read",
    ),
    (
        "*",
        "compatibility-mismatch",
        "a registration error, not a stop",
    ),
    ("*", "invalid-task-size", "a registration error, not a stop"),
    (
        "*",
        "not-found",
        "RunTask's MISSING: the resource is not named",
    ),
    (
        "*",
        "eni-failed",
        "the network interface step; its outcome is read",
    ),
    (
        "*",
        "ebs-volume-failed",
        "ECS-managed EBS volumes are not diagnosed yet",
    ),
    (
        "*",
        "ebs-attach-timeout",
        "ECS-managed EBS volumes are not diagnosed yet",
    ),
    (
        "*",
        "volume-failed",
        "a volume driver's failure: platform-error reads the kind",
    ),
    (
        "*",
        "device-missing",
        "a device mapping: platform-error reads the kind",
    ),
    (
        "*",
        "efs-path-missing",
        "read by efs-mount-failed from the access point",
    ),
    (
        "*",
        "ephemeral-storage-timeout",
        "a provisioning timeout of Fargate storage",
    ),
    (
        "runtask-failure",
        "task-protection-blocking",
        "UpdateTaskProtection's own failure: ecs-doctor never calls it",
    ),
    (
        "*",
        "deployment-config-blocked",
        "the deployment configuration is not diagnosed yet",
    ),
    (
        "*",
        "throttled",
        "the scheduler's own throttling: no cause of a stop",
    ),
    (
        "*",
        "target-group-missing",
        "the target group's existence is read by lb-health-check-failed",
    ),
    (
        "*",
        "instance-role-used",
        "the principal of an app's refusal (task-role-permissions)",
    ),
    (
        "*",
        "metadata-endpoint-unreachable",
        "the task metadata endpoint is not diagnosed",
    ),
    ("*", "dns-failed", "an app log's failed lookup is the app's"),
    (
        "*",
        "exec-format-error",
        "a stop text's exec format error is platform-mismatch",
    ),
    (
        "*",
        "permission-denied",
        "a runtime's permission denied is the command's",
    ),
    ("*", "scheduler-stopped", "the stop code alone"),
    (
        "*",
        "text-cut-unmarked",
        "a text cut without ECS's marker cannot be told from a whole one",
    ),
    (
        "*",
        "infrastructure-role-assume-failed",
        "ECS-managed EBS volumes are not diagnosed yet",
    ),
    (
        "service-event",
        "image-pull-failed",
        "a scheduler event is read as its kind; the stopped tasks' own texts say more",
    ),
    (
        "service-event",
        "ref-unresolved",
        "a scheduler event is read as its kind",
    ),
    (
        "service-event",
        "registry-auth-refused",
        "a scheduler event is read as its kind; the stopped tasks' own texts say more",
    ),
    (
        "service-event",
        "platform-mismatch",
        "a scheduler event is read as its kind; the stopped tasks' own texts say more",
    ),
    (
        "service-event",
        "text-cut",
        "a scheduler event is read as its kind",
    ),
    (
        "service-event",
        "permission-denied",
        "a scheduler event is read as its kind",
    ),
    ("app-log", "disk-full", "the log classifier has no such kind: a log line is never read as it"),
    ("app-log", "placement-failed", "the log classifier has no such kind: a log line is never read as it"),
    ("app-log", "image-pull-failed", "the log classifier has no such kind: a log line is never read as it"),
    ("app-log", "command-not-found", "the log classifier has no such kind: a log line is never read as it"),
    ("app-log", "image-missing", "the log classifier has no such kind: a log line is never read as it"),
    ("app-log", "secret-retrieval-failed", "the log classifier has no such kind: a log line is never read as it"),
    ("app-log", "role-assume-failed", "the log classifier has no such kind: a log line is never read as it"),
    ("app-log", "app-exit-error", "the log classifier has no such kind: a log line is never read as it"),
    ("service-event", "container-health-check-failed", "the events catalogue has no such kind: an event is never read as it"),
    ("service-event", "out-of-memory", "the events catalogue has no such kind: an event is never read as it"),
    ("service-event", "task-failed-to-start", "the events catalogue has no such kind: an event is never read as it"),
    ("service-event", "image-missing", "the events catalogue has no such kind: an event is never read as it"),
    ("service-event", "user-stopped", "the events catalogue has no such kind: an event is never read as it"),
    ("service-event", "s3-layer-refused", "the events catalogue has no such kind: an event is never read as it"),
    ("service-event", "runtime-timeout", "the events catalogue has no such kind: an event is never read as it"),
    ("service-event", "rate-limited", "the events catalogue has no such kind: an event is never read as it"),
    ("service-event", "host-stopped", "the events catalogue has no such kind: an event is never read as it"),
    ("service-event", "benign-deployment", "the events catalogue has no such kind: an event is never read as it"),
    ("runtask-failure", "deployment-failed", "a RunTask failure is never read as a deployment"),
    ("stoppedReason", "deployment-failed", "a stop text is never read as a failed deployment (scaling by a deployment is the benign kind)"),
];

/// The catalogue holds every row: each label it reads is read as the row
/// says, what a row must not state is never stated, and every label is
/// either read or listed in `NOT_READ` with a reason.
#[test]
fn the_catalogue_reads_every_row_as_labelled() {
    let rows = rows();
    let mut wrong = Vec::new();
    let mut judged = 0;
    for (i, row) in rows.iter().enumerate() {
        let text = row["text"].as_str().unwrap();
        let field = row["field"].as_str().unwrap();
        for (label, want) in labels(row, "states").into_iter().map(|l| (l, true)).chain(
            labels(row, "must_not_state")
                .into_iter()
                .map(|l| (l, false)),
        ) {
            match reading::states(field, text, &label) {
                Some(got) => {
                    judged += 1;
                    if got != want {
                        wrong.push(format!(
                            "row {}: {} `{label}` but {}: {field} {text:?}",
                            i + 1,
                            if want { "states" } else { "must not state" },
                            if got { "it does" } else { "it does not" }
                        ));
                    }
                }
                None => {
                    let base = label.split(':').next().unwrap_or(&label).to_string();
                    let listed = NOT_READ
                        .iter()
                        .any(|(f, l, _)| (*f == "*" || *f == field) && (*l == base || *l == label));
                    if !listed {
                        wrong.push(format!("row {}: label `{label}` is neither read nor listed as not read ({field})", i + 1));
                    }
                }
            }
        }
    }
    assert!(judged > 400, "{judged} labels judged");
    assert!(
        wrong.is_empty(),
        "{} misreadings:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
