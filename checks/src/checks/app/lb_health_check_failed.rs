//! ## What it detects
//! The load balancer's health checks failed and the service scheduler
//! replaced the task («Task failed ELB health checks in (target-group …)»,
//! or the service event «… is unhealthy in (target-group …) due to (reason
//! Health checks failed with these codes: [503])»), or a running task's
//! target is unhealthy. The check gathers what an engineer would look at
//! side by side: the target group's health-check settings, the target's
//! health and reason, the service's `healthCheckGracePeriodSeconds`, whether
//! the task's security groups admit the load balancer's on the container
//! port, and the port and address the app announced in its log.
//!
//! ## Why it matters
//! The app may be running fine and still be killed every few minutes: a
//! wrong health-check path or success code, a grace period shorter than the
//! app's start-up, a security group that drops the load balancer's probes,
//! or an app that listens on another port or only on 127.0.0.1.
//!
//! ## Example
//! ```text
//! stopCode      = ServiceSchedulerInitiated
//! stoppedReason = Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:…:targetgroup/web/…)
//! target group web: HTTP GET /health on traffic-port, success codes 200, every 30s, unhealthy after 2
//! target 10.0.1.23:8080: unhealthy, Target.ResponseCodeMismatch "Health checks failed with these codes: [404]"
//! service web: healthCheckGracePeriodSeconds = 0
//! ```
//!
//! ## How to fix
//! Follow the target's reason: a `ResponseCodeMismatch` needs the right
//! path or matcher (`aws elbv2 modify-target-group --health-check-path …
//! --matcher HttpCode=200-399`); a `Timeout` or failed connection needs the
//! task's security group to admit the load balancer's security group on the
//! container port, and the app to listen on `0.0.0.0` at that port; a slow
//! start needs `--health-check-grace-period-seconds` on the service.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html
//! - https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-load-balancing.html

use crate::context::Ctx;
use crate::codes::Cause;
use crate::evidence::{Evidence, SecurityGroup, TargetGroup, TargetHealth};
use crate::report::{Finding, HealthChecks, Strength, Verdict};
use crate::stops::Detail;
use crate::reach::rules::{sg_decide, Peer};
use crate::lb::{own_target, slow_start, symptoms, wiring, Symptoms, Wiring};
use regex::Regex;
use ipnet::Ipv4Net;

/// One line with the target group's health-check settings.
fn settings(t: &TargetGroup) -> String {
    let port = match t.health_check_port.as_deref() {
        None | Some("traffic-port") => "traffic-port".to_string(),
        Some(p) => format!("port {p}"),
    };
    let path = t.health_check_path.as_deref().unwrap_or("");
    format!(
        "target group `{}`: {} {}on {port}, success codes {}, every {}s, timeout {}s, unhealthy after {} failures, healthy after {}",
        t.name,
        t.health_check_protocol.as_deref().unwrap_or("?"),
        if path.is_empty() { String::new() } else { format!("{path} ") },
        t.matcher.as_deref().unwrap_or("?"),
        t.health_check_interval_seconds.map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        t.health_check_timeout_seconds.map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        t.unhealthy_threshold_count.map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        t.healthy_threshold_count.map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
    )
}

/// What a target health reason code means, in one clause.
fn reason_meaning(reason: &str) -> &'static str {
    match reason {
        "Target.ResponseCodeMismatch" => "the app answered, but with a status code outside the matcher",
        "Target.Timeout" => "the probe got no answer in time (security group, port, or app not listening)",
        "Target.FailedHealthChecks" => "the probe's connection failed",
        "Target.NotInUse" => "the target's Availability Zone is not enabled for the load balancer",
        "Target.NotRegistered" => "the target is no longer registered",
        "Target.DeregistrationInProgress" => "the target is being deregistered",
        "Elb.InitialHealthChecking" => "initial health checks were still running",
        "Target.HealthCheckDisabled" => "health checks are disabled",
        _ => "see the description",
    }
}

