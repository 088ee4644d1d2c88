//! ## What it detects
//! A task ended by an essential **sidecar** rather than by the app: the
//! FireLens log router (`firelensConfiguration`), the Service Connect proxy
//! (`ecs-service-connect-…`), the GuardDuty runtime monitoring agent, an App
//! Mesh Envoy (`proxyConfiguration`, `aws-appmesh-envoy`), or a telemetry
//! agent (X-Ray, OpenTelemetry, Datadog). The sidecar is the essential
//! container that exited first with its own code, while the app's containers
//! were stopped afterwards (exit 137 or 143) as ECS tore the task down.
//!
//! ## Why it matters
//! When any essential container exits, ECS stops the whole task; the app is
//! then killed and its exit code looks like a failure. People read the app's
//! logs, find nothing, and redeploy. The cause is in the sidecar's own exit
//! code and log lines: a Fluent Bit output it cannot reach or is not allowed
//! to write to, a log router out of memory, a Service Connect or Envoy proxy
//! that cannot find its mesh or namespace.
//!
//! ## Example
//! ```text
//! stopCode = EssentialContainerExited; stoppedReason = "Essential container in task exited"
//! container log_router exitCode = 1 (FireLens log router (Fluent Bit))
//! log_router: [error] [output:cloudwatch_logs:cloudwatch_logs.0] AccessDeniedException …
//! essential container web exitCode = 143: stopped by ECS after log_router exited (teardown)
//! ```
//!
//! ## How to fix
//! Read the sidecar's log lines in the report (its own `logConfiguration`):
//! for a log router, fix its output (destination, Region, the task role's
//! permissions for it) and give it memory; for Service Connect or Envoy, fix
//! the namespace, mesh or virtual node it names. Mark a sidecar
//! `essential: false` only when the app can run without it.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_firelens.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html
//! - https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html
//! - https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy.html

