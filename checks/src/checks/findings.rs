//! How the network checks turn evaluated hops into verdicts: the support
//! the task's own record gives a blocked path, the finding built from the
//! blocking hops, and the pass / inconclusive / skipped wording. Not part of
//! the evaluator: it only reads what the evaluator produced.

use crate::codes::Cause;
use crate::context::Ctx;
use crate::reach::routes::is_private;
use crate::reach::{dest, Direction, PathEval, Step, Via};
use crate::report::Strength;
use crate::stops::StopCode;
use crate::task::task_started;

/// How strongly the task's own record supports `cause` blocking a path, the
/// lines that say so, and the facts against it.
pub fn support(ctx: &Ctx, path: &PathEval, cause: Cause) -> (Strength, Vec<String>, Vec<String>) {
    let ev = ctx.ev;
    let mut evidence = Vec::new();
    let mut against = Vec::new();
    if path.is_inbound() {
        return (Strength::Corroborating, evidence, against);
    }
    let mut strength = match StopCode::of(ev) {
        StopCode::TaskFailedToStart => Strength::Corroborating,
        _ => Strength::Circumstantial,
    };
    if let Some(o) = &path.observed {
        evidence.push(format!("stop reason: \"{}\"", o.text));
        strength = if o.names_destination || !o.dns {
            Strength::Direct
        } else {
            Strength::Corroborating
        };
        if let Some((ip, port)) = o.dialed {
            let private = is_private(&ip);
            let via_endpoint = matches!(path.via, Via::InterfaceEndpoint(_));
            match (private, via_endpoint) {
                (true, true) => evidence.push(format!(
                    "the connection went to private address {ip}:{port}: the endpoint answered DNS and the path to it is blocked"
                )),
                (false, false) => evidence.push(format!(
                    "the connection went to public address {ip}:{port}: the internet path"
                )),
                (true, false) => against.push(format!(
                    "the failed connection went to private address {ip}:{port} (a VPC endpoint), not along this path"
                )),
                (false, true) if cause == Cause::VpcDnsDisabled => evidence.push(format!(
                    "the connection went to public address {ip}:{port}: the host name did not resolve to the endpoint, so private DNS was not in effect"
                )),
                (false, true) => against.push(format!(
                    "the failed connection went to public address {ip}:{port}, so private DNS did not point at the endpoint"
                )),
            }
        }
    } else if dest::any_network_failure(&ctx.stops).is_some() {
        // The failure named another service; this one would have failed next.
        strength = strength.max(Strength::Corroborating);
    }
    if let Some(started) = task_started(ev) {
        strength = Strength::Circumstantial;
        against.push(format!(
            "{started}, so this path worked at launch (or the configuration changed since)"
        ));
    }
    (strength, evidence, against)
}

fn push_unique(list: &mut Vec<String>, line: String) {
    if !line.is_empty() && !list.contains(&line) {
        list.push(line);
    }
}

/// The destinations of blocked paths, for a title: `ECR API, S3 and CloudWatch Logs`.
pub fn affected(blocked: &[(&PathEval, &Step)]) -> String {
    let mut names: Vec<String> = Vec::new();
    for (p, _) in blocked {
        let name = match &p.direction {
            Direction::Egress(d) => d.service.label().to_string(),
            Direction::Inbound { port, from, .. } => format!("tcp/{port} from {from}"),
        };
        push_unique(&mut names, name);
    }
    match names.len() {
        0 => String::new(),
        1 => names.remove(0),
        _ => {
            let last = names.pop().unwrap_or_default();
            format!("{} and {last}", names.join(", "))
        }
    }
}

/// A finding from the hops that block `cause`: the strongest support any
/// path has, the stop text, every hop's facts and fixes (once each), and the
/// blocked chain.
pub fn finding(
    ctx: &Ctx,
    cause: Cause,
    title: impl Into<String>,
    blocked: &[(&PathEval, &Step)],
) -> crate::report::Finding {
    let mut best: Option<(Strength, Vec<String>, Vec<String>)> = None;
    for (p, _) in blocked {
        let s = support(ctx, p, cause);
        if best.as_ref().is_none_or(|b| s.0 > b.0) {
            best = Some(s);
        }
    }
    let (strength, support_lines, against) =
        best.unwrap_or((Strength::Circumstantial, Vec::new(), Vec::new()));
    assemble(cause, strength, title, support_lines, against, blocked)
}

