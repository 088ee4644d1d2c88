use super::*;
use crate::evidence::{
    AlarmsState, CircuitBreakerState, Deployment, LifecycleHook, Revision, Rollback, ServiceEvent,
    TaskTimestamps,
};

const TD4: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:4";
const TD5: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:5";

fn service() -> Service {
    Service {
        name: "web".into(),
        arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
        status: Some("ACTIVE".into()),
        desired_count: 2,
        running_count: 2,
        task_definition: Some(TD4.into()),
        ..Default::default()
    }
}

fn revision(td: &str) -> Revision {
    Revision {
        arn: format!(
            "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/{}",
            td.len()
        ),
        task_definition: Some(td.into()),
        requested: 2,
        running: 0,
        pending: 0,
    }
}

/// The circuit breaker rolled a deployment of web:5 back to web:4.
fn rolled_back() -> ServiceDeployment {
    ServiceDeployment {
        arn: "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/ejGvqq2ilnbKT9qj0vLJe"
            .into(),
        status: DeploymentStatus::RollbackSuccessful,
        // No published capture shows a rollback's statusReason: none is made up here.
        status_reason: None,
        created_at: Some("2026-12-03T10:40:00Z".into()),
        started_at: Some("2026-12-03T10:40:02Z".into()),
        target: Some(revision(TD5)),
        sources: vec![revision(TD4)],
        circuit_breaker: Some(CircuitBreakerState {
            status: Some("TRIGGERED".into()),
            failure_count: 3,
            threshold: 3,
        }),
        rollback: Some(Rollback {
            reason: None,
            started_at: Some("2026-12-03T10:44:00Z".into()),
            revision: Some(revision(TD4)),
        }),
        ..Default::default()
    }
}

fn facts(deployment: Fact<ServiceDeployment>, tasks: Vec<Swept>) -> DeploymentFacts {
    DeploymentFacts {
        service: service(),
        cluster: "prod".into(),
        region: "us-east-1".into(),
        deployment,
        window: Window {
            since: "2026-12-03T10:40:00Z".into(),
            limit: 100,
            stopped_tasks: tasks.len(),
            diagnosed: tasks.len(),
        },
        tasks: Fact::gathered(tasks),
        waited: None,
        gaps: Vec::new(),
    }
}

#[test]
fn every_status_has_its_state_and_exit_verdict() {
    let cases = [
        (
            "PENDING",
            DeploymentState::InProgress,
            Conclusion::Inconclusive,
        ),
        (
            "IN_PROGRESS",
            DeploymentState::InProgress,
            Conclusion::Inconclusive,
        ),
        (
            "SUCCESSFUL",
            DeploymentState::Completed,
            Conclusion::NoFailure,
        ),
        (
            "STOP_REQUESTED",
            DeploymentState::Stopped,
            Conclusion::Failure,
        ),
        ("STOPPED", DeploymentState::Stopped, Conclusion::Failure),
        (
            "ROLLBACK_REQUESTED",
            DeploymentState::RollingBack,
            Conclusion::Failure,
        ),
        (
            "ROLLBACK_IN_PROGRESS",
            DeploymentState::RollingBack,
            Conclusion::Failure,
        ),
        (
            "ROLLBACK_SUCCESSFUL",
            DeploymentState::RolledBack,
            Conclusion::Failure,
        ),
        (
            "ROLLBACK_FAILED",
            DeploymentState::RollbackFailed,
            Conclusion::Failure,
        ),
        (
            "SOMETHING_NEW",
            DeploymentState::Unknown,
            Conclusion::Inconclusive,
        ),
    ];
    for (text, state, verdict) in cases {
        let status = DeploymentStatus::parse(text);
        assert_eq!(status.as_str(), text);
        assert_eq!(DeploymentState::of(&status), state, "{text}");
        assert_eq!(state.verdict(), verdict, "{text}");
        // Only a deployment still under way (or unreadable) is waited on.
        assert_eq!(
            state.is_settled(),
            verdict != Conclusion::Inconclusive,
            "{text}"
        );
    }
}

