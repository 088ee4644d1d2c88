//! ## What it detects
//! Fargate Spot took the capacity back: `stopCode = SpotInterruption` (or
//! `TerminationNotice`, its 2023 name) with «Your Spot Task was
//! interrupted.», on a task of the `FARGATE_SPOT` capacity provider.
//!
//! ## Why it matters
//! The task did not fail. Spot tasks get a two-minute notice (SIGTERM, then
//! SIGKILL after `stopTimeout`) and Fargate does not replace Spot capacity
//! with on-demand capacity: a service that runs only on Spot can drop below
//! its desired count until Spot capacity returns.
//!
//! ## Example
//! ```text
//! stopCode             = SpotInterruption
//! stoppedReason        = Your Spot Task was interrupted.
//! capacityProviderName = FARGATE_SPOT
//! container web: exitCode = 143
//! ```
//!
//! ## How to fix
//! Nothing to fix in the task. For availability, give the service a
//! capacity provider strategy with a `FARGATE` base (`base=1` or more on
//! `FARGATE`, the rest weighted on `FARGATE_SPOT`), and make the app shut
//! down cleanly on SIGTERM within `stopTimeout` (at most 120 s).
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/spot-interruption-errors.html

use crate::context::Ctx;
use crate::stops::StopCode;
use crate::codes::Cause;
use crate::report::{Finding, Strength, Verdict};
use crate::stops::StopKind;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let reason = ev.task.stopped_reason.clone().unwrap_or_default();
    let stop = StopCode::of(ev);
    let by_code = matches!(stop, StopCode::SpotInterruption | StopCode::TerminationNotice);
    let by_text = ctx.stops.task_is(StopKind::Spot);
    if !by_code && !by_text {
        return Verdict::Skipped(format!(
            "stopCode is {}, not a Spot interruption",
            ev.task.stop_code.as_deref().unwrap_or("unset")
        ));
    }
    let provider = ev.task.capacity_provider_name.clone();
    let strength = if by_code { Strength::Direct } else { Strength::Corroborating };
    let mut f = Finding::new(
        Cause::SpotInterruption,
        strength,
        "Fargate Spot reclaimed the capacity and interrupted the task: not a failure of the task",
    )
    .evidence(format!(
        "stopCode = {}; stoppedReason = \"{reason}\"",
        ev.task.stop_code.as_deref().unwrap_or("unset")
    ));
    if stop == StopCode::TerminationNotice {
        f = f.evidence("TerminationNotice is the earlier name of the Spot interruption stop code");
    }
    match provider.as_deref() {
        Some(p) if p.to_ascii_uppercase().contains("SPOT") => {
            f = f.evidence(format!("capacityProviderName = {p}"));
        }
        Some(p) => {
            f = f.against(format!("capacityProviderName = {p}, which is not a Spot capacity provider"));
        }
        None => {}
    }
    for c in &ev.task.containers {
        match c.exit_code {
            Some(code @ (0 | 143)) => f = f.evidence(format!("container `{}` exitCode = {code}: it shut down on SIGTERM", c.name)),
            Some(137) => {
                f = f.evidence(format!(
                    "container `{}` exitCode = 137: it did not exit within stopTimeout after the notice (app-sigterm-timeout)",
                    c.name
                ))
            }
            _ => {}
        }
    }
    let mut f = f.fix("Nothing to fix in the task: Spot capacity can be reclaimed at any time.");
    if let (Some(svc), Some(cluster)) = (ev.service_name(), Some(crate::task::cluster_name(ev))) {
        f = f.fix(format!(
            "Keep a baseline on on-demand capacity: `aws ecs update-service --cluster {cluster} --service {svc} --capacity-provider-strategy capacityProvider=FARGATE,base=1,weight=1 capacityProvider=FARGATE_SPOT,weight=3 --force-new-deployment`."
        ));
    }
    f.fix("Make the app finish in-flight work on SIGTERM within `stopTimeout` (at most 120 s on Fargate).")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::evidence::Evidence;
    crate::check_under_test!();
    use crate::testkit::{running, stopped, EvidenceExt};

    fn spot(code: &str, reason: &str) -> Evidence {
        let mut ev = stopped(code, reason).exit("web", Some(143), None);
        ev.task.capacity_provider_name = Some("FARGATE_SPOT".into());
        ev
    }

    #[test]
    fn both_stop_codes_are_spot_interruptions() {
        for code in ["SpotInterruption", "TerminationNotice"] {
            let Verdict::Found(f) = check(&spot(code, "Your Spot Task was interrupted.")) else { panic!("{code}") };
            assert!(f.code.is_benign());
            assert_eq!(f.strength, Strength::Direct);
            assert!(f.evidence.iter().any(|e| e == "capacityProviderName = FARGATE_SPOT"));
            assert!(f.fix[1].contains("capacityProvider=FARGATE,base=1"));
        }
    }

    #[test]
    fn the_text_without_the_code_is_corroborating() {
        let Verdict::Found(f) = check(&spot("", "Your Spot Task was interru")) else { panic!() };
        assert_eq!(f.strength, Strength::Corroborating);
    }

    #[test]
    fn an_on_demand_task_speaks_against() {
        let mut ev = spot("SpotInterruption", "Your Spot Task was interrupted.");
        ev.task.capacity_provider_name = Some("FARGATE".into());
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.against.len(), 1);
    }

    #[test]
    fn other_stops_are_skipped() {
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
        assert!(matches!(check(&stopped("UserInitiated", "Task stopped by user")), Verdict::Skipped(_)));
    }
}