/// `unhealthy, Target.ResponseCodeMismatch (meaning): "description"`.
fn describe_health(t: &TargetHealth) -> String {
    let r = t.reason.as_deref().unwrap_or("");
    format!(
        "{}{}{}",
        t.state.as_deref().unwrap_or("?"),
        if r.is_empty() { String::new() } else { format!(", {r} ({})", reason_meaning(r)) },
        t.description.as_deref().map(|d| format!(": \"{d}\"")).unwrap_or_default()
    )
}

/// Whether the task's security groups admit the load balancer's on `port`,
/// decided by the one security-group evaluator: `Some(true)` with the
/// admitting rule, `Some(false)` with what was looked at, `None` when a fact
/// is missing.
fn admits_lb(ev: &Evidence, lb_sgs: &[String], port: i32) -> (Option<bool>, String) {
    let Some(task_sgs) = ev.network.placement.value().map(|p| &p.security_group_ids) else {
        return (None, "the task's security groups are unknown".into());
    };
    let Some(all) = ev.network.security_groups.value() else {
        return (None, format!(
            "the security groups could not be read ({})",
            ev.network.security_groups.gap_reason().unwrap_or_default()
        ));
    };
    if task_sgs.is_empty() {
        return (None, "the task's security groups are unknown".into());
    }
    let groups: Vec<&SecurityGroup> = all.iter().filter(|g| task_sgs.contains(&g.id)).collect();
    let Ok(port) = u16::try_from(port) else {
        return (None, format!("port {port} is not a TCP port"));
    };
    // The load balancer lives in the VPC: its groups, or a range covering the VPC.
    let vpc_cidrs: Option<Vec<Ipv4Net>> = ev
        .network
        .vpc
        .value()
        .map(|v| v.cidr_blocks.iter().filter_map(|c| c.parse().ok()).collect());
    let label = if lb_sgs.is_empty() {
        "the load balancer".to_string()
    } else {
        format!("the load balancer's {}", lb_sgs.join(", "))
    };
    let peer = Peer::nets(label, vpc_cidrs.as_deref().unwrap_or_default()).with_groups(lb_sgs);
    let prefix_lists = ev.network.prefix_lists.value().map(Vec::as_slice).unwrap_or_default();
    let decision = sg_decide(&groups, false, port, &peer, prefix_lists);
    match decision.allowed {
        Some(false) if groups.len() < task_sgs.len() => {
            (None, "not every task security group could be read".into())
        }
        Some(false) if vpc_cidrs.is_none() => (None, format!(
            "{}; whether a range rule covers the load balancer is unknown: the VPC could not be read ({})",
            decision.detail,
            ev.network.vpc.gap_reason().unwrap_or_default()
        )),
        allowed => (allowed, decision.detail),
    }
}

