use super::*;
use crate::evidence::ServiceEvent;
use crate::report::{Candidate, TaskSummary};
use crate::Family;

const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";

fn swept(id: &str, code: Option<Cause>, verdict: Conclusion, stopped_at: &str, by: &str) -> Swept {
    let candidates = code
        .map(|code| {
            vec![Candidate {
                code,
                family: Family::Image,
                confidence: 0.9,
                benign: code.is_benign(),
                title: format!("title of {code}"),
                evidence: vec![format!("evidence of {code}")],
                against: Vec::new(),
                fix: vec![format!("fix of {code}")],
                docs: Vec::new(),
            }]
        })
        .unwrap_or_default();
    Swept {
        report: Report {
            schema_version: SCHEMA_VERSION,
            purpose: Default::default(),
            kind: Default::default(),
            next_step: None,
            verdict,
            ecs_doctor_version: "test".into(),
            task: TaskSummary {
                arn: format!("arn:aws:ecs:us-east-1:123456789012:task/prod/{id}"),
                cluster: "prod".into(),
                region: "us-east-1".into(),
                last_status: "STOPPED".into(),
                task_definition: Some(TD.into()),
                service: Some("web".into()),
                stopped_at: Some(stopped_at.into()),
                ..Default::default()
            },
            candidates,
            checks: Vec::new(),
            gaps: if verdict == Conclusion::Inconclusive {
                vec![Gap {
                    action: "ecr:BatchGetImage".into(),
                    error: "AccessDeniedException".into(),
                    impact: "the image checks".into(),
                }]
            } else {
                Vec::new()
            },
            network_paths: Vec::new(),
            logs: Vec::new(),
        },
        started_by: Some(by.into()),
    }
}

fn failure(id: &str, code: Cause, at: &str, by: &str) -> Swept {
    swept(id, Some(code), Conclusion::Failure, at, by)
}