#[test]
fn a_circuit_breaker_rollback_names_the_breaker_the_revisions_and_the_reason() {
    let report = summarize_deployment(facts(Fact::gathered(rolled_back()), vec![]), "test");
    assert_eq!(report.state, DeploymentState::RolledBack);
    assert_eq!(report.verdict, Conclusion::Failure);
    assert_eq!(report.state_source, StateSource::ServiceDeployments);
    assert_eq!(
        report.triggers,
        vec![Trigger::CircuitBreaker {
            failures: 3,
            threshold: 3
        }]
    );
    assert_eq!(report.revisions.after.as_deref(), Some("web:5"));
    assert_eq!(report.revisions.before, vec!["web:4".to_string()]);
    assert_eq!(report.revisions.rolled_back_to.as_deref(), Some("web:4"));
    assert!(
        report.headline.starts_with(
            "web: the deployment of web:5 failed and was rolled back: the circuit breaker stopped it after 3 failed tasks (threshold 3)"
        ),
        "{}",
        report.headline
    );
    assert!(
        report.headline.ends_with("; web:4 runs again"),
        "{}",
        report.headline
    );
    assert_eq!(
        report.evidence,
        vec![
            "status: ROLLBACK_SUCCESSFUL".to_string(),
            "the circuit breaker stopped it after 3 failed tasks (threshold 3)".into(),
            "rollback to web:4 at 2026-12-03 10:44 UTC".into(),
        ]
    );
}

#[test]
fn an_alarm_and_a_failed_hook_are_named_with_where_to_look() {
    let mut d = rolled_back();
    d.circuit_breaker = Some(CircuitBreakerState {
        status: Some("MONITORING_COMPLETE".into()),
        failure_count: 0,
        threshold: 3,
    });
    d.alarms = Some(AlarmsState {
        status: Some("TRIGGERED".into()),
        alarm_names: vec!["web-5xx".into(), "web-latency".into()],
        triggered: vec!["web-5xx".into()],
    });
    d.hooks = vec![
        LifecycleHook {
            id: Some("hook-1".into()),
            target_arn: Some(
                "arn:aws:lambda:us-east-1:123456789012:function:smoke-test:live".into(),
            ),
            status: Some("FAILED".into()),
            target_type: Some("AWS_LAMBDA".into()),
            timeout_action: Some("ROLLBACK".into()),
        },
        // Timed out, but told to carry on: not what ended the deployment.
        LifecycleHook {
            id: Some("hook-2".into()),
            target_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:warm-cache".into()),
            status: Some("TIMED_OUT".into()),
            target_type: Some("AWS_LAMBDA".into()),
            timeout_action: Some("CONTINUE".into()),
        },
    ];
    let report = summarize_deployment(facts(Fact::gathered(d), vec![]), "test");
    assert_eq!(report.triggers.len(), 2, "{:?}", report.triggers);
    assert!(
        report.headline.contains("alarm web-5xx went into ALARM"),
        "{}",
        report.headline
    );
    assert!(report
        .next_steps
        .iter()
        .any(|s| s.contains("describe-alarm-history --alarm-name web-5xx")));
    assert!(report
        .next_steps
        .iter()
        .any(|s| s.contains("aws logs tail /aws/lambda/smoke-test")));
    // A watcher that did not fire is evidence, not a trigger.
    assert!(report
        .evidence
        .iter()
        .any(|e| e == "circuit breaker: MONITORING_COMPLETE, 0 of 3 failed tasks"));
}

#[test]
fn a_completed_deployment_is_no_failure_and_advises_nothing() {
    let mut d = rolled_back();
    d.status = DeploymentStatus::Successful;
    d.status_reason = None;
    d.circuit_breaker = None;
    d.rollback = None;
    let report = summarize_deployment(facts(Fact::gathered(d), vec![]), "test");
    assert_eq!(report.state, DeploymentState::Completed);
    assert_eq!(report.verdict, Conclusion::NoFailure);
    assert_eq!(
        report.headline,
        "web: the deployment of web:5 completed: 2 of 2 tasks running"
    );
    assert!(report.next_steps.is_empty());
}

#[test]
fn a_timed_out_wait_says_how_long_it_waited() {
    let mut d = rolled_back();
    d.status = DeploymentStatus::InProgress;
    d.rollback = None;
    d.circuit_breaker = None;
    let mut f = facts(Fact::gathered(d), vec![]);
    f.waited = Some(Waited {
        seconds: 95,
        polls: 9,
        timed_out: true,
    });
    let report = summarize_deployment(f, "test");
    assert_eq!(report.verdict, Conclusion::Inconclusive);
    assert_eq!(
        report.headline,
        "web: the deployment of web:5 is in progress after waiting 1m35s"
    );
}

fn with_primary(rollout: &str, events: &[(&str, &str)]) -> Service {
    let mut s = service();
    s.deployments = vec![Deployment {
        id: "ecs-svc/4469935403432185616".into(),
        status: Some("PRIMARY".into()),
        task_definition: Some(TD4.into()),
        rollout_state: Some(rollout.into()),
        created_at: Some("2026-12-03T10:44:00Z".into()),
        ..Default::default()
    }];
    s.events = events
        .iter()
        .map(|(at, m)| ServiceEvent {
            created_at: Some(at.to_string()),
            message: m.to_string(),
        })
        .collect();
    s
}

