//! ## What it detects
//! The task stopped because its elastic network interface was not
//! provisioned (created and attached) in time: the stop reason says it timed
//! out waiting for network interface provisioning, or reports an internal
//! error about the network interface.
//!
//! ## Why it matters
//! This is usually transient: EC2 was slow or throttled, and ECS gave up
//! before the interface was ready. Schedulers (and the ECS service itself)
//! retry it. When it keeps happening, the cause is capacity on the network
//! side: the Region's network interface quota, a subnet that is nearly out
//! of addresses, or EC2 API throttling from other automation in the account.
//!
//! ## Example
//! ```text
//! stopCode = TaskFailedToStart
//! stoppedReason = Timeout waiting for network interface provisioning to complete.
//! ```
//!
//! ## How to fix
//! Run the task again (a service retries by itself). If it repeats, check
//! the "Network interfaces per Region" quota (`aws service-quotas
//! get-service-quota --service-code vpc --quota-code L-DF5E4CA3`) against
//! `aws ec2 describe-network-interfaces`, the free addresses of the task's
//! subnets, and CloudTrail for throttled `CreateNetworkInterface` calls.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html
//! - https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html

use crate::context::Ctx;
use crate::stops::Detail;

use crate::codes::Cause;
use crate::reach::routes::task_subnets;
use crate::report::{Finding, Strength, Verdict};

/// Subnets with fewer free addresses than this are worth a line.
const LOW_FREE_ADDRESSES: i32 = 5;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(text) = ctx.stops.stating(Detail::EniProvisioning).map(|t| t.text.clone()) else {
        return if ev.is_stopped() {
            Verdict::Pass("the stop reason does not mention network interface provisioning".into())
        } else {
            Verdict::Skipped(format!("the task is {}", ev.task.last_status))
        };
    };
    let mut f = Finding::new(
        Cause::EniProvisioningTimeout,
        Strength::Direct,
        "The task's network interface was not provisioned in time (usually transient)",
    )
    .evidence(format!("stop reason: \"{text}\""));
    if let Some(code) = &ev.task.stop_code {
        f = f.evidence(format!("stopCode = {code}"));
    }
    for s in task_subnets(ev) {
        if let Some(n) = s.available_ip_address_count {
            if n < LOW_FREE_ADDRESSES {
                f = f.evidence(format!(
                    "{} has only {n} free addresses: a full subnet makes provisioning fail (see subnet-ip-exhausted)",
                    s.id
                ));
            }
        }
    }
    let retry = match (ev.service_name(), Some(crate::task::cluster_name(ev))) {
        (Some(svc), _) => format!("The service {svc} retries by itself; a single occurrence needs no action"),
        (None, Some(cluster)) => format!(
            "Run the task again: aws ecs run-task --cluster {cluster} --task-definition {} …",
            ev.task.task_definition_arn
        ),
        _ => "Run the task again".into(),
    };
    f.fix(retry)
        .fix("If it repeats, compare the 'Network interfaces per Region' quota with the interfaces in use: aws service-quotas get-service-quota --service-code vpc --quota-code L-DF5E4CA3")
        .fix("Look for throttled CreateNetworkInterface calls in CloudTrail (other automation sharing the EC2 API rate)")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html")
        .doc("https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::testkit::net::*;

    #[test]
    fn timeout_waiting_for_the_interface() {
        let mut fx = Fx::private_nat().stopped(
            "TaskFailedToStart",
            "Timeout waiting for network interface provisioning to complete.",
        );
        fx.subnets[0].available_ip_address_count = Some(2);
        let Verdict::Found(f) = check(&fx.ev()) else { panic!() };
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.evidence.iter().any(|e| e.contains("subnet-a has only 2 free addresses")));
        assert!(f.fix[0].contains("The service web retries by itself"));
    }

    #[test]
    fn internal_error_about_the_interface() {
        let fx = Fx::private_nat().stopped(
            "TaskFailedToStart",
            "InternalError: network interface eni-0abc was not attached",
        );
        assert!(matches!(check(&fx.ev()), Verdict::Found(_)));
    }

    #[test]
    fn other_stops_pass_and_running_tasks_skip() {
        let fx = Fx::private_nat().stopped("TaskFailedToStart", ECR_API_TIMEOUT);
        assert!(matches!(check(&fx.ev()), Verdict::Pass(_)));
        let subnet_full = Fx::private_nat().stopped(
            "TaskFailedToStart",
            "Unexpected EC2 error while attempting to Create Network Interface with public IP assignment enabled in subnet 'subnet-a'",
        );
        assert!(matches!(check(&subnet_full.ev()), Verdict::Pass(_)));
        assert!(matches!(check(&Fx::private_nat().running().ev()), Verdict::Skipped(_)));
    }
}