/// The finding under construction and the fixes gathered for it (some go first).
struct Report<'a> {
    ev: &'a Evidence,
    f: Finding,
    fixes: Vec<String>,
    tg_arn: String,
    /// The app was still starting when the checks counted (said against
    /// this finding unless it names what fails the checks forever).
    slow_start: Option<String>,
    /// What this finding names that fails the checks whatever the timing.
    fails_forever: bool,
    /// The app's own log names what fails the checks forever (another port,
    /// loopback): another finding says so, and it is not a timing matter.
    log_names_blocker: bool,
    /// A running task's inbound path from the load balancer is blocked at
    /// its security groups (security-group-ingress-closed says so).
    lb_path_blocked: bool,
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let s = symptoms(ctx);
    if s.reason.is_none() && s.task_events.is_empty() && s.unhealthy_target.is_none() {
        return match ev.service.value() {
            Some(svc) if svc.load_balancers.is_empty() => Verdict::Skipped("the service has no load balancer".into()),
            None => Verdict::Skipped("the task does not belong to a service behind a load balancer".into()),
            Some(_) => Verdict::Pass("the stop reason is not a load balancer health check and the task's target is not unhealthy".into()),
        };
    }
    let w = wiring(ev, &s);
    let mut r = Report {
        ev,
        f: Finding::new(Cause::LbHealthCheckFailed, strength(&s), title(&w)),
        fixes: Vec::new(),
        tg_arn: w
            .tg
            .map(|t| t.arn.clone())
            .or(w.named_tg.clone())
            .unwrap_or_else(|| "TARGET_GROUP_ARN".into()),
        slow_start: None,
        fails_forever: false,
        log_names_blocker: false,
        lb_path_blocked: ctx
            .network
            .hops_for(Cause::SecurityGroupIngressClosed)
            .blocked
            .iter()
            .any(|(p, _)| p.from_load_balancer().is_some()),
    };
    if let Some(reason) = &s.reason {
        r.f = r.f.evidence(format!("stopCode = {}; {}", ev.task.stop_code.as_deref().unwrap_or("unset"), reason.quote()));
    }
    if let Some(e) = s.task_events.first() {
        r.f = r.f.evidence(format!("service event: \"{e}\""));
    }
    r.target_group_settings(&w);
    let code_mismatch = r.target_health(&s, &w) | r.access_log(&w);
    if code_mismatch {
        let path = health_check_path(&w).unwrap_or_else(|| "/health".into());
        r.fixes.push(format!(
            "Make `{path}` answer with a success code, or point the check at a path that does and widen the matcher if needed: `aws elbv2 modify-target-group --target-group-arn {} --health-check-path <path> --matcher HttpCode=200-399`.",
            r.tg_arn
        ));
    }
    r.fails_forever = code_mismatch;
    r.grace_period(&w);
    r.security_groups(&w);
    r.listen_line(&w);
    let Report { mut f, fixes, tg_arn, slow_start, fails_forever, log_names_blocker, .. } = r;
    if fails_forever {
        // A wrong code or dropped probes fail the checks however long the app is given.
        f = f.health_checks(HealthChecks::FailForever);
    } else if let (Some(slow), false) = (slow_start, log_names_blocker) {
        f = f.against(slow);
    }
    for x in fixes {
        f = f.fix(x);
    }
    let path = health_check_path(&w).unwrap_or_else(|| "/".into());
    f.fix(format!(
        "Check the health-check path from inside a running task: `curl -i http://localhost:{}{path}`; and see the target's reason with `aws elbv2 describe-target-health --target-group-arn {tg_arn}`.",
        w.port.map(|p| p.to_string()).unwrap_or_else(|| "PORT".into())
    ))
    .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html")
    .into_verdict()
}

fn strength(s: &Symptoms) -> Strength {
    if s.reason.is_some() || !s.task_events.is_empty() {
        Strength::Direct
    } else {
        Strength::Corroborating
    }
}

fn title(w: &Wiring) -> String {
    let tg_name = w
        .tg
        .and_then(|t| t.target_group.value().map(|v| v.name.clone()))
        .or_else(|| w.named_tg.as_deref().and_then(|a| a.split('/').nth(1).map(str::to_string)));
    match (&tg_name, &w.container, w.port) {
        (Some(n), Some(c), Some(p)) => format!("Target group `{n}` found container `{c}` (port {p}) unhealthy"),
        (Some(n), _, _) => format!("Target group `{n}` found the task unhealthy"),
        _ => "The load balancer found the task unhealthy".to_string(),
    }
}

fn health_check_path(w: &Wiring) -> Option<String> {
    w.tg
        .and_then(|t| t.target_group.value())
        .and_then(|v| v.health_check_path.clone())
}

