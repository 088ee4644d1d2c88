//! ## What it detects
//! The task's subnet has no free IP address for the task's network
//! interface: the stop reason says EC2 could not create the interface
//! (`Unexpected EC2 error while attempting to Create Network Interface …
//! in subnet '…'`), or `DescribeSubnets` reports `AvailableIpAddressCount =
//! 0` for a subnet the task (or its service) uses.
//!
//! ## Why it matters
//! Every `awsvpc` task takes one address from its subnet. A small subnet
//! (a `/28` has 11 usable addresses) fills up with tasks, load balancer
//! nodes, endpoints and Lambda interfaces; then new tasks fail to start with
//! `TaskFailedToStart`, and services stop scaling out or replacing tasks.
//! The count can recover between the failure and the diagnosis, so a free
//! address now does not clear an error text that says otherwise.
//!
//! ## Example
//! ```text
//! stopCode = TaskFailedToStart
//! stoppedReason = Unexpected EC2 error while attempting to Create Network Interface with
//!                 public IP assignment enabled in subnet 'subnet-0a1': InsufficientFreeAddressesInSubnet
//! subnet-0a1 (10.0.9.0/28): AvailableIpAddressCount = 0
//! ```
//!
//! ## How to fix
//! Give the service more room: add larger subnets (or more subnets, in more
//! Availability Zones) to its `awsvpcConfiguration`, add a secondary CIDR to
//! the VPC for new subnets, or free addresses held by unused network
//! interfaces (`aws ec2 describe-network-interfaces --filters
//! Name=subnet-id,Values=subnet-… Name=status,Values=available`).
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html
//! - https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html

use crate::context::Ctx;
use crate::stops::Detail;

use crate::stops::StopCode;
use crate::codes::Cause;
use crate::evidence::Fact;
use crate::reach::routes::task_subnets;
use crate::task::task_started;
use crate::report::{Finding, Strength, Verdict};

fn named_subnet(text: &str) -> Option<String> {
    regex::Regex::new(r"subnet-[0-9a-fA-F]+")
        .expect("valid subnet regex")
        .find(text)
        .map(|m| m.as_str().to_string())
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let text = ctx.stops.stating(Detail::NoFreeAddresses).map(|t| t.text.clone());
    let placement = match &ev.network.placement {
        Fact::Gathered { value } => Some(value),
        _ => None,
    };
    if placement.is_none() && text.is_none() {
        return Verdict::Skipped(format!(
            "no awsvpc network placement: {}",
            ev.network.placement.gap_reason().unwrap_or_default()
        ));
    }
    let subnets = task_subnets(ev);
    let counts: Vec<String> = subnets
        .iter()
        .map(|s| {
            format!(
                "{}{}: AvailableIpAddressCount = {}",
                s.id,
                s.cidr_block
                    .as_ref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default(),
                s.available_ip_address_count
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "unknown".into())
            )
        })
        .collect();
    let full: Vec<&str> = subnets
        .iter()
        .filter(|s| s.available_ip_address_count == Some(0))
        .map(|s| s.id.as_str())
        .collect();
    let fix_lines = |f: Finding| {
        f.fix("Add larger (or more) subnets to the service's awsvpcConfiguration, in more Availability Zones; a /28 holds only 11 addresses")
            .fix("Or add a secondary CIDR block to the VPC and create a larger subnet: aws ec2 associate-vpc-cidr-block --vpc-id vpc-… --cidr-block …")
            .fix("Find addresses held by unused interfaces: aws ec2 describe-network-interfaces --filters Name=subnet-id,Values=<subnet> Name=status,Values=available")
            .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html")
            .doc("https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html")
    };
    if let Some(text) = text {
        let subnet = named_subnet(&text)
            .or_else(|| subnets.first().map(|s| s.id.clone()))
            .unwrap_or_else(|| "the task's subnet".into());
        let mut f = Finding::new(
            Cause::SubnetIpExhausted,
            Strength::Direct,
            format!("EC2 could not create the task's network interface in {subnet}: the subnet is out of free IP addresses"),
        )
        .evidence(format!("stop reason: \"{text}\""));
        for c in &counts {
            f = f.evidence(c.clone());
        }
        if let Some(s) = subnets.iter().find(|s| s.id == subnet) {
            if let Some(n) = s.available_ip_address_count.filter(|n| *n > 0) {
                f = f.evidence(format!(
                    "{} has {n} free addresses now: they may have been freed since the task failed",
                    s.id
                ));
            }
        }
        return fix_lines(f).into_verdict();
    }
    if subnets.is_empty() {
        return Verdict::Inconclusive(format!(
            "the task's subnets are unknown: {}",
            ev.network.subnets.gap_reason().unwrap_or_else(|| "not found".into())
        ));
    }
    if full.is_empty() {
        return Verdict::Pass(counts.join("; "));
    }
    let strength = match StopCode::of(ev) {
        StopCode::TaskFailedToStart => Strength::Corroborating,
        _ => Strength::Circumstantial,
    };
    let mut f = Finding::new(
        Cause::SubnetIpExhausted,
        strength,
        format!(
            "{} {} no free IP addresses: new tasks cannot start there",
            full.join(", "),
            if full.len() == 1 { "has" } else { "have" }
        ),
    );
    for c in &counts {
        f = f.evidence(c.clone());
    }
    if let Some(started) = task_started(ev) {
        f = f.against(format!("{started}: this task got its address"));
    }
    fix_lines(f).into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    
    use crate::testkit::found;

    crate::check_under_test!();
    use crate::testkit::net::*;


    const NO_IP: &str = "Unexpected EC2 error while attempting to Create Network Interface with public IP assignment enabled in subnet 'subnet-a': InsufficientFreeAddressesInSubnet";

    #[test]
    fn stop_text_names_the_subnet() {
        let mut fx = Fx::private_nat().stopped("TaskFailedToStart", NO_IP);
        fx.subnets[0].available_ip_address_count = Some(0);
        let f = found(check(&fx.ev()));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("in subnet-a"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e == "subnet-a (10.0.1.0/24): AvailableIpAddressCount = 0"), "{:?}", f.evidence);
    }

    #[test]
    fn addresses_freed_since_are_noted() {
        let fx = Fx::private_nat().stopped("TaskFailedToStart", NO_IP);
        let f = found(check(&fx.ev()));
        assert!(f.evidence.iter().any(|e| e.contains("200 free addresses now")));
    }

    #[test]
    fn zero_count_without_text() {
        let mut fx = Fx::private_nat().stopped("TaskFailedToStart", "Task failed to start");
        fx.subnets[0].available_ip_address_count = Some(0);
        let f = found(check(&fx.ev()));
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.title.starts_with("subnet-a has no free IP addresses"));
    }

    #[test]
    fn running_task_in_a_full_subnet_is_circumstantial() {
        let mut fx = Fx::private_nat().running();
        fx.subnets[0].available_ip_address_count = Some(0);
        let f = found(check(&fx.ev()));
        assert_eq!(f.strength, Strength::Circumstantial);
        assert_eq!(f.against.len(), 1);
    }

    #[test]
    fn passes_with_free_addresses() {
        match check(&Fx::private_nat().ev()) {
            Verdict::Pass(d) => assert!(d.contains("AvailableIpAddressCount = 200"), "{d}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unrelated_text_does_not_match() {
        let mut fx = Fx::private_nat().stopped("TaskFailedToStart", ECR_API_TIMEOUT);
        fx.subnets[0].available_ip_address_count = Some(5);
        assert!(matches!(check(&fx.ev()), Verdict::Pass(_)));
    }
}
