//! ## What it detects
//! ECS could not place the task: no capacity, resource, port or container
//! instance met its requirements. The stop reason is a placement failure
//! (`TaskFailedToStart: RESOURCE:MEMORY`, `RESOURCE:CPU`, `RESOURCE:PORTS`,
//! `RESOURCE:ENI`, `AGENT`, `ATTRIBUTE`, `LOCATION`, `Capacity is
//! unavailable at this time`, an unsatisfied placement constraint), and the
//! report says what was short: Fargate's capacity, an instance's CPU,
//! memory, GPUs, host ports or network interfaces, the container instances
//! themselves, their agent, an attribute or Availability Zone, or a quota.
//! A service whose tasks were never placed has no stopped task: the service
//! and deployment sweeps name this cause from the scheduler's events
//! (`was unable to place a task …`).
//!
//! ## Why it matters
//! A task that was never placed never ran: nothing in the application, the
//! image or the network is at fault, and its logs are empty. On Fargate the
//! capacity is AWS's and usually returns; on EC2 the cluster itself is too
//! small, full, or constrained, and the task will not run until that
//! changes, so a service stays below its desired count and a deployment
//! never finishes.
//!
//! ## Example
//! ```text
//! stopCode = TaskFailedToStart
//! stoppedReason = TaskFailedToStart: RESOURCE:MEMORY
//! launchType = EC2
//! ```
//!
//! ## How to fix
//! Fargate capacity: retry later (a service retries by itself), give the
//! task subnets in more Availability Zones, or add a capacity provider
//! (Fargate beside Fargate Spot); another task size may find capacity. EC2
//! CPU, memory or GPUs: add container instances (the Auto Scaling group or
//! a capacity provider with managed scaling), make the task smaller, or use
//! larger instance types. Host ports: dynamic host ports or the awsvpc
//! network mode. Network interfaces: ENI trunking (`awsvpcTrunking`),
//! instance types with more interfaces, fewer awsvpc tasks per instance.
//! No instances, a disconnected agent, attributes, constraints, Availability
//! Zones: register healthy instances that meet the constraints, or relax
//! them. Quotas: request an increase in Service Quotas.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/api_failures_messages.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages-list.html
//! - https://repost.aws/knowledge-center/ecs-fargate-runtask-capacity
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-eni.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::placement::Shortage;
use crate::report::{Finding, Strength, Verdict};
use crate::stops::{StopCode, StopKind};
use crate::task::on_fargate;

const GENERAL_FIX: &str = "Read what was short in the stop reason: on Fargate, retry or add Availability Zones or a capacity provider; on EC2, add container instances with enough CPU, memory and free ports, or relax the placement constraints";

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    if !ev.is_stopped() {
        return Verdict::Skipped(format!("the task is {}", ev.task.last_status));
    }
    let Some(text) = ctx.stops.find(StopKind::Placement) else {
        return Verdict::Pass("the stop reason is not a placement failure".into());
    };
    let shortage = text.class.shortage;
    let title = match shortage {
        Some(s) => format!("ECS could not place the task: {}", s.what()),
        None => "ECS could not place the task: nothing met its requirements".to_string(),
    };
    let mut f = Finding::new(Cause::PlacementFailed, Strength::Direct, title)
        .evidence(format!("stop reason: {}", text.quote()));
    if let StopCode::TaskFailedToStart = StopCode::of(ev) {
        f = f.evidence("stopCode = TaskFailedToStart: the task never ran");
    }
    let on = match (&ev.task.launch_type, &ev.task.capacity_provider_name) {
        (_, Some(cp)) => Some(format!("capacity provider {cp}")),
        (Some(lt), None) => Some(format!("launch type {lt}")),
        (None, None) => None,
    };
    if let Some(on) = on {
        f = f.evidence(format!("the task asked for {on}"));
    }
    if shortage.is_some_and(Shortage::is_fargate) && on_fargate(ev) == Some(false) {
        f = f.against("the task is not on Fargate, yet the text speaks of Fargate capacity");
    }
    match shortage {
        Some(s) => {
            for line in s.fix() {
                f = f.fix(*line);
            }
        }
        None => f = f.fix(GENERAL_FIX),
    }
    f.doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/api_failures_messages.html")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages-list.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{found, stopped};

    crate::check_under_test!();

    #[test]
    fn short_of_memory_on_ec2_names_the_resource() {
        let mut ev = stopped("TaskFailedToStart", "TaskFailedToStart: RESOURCE:MEMORY");
        ev.task.launch_type = Some("EC2".into());
        let f = found(check(&ev));
        assert_eq!(f.code, Cause::PlacementFailed);
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("enough free memory"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("launch type EC2")), "{:?}", f.evidence);
        assert!(f.fix.iter().any(|x| x.contains("Add container instances")), "{:?}", f.fix);
        assert!(f.against.is_empty());
    }

    #[test]
    fn fargate_capacity_says_retry_and_other_zones() {
        let mut ev = stopped(
            "TaskFailedToStart",
            "Capacity is unavailable at this time. Please try again later or in a different availability zone",
        );
        ev.task.capacity_provider_name = Some("FARGATE_SPOT".into());
        let f = found(check(&ev));
        assert!(f.title.contains("Fargate had no capacity"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("capacity provider FARGATE_SPOT")));
        assert!(f.fix[0].contains("retry"), "{:?}", f.fix);
        assert!(f.fix.iter().any(|x| x.contains("Availability Zones")));
    }

    #[test]
    fn the_one_word_reasons_are_read_whole() {
        for (text, what) in [
            ("LOCATION", "Availability Zones"),
            ("ATTRIBUTE", "attribute"),
            ("TaskFailedToStart: AGENT", "agent is disconnected"),
        ] {
            let f = found(check(&stopped("TaskFailedToStart", text)));
            assert!(f.title.contains(what), "{text}: {}", f.title);
        }
    }

    #[test]
    fn a_placement_text_without_a_resource_still_is_one() {
        let f = found(check(&stopped(
            "TaskFailedToStart",
            "The selected task definition is not compatible with the selected compute strategy",
        )));
        assert!(f.title.contains("does not suit the launch type"), "{}", f.title);
    }

    #[test]
    fn fargate_words_on_an_ec2_task_count_against() {
        let mut ev = stopped("TaskFailedToStart", "RESOURCE:FARGATE");
        ev.task.launch_type = Some("EC2".into());
        let f = found(check(&ev));
        assert_eq!(f.against.len(), 1);
    }

    #[test]
    fn other_stops_pass_and_running_tasks_are_skipped() {
        assert!(matches!(
            check(&stopped("EssentialContainerExited", "Essential container in task exited")),
            Verdict::Pass(_)
        ));
        let mut ev = stopped("TaskFailedToStart", "TaskFailedToStart: RESOURCE:CPU");
        ev.task.last_status = "RUNNING".into();
        ev.task.desired_status = Some("RUNNING".into());
        assert!(matches!(check(&ev), Verdict::Skipped(_)));
    }
}