use crate::checks::app::app_exit_error::{exit_meaning, sibling_context};
use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::Evidence;
use crate::logs::excerpt::log_evidence;
use crate::report::{Finding, Strength, Verdict};
use crate::stops::{self, StopCode, StopKind};
use crate::task::{failed_essential_container, is_teardown_exit, sidecar_role};

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let sidecars: Vec<(&str, &'static str)> = ev
        .task
        .containers
        .iter()
        .filter_map(|c| sidecar_role(ev, &c.name).map(|r| (c.name.as_str(), r)))
        .collect();
    if sidecars.is_empty() {
        return Verdict::Skipped("the task has no sidecar (log router, proxy or agent)".into());
    }
    if !ev.is_stopped() {
        return Verdict::Skipped("the task is not stopped".into());
    }
    if let Some(request) = stops::stop_request(ev) {
        return Verdict::Skipped(format!(
            "the task was asked to stop ({request}), not ended by a container's exit"
        ));
    }
    let stop = StopCode::of(ev);
    if !matches!(stop, StopCode::EssentialContainerExited | StopCode::None) {
        return Verdict::Skipped(format!(
            "stopCode is {}, not an essential container exit",
            ev.task.stop_code.as_deref().unwrap_or("unset")
        ));
    }
    let Some(culprit) = failed_essential_container(ev) else {
        return Verdict::Inconclusive("no container reported an exit code".into());
    };
    let Some(role) = sidecar_role(ev, &culprit.name) else {
        return Verdict::Pass(format!(
            "the essential container that ended the task is the app `{}`; the sidecars ({}) did not",
            culprit.name,
            sidecars
                .iter()
                .map(|(n, r)| format!("{n}: {r}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    let code = culprit.exit_code;
    let oom = stops::container_reason_is(culprit, StopKind::OutOfMemory);
    // A sidecar's own exit (any code but a teardown signal, or a kill for
    // memory) is direct; a lone 137/143 with every container torn down is not.
    let strength = match code {
        Some(c) if !is_teardown_exit(c) => Strength::Direct,
        Some(_) if oom => Strength::Direct,
        _ => Strength::Corroborating,
    };
    let what = match code {
        Some(c) => format!("exited with code {c} ({})", exit_meaning(c)),
        None => "stopped".to_string(),
    };
    let mut f = Finding::new(
        Cause::SidecarFailed,
        strength,
        format!(
            "Essential sidecar `{}`, the {role}, {what} and took the task down",
            culprit.name
        ),
    );
    f = f.evidence(format!(
        "stopCode = {}; stoppedReason = \"{}\"",
        ev.task.stop_code.as_deref().unwrap_or("unset"),
        ev.task.stopped_reason.as_deref().unwrap_or("")
    ));
    f = f.evidence(format!(
        "container `{}` is the {role}{}",
        culprit.name,
        if crate::task::is_essential(ev, culprit) {
            " and is essential"
        } else {
            ""
        }
    ));
    if let Some(reason) = culprit.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        f = f.evidence(format!("container `{}` reason = \"{reason}\"", culprit.name));
    }
    f = f.evidence(log_evidence(ev, &culprit.name));
    for line in sibling_context(ev, &culprit.name) {
        f = f.evidence(line);
    }
    for fix in fixes(ev, role, &culprit.name, oom) {
        f = f.fix(fix);
    }
    f.doc(doc_for(role)).into_verdict()
}

fn fixes(ev: &Evidence, role: &str, name: &str, oom: bool) -> Vec<String> {
    let mut out = Vec::new();
    if oom {
        out.push(format!(
            "`{name}` was killed for memory: raise its `memory` / `memoryReservation` (a log router needs 50–100 MiB, more with buffering) or the task's memory."
        ));
    }
    let specific = if role.starts_with("FireLens") {
        let task_role = ev
            .task_def()
            .and_then(|td| td.task_role_arn.clone())
            .unwrap_or_else(|| "the task role".into());
        format!(
            "Read `{name}`'s log lines above for its output errors: fix the [OUTPUT] destination, its Region and credentials ({task_role} needs the destination's write permissions, e.g. logs:PutLogEvents or firehose:PutRecordBatch), and the network path to it."
        )
    } else if role.starts_with("Service Connect") {
        "Check the service's serviceConnectConfiguration: the Cloud Map namespace exists, each portName matches a portMappings[].name of the task definition, and the proxy's logs (the service's Service Connect log configuration) name the error.".to_string()
    } else if role.starts_with("GuardDuty") {
        "The GuardDuty agent is added by GuardDuty Runtime Monitoring: check the agent's status in GuardDuty coverage, that the execution role can pull its image from ECR and that the task can reach ECR; the agent is normally non-essential.".to_string()
    } else if role.starts_with("App Mesh") {
        "Check the Envoy's log lines: APPMESH_RESOURCE_ARN names an existing virtual node, the task role allows appmesh:StreamAggregatedResources, and the task can reach the App Mesh endpoint.".to_string()
    } else {
        format!("Read `{name}`'s log lines above: the agent names what it could not reach or start.")
    };
    out.push(specific);
    out.push(format!(
        "If the app can run without `{name}`, mark it `essential: false` so its failure no longer stops the task."
    ));
    out
}

fn doc_for(role: &str) -> &'static str {
    if role.starts_with("FireLens") {
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_firelens.html"
    } else if role.starts_with("Service Connect") {
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html"
    } else if role.starts_with("GuardDuty") {
        "https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html"
    } else if role.starts_with("App Mesh") {
        "https://docs.aws.amazon.com/app-mesh/latest/userguide/envoy.html"
    } else {
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/application_architecture.html"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::testkit::{container_def, exited, found, EvidenceExt};

    /// An app `web` and a FireLens router `log_router`, both essential.
    fn with_router() -> Evidence {
        let mut ev = exited();
        let td = ev.task_definition.value_mut().expect("kit task definition");
        let mut router = container_def("log_router");
        router.image = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable".into();
        router.firelens = Some("fluentbit".into());
        td.containers.push(router);
        let mut c = ev.task.containers[0].clone();
        c.name = "log_router".into();
        ev.task.containers.push(c);
        ev
    }

    #[test]
    fn a_task_without_sidecars_skips() {
        let ev = exited().exit("web", Some(1), None);
        assert!(matches!(check(&ev), Verdict::Skipped(_)));
    }

    #[test]
    fn the_router_exiting_first_is_named_with_its_code_and_logs() {
        let ev = with_router()
            .exit("web", Some(143), None)
            .exit("log_router", Some(1), None)
            .log("log_router", &["[error] [output:cloudwatch_logs:cloudwatch_logs.0] AccessDeniedException"]);
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("`log_router`") && f.title.contains("FireLens") && f.title.contains("code 1"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("AccessDeniedException")), "{:?}", f.evidence);
        assert!(f.evidence.iter().any(|e| e.contains("`web` exitCode = 143")), "{:?}", f.evidence);
        // The app's exit is not blamed.
        let report = crate::diagnose(&ev, "t");
        assert_eq!(report.candidates[0].code, Cause::SidecarFailed, "{:?}", report.candidates);
        assert!(!report.candidates.iter().any(|c| c.code == Cause::AppExitError));
    }

    #[test]
    fn an_unread_task_definition_still_knows_the_router_by_its_image() {
        let mut ev = with_router().exit("web", Some(143), None).exit("log_router", Some(1), None);
        ev.task.containers[1].image = Some("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable".into());
        ev.task_definition = crate::evidence::Fact::Denied {
            action: "ecs:DescribeTaskDefinition".into(),
            error: "AccessDeniedException".into(),
        };
        let f = found(check(&ev));
        assert!(f.title.contains("FireLens log router"), "{}", f.title);
        let report = crate::diagnose(&ev, "t");
        assert!(!report.candidates.iter().any(|c| c.code == Cause::AppExitError), "{:?}", report.candidates);
    }

    #[test]
    fn the_app_failing_first_passes_and_names_the_sidecars() {
        let ev = with_router().exit("web", Some(1), None).exit("log_router", Some(143), None);
        match check(&ev) {
            Verdict::Pass(d) => assert!(d.contains("log_router: FireLens"), "{d}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_service_connect_proxy_is_recognised_by_its_managed_name() {
        let mut ev = exited();
        let mut c = ev.task.containers[0].clone();
        c.name = "ecs-service-connect-7fGh2".into();
        c.image = Some("ecs-service-connect-agent:interface-v1".into());
        ev.task.containers.push(c);
        let ev = ev.exit("web", Some(137), None).exit("ecs-service-connect-7fGh2", Some(2), None);
        let f = found(check(&ev));
        assert!(f.title.contains("Service Connect proxy"), "{}", f.title);
        assert!(f.fix.iter().any(|x| x.contains("serviceConnectConfiguration")), "{:?}", f.fix);
    }
}
