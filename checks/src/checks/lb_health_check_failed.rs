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

use crate::codes::Cause;
use crate::evidence::{Evidence, SecurityGroup, TargetGroup, TargetGroupEvidence, TargetHealth};
use crate::report::{Finding, Strength, Verdict};
use crate::stopclass::{self, StopKind};
use ipnet::IpNet;
use regex::Regex;

/// The target group ARN a stop reason or event names.
fn named_target_group(text: &str) -> Option<String> {
    Regex::new(r"arn:aws[\w-]*:elasticloadbalancing:[^)\s]+")
        .expect("valid arn regex")
        .find(text)
        .map(|m| m.as_str().to_string())
}

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

/// The task's private IP, from its ENI attachment or network placement.
fn task_ip(ev: &Evidence) -> Option<String> {
    ev.task
        .eni_attachment
        .as_ref()
        .and_then(|a| a.private_ip.clone())
        .or_else(|| ev.network.placement.value().and_then(|p| p.private_ip.clone()))
}

/// This task's entry in the target health, if it is still registered.
fn own_target<'a>(tg: &'a TargetGroupEvidence, ip: Option<&str>) -> Option<&'a TargetHealth> {
    let ip = ip?;
    tg.target_health.value()?.iter().find(|t| t.target_id == ip)
}