/// A finding of `strength` from blocking hops: the support lines first,
/// then every hop's facts and fixes (once each), and the blocked chain.
pub fn assemble(
    cause: Cause,
    strength: Strength,
    title: impl Into<String>,
    support_lines: Vec<String>,
    against: Vec<String>,
    blocked: &[(&PathEval, &Step)],
) -> crate::report::Finding {
    let mut evidence = Vec::new();
    for line in support_lines {
        push_unique(&mut evidence, line);
    }
    let mut fixes = Vec::new();
    for (_, step) in blocked {
        for f in &step.facts {
            push_unique(&mut evidence, f.clone());
        }
        for f in &step.fixes {
            push_unique(&mut fixes, f.clone());
        }
    }
    if let Some((p, _)) = blocked.first() {
        push_unique(
            &mut evidence,
            format!("path: {}", p.to_network_path().chain()),
        );
    }
    let mut f = crate::report::Finding::new(cause, strength, title);
    f.evidence = evidence;
    f.against = against;
    f.fix = fixes;
    f
}

/// The verdict of a network check: a finding built from the hops that block
/// `cause`, else inconclusive naming the missing fact, else a pass that says
/// what was looked at, else skipped.
pub fn check_verdict(
    ctx: &Ctx,
    cause: Cause,
    passed: &str,
    make: impl FnOnce(&[(&PathEval, &Step)]) -> crate::report::Finding,
) -> crate::report::Verdict {
    use crate::report::Verdict;
    let ev = ctx.ev;
    let o = ctx.network.hops_for(cause);
    if !o.blocked.is_empty() {
        return Verdict::Found(make(&o.blocked));
    }
    // The inbound hops of a running task decide these causes too: say when
    // nothing named a source to check them from.
    let decided_inbound = [
        Cause::NoPublicIp,
        Cause::NoEgressRoute,
        Cause::SecurityGroupIngressClosed,
        Cause::NaclBlocked,
    ]
    .contains(&cause);
    let inbound_unchecked = match &ctx.network.inbound {
        crate::reach::Scope::Skipped(why) if why == crate::reach::NO_SOURCE && decided_inbound => {
            format!("; inbound not checked: {why}")
        }
        // A source exists (a load balancer) but a fact about it is missing:
        // the egress paths passing says nothing about it.
        crate::reach::Scope::Unknown(why) if decided_inbound => {
            return Verdict::Inconclusive(format!("inbound: {why}"));
        }
        _ => String::new(),
    };
    // A task whose containers ran got through its start-up paths: a hop that
    // cannot be evaluated now (its ENI is gone) did not stop it.
    let started = task_started(ev);
    let undecided: Vec<&(&PathEval, &Step)> = o
        .unknown
        .iter()
        .filter(|(p, _)| p.is_inbound() || started.is_none())
        .collect();
    if let Some((p, s)) = undecided.first() {
        return Verdict::Inconclusive(format!("{}: {}", p.short(), s.explanation()));
    }
    if let (Some((p, s)), Some(started)) = (o.unknown.first(), &started) {
        return Verdict::Pass(format!(
            "{started}, so its start-up traffic got through ({}: {}){inbound_unchecked}",
            p.short(),
            s.explanation()
        ));
    }
    if !o.paths.is_empty() {
        let mut names = Vec::new();
        for p in &o.paths {
            let name = match &p.direction {
                Direction::Egress(d) => d.service.label().to_string(),
                Direction::Inbound { port, from, .. } => format!("inbound tcp/{port} from {from}"),
            };
            push_unique(&mut names, name);
        }
        return Verdict::Pass(format!(
            "{passed} ({} path{}: {}){inbound_unchecked}",
            o.paths.len(),
            if o.paths.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
    if !o.missing_inbound.is_empty() {
        return Verdict::Inconclusive(o.missing_inbound.join("; "));
    }
    if !o.missing.is_empty() {
        return crate::task::startup_undecided(ev, o.missing.join("; "));
    }
    Verdict::Skipped(o.skipped.join("; "))
}