#[test]
fn without_the_deployments_api_the_state_comes_from_describe_services_and_says_so() {
    let denied: Fact<ServiceDeployment> = Fact::Denied {
        action: "ecs:ListServiceDeployments".into(),
        error: "AccessDeniedException".into(),
    };
    // A rollback announced by the scheduler after the PRIMARY deployment began.
    let mut f = facts(denied.clone(), vec![]);
    f.service = with_primary(
        "COMPLETED",
        &[(
            "2026-12-03T10:44:01Z",
            "(service web) rolling back to deployment ecs-svc/4469935403432185616.",
        )],
    );
    let report = summarize_deployment(f, "test");
    assert_eq!(report.state, DeploymentState::RolledBack);
    assert_eq!(report.state_source, StateSource::DescribeServices);
    assert!(report
        .evidence
        .iter()
        .any(|e| e.contains("ecs:ListServiceDeployments was denied")));

    // COMPLETED with no rollback seen: a rollback looks the same, so nothing is acquitted.
    let mut f = facts(denied.clone(), vec![]);
    f.service = with_primary("COMPLETED", &[]);
    let report = summarize_deployment(f, "test");
    assert_eq!(report.state, DeploymentState::Unknown);
    assert!(report
        .evidence
        .iter()
        .any(|e| e.contains("cannot tell a completed deployment")));
    // Still rolling out, and no rollback announced: in progress.
    let mut f = facts(denied.clone(), vec![]);
    f.service = with_primary("IN_PROGRESS", &[]);
    assert_eq!(
        summarize_deployment(f, "test").state,
        DeploymentState::InProgress
    );

    // No PRIMARY deployment to read: unknown, and the grant is named.
    let mut f = facts(denied, vec![]);
    f.gaps = vec![Gap {
        action: "ecs:ListServiceDeployments".into(),
        error: "AccessDeniedException".into(),
        impact: "the deployment's state".into(),
    }];
    let report = summarize_deployment(f, "test");
    assert_eq!(report.state, DeploymentState::Unknown);
    assert_eq!(report.state_source, StateSource::None);
    assert!(report.next_steps[0].contains("ecs:ListServiceDeployments"));
}

#[test]
fn a_task_belongs_to_the_deployment_by_its_revision_and_time() {
    let d = rolled_back();
    let task = |td: &str, created: &str| Task {
        task_definition_arn: td.into(),
        timestamps: TaskTimestamps {
            created_at: Some(created.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(belongs(&task(TD5, "2026-12-03T10:41:00Z"), &d));
    // The old revision's tasks, replaced during the rollback, are not its own.
    assert!(!belongs(&task(TD4, "2026-12-03T10:41:00Z"), &d));
    // An earlier deployment of the same revision is another deployment.
    assert!(!belongs(&task(TD5, "2026-12-03T09:00:00Z"), &d));
    // Without the target's task definition, time alone decides.
    let mut unknown_target = d.clone();
    unknown_target.target = None;
    assert!(belongs(&task(TD4, "2026-12-03T10:41:00Z"), &unknown_target));
}

#[test]
fn without_the_api_the_failed_deployment_is_the_one_the_scheduler_named() {
    let s = with_primary(
        "COMPLETED",
        &[
            (
                "2026-12-03T10:44:01Z",
                "(service web) rolling back to deployment ecs-svc/4469935403432185616.",
            ),
            (
                "2026-12-03T10:44:00Z",
                "(service web) (deployment ecs-svc/1281894607538416024) deployment failed: tasks failed to start.",
            ),
        ],
    );
    assert_eq!(
        deployment_id_from_service(&s).as_deref(),
        Some("ecs-svc/1281894607538416024")
    );
    // No failure since it began: the PRIMARY deployment is the one.
    let s = with_primary("COMPLETED", &[]);
    assert_eq!(
        deployment_id_from_service(&s).as_deref(),
        Some("ecs-svc/4469935403432185616")
    );
    assert_eq!(deployment_id_from_service(&service()), None);
}

#[test]
fn an_alarm_ecs_did_not_name_is_still_a_trigger_with_a_place_to_look() {
    let mut d = rolled_back();
    d.circuit_breaker = None;
    d.alarms = Some(AlarmsState {
        status: Some("TRIGGERED".into()),
        alarm_names: vec!["web-5xx".into()],
        triggered: vec![],
    });
    let report = summarize_deployment(facts(Fact::gathered(d), vec![]), "test");
    assert_eq!(report.triggers, vec![Trigger::Alarms { names: vec![] }]);
    assert!(report
        .headline
        .contains("a CloudWatch alarm of the deployment went into ALARM"));
    assert!(report
        .next_steps
        .iter()
        .any(|s| s.contains("describe-alarms --state-value ALARM")));
}
