//! The load balancer in front of a task, as the health-check checks see it:
//! what says it failed this task (the stop text, the service's events, the
//! task's own target) and how it is wired (target group, container, port).
//! The load-balancer, grace-period and loopback checks all read it here.

use crate::context::Ctx;
use crate::evidence::{Evidence, TargetGroupEvidence, TargetHealth};
use crate::stops::{self, Classified, StopKind, StopText};
use regex::Regex;

/// The target group ARN a stop reason or event names.
pub(crate) fn named_target_group(text: &str) -> Option<String> {
    Regex::new(r"arn:aws[\w-]*:elasticloadbalancing:[^)\s]+")
        .expect("valid arn regex")
        .find(text)
        .map(|m| m.as_str().to_string())
}

/// The task's private IP, from its ENI attachment or network placement.
pub(crate) fn task_ip(ev: &Evidence) -> Option<String> {
    ev.task
        .eni_attachment
        .as_ref()
        .and_then(|a| a.private_ip.clone())
        .or_else(|| {
            ev.network
                .placement
                .value()
                .and_then(|p| p.private_ip.clone())
        })
}

/// This task's entry in the target health, if it is still registered.
pub(crate) fn own_target<'a>(
    tg: &'a TargetGroupEvidence,
    ip: Option<&str>,
) -> Option<&'a TargetHealth> {
    let ip = ip?;
    tg.target_health.value()?.iter().find(|t| t.target_id == ip)
}

/// What says the load balancer failed this task: the stop reason, the
/// service's events about it, and its own target's health.
pub(crate) struct Symptoms<'a> {
    pub(crate) reason: Option<StopText>,
    pub(crate) task_events: Vec<&'a str>,
    /// Each of `task_events` read against the stop-text catalogue.
    pub(crate) task_event_classes: Vec<Classified>,
    pub(crate) ip: Option<String>,
    pub(crate) unhealthy_target: Option<(&'a TargetGroupEvidence, &'a TargetHealth)>,
}

pub(crate) fn symptoms<'a>(ctx: &'a Ctx) -> Symptoms<'a> {
    let ev = ctx.ev;
    let task_events: Vec<&str> = ev
        .service
        .value()
        .map(|s| {
            s.events
                .iter()
                .filter(|e| {
                    e.message.contains(&ev.task.id)
                        && stops::classify(&e.message).is(StopKind::ElbHealth)
                })
                .map(|e| e.message.as_str())
                .collect()
        })
        .unwrap_or_default();
    let ip = task_ip(ev);
    let unhealthy_target = ev.load_balancing.iter().find_map(|tg| {
        own_target(tg, ip.as_deref())
            .filter(|t| t.state.as_deref() == Some("unhealthy"))
            .map(|t| (tg, t))
    });
    Symptoms {
        reason: ctx.stops.find(StopKind::ElbHealth).cloned(),
        task_event_classes: task_events.iter().map(|e| stops::classify(e)).collect(),
        task_events,
        ip,
        unhealthy_target,
    }
}

/// The target group, the service's load balancer entry, and the container
/// and port it sends to.
pub(crate) struct Wiring<'a> {
    pub(crate) named_tg: Option<String>,
    pub(crate) tg: Option<&'a TargetGroupEvidence>,
    pub(crate) container: Option<String>,
    pub(crate) port: Option<i32>,
}

pub(crate) fn wiring<'a>(ev: &'a Evidence, s: &Symptoms<'a>) -> Wiring<'a> {
    let named_tg = s
        .reason
        .as_ref()
        .and_then(|r| named_target_group(&r.text))
        .or_else(|| s.task_events.iter().find_map(|e| named_target_group(e)));
    let tg = named_tg
        .as_deref()
        .and_then(|arn| ev.load_balancing.iter().find(|t| t.arn == arn))
        .or(s.unhealthy_target.map(|(tg, _)| tg))
        .or(ev.load_balancing.first());
    let lb = ev.service.value().and_then(|svc| {
        svc.load_balancers
            .iter()
            .find(|l| tg.is_some_and(|t| l.target_group_arn.as_deref() == Some(t.arn.as_str())))
            .or(svc.load_balancers.first())
    });
    Wiring {
        named_tg,
        tg,
        container: lb.and_then(|l| l.container_name.clone()),
        port: lb.and_then(|l| l.container_port),
    }
}

/// Seconds from the app's start (the task's `startedAt`, else its first log
/// line) to its "listening" line, when both are known.
pub(crate) fn startup_seconds(ev: &Evidence, container: &str) -> Option<i32> {
    let lines = ev.log_lines(container);
    let started = ev
        .task
        .timestamps
        .started_at
        .as_deref()
        .or_else(|| lines.first().and_then(|l| l.timestamp.as_deref()))?;
    let listen = crate::logs::announced(lines)?;
    let line = lines
        .iter()
        .rev()
        .find(|l| l.message.trim() == listen.line)?;
    let secs = crate::task::seconds_between(started, line.timestamp.as_deref()?)?;
    (secs >= 0).then_some(secs)
}

/// What the load balancer allows a new task before it can fail it: the
/// service's grace period, then `interval × unhealthy threshold` of failed
/// checks (ECS's and ELB's defaults where the API leaves a field out).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Allowance {
    pub(crate) grace: i32,
    pub(crate) interval: i32,
    pub(crate) threshold: i32,
}

impl Allowance {
    pub(crate) fn seconds(&self) -> i32 {
        self.grace + self.interval * self.threshold
    }
}

/// The allowance, when the service and the target group's settings are known.
pub(crate) fn allowance(ev: &Evidence, w: &Wiring) -> Option<Allowance> {
    let service = ev.service.value()?;
    let tg = w.tg?.target_group.value()?;
    Some(Allowance {
        grace: service.health_check_grace_period_seconds.unwrap_or(0),
        interval: tg.health_check_interval_seconds.unwrap_or(30),
        threshold: tg.unhealthy_threshold_count.unwrap_or(2),
    })
}

/// The app's start-up time against the allowance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlowStart {
    pub(crate) startup_secs: i32,
    pub(crate) allowance: Allowance,
}

impl SlowStart {
    pub(crate) fn allowed(&self) -> i32 {
        self.allowance.seconds()
    }
    pub(crate) fn too_slow(&self) -> bool {
        self.startup_secs > self.allowed()
    }
}

/// The start-up comparison, when the allowance and the app's listening line
/// are both known.
pub(crate) fn slow_start(ev: &Evidence, w: &Wiring) -> Option<SlowStart> {
    let allowance = allowance(ev, w)?;
    let startup_secs = startup_seconds(ev, w.container.as_deref()?)?;
    Some(SlowStart {
        startup_secs,
        allowance,
    })
}
