//! The test kit: evidence builders and helpers for every test of a check,
//! in this crate and (with the `testkit` feature) in the binary's tests.
//! `net` adds the network shapes, `image` the registry and IAM facts.
//!
//! Small evidence builders for the checks' unit tests.
//!
//! `stopped(..)` gives a stopped Fargate task with one essential container
//! `web` (awslogs, port 8080) in service `web`; the builder methods change
//! one thing at a time, so each test reads as the fact it is about.

pub mod exec;
pub mod image;
pub mod lb;
pub mod net;
pub mod preflight;

use crate::context::Ctx;
use crate::evidence::*;
use crate::report::{Finding, Verdict};

/// Declares `check(&Evidence) -> Verdict` in a check's test module: the
/// module's check, run through the context a diagnosis builds.
#[macro_export]
macro_rules! check_under_test {
    () => {
        fn check(ev: &$crate::evidence::Evidence) -> $crate::report::Verdict {
            $crate::testkit::run(super::check, ev)
        }
    };
}

/// Run one check over the evidence, through the context a diagnosis builds.
pub fn run(check: fn(&Ctx) -> Verdict, ev: &Evidence) -> Verdict {
    check(&Ctx::new(ev))
}

/// The finding of a verdict that must have found something.
pub fn found(v: Verdict) -> Finding {
    match v {
        Verdict::Found(f) => f,
        other => panic!("expected a finding, got {other:?}"),
    }
}

pub const TASK_ID: &str = "0123456789abcdef0123456789abcdef";

/// A task whose essential container exited (its exit code still to set).
pub fn exited() -> Evidence {
    stopped(
        "EssentialContainerExited",
        "Essential container in task exited",
    )
}

