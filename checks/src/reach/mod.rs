//! Network reachability, hop by hop: could the task reach what it needed to
//! start, and can a running task be reached?
//!
//! One pure evaluator that every network check reuses, so they agree with
//! each other: for each destination the task definition implies it follows
//! the subnet's effective route table (explicit association, else the main
//! table) with longest-prefix selection, the internet gateway or NAT gateway
//! (and the NAT's own route to an internet gateway), interface endpoints
//! (state, private DNS, their security groups) and the S3 gateway endpoint,
//! then the task's security groups and the network ACLs of every subnet on
//! the way, both directions. Each hop records which cause codes it decides.

pub mod addr;
pub mod dest;
mod efs;
mod egress;
pub mod exec;
mod hops;
mod inbound;
mod path;
pub mod routes;
pub mod rules;
mod vpc;

pub use dest::{destinations, observed, AwsService, Destination, Observed};
pub use inbound::{Source, NO_SOURCE};
pub use path::{Direction, PathEval, Step, Via};

use efs::*;
use egress::*;
use exec::*;
use hops::*;
use inbound::*;
use vpc::*;

use crate::codes::Cause;
use crate::evidence::{
    Evidence, Fact, NatGateway, NetworkAcl, NetworkSource, PrefixList, RouteTable, SecurityGroup,
    Subnet, TaskPlacement, VpcEndpoint,
};
use crate::reach::routes::{
    describe_route, effective_route_table, is_active, is_private, select_route, target_kind,
    TargetKind,
};
use crate::report::{Hop, NetworkPath};
use crate::stops::StopTexts;
use crate::task::on_fargate;
use ipnet::Ipv4Net;
use rules::{nacl_decide, sg_decide, Peer};
use std::net::{IpAddr, Ipv4Addr};

/// Paths of one kind, or why there are none.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    Paths(Vec<PathEval>),
    /// Does not apply to this task.
    Skipped(String),
    /// Applies, but a fact is missing: names it.
    Unknown(String),
}

/// Every path of one task.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkPaths {
    pub egress: Scope,
    pub inbound: Scope,
    /// NFS to the mount targets of the task's EFS volumes.
    pub efs: Scope,
    /// What an ECS Exec session dials (an `exec` diagnosis only).
    pub exec: Scope,
}

/// What the evaluation says about one cause code.
#[derive(Debug, Default)]
pub struct CauseHops<'a> {
    pub blocked: Vec<(&'a PathEval, &'a Step)>,
    pub unknown: Vec<(&'a PathEval, &'a Step)>,
    /// Paths evaluated (whatever they decided).
    pub paths: Vec<&'a PathEval>,
    /// Why a scope was not evaluated.
    pub skipped: Vec<String>,
    /// Why the egress paths could not be evaluated.
    pub missing: Vec<String>,
    /// Why the inbound paths of a running task could not be evaluated.
    pub missing_inbound: Vec<String>,
}

impl NetworkPaths {
    pub fn paths(&self) -> impl Iterator<Item = &PathEval> {
        let e = match &self.egress {
            Scope::Paths(p) => p.as_slice(),
            _ => &[],
        };
        let i = match &self.inbound {
            Scope::Paths(p) => p.as_slice(),
            _ => &[],
        };
        let f = match &self.efs {
            Scope::Paths(p) => p.as_slice(),
            _ => &[],
        };
        let x = match &self.exec {
            Scope::Paths(p) => p.as_slice(),
            _ => &[],
        };
        e.iter().chain(i.iter()).chain(f.iter()).chain(x.iter())
    }

    /// The hops that decide `cause`, across both scopes.
    pub fn hops_for(&self, cause: Cause) -> CauseHops<'_> {
        let mut out = CauseHops::default();
        // The EFS paths decide the EFS mount only; the others, the rest.
        let scopes = if cause == Cause::EfsMountFailed {
            vec![(&self.efs, false)]
        } else if cause == Cause::ExecNoSsmPath {
            vec![(&self.exec, false)]
        } else {
            vec![(&self.egress, false), (&self.inbound, true)]
        };
        for (scope, inbound) in scopes {
            match scope {
                Scope::Paths(paths) => {
                    for p in paths {
                        out.paths.push(p);
                        for s in p.steps.iter().filter(|s| s.causes.contains(&cause)) {
                            if s.is_blocked() {
                                out.blocked.push((p, s));
                            } else if s.is_unknown() {
                                out.unknown.push((p, s));
                            }
                        }
                    }
                }
                Scope::Skipped(why) => out.skipped.push(why.clone()),
                Scope::Unknown(why) if inbound => out.missing_inbound.push(why.clone()),
                Scope::Unknown(why) => out.missing.push(why.clone()),
            }
        }
        out
    }
}

/// Evaluate every path of the task: once per diagnosis (the context does).
pub fn evaluate(ev: &Evidence, stops: &StopTexts) -> NetworkPaths {
    #[cfg(test)]
    EVALUATIONS.with(|n| n.set(n.get() + 1));
    NetworkPaths {
        egress: egress_scope(ev, stops),
        inbound: inbound_scope(ev),
        efs: efs_scope(ev),
        exec: exec_scope(ev),
    }
}

#[cfg(test)]
thread_local! {
    static EVALUATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many times this thread evaluated the network paths (tests only): a
/// diagnosis must do it once.
#[cfg(test)]
pub(crate) fn evaluations() -> usize {
    EVALUATIONS.with(std::cell::Cell::get)
}

/// The paths to show in a report: the egress paths when the network is
/// implicated (a blocked path, or a network failure in the stop texts), and
/// the inbound paths of a running task.
pub fn report_paths(eval: &NetworkPaths, stops: &StopTexts) -> Vec<NetworkPath> {
    let mut out = Vec::new();
    if let Scope::Paths(p) = &eval.exec {
        // An exec diagnosis shows its own paths only.
        return p.iter().map(PathEval::to_network_path).collect();
    }
    let blocked = match &eval.egress {
        Scope::Paths(p) => p.iter().any(|p| p.steps.iter().any(Step::is_blocked)),
        _ => false,
    };
    if blocked || dest::any_network_failure(stops).is_some() {
        if let Scope::Paths(p) = &eval.egress {
            out.extend(p.iter().map(PathEval::to_network_path));
        }
    }
    if let Scope::Paths(p) = &eval.inbound {
        out.extend(p.iter().map(PathEval::to_network_path));
    }
    if let Scope::Paths(p) = &eval.efs {
        let mount_failed = stops.find(crate::stops::StopKind::EfsMount).is_some();
        if mount_failed || p.iter().any(|p| p.steps.iter().any(Step::is_blocked)) {
            out.extend(p.iter().map(PathEval::to_network_path));
        }
    }
    out
}

#[cfg(test)]
mod tests;
