//! ## What it detects
//! Someone or something called `StopTask`: `stopCode = UserInitiated`, with
//! «Task stopped by user» or the custom `--reason` the caller passed (a CI
//! pipeline, Step Functions, a custom scheduler, the console). On EC2,
//! «Container instance deregistration forced by user» also lands here.
//!
//! ## Why it matters
//! The task did not fail; it was stopped on purpose. The question is who
//! stopped it and why, which CloudTrail answers.
//!
//! ## Example
//! ```text
//! stopCode      = UserInitiated
//! stoppedReason = Task stopped by user
//! container web: exitCode = 143 (handled SIGTERM)
//! ```
//!
//! ## How to fix
//! Nothing to fix in the task. To find the caller, look up the `StopTask`
//! call in CloudTrail (`aws cloudtrail lookup-events --lookup-attributes
//! AttributeKey=EventName,AttributeValue=StopTask`): `userIdentity` is who,
//! `requestParameters.reason` is why. If containers exit 137 on these stops,
//! they do not handle SIGTERM (see `app-sigterm-timeout`).
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html
//! - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events-cli.html

use crate::context::Ctx;
use crate::stops::StopCode;
use crate::codes::Cause;
use crate::report::{Finding, Strength, Verdict};
use crate::stops::StopKind;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let reason = ev.task.stopped_reason.clone().unwrap_or_default();
    let stop = StopCode::of(ev);
    let by_text = ctx.stops.task_is(StopKind::UserStop);
    let strength = match (&stop, by_text) {
        (StopCode::UserInitiated, _) => Strength::Direct,
        (StopCode::None | StopCode::Other(_), true) => Strength::Corroborating,
        _ => {
            return Verdict::Skipped(format!(
                "stopCode is {}, not a user stop",
                ev.task.stop_code.as_deref().unwrap_or("unset")
            ))
        }
    };
    let custom = !reason.is_empty() && !by_text;
    let title = if custom {
        format!("StopTask was called with the reason \"{reason}\": not a failure of the task")
    } else {
        "Someone or something called StopTask: not a failure of the task".to_string()
    };
    let mut f = Finding::new(Cause::StoppedByUser, strength, title).evidence(format!(
        "stopCode = {}; stoppedReason = \"{reason}\"",
        ev.task.stop_code.as_deref().unwrap_or("unset")
    ));
    if custom {
        f = f.evidence("the reason is custom text, so the caller passed `--reason` (a script, pipeline or scheduler)");
    }
    for c in &ev.task.containers {
        match c.exit_code {
            Some(143) => f = f.evidence(format!("container `{}` exitCode = 143: it handled SIGTERM", c.name)),
            Some(0) => f = f.evidence(format!("container `{}` exitCode = 0: it shut down cleanly", c.name)),
            Some(137) => {
                f = f.against(format!(
                    "container `{}` exitCode = 137: it was killed after stopTimeout, not a clean shutdown (app-sigterm-timeout)",
                    c.name
                ))
            }
            _ => {}
        }
    }
    let start = ev
        .task
        .timestamps
        .stopping_at
        .as_deref()
        .or(ev.task.timestamps.stopped_at.as_deref())
        .map(|t| format!(" --start-time {t}"))
        .unwrap_or_default();
    f.fix("Nothing to fix in the task: it was stopped on purpose.")
        .fix(format!(
            "Find who stopped it: `aws cloudtrail lookup-events --region {} --lookup-attributes AttributeKey=EventName,AttributeValue=StopTask{start}` (`userIdentity` is the caller, `requestParameters.reason` the reason).",
            ev.region
        ))
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::testkit::{running, stopped, EvidenceExt};

    #[test]
    fn a_user_stop_is_benign_and_points_at_cloudtrail() {
        let ev = stopped("UserInitiated", "Task stopped by user").exit("web", Some(143), None);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.code.is_benign());
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.fix[1].contains("AttributeValue=StopTask --start-time 2026-01-01T12:00:00Z"));
        assert!(f.evidence.iter().any(|e| e.contains("handled SIGTERM")));
    }

    #[test]
    fn a_custom_reason_is_quoted() {
        let ev = stopped("UserInitiated", "rollback by deploy pipeline #418");
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.title.contains("\"rollback by deploy pipeline #418\""));
    }

    #[test]
    fn the_text_alone_is_corroborating_and_137_speaks_against() {
        let ev = stopped("", "Task stopped by USER").exit("web", Some(137), None);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.strength, Strength::Corroborating);
        assert_eq!(f.against.len(), 1);
    }

    #[test]
    fn other_stops_are_skipped() {
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
        assert!(matches!(check(&stopped("EssentialContainerExited", "Essential container in task exited")), Verdict::Skipped(_)));
    }
}