/// Whether the task's security groups admit the load balancer's on `port`:
/// `Some(true)` with the admitting rule, `Some(false)` with what was looked at, `None` when unknown.
fn admits_lb(ev: &Evidence, lb_sgs: &[String], port: i32) -> (Option<bool>, String) {
    let task_sgs: Vec<String> = ev
        .network
        .placement
        .value()
        .map(|p| p.security_group_ids.clone())
        .unwrap_or_default();
    let Some(all) = ev.network.security_groups.value() else {
        return (None, format!(
            "the security groups could not be read ({})",
            ev.network.security_groups.gap_reason().unwrap_or_default()
        ));
    };
    if task_sgs.is_empty() {
        return (None, "the task's security groups are unknown".into());
    }
    let vpc_cidrs: Vec<IpNet> = ev
        .network
        .vpc
        .value()
        .map(|v| v.cidr_blocks.iter().filter_map(|c| c.parse().ok()).collect())
        .unwrap_or_default();
    let groups: Vec<&SecurityGroup> = all.iter().filter(|g| task_sgs.contains(&g.id)).collect();
    for g in &groups {
        for rule in &g.ingress {
            let proto_ok = rule.protocol == "-1" || rule.protocol.eq_ignore_ascii_case("tcp") || rule.protocol == "6";
            let port_ok = rule.protocol == "-1"
                || match (rule.from_port, rule.to_port) {
                    (Some(a), Some(b)) => a <= port && port <= b,
                    _ => true,
                };
            if !(proto_ok && port_ok) {
                continue;
            }
            if let Some(src) = rule.group_ids.iter().find(|s| lb_sgs.contains(s)) {
                return (Some(true), format!("`{}` admits the load balancer's `{src}` on tcp/{port}", g.id));
            }
            for cidr in &rule.ipv4_ranges {
                let Ok(net) = cidr.parse::<IpNet>() else { continue };
                if vpc_cidrs.iter().any(|v| net.contains(v)) {
                    return (Some(true), format!("`{}` admits {cidr} (covers the VPC) on tcp/{port}", g.id));
                }
            }
        }
    }
    if groups.len() < task_sgs.len() {
        return (None, "not every task security group could be read".into());
    }
    (
        Some(false),
        format!(
            "the task's security groups {} have no inbound rule for tcp/{port} from the load balancer's {} (or from the VPC's range)",
            task_sgs.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "),
            if lb_sgs.is_empty() { "security groups".to_string() } else { lb_sgs.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ") }
        ),
    )
}

pub(crate) fn check(ev: &Evidence) -> Verdict {
    let reason = stopclass::find(ev, StopKind::ElbHealth);
    let service = ev.service.value();
    let task_events: Vec<&str> = service
        .map(|s| {
            s.events
                .iter()
                .filter(|e| e.message.contains(&ev.task.id) && stopclass::is(&e.message, StopKind::ElbHealth))
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
    if reason.is_none() && task_events.is_empty() && unhealthy_target.is_none() {
        return match service {
            Some(s) if s.load_balancers.is_empty() => Verdict::Skipped("the service has no load balancer".into()),
            None => Verdict::Skipped("the task does not belong to a service behind a load balancer".into()),
            Some(_) => Verdict::Pass("the stop reason is not a load balancer health check and the task's target is not unhealthy".into()),
        };
    }
    let named_tg = reason
        .as_ref()
        .and_then(|r| named_target_group(&r.text))
        .or_else(|| task_events.iter().find_map(|e| named_target_group(e)));
    let tg = named_tg
        .as_deref()
        .and_then(|arn| ev.load_balancing.iter().find(|t| t.arn == arn))
        .or(unhealthy_target.map(|(tg, _)| tg))
        .or(ev.load_balancing.first());
    let lb = service.and_then(|s| {
        s.load_balancers
            .iter()
            .find(|l| tg.is_some_and(|t| l.target_group_arn.as_deref() == Some(t.arn.as_str())))
            .or(s.load_balancers.first())
    });
    let container = lb.and_then(|l| l.container_name.clone());
    let port = lb.and_then(|l| l.container_port);

    let strength = if reason.is_some() || !task_events.is_empty() { Strength::Direct } else { Strength::Corroborating };
    let tg_name = tg
        .and_then(|t| t.target_group.value().map(|v| v.name.clone()))
        .or_else(|| named_tg.as_deref().and_then(|a| a.split('/').nth(1).map(str::to_string)));
    let title = match (&tg_name, &container, port) {
        (Some(n), Some(c), Some(p)) => format!("Target group `{n}` found container `{c}` (port {p}) unhealthy"),
        (Some(n), _, _) => format!("Target group `{n}` found the task unhealthy"),
        _ => "The load balancer found the task unhealthy".to_string(),
    };
    let mut f = Finding::new(Cause::LbHealthCheckFailed, strength, title);
    if let Some(r) = &reason {
        f = f.evidence(format!("stopCode = {}; {}", ev.task.stop_code.as_deref().unwrap_or("unset"), r.quote()));
    }
    if let Some(e) = task_events.first() {
        f = f.evidence(format!("service event: \"{e}\""));
    }
    let mut fixes: Vec<String> = Vec::new();
    let tg_arn = tg.map(|t| t.arn.clone()).or(named_tg.clone()).unwrap_or_else(|| "TARGET_GROUP_ARN".into());
    match tg.map(|t| &t.target_group) {
        Some(fact) => match fact.value() {
            Some(t) => {
                f = f.evidence(settings(t));
                if let Some(p) = t.health_check_port.as_deref().and_then(|p| p.parse::<i32>().ok()) {
                    if Some(p) != port {
                        f = f.evidence(format!(
                            "the health check probes port {p}, not the container port {} (see app-port-mismatch)",
                            port.map(|p| p.to_string()).unwrap_or_else(|| "?".into())
                        ));
                    }
                }
            }
            None => {
                f = f.evidence(format!(
                    "the target group's settings could not be read: {}",
                    fact.gap_reason().unwrap_or_default()
                ))
            }
        },
        None => f = f.evidence("the target group named in the reason was not collected"),
    }
    // The task's own target, then the group's other targets (a replacement failing the same way).
    let mut code_mismatch = reason
        .as_ref()
        .map(|r| r.text.clone())
        .into_iter()
        .chain(task_events.iter().map(|e| e.to_string()))
        .any(|t| crate::classify::contains_any(&t, &["failed with these codes"]));
    if let Some(tg) = tg {
        match (own_target(tg, ip.as_deref()), tg.target_health.value(), ip.as_deref()) {
            (Some(t), _, Some(ip)) => {
                let r = t.reason.as_deref().unwrap_or("");
                code_mismatch |= r == "Target.ResponseCodeMismatch";
                f = f.evidence(format!("target {ip}:{}: {}", t.port.map(|p| p.to_string()).unwrap_or_default(), describe_health(t)));
            }
            (None, Some(_), Some(ip)) => {
                f = f.evidence(format!("the task's target {ip} is no longer registered (ECS deregisters it when the task stops)"))
            }
            (_, None, _) => {
                f = f.evidence(format!(
                    "the target health could not be read: {}",
                    tg.target_health.gap_reason().unwrap_or_default()
                ))
            }
            (_, Some(_), None) => f = f.evidence("the task's private IP is unknown, so its own target could not be found"),
        }
        let other = tg.target_health.value().and_then(|all| {
            all.iter()
                .find(|t| Some(t.target_id.as_str()) != ip.as_deref() && t.state.as_deref() == Some("unhealthy"))
        });
        if let Some(o) = other {
            code_mismatch |= o.reason.as_deref() == Some("Target.ResponseCodeMismatch");
            f = f.evidence(format!(
                "another target of the group fails the same check (likely the replacement task): {}:{}: {}",
                o.target_id,
                o.port.map(|p| p.to_string()).unwrap_or_default(),
                describe_health(o)
            ));
        }
    }
    let hc_path = tg.and_then(|t| t.target_group.value()).and_then(|v| v.health_check_path.clone());
    if let (Some(c), Some(path)) = (&container, &hc_path) {
        let re = Regex::new(&format!(r#"\b(?:GET|HEAD)\s+{}(?:[\s?"]|$).*?\b([1-5]\d\d)\b"#, regex::escape(path)))
            .expect("valid access-log regex");
        if let Some(l) = ev.log_lines(c).iter().rev().find(|l| re.captures(&l.message).is_some_and(|m| !m[1].starts_with('2') && !m[1].starts_with('3'))) {
            code_mismatch = true;
            f = f.evidence(format!("the app's own log shows the health-check request failing: \"{}\"", l.message.trim()));
        }
    }
    if code_mismatch {
        let path = hc_path.clone().unwrap_or_else(|| "/health".into());
        fixes.push(format!(
            "Make `{path}` answer with a success code, or point the check at a path that does and widen the matcher if needed: `aws elbv2 modify-target-group --target-group-arn {tg_arn} --health-check-path <path> --matcher HttpCode=200-399`."
        ));
    }
    // Grace period vs. start-up.
    if let Some(s) = service {
        let grace = s.health_check_grace_period_seconds.unwrap_or(0);
        let budget = tg
            .and_then(|t| t.target_group.value())
            .map(|t| t.health_check_interval_seconds.unwrap_or(30) * t.unhealthy_threshold_count.unwrap_or(2))
            .unwrap_or(60);
        f = f.evidence(format!(
            "service `{}`: healthCheckGracePeriodSeconds = {grace}{}",
            s.name,
            if grace == 0 { " (failed checks count from the moment the task registers)" } else { "" }
        ));
        let startup = container.as_deref().and_then(|c| startup_seconds(ev, c));
        if let Some(secs) = startup {
            if secs > grace + budget {
                f = f.evidence(format!(
                    "the app needed about {secs}s to start listening, longer than the grace period plus {budget}s of failed checks"
                ));
                fixes.push(format!(
                    "Give the app time to start: `aws ecs update-service --cluster {} --service {} --health-check-grace-period-seconds {}`.",
                    ev.task.cluster_arn.rsplit('/').next().unwrap_or("CLUSTER"),
                    s.name,
                    ((secs + 29) / 30 + 1) * 30
                ));
            }
        } else if grace == 0 {
            fixes.push(format!(
                "If the app needs time to start, set a grace period: `aws ecs update-service --cluster {} --service {} --health-check-grace-period-seconds 60`.",
                ev.task.cluster_arn.rsplit('/').next().unwrap_or("CLUSTER"),
                s.name
            ));
        }
    }
    // Security groups: does the task admit the load balancer?
    if let (Some(tg), Some(p)) = (tg, port) {
        match tg.load_balancer_security_groups.value() {
            Some(lb_sgs) => {
                let (ok, detail) = admits_lb(ev, lb_sgs, p);
                match ok {
                    Some(true) => f = f.evidence(format!("security groups: {detail}")),
                    Some(false) => {
                        f = f.evidence(format!("security groups: {detail}"));
                        let task_sg = ev
                            .network
                            .placement
                            .value()
                            .and_then(|pl| pl.security_group_ids.first().cloned())
                            .unwrap_or_else(|| "TASK_SG".into());
                        let lb_sg = lb_sgs.first().cloned().unwrap_or_else(|| "LB_SG".into());
                        fixes.insert(
                            0,
                            format!(
                                "Admit the load balancer on the container port: `aws ec2 authorize-security-group-ingress --group-id {task_sg} --protocol tcp --port {p} --source-group {lb_sg}`."
                            ),
                        );
                    }
                    None => f = f.evidence(format!("security groups: not evaluated, {detail}")),
                }
            }
            None => {
                f = f.evidence(format!(
                    "the load balancer's security groups are unknown: {}",
                    tg.load_balancer_security_groups.gap_reason().unwrap_or_default()
                ))
            }
        }
    }
    // What the app said about its port and address.
    if let Some(c) = &container {
        match super::app_port_mismatch::announced(ev.log_lines(c)) {
            Some(l) if l.is_loopback() => {
                f = f.evidence(format!(
                    "the app listens on loopback only, which the load balancer cannot reach: \"{}\"",
                    l.line
                ));
                fixes.insert(0, format!("Make the app bind 0.0.0.0 (all interfaces) instead of {}.", l.host.clone().unwrap_or_default()));
            }
            Some(l) if port.is_some_and(|p| p != l.port) => {
                f = f.evidence(format!(
                    "the app announced port {} but the load balancer sends to {}: \"{}\"",
                    l.port,
                    port.unwrap_or_default(),
                    l.line
                ));
                f = f.against(format!(
                    "a more specific cause explains the failed checks: the app listens on {}, not on the container port {} (app-port-mismatch)",
                    l.port,
                    port.unwrap_or_default()
                ));
            }
            Some(l) => f = f.evidence(format!("the app announced it listens: \"{}\"", l.line)),
            None => {}
        }
    }
    for x in fixes {
        f = f.fix(x);
    }
    let path = tg
        .and_then(|t| t.target_group.value())
        .and_then(|t| t.health_check_path.clone())
        .unwrap_or_else(|| "/".into());
    f.fix(format!(
        "Check the health-check path from inside a running task: `curl -i http://localhost:{}{path}`; and see the target's reason with `aws elbv2 describe-target-health --target-group-arn {tg_arn}`.",
        port.map(|p| p.to_string()).unwrap_or_else(|| "PORT".into())
    ))
    .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html")
    .into_verdict()
}

/// Seconds from the task's start to the app's "listening" line, when both are known.
fn startup_seconds(ev: &Evidence, container: &str) -> Option<i32> {
    let started = ev.task.timestamps.started_at.as_deref()?;
    let lines = ev.log_lines(container);
    let listen = super::app_port_mismatch::announced(lines)?;
    let line = lines.iter().rev().find(|l| l.message.trim() == listen.line)?;
    let secs = crate::classify::seconds_between(started, line.timestamp.as_deref()?)?;
    (secs >= 0).then_some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{
        EniAttachment, Fact, NetworkAcl, SecurityGroupRule, ServiceEvent, ServiceLoadBalancer, TaskPlacement, Vpc,
    };
    use crate::fixtures::{running, stopped, EvidenceExt};

    const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef";

    fn lb_task(reason: &str, task_sg_ingress: Vec<SecurityGroupRule>) -> Evidence {
        let mut ev = stopped("ServiceSchedulerInitiated", reason).svc(|s| {
            s.load_balancers.push(ServiceLoadBalancer {
                target_group_arn: Some(TG.into()),
                container_name: Some("web".into()),
                container_port: Some(8080),
                ..Default::default()
            });
            s.health_check_grace_period_seconds = Some(0);
        });
        ev.task.eni_attachment = Some(EniAttachment { private_ip: Some("10.0.1.23".into()), ..Default::default() });
        ev.network.placement = Fact::gathered(TaskPlacement {
            security_group_ids: vec!["sg-task".into()],
            private_ip: Some("10.0.1.23".into()),
            ..Default::default()
        });
        ev.network.vpc = Fact::gathered(Vpc { id: "vpc-1".into(), cidr_blocks: vec!["10.0.0.0/16".into()], ..Default::default() });
        ev.network.security_groups = Fact::gathered(vec![
            SecurityGroup { id: "sg-task".into(), ingress: task_sg_ingress, ..Default::default() },
            SecurityGroup { id: "sg-lb".into(), ..Default::default() },
        ]);
        ev.network.network_acls = Fact::gathered(Vec::<NetworkAcl>::new());
        ev.load_balancing.push(TargetGroupEvidence {
            arn: TG.into(),
            target_group: Fact::gathered(TargetGroup {
                name: "web".into(),
                protocol: Some("HTTP".into()),
                port: Some(80),
                health_check_protocol: Some("HTTP".into()),
                health_check_port: Some("traffic-port".into()),
                health_check_path: Some("/health".into()),
                health_check_interval_seconds: Some(30),
                health_check_timeout_seconds: Some(5),
                healthy_threshold_count: Some(5),
                unhealthy_threshold_count: Some(2),
                matcher: Some("200".into()),
                ..Default::default()
            }),
            target_health: Fact::gathered(vec![TargetHealth {
                target_id: "10.0.1.23".into(),
                port: Some(8080),
                state: Some("unhealthy".into()),
                reason: Some("Target.ResponseCodeMismatch".into()),
                description: Some("Health checks failed with these codes: [404]".into()),
            }]),
            load_balancer_security_groups: Fact::gathered(vec!["sg-lb".into()]),
        });
        ev
    }

    fn from_lb() -> Vec<SecurityGroupRule> {
        vec![SecurityGroupRule {
            protocol: "tcp".into(),
            from_port: Some(8080),
            to_port: Some(8080),
            group_ids: vec!["sg-lb".into()],
            ..Default::default()
        }]
    }

    fn reason() -> String {
        format!("Task failed ELB health checks in (target-group {TG})")
    }

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
        assert!(all.contains("`sg-task` admits the load balancer's `sg-lb` on tcp/8080"), "{all}");
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
        assert!(f.evidence.iter().any(|e| e.contains("have no inbound rule for tcp/8080 from the load balancer's `sg-lb`")), "{:?}", f.evidence);
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
        assert!(f.evidence.iter().any(|e| e.contains("admits 10.0.0.0/8 (covers the VPC)")));
    }

    #[test]
    fn a_slow_start_and_a_loopback_bind_are_explained() {
        let mut ev = lb_task("Task failed ELB health chec", from_lb());
        ev.task.timestamps.started_at = Some("2026-01-01T11:57:00Z".into());
        let ev = ev.log("web", &["booting", "Listening on http://127.0.0.1:8080"]);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.evidence.iter().any(|e| e.contains("loopback only")));
        assert!(f.evidence.iter().any(|e| e.contains("about 151s to start listening")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("bind 0.0.0.0"));
        assert!(f.fix.iter().any(|x| x.contains("--health-check-grace-period-seconds 210")), "{:?}", f.fix);
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