/// A stopped task with the given stop code and reason, one container `web`.
pub fn stopped(stop_code: &str, reason: &str) -> Evidence {
    let mut ev = Evidence {
        region: "us-east-1".into(),
        account: Some("123456789012".into()),
        ..Default::default()
    };
    ev.task = Task {
        arn: format!("arn:aws:ecs:us-east-1:123456789012:task/prod/{TASK_ID}"),
        id: TASK_ID.into(),
        cluster_arn: "arn:aws:ecs:us-east-1:123456789012:cluster/prod".into(),
        task_definition_arn: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7".into(),
        last_status: "STOPPED".into(),
        desired_status: Some("STOPPED".into()),
        stop_code: Some(stop_code.to_string()).filter(|s| !s.is_empty()),
        stopped_reason: Some(reason.to_string()).filter(|s| !s.is_empty()),
        launch_type: Some("FARGATE".into()),
        platform_version: Some("1.4.0".into()),
        group: Some("service:web".into()),
        started_by: Some("ecs-svc/1234567890123456789".into()),
        timestamps: TaskTimestamps {
            created_at: Some("2026-01-01T11:59:00Z".into()),
            started_at: Some("2026-01-01T11:59:30Z".into()),
            stopping_at: Some("2026-01-01T12:00:00Z".into()),
            stopped_at: Some("2026-01-01T12:00:05Z".into()),
            ..Default::default()
        },
        containers: vec![Container {
            name: "web".into(),
            image: Some("123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1".into()),
            last_status: Some("STOPPED".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    ev.task_definition = Fact::gathered(TaskDefinition {
        arn: ev.task.task_definition_arn.clone(),
        family: "web".into(),
        revision: 7,
        network_mode: Some("awsvpc".into()),
        requires_compatibilities: vec!["FARGATE".into()],
        cpu: Some("256".into()),
        memory: Some("512".into()),
        // A Fargate task that pulls from ECR and logs to CloudWatch has one.
        execution_role_arn: Some("arn:aws:iam::123456789012:role/ecsTaskExecutionRole".into()),
        containers: vec![container_def("web")],
        ..Default::default()
    });
    ev.service = Fact::gathered(Service {
        name: "web".into(),
        arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
        desired_count: 2,
        ..Default::default()
    });
    ev.logs = vec![ContainerLogs {
        container: "web".into(),
        driver: "awslogs".into(),
        group: Some("/ecs/web".into()),
        stream: Some(format!("ecs/web/{TASK_ID}")),
        region: Some("us-east-1".into()),
        lines: Fact::gathered(Vec::new()),
    }];
    // A task that failed to start never started.
    if stop_code == "TaskFailedToStart" {
        ev.task.timestamps.started_at = None;
    }
    ev
}

/// A running task of service `web`.
pub fn running() -> Evidence {
    let mut ev = stopped("", "");
    ev.task.last_status = "RUNNING".into();
    ev.task.desired_status = Some("RUNNING".into());
    ev.task.timestamps.stopping_at = None;
    ev.task.timestamps.stopped_at = None;
    ev.task.containers[0].last_status = Some("RUNNING".into());
    ev
}

/// An essential container definition with awslogs and containerPort 8080.
pub fn container_def(name: &str) -> ContainerDefinition {
    ContainerDefinition {
        name: name.into(),
        image: format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}:v1"),
        essential: true,
        port_mappings: vec![PortMapping {
            container_port: Some(8080),
            host_port: Some(8080),
            protocol: Some("tcp".into()),
        }],
        log_configuration: Some(LogConfiguration {
            driver: "awslogs".into(),
            options: [
                ("awslogs-group", "/ecs/web"),
                ("awslogs-region", "us-east-1"),
                ("awslogs-stream-prefix", "ecs"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Builder-style changes to a fixture.
pub trait EvidenceExt {
    /// Set container `name`'s exit code and reason (adding the container if needed).
    fn exit(self, name: &str, code: Option<i32>, reason: Option<&str>) -> Self;
    /// Set container `name`'s log lines.
    fn log(self, name: &str, lines: &[&str]) -> Self;
    /// Add a second container (definition and task container).
    fn sidecar(self, name: &str, essential: bool) -> Self;
    /// Change container `name`'s definition.
    fn def(self, name: &str, f: impl FnOnce(&mut ContainerDefinition)) -> Self;
    /// Change the service.
    fn svc(self, f: impl FnOnce(&mut Service)) -> Self;
    /// Make the task a standalone task (no service).
    fn standalone(self) -> Self;
}

impl EvidenceExt for Evidence {
    fn exit(mut self, name: &str, code: Option<i32>, reason: Option<&str>) -> Self {
        if !self.task.containers.iter().any(|c| c.name == name) {
            self.task.containers.push(Container {
                name: name.into(),
                last_status: Some("STOPPED".into()),
                ..Default::default()
            });
        }
        let c = self
            .task
            .containers
            .iter_mut()
            .find(|c| c.name == name)
            .expect("container just added");
        c.exit_code = code;
        c.reason = reason.map(str::to_string);
        self
    }

    fn log(mut self, name: &str, lines: &[&str]) -> Self {
        let lines: Vec<LogLine> = lines
            .iter()
            .enumerate()
            .map(|(i, m)| LogLine {
                timestamp: Some(format!("2026-01-01T11:59:{:02}Z", 30 + i.min(29))),
                message: m.to_string(),
            })
            .collect();
        match self.logs.iter_mut().find(|l| l.container == name) {
            Some(l) => l.lines = Fact::gathered(lines),
            None => self.logs.push(ContainerLogs {
                container: name.into(),
                driver: "awslogs".into(),
                group: Some("/ecs/web".into()),
                stream: Some(format!("ecs/{name}/{TASK_ID}")),
                region: Some("us-east-1".into()),
                lines: Fact::gathered(lines),
            }),
        }
        self
    }

    fn sidecar(mut self, name: &str, essential: bool) -> Self {
        if let Fact::Gathered { value } = &mut self.task_definition {
            let mut d = container_def(name);
            d.essential = essential;
            d.port_mappings.clear();
            value.containers.push(d);
        }
        self.task.containers.push(Container {
            name: name.into(),
            last_status: Some("STOPPED".into()),
            ..Default::default()
        });
        self
    }

    fn def(mut self, name: &str, f: impl FnOnce(&mut ContainerDefinition)) -> Self {
        if let Fact::Gathered { value } = &mut self.task_definition {
            if let Some(d) = value.containers.iter_mut().find(|c| c.name == name) {
                f(d);
            }
        }
        self
    }

    fn svc(mut self, f: impl FnOnce(&mut Service)) -> Self {
        if let Fact::Gathered { value } = &mut self.service {
            f(value);
        }
        self
    }

    fn standalone(mut self) -> Self {
        self.task.group = Some("family:web".into());
        self.task.started_by = None;
        self.service = Fact::not_applicable("the task was not started by a service");
        self
    }
}
