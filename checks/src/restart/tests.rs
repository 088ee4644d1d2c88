use super::*;
use crate::evidence::ContainerRestartPolicy;
use crate::testkit::{exited, EvidenceExt};

/// Node's message when its database refuses the connection.
const REFUSED: &str = "Error: connect ECONNREFUSED 10.0.3.25:5432";

fn with_policy(ev: Evidence, ignored: &[i32], period: Option<i32>) -> Evidence {
    ev.def("web", |d| {
        d.restart_policy = Some(ContainerRestartPolicy {
            enabled: true,
            ignored_exit_codes: ignored.to_vec(),
            restart_attempt_period: period,
        })
    })
}

fn read(ev: &Evidence) -> Option<RestartReading> {
    reading(ev, &ev.task.containers[0])
}

#[test]
fn no_policy_or_a_disabled_one_reads_nothing() {
    let ev = exited().exit("web", Some(1), None);
    assert_eq!(read(&ev), None);
    let off = ev.def("web", |d| {
        d.restart_policy = Some(ContainerRestartPolicy {
            enabled: false,
            ..Default::default()
        })
    });
    assert_eq!(read(&off), None);
}

#[test]
fn a_task_shorter_than_the_period_was_never_restarted() {
    // The task ran 30 s (11:59:30 to 12:00:00), less than the default 300 s.
    let ev = with_policy(exited().exit("web", Some(1), None), &[], None);
    let r = read(&ev).expect("a reading");
    assert_eq!(r.period, 300);
    assert_eq!(r.why, NotRestarted::FirstRunTooShort { ran: 30 });
    let lines = r.evidence().join("\n");
    assert!(lines.contains("restartAttemptPeriod 300 s"), "{lines}");
    assert!(lines.contains("the task ran 30 seconds in all"), "{lines}");
    assert!(lines.contains("never restarted"), "{lines}");
}

#[test]
fn a_first_run_counts_no_repeats_even_when_a_line_recurs() {
    // A retry loop within one run repeats its line: no restart is claimed.
    let ev =
        with_policy(exited().exit("web", Some(1), None), &[], None).log("web", &[REFUSED, REFUSED]);
    let r = read(&ev).expect("a reading");
    assert_eq!(r.why, NotRestarted::FirstRunTooShort { ran: 30 });
    assert_eq!(r.repeats, None);
    assert!(!r.evidence().join("\n").contains("2 times"));
}

#[test]
fn an_ignored_exit_code_is_final_whatever_the_run_time() {
    let ev = with_policy(exited().exit("web", Some(0), None), &[0], Some(60));
    let r = read(&ev).expect("a reading");
    assert_eq!(r.why, NotRestarted::IgnoredExitCode { code: 0 });
    assert!(r.fix().contains("ignoredExitCodes"), "{}", r.fix());
}

#[test]
fn a_long_task_may_have_restarted_and_its_log_shows_the_repeats() {
    let mut ev = with_policy(exited().exit("web", Some(1), None), &[], Some(120));
    ev.task.timestamps.started_at = Some("2026-01-01T11:40:00Z".into());
    ev = ev.log(
        "web",
        &[
            "[boot] starting",
            REFUSED,
            "[boot] starting",
            REFUSED,
            "[boot] starting",
            REFUSED,
        ],
    );
    let r = read(&ev).expect("a reading");
    assert_eq!(
        r.why,
        NotRestarted::WithinPeriodOfLastStart { ran: Some(1200) }
    );
    let repeats = r.repeats.clone().expect("the refusal repeats");
    assert_eq!(repeats.count, 3);
    let lines = r.evidence().join("\n");
    assert!(
        lines.contains("less than 120 s after its last start"),
        "{lines}"
    );
    assert!(
        lines.contains("ECS may have restarted it in place before"),
        "{lines}"
    );
    assert!(lines.contains(&format!("\"{REFUSED}\" 3 times")), "{lines}");
}

#[test]
fn a_non_essential_container_is_not_read() {
    let ev = with_policy(exited().exit("web", Some(1), None), &[], None)
        .def("web", |d| d.essential = false);
    assert_eq!(read(&ev), None);
}

#[test]
fn the_exit_checks_carry_the_reading() {
    let ev = with_policy(
        exited().exit("web", Some(1), None).log("web", &[REFUSED]),
        &[],
        None,
    );
    let f = crate::testkit::found(crate::testkit::run(
        crate::checks::app::app_exit_error::check,
        &ev,
    ));
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("has a restart policy")),
        "{:?}",
        f.evidence
    );
    assert!(
        f.fix.iter().any(|x| x.contains("restartAttemptPeriod")),
        "{:?}",
        f.fix
    );
    // Without a policy, nothing is said of restarts.
    let plain = exited().exit("web", Some(1), None).log("web", &[REFUSED]);
    let f = crate::testkit::found(crate::testkit::run(
        crate::checks::app::app_exit_error::check,
        &plain,
    ));
    assert!(
        !f.evidence.iter().any(|e| e.contains("restart policy")),
        "{:?}",
        f.evidence
    );
}