impl Report<'_> {
    /// The target group's health-check settings, and a probe on another port.
    fn target_group_settings(&mut self, w: &Wiring) {
        let Some(fact) = w.tg.map(|t| &t.target_group) else {
            self.f.evidence.push("the target group named in the reason was not collected".into());
            return;
        };
        let Some(t) = fact.value() else {
            self.f.evidence.push(format!(
                "the target group's settings could not be read: {}",
                fact.gap_reason().unwrap_or_default()
            ));
            return;
        };
        self.f.evidence.push(settings(t));
        if let Some(p) = t.health_check_port.as_deref().and_then(|p| p.parse::<i32>().ok()) {
            if Some(p) != w.port {
                self.f.evidence.push(format!(
                    "the health check probes port {p}, not the container port {} (see app-port-mismatch)",
                    w.port.map(|p| p.to_string()).unwrap_or_else(|| "?".into())
                ));
            }
        }
    }

    /// The task's own target, then the group's other targets (a replacement
    /// failing the same way). True when the checks got the wrong HTTP code.
    fn target_health(&mut self, s: &Symptoms, w: &Wiring) -> bool {
        let mut code_mismatch = s
            .reason
            .as_ref()
            .map(|r| &r.class)
            .into_iter()
            .chain(s.task_event_classes.iter())
            .any(|c| c.states(Detail::HealthCheckCodeMismatch));
        let Some(tg) = w.tg else {
            return code_mismatch;
        };
        let ip = s.ip.as_deref();
        let line = match (own_target(tg, ip), tg.target_health.value(), ip) {
            (Some(t), _, Some(ip)) => {
                code_mismatch |= t.reason.as_deref() == Some("Target.ResponseCodeMismatch");
                format!("target {ip}:{}: {}", t.port.map(|p| p.to_string()).unwrap_or_default(), describe_health(t))
            }
            (None, Some(_), Some(ip)) => {
                format!("the task's target {ip} is no longer registered (ECS deregisters it when the task stops)")
            }
            (_, None, _) => format!(
                "the target health could not be read: {}",
                tg.target_health.gap_reason().unwrap_or_default()
            ),
            (_, Some(_), None) => "the task's private IP is unknown, so its own target could not be found".to_string(),
        };
        self.f.evidence.push(line);
        let other = tg.target_health.value().and_then(|all| {
            all.iter()
                .find(|t| Some(t.target_id.as_str()) != ip && t.state.as_deref() == Some("unhealthy"))
        });
        if let Some(o) = other {
            code_mismatch |= o.reason.as_deref() == Some("Target.ResponseCodeMismatch");
            self.f.evidence.push(format!(
                "another target of the group fails the same check (likely the replacement task): {}:{}: {}",
                o.target_id,
                o.port.map(|p| p.to_string()).unwrap_or_default(),
                describe_health(o)
            ));
        }
        code_mismatch
    }

    /// The app's own access log line for the health-check path, when it failed.
    fn access_log(&mut self, w: &Wiring) -> bool {
        let (Some(c), Some(path)) = (&w.container, health_check_path(w)) else {
            return false;
        };
        let re = Regex::new(&format!(r#"\b(?:GET|HEAD)\s+{}(?:[\s?"]|$).*?\b([1-5]\d\d)\b"#, regex::escape(&path)))
            .expect("valid access-log regex");
        let failed = self.ev.log_lines(c).iter().rev().find(|l| {
            re.captures(&l.message)
                .is_some_and(|m| !m[1].starts_with('2') && !m[1].starts_with('3'))
        });
        let Some(l) = failed else {
            return false;
        };
        self.f.evidence.push(format!(
            "the app's own log shows the health-check request failing: \"{}\"",
            l.message.trim()
        ));
        true
    }

    /// The service's grace period against the app's start-up time.
    fn grace_period(&mut self, w: &Wiring) {
        let Some(s) = self.ev.service.value() else {
            return;
        };
        let cluster = crate::task::cluster_name(self.ev);
        let cluster = if cluster.is_empty() { "CLUSTER" } else { cluster };
        let grace = s.health_check_grace_period_seconds.unwrap_or(0);
        self.f.evidence.push(format!(
            "service `{}`: healthCheckGracePeriodSeconds = {grace}{}",
            s.name,
            if grace == 0 { " (failed checks count from the moment the task registers)" } else { "" }
        ));
        match slow_start(self.ev, w) {
            Some(slow) if slow.too_slow() => {
                self.f.evidence.push(format!(
                    "the app needed about {}s to start listening, longer than the {}s the load balancer allows",
                    slow.startup_secs,
                    slow.allowed()
                ));
                self.slow_start = Some(
                    "a more specific cause explains the failed checks: the app was still starting when they counted (health-check-grace-too-short)".into(),
                );
            }
            Some(_) => {}
            None if grace == 0 => self.fixes.push(format!(
                "If the app needs time to start, set a grace period: `aws ecs update-service --cluster {cluster} --service {} --health-check-grace-period-seconds 60`.",
                s.name
            )),
            None => {}
        }
    }

    /// Do the task's security groups admit the load balancer on the container port?
    fn security_groups(&mut self, w: &Wiring) {
        let (Some(tg), Some(p)) = (w.tg, w.port) else {
            return;
        };
        let Some(lb_sgs) = tg.load_balancer_security_groups.value() else {
            self.f.evidence.push(format!(
                "the load balancer's security groups are unknown: {}",
                tg.load_balancer_security_groups.gap_reason().unwrap_or_default()
            ));
            return;
        };
        let (ok, detail) = admits_lb(self.ev, lb_sgs, p);
        match ok {
            Some(true) => self.f.evidence.push(format!("security groups: {detail}")),
            Some(false) => {
                self.f.evidence.push(format!("security groups: {detail}"));
                self.fails_forever = true;
                if self.lb_path_blocked {
                    // The inbound path from the load balancer says the same, hop by hop.
                    self.f.against.push("a more specific cause explains the failed checks: the task's security groups do not admit the load balancer (security-group-ingress-closed)".into());
                }
                let task_sg = self
                    .ev
                    .network
                    .placement
                    .value()
                    .and_then(|pl| pl.security_group_ids.first().cloned())
                    .unwrap_or_else(|| "TASK_SG".into());
                let lb_sg = lb_sgs.first().cloned().unwrap_or_else(|| "LB_SG".into());
                self.fixes.insert(
                    0,
                    format!(
                        "Admit the load balancer on the container port: `aws ec2 authorize-security-group-ingress --group-id {task_sg} --protocol tcp --port {p} --source-group {lb_sg}`."
                    ),
                );
            }
            None => self.f.evidence.push(format!("security groups: not evaluated, {detail}")),
        }
    }

    /// What the app said about its port and address.
    fn listen_line(&mut self, w: &Wiring) {
        let Some(c) = &w.container else {
            return;
        };
        match crate::logs::announced(self.ev.log_lines(c)) {
            Some(l) if l.is_loopback() => {
                self.f.evidence.push(format!(
                    "the app listens on loopback only, which the load balancer cannot reach: \"{}\"",
                    l.line
                ));
                self.fixes.insert(0, format!("Make the app bind 0.0.0.0 (all interfaces) instead of {}.", l.host.clone().unwrap_or_default()));
                self.f.against.push("a more specific cause explains the failed checks: the app listens on loopback only (app-bound-to-localhost)".into());
                self.log_names_blocker = true;
            }
            Some(l) if w.port.is_some_and(|p| p != l.port) => {
                let port = w.port.unwrap_or_default();
                self.f.evidence.push(format!("the app announced port {} but the load balancer sends to {port}: \"{}\"", l.port, l.line));
                self.f.against.push(format!(
                        "a more specific cause explains the failed checks: the app listens on {}, not on the container port {port} (app-port-mismatch)",
                        l.port
                ));
                self.log_names_blocker = true;
            }
            Some(l) => self.f.evidence.push(format!("the app announced it listens: \"{}\"", l.line)),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::evidence::{Fact, SecurityGroupRule, ServiceEvent};
    use crate::testkit::lb::{from_lb, lb_task, reason, TG};
    use crate::testkit::{running, EvidenceExt};

    #[test]
    fn the_target_reason_settings_and_grace_period_are_gathered() {
        let ev = lb_task(&reason(), from_lb());
        let Verdict::Found(f) = check(&ev) else { panic!("{:?}", check(&ev)) };
        assert_eq!(f.strength, Strength::Direct);
        assert_eq!(f.title, "Target group `web` found container `web` (port 8080) unhealthy");
        let all = f.evidence.join("\n");
        assert!(all.contains("HTTP /health on traffic-port, success codes 200, every 30s"), "{all}");
        assert!(all.contains("target 10.0.1.23:8080: unhealthy, Target.ResponseCodeMismatch"), "{all}");
        assert!(all.contains("[404]"));
        assert!(all.contains("healthCheckGracePeriodSeconds = 0"));
        assert!(all.contains("security groups: allowed by sg-task tcp/8080 from sg-lb"), "{all}");
        assert!(f.fix.iter().any(|x| x.contains("--matcher HttpCode=200-399")));
    }

    #[test]
    fn a_draining_target_points_at_the_replacement_and_the_access_log() {
        let mut ev = lb_task(&reason(), from_lb()).log("web", &["listening on 0.0.0.0:8080", "GET /health 404 1ms"]);
        ev.load_balancing[0].target_health = Fact::gathered(vec![
            TargetHealth {
                target_id: "10.0.1.23".into(),
                port: Some(8080),
                state: Some("draining".into()),
                reason: Some("Target.DeregistrationInProgress".into()),
                description: Some("Target deregistration is in progress".into()),
            },
            TargetHealth {
                target_id: "10.0.1.77".into(),
                port: Some(8080),
                state: Some("unhealthy".into()),
                reason: Some("Target.ResponseCodeMismatch".into()),
                description: Some("Health checks failed with these codes: [404]".into()),
            },
        ]);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        let all = f.evidence.join("\n");
        assert!(all.contains("target 10.0.1.23:8080: draining, Target.DeregistrationInProgress"), "{all}");
        assert!(all.contains("another target of the group fails the same check (likely the replacement task): 10.0.1.77:8080: unhealthy"), "{all}");
        assert!(all.contains("the app's own log shows the health-check request failing: \"GET /health 404 1ms\""), "{all}");
        assert!(f.fix.iter().any(|x| x.contains("--matcher HttpCode=200-399")));
        assert!(f.against.is_empty());
    }

    #[test]
    fn a_port_mismatch_speaks_against_the_generic_cause() {
        let ev = lb_task(&reason(), from_lb()).log("web", &["listening on 0.0.0.0:3000"]);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.against.len(), 1);
        assert!(f.against[0].contains("app-port-mismatch"));
    }

    #[test]
    fn a_security_group_that_drops_the_load_balancer_is_named_with_the_command() {
        let ev = lb_task(&reason(), vec![]);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.evidence.iter().any(|e| e.contains("no ingress rule of sg-task allows tcp/8080 from the load balancer's sg-lb")), "{:?}", f.evidence);
        assert_eq!(
            f.fix[0],
            "Admit the load balancer on the container port: `aws ec2 authorize-security-group-ingress --group-id sg-task --protocol tcp --port 8080 --source-group sg-lb`."
        );
    }

    #[test]
    fn a_vpc_wide_rule_admits_the_load_balancer() {
        let rule = SecurityGroupRule { protocol: "-1".into(), ipv4_ranges: vec!["10.0.0.0/8".into()], ..Default::default() };
        let ev = lb_task(&reason(), vec![rule]);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(
            f.evidence.iter().any(|e| e.contains("allowed by sg-task all traffic from 10.0.0.0/8")),
            "{:?}",
            f.evidence
        );
    }

    #[test]
    fn a_slow_start_and_a_loopback_bind_are_explained() {
        let mut ev = lb_task("Task failed ELB health chec", from_lb());
        ev.task.timestamps.started_at = Some("2026-01-01T11:57:00Z".into());
        // The probes time out (TargetHealth reason and description as ELB reports a timeout).
        if let Fact::Gathered { value } = &mut ev.load_balancing[0].target_health {
            value[0].reason = Some("Target.Timeout".into());
            value[0].description = Some("Request timed out".into());
        }
        let ev = ev.log("web", &["booting", "Listening on http://127.0.0.1:8080"]);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.evidence.iter().any(|e| e.contains("loopback only")));
        assert!(f.evidence.iter().any(|e| e.contains("about 151s to start listening")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("bind 0.0.0.0"));
        // Not the slow start: the loopback bind fails the checks whatever the timing.
        assert!(!f.against.iter().any(|a| a.contains("(health-check-grace-too-short)")), "{:?}", f.against);
        assert!(f.against.iter().any(|a| a.contains("(app-bound-to-localhost)")), "{:?}", f.against);
        assert_eq!(f.health_checks, HealthChecks::Unrelated);
    }

    #[test]
    fn a_slow_start_alone_is_the_more_specific_cause() {
        let mut ev = lb_task(&reason(), from_lb());
        ev.task.timestamps.started_at = Some("2026-01-01T11:57:00Z".into());
        // ELB's reason code and description for a probe that got no answer.
        if let Fact::Gathered { value } = &mut ev.load_balancing[0].target_health {
            value[0].reason = Some("Target.Timeout".into());
            value[0].description = Some("Request timed out".into());
        }
        // Spring Boot's line once Tomcat listens (TomcatWebServer.start, Spring Boot 3).
        let ev = ev.log("web", &["booting", "Tomcat started on port 8080 (http) with context path '/'"]);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.against.iter().any(|a| a.contains("(health-check-grace-too-short)")), "{:?}", f.against);
        assert_eq!(f.health_checks, HealthChecks::Unrelated);
    }

    #[test]
    fn a_wrong_code_fails_the_checks_forever_however_slow_the_start() {
        // lb_task's target answered 404: no grace period makes that pass.
        let mut ev = lb_task(&reason(), from_lb());
        ev.task.timestamps.started_at = Some("2026-01-01T11:57:00Z".into());
        let ev = ev.log("web", &["booting", "Listening on http://0.0.0.0:8080"]);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.evidence.iter().any(|e| e.contains("about 151s to start listening")), "{:?}", f.evidence);
        assert!(f.against.is_empty(), "{:?}", f.against);
        assert_eq!(f.health_checks, HealthChecks::FailForever);
    }

    #[test]
    fn a_service_event_for_this_task_is_enough() {
        let mut ev = lb_task("", from_lb());
        let msg = format!(
            "(service web) (task {}) (port 8080) is unhealthy in (target-group {TG}) due to (reason Health checks failed with these codes: [503])",
            ev.task.id
        );
        ev = ev.svc(|s| s.events.push(ServiceEvent { created_at: None, message: msg }));
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.evidence.iter().any(|e| e.starts_with("service event:")));
    }

    #[test]
    fn an_unhealthy_running_target_is_corroborating() {
        let mut ev = lb_task("", from_lb());
        ev.task.last_status = "RUNNING".into();
        ev.task.stop_code = None;
        ev.task.stopped_reason = None;
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.strength, Strength::Corroborating);
    }

    #[test]
    fn other_tasks_pass_or_skip() {
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
        let ev = lb_task("Essential container in task exited", from_lb());
        let mut ev = ev;
        ev.load_balancing[0].target_health = Fact::gathered(vec![]);
        assert!(matches!(check(&ev), Verdict::Pass(_)));
    }

}