fn service() -> Service {
    Service {
        name: "web".into(),
        arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
        status: Some("ACTIVE".into()),
        desired_count: 2,
        running_count: 0,
        deployments: vec![Deployment {
            id: "ecs-svc/123".into(),
            status: Some("PRIMARY".into()),
            created_at: Some("2026-12-03T10:42:00Z".into()),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn window(stopped: usize) -> Window {
    Window {
        since: "2026-12-03T09:00:00Z".into(),
        limit: 100,
        stopped_tasks: stopped,
        diagnosed: stopped,
    }
}

#[test]
fn tasks_are_grouped_by_top_cause_failures_first_and_benign_kept_apart() {
    let tasks = vec![
        failure(
            "t8",
            Cause::ImageNotFound,
            "2026-12-03T10:58:00Z",
            "ecs-svc/123",
        ),
        swept(
            "t7",
            Some(Cause::StoppedByDeployment),
            Conclusion::NoFailure,
            "2026-12-03T10:50:00Z",
            "ecs-svc/100",
        ),
        failure(
            "t6",
            Cause::ImageNotFound,
            "2026-12-03T10:45:00Z",
            "ecs-svc/123",
        ),
        failure(
            "t5",
            Cause::AppExitError,
            "2026-12-03T10:44:00Z",
            "ecs-svc/100",
        ),
        failure(
            "t4",
            Cause::ImageNotFound,
            "2026-12-03T10:43:00Z",
            "ecs-svc/123",
        ),
    ];
    let groups = group(&tasks, &service().deployments, 5);
    let causes: Vec<&str> = groups.iter().map(|g| g.cause.as_str()).collect();
    assert_eq!(
        causes,
        ["image-not-found", "app-exit-error", "stopped-by-deployment"]
    );
    let image = &groups[0];
    assert_eq!(image.count, 3);
    assert_eq!(image.tasks, ["t8", "t6", "t4"]);
    assert_eq!(
        image.first_stopped_at.as_deref(),
        Some("2026-12-03T10:43:00Z")
    );
    assert_eq!(
        image.latest_stopped_at.as_deref(),
        Some("2026-12-03T10:58:00Z")
    );
    assert_eq!(image.task_definitions, ["web:7"]);
    assert_eq!(
        image.summary,
        "3 of 5 stopped tasks: image-not-found (title of image-not-found), since deployment ecs-svc/123 at 2026-12-03 10:42 UTC"
    );
    assert_eq!(image.verdict, Conclusion::Failure);
    let benign = &groups[2];
    assert!(benign.benign);
    assert_eq!(benign.verdict, Conclusion::NoFailure);
    assert!(benign.summary.ends_with("(benign)"), "{}", benign.summary);
    // A deployment no longer listed is named without a time.
    assert!(
        groups[1].summary.ends_with("since deployment ecs-svc/100"),
        "{}",
        groups[1].summary
    );
}

#[test]
fn a_group_spanning_deployments_starts_at_its_first_stop() {
    let tasks = vec![
        failure(
            "b",
            Cause::AppExitError,
            "2026-12-03T10:50:00Z",
            "ecs-svc/2",
        ),
        failure(
            "a",
            Cause::AppExitError,
            "2026-12-03T10:40:00Z",
            "ecs-svc/1",
        ),
    ];
    let g = &group(&tasks, &[], 2)[0];
    assert_eq!(g.deployments, ["ecs-svc/1", "ecs-svc/2"]);
    assert_eq!(g.since.as_deref(), Some("2026-12-03 10:40 UTC"));
}

#[test]
fn undecided_tasks_form_their_own_group_naming_the_gap() {
    let tasks = vec![
        swept(
            "u",
            None,
            Conclusion::Inconclusive,
            "2026-12-03T10:50:00Z",
            "ecs-svc/123",
        ),
        swept(
            "s",
            Some(Cause::StoppedByUser),
            Conclusion::NoFailure,
            "2026-12-03T10:51:00Z",
            "ecs-svc/123",
        ),
    ];
    let groups = group(&tasks, &[], 2);
    assert_eq!(groups[0].cause, "inconclusive");
    assert!(groups[0].evidence[0].contains("ecr:BatchGetImage"));
    let report = summarize_service(
        &service(),
        "prod",
        "us-east-1",
        window(2),
        Fact::gathered(tasks),
        Vec::new(),
        "t",
    );
    assert_eq!(report.verdict, Conclusion::Inconclusive);
}

#[test]
fn a_service_that_never_placed_a_task_is_diagnosed_from_its_events() {
    let mut svc = service();
    svc.events = vec![
        ServiceEvent {
            created_at: Some("2026-12-03T10:59:00Z".into()),
            message: "(service web) was unable to place a task. Reason: Capacity is unavailable at this time.".into(),
        },
        ServiceEvent {
            created_at: Some("2026-12-03T10:49:00Z".into()),
            message: "(service web) was unable to place a task. Reason: Capacity is unavailable at this time.".into(),
        },
        // Before the window: not counted.
        ServiceEvent {
            created_at: Some("2026-12-03T08:00:00Z".into()),
            message: "(service web) failed to launch a task with (error ECS was unable to assume the role 'x')".into(),
        },
    ];
    let report = summarize_service(
        &svc,
        "prod",
        "us-east-1",
        window(0),
        Fact::gathered(Vec::new()),
        Vec::new(),
        "t",
    );
    assert_eq!(report.verdict, Conclusion::Failure);
    assert_eq!(report.issues.len(), 1);
    assert_eq!(report.issues[0].kind, EventKind::CannotPlaceTask);
    assert_eq!(report.issues[0].count, 2);
    assert!(report.headline.starts_with("No task stopped in the window; the scheduler says: placement-failed: The scheduler could not place a task: Fargate had no capacity for it in the Availability Zones asked (2 events"), "{}", report.headline);
    assert_eq!(
        report.issues[0].cause,
        Some(crate::codes::Cause::PlacementFailed)
    );
    assert_eq!(
        report.issues[0].resource,
        Some(crate::placement::Shortage::FargateCapacity)
    );
    assert!(
        report.issues[0].fix[0].contains("retry"),
        "{:?}",
        report.issues[0].fix
    );
    assert!(report.groups.is_empty());
}

#[test]
fn a_quiet_steady_service_has_no_failure_and_one_short_of_tasks_is_undecided() {
    let mut svc = service();
    svc.running_count = 2;
    svc.events = vec![ServiceEvent {
        created_at: Some("2026-12-03T10:59:00Z".into()),
        message: "(service web) has reached a steady state.".into(),
    }];
    let report = summarize_service(
        &svc,
        "prod",
        "us-east-1",
        window(0),
        Fact::gathered(Vec::new()),
        Vec::new(),
        "t",
    );
    assert_eq!(report.verdict, Conclusion::NoFailure);
    assert_eq!(
        report.headline,
        "No task stopped since 2026-12-03 09:00 UTC; 2 of 2 tasks running"
    );
    svc.running_count = 1;
    let report = summarize_service(
        &svc,
        "prod",
        "us-east-1",
        window(0),
        Fact::gathered(Vec::new()),
        Vec::new(),
        "t",
    );
    assert_eq!(report.verdict, Conclusion::Inconclusive);
}

#[test]
fn stopped_tasks_that_could_not_be_listed_never_read_as_healthy() {
    let mut svc = service();
    svc.running_count = 2;
    let denied: Fact<Vec<Swept>> = Fact::Denied {
        action: "ecs:ListTasks".into(),
        error: "AccessDeniedException".into(),
    };
    let report = summarize_service(
        &svc,
        "prod",
        "us-east-1",
        window(0),
        denied,
        Vec::new(),
        "t",
    );
    assert_eq!(report.verdict, Conclusion::Inconclusive);
    assert!(report.headline.contains("could not be listed"));
}

#[test]
fn a_cluster_lists_failing_parts_worst_first_and_names_the_quiet_ones() {
    let web = group(
        &[
            failure(
                "a",
                Cause::ImageNotFound,
                "2026-12-03T10:58:00Z",
                "ecs-svc/1",
            ),
            failure(
                "b",
                Cause::ImageNotFound,
                "2026-12-03T10:57:00Z",
                "ecs-svc/1",
            ),
        ],
        &[],
        2,
    );
    let api = group(
        &[
            failure(
                "c",
                Cause::AppOutOfMemory,
                "2026-12-03T10:59:00Z",
                "ecs-svc/2",
            ),
            swept(
                "d",
                None,
                Conclusion::Inconclusive,
                "2026-12-03T10:30:00Z",
                "ecs-svc/2",
            ),
        ],
        &[],
        2,
    );
    let quiet = group(
        &[swept(
            "e",
            Some(Cause::StoppedByDeployment),
            Conclusion::NoFailure,
            "2026-12-03T10:00:00Z",
            "ecs-svc/3",
        )],
        &[],
        1,
    );
    let part = |name: &str, groups, stopped| ClusterPart {
        name: name.into(),
        source: Source::Service,
        groups,
        issues: Vec::new(),
        stopped,
        undecided: None,
    };
    let report = summarize_cluster(
        "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        "us-east-1",
        window(5),
        vec![
            part("api", api, 2),
            part("web", web, 2),
            part("worker", quiet, 1),
        ],
        Vec::new(),
        "t",
    );
    let rows: Vec<(String, String, usize)> = report
        .rows
        .iter()
        .map(|r| (r.name.clone(), r.cause.clone(), r.count))
        .collect();
    assert_eq!(
        rows,
        [
            ("web".to_string(), "image-not-found".to_string(), 2),
            ("api".to_string(), "app-out-of-memory".to_string(), 1),
            ("api".to_string(), "inconclusive".to_string(), 1),
        ]
    );
    assert_eq!(report.quiet, ["worker"]);
    assert_eq!(report.cluster, "prod");
    assert_eq!(report.verdict, Conclusion::Failure);
}
