//! The table renderer (the default output) at the widths terminals have:
//! 80 columns (a split pane, a laptop) and 120. Each report kind is rendered
//! from recorded evidence (`examples/`) and held as a snapshot.

use super::TableRenderer;
use crate::render::Renderer;
use ecs_doctor_checks::evidence::{Deployment, Service, ServiceEvent};
use ecs_doctor_checks::sweep::{self, ClusterPart, Source, Swept, Window};
use ecs_doctor_checks::{diagnose, Bundle, Fact, Report};

fn example(name: &str) -> Report {
    let text = match name {
        "image-not-found" => include_str!("../../../examples/image-not-found.json"),
        "app-exit-error" => include_str!("../../../examples/app-exit-error.json"),
        "no-public-ip" => include_str!("../../../examples/no-public-ip.json"),
        "stopped-by-deployment" => include_str!("../../../examples/stopped-by-deployment.json"),
        other => panic!("no example {other}"),
    };
    let bundle: Bundle = serde_json::from_str(text).expect("an evidence bundle");
    diagnose(&bundle.evidence, "test")
}

fn swept(name: &str, deployment: &str) -> Swept {
    Swept {
        report: example(name),
        started_by: Some(deployment.to_string()),
    }
}

const SINCE: &str = "2020-01-01T00:00:00Z";

fn window(stopped: usize) -> Window {
    Window {
        since: SINCE.into(),
        limit: 100,
        stopped_tasks: stopped,
        diagnosed: stopped,
    }
}

fn service() -> Service {
    Service {
        name: "web".into(),
        arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
        status: Some("ACTIVE".into()),
        desired_count: 2,
        running_count: 0,
        task_definition: Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:3".into()),
        deployments: vec![Deployment {
            id: "ecs-svc/7374959392607010357".into(),
            status: Some("PRIMARY".into()),
            task_definition: Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:3".into()),
            rollout_state: Some("IN_PROGRESS".into()),
            created_at: Some("2026-12-03T17:33:00Z".into()),
            ..Default::default()
        }],
        // A service event as ECS words it (Amazon ECS Developer Guide,
        // "Amazon ECS service event messages"), with the service named as
        // ECS names it.
        events: vec![ServiceEvent {
            created_at: Some("2026-12-03T17:40:00Z".into()),
            message: "service web was unable to place a task. Reason: Capacity is unavailable at this time. Please try again later or in a different availability zone.".into(),
        }],
        ..Default::default()
    }
}

fn service_report() -> sweep::ServiceReport {
    let tasks = vec![
        swept("image-not-found", "ecs-svc/7374959392607010357"),
        swept("no-public-ip", "ecs-svc/7374959392607010357"),
        swept("app-exit-error", "ecs-svc/3555649181066276518"),
        swept("stopped-by-deployment", "ecs-svc/3555649181066276518"),
    ];
    sweep::summarize_service(
        &service(),
        "prod",
        "us-east-1",
        window(tasks.len()),
        Fact::gathered(tasks),
        Vec::new(),
        "test",
    )
}

fn cluster_report() -> sweep::ClusterReport {
    let svc = service();
    let web = vec![
        swept("image-not-found", "ecs-svc/7374959392607010357"),
        swept("no-public-ip", "ecs-svc/7374959392607010357"),
    ];
    let standalone = vec![swept("app-exit-error", "family:web")];
    let parts = vec![
        ClusterPart {
            name: "web".into(),
            source: Source::Service,
            groups: sweep::group(&web, &svc.deployments, web.len()),
            issues: sweep::issues(&svc, SINCE),
            stopped: web.len(),
            undecided: None,
        },
        ClusterPart {
            name: "family:web".into(),
            source: Source::Standalone,
            groups: sweep::group(&standalone, &[], standalone.len()),
            issues: Vec::new(),
            stopped: standalone.len(),
            undecided: None,
        },
        ClusterPart {
            name: "api".into(),
            source: Source::Service,
            groups: Vec::new(),
            issues: Vec::new(),
            stopped: 0,
            undecided: None,
        },
    ];
    sweep::summarize_cluster("prod", "us-east-1", window(3), parts, Vec::new(), "test")
}

fn at(width: u16) -> TableRenderer {
    TableRenderer {
        color: false,
        width,
        verbose: false,
    }
}

/// The widest line of a rendered table (its box-drawing rows only).
fn widest_table_line(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '├', '└']))
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
}

#[test]
fn task_report_at_80_and_120_columns() {
    let report = example("image-not-found");
    for width in [80u16, 120] {
        let text = at(width).render(&report);
        assert!(widest_table_line(&text) <= width as usize, "{text}");
        insta::assert_snapshot!(format!("task_{width}"), text);
    }
}

#[test]
fn service_report_at_80_and_120_columns() {
    let report = service_report();
    for width in [80u16, 120] {
        let text = at(width).service(&report);
        assert!(widest_table_line(&text) <= width as usize, "{text}");
        insta::assert_snapshot!(format!("service_{width}"), text);
    }
}

#[test]
fn cluster_report_at_80_and_120_columns() {
    let report = cluster_report();
    for width in [80u16, 120] {
        let text = at(width).cluster(&report);
        assert!(widest_table_line(&text) <= width as usize, "{text}");
        insta::assert_snapshot!(format!("cluster_{width}"), text);
    }
}

/// Colour is for terminals: without it, no escape sequence reaches a pipe.
#[test]
fn no_colour_means_no_escape_codes() {
    let text = at(80).render(&example("no-public-ip"));
    assert!(!text.contains('\u{1b}'), "{text}");
    let coloured = TableRenderer {
        color: true,
        width: 80,
        verbose: false,
    }
    .render(&example("no-public-ip"));
    assert!(coloured.contains('\u{1b}'));
}
