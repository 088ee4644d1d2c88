//! The service-event catalogue: what the ECS service scheduler's event
//! messages say, in one table. The scheduler writes these to
//! `DescribeServices.events` (the last 100, newest first); they are the only
//! record of what happened when no task was ever placed, so a service whose
//! tasks never started is diagnosed from here.
//!
//! Fragments are lower case and matched after
//! [`normalize`](crate::text::normalize); the first row that matches wins.
//! Message texts: <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages-list.html>

use crate::codes::Cause;
use crate::placement::Shortage;
use crate::text::normalize;
use serde::{Deserialize, Serialize};

/// What one service event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// The scheduler could not assume the task's or service's role.
    UnableToAssumeRole,
    /// The subnets have no free IP addresses for a task ENI.
    NoFreeIps,
    /// No capacity (container instances, Fargate capacity, ports, memory) to place a task.
    CannotPlaceTask,
    /// The deployment circuit breaker stopped a deployment (and may have rolled back).
    CircuitBreaker,
    /// Tasks keep failing to start; the scheduler is backing off.
    FailingToStart,
    /// Tasks protected from scale-in hold a deployment back (the event, or
    /// the protection of the older tasks read with `GetTaskProtection`).
    TasksProtected,
    /// Load balancer targets failed their health checks.
    UnhealthyTargets,
    /// Targets could not be registered with the load balancer.
    TargetRegistrationFailed,
    /// The service reached a steady state: everything it wants is running.
    SteadyState,
    /// A deployment completed.
    DeploymentCompleted,
    /// Tasks started or stopped, targets registered: the scheduler's routine.
    Routine,
    /// Not in the catalogue.
    Other,
}

impl EventKind {
    /// Every kind, problems first.
    pub const ALL: [EventKind; 12] = [
        EventKind::UnableToAssumeRole,
        EventKind::NoFreeIps,
        EventKind::CannotPlaceTask,
        EventKind::CircuitBreaker,
        EventKind::FailingToStart,
        EventKind::TasksProtected,
        EventKind::UnhealthyTargets,
        EventKind::TargetRegistrationFailed,
        EventKind::SteadyState,
        EventKind::DeploymentCompleted,
        EventKind::Routine,
        EventKind::Other,
    ];

    /// Kinds that mean something is wrong with the service.
    pub fn is_problem(self) -> bool {
        !matches!(
            self,
            EventKind::SteadyState
                | EventKind::DeploymentCompleted
                | EventKind::Routine
                | EventKind::Other
        )
    }

    /// Kinds that make a service's report a failure: every problem but
    /// tasks protected from scale-in, which wait on the app's own choice
    /// (named in the report, never a failure, whether the scheduler's
    /// event or `GetTaskProtection` shows them).
    pub fn is_failure(self) -> bool {
        self.is_problem() && !matches!(self, EventKind::TasksProtected)
    }

    /// The kebab-case name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::UnableToAssumeRole => "unable-to-assume-role",
            EventKind::NoFreeIps => "no-free-ips",
            EventKind::CannotPlaceTask => "cannot-place-task",
            EventKind::CircuitBreaker => "circuit-breaker",
            EventKind::FailingToStart => "failing-to-start",
            EventKind::TasksProtected => "tasks-protected",
            EventKind::UnhealthyTargets => "unhealthy-targets",
            EventKind::TargetRegistrationFailed => "target-registration-failed",
            EventKind::SteadyState => "steady-state",
            EventKind::DeploymentCompleted => "deployment-completed",
            EventKind::Routine => "routine",
            EventKind::Other => "other",
        }
    }

    /// What the kind means, for a heading.
    pub fn title(self) -> &'static str {
        match self {
            EventKind::UnableToAssumeRole => "ECS could not assume a role the service needs",
            EventKind::NoFreeIps => "The service's subnets have no free IP addresses for task ENIs",
            EventKind::CannotPlaceTask => "The scheduler could not place a task",
            EventKind::CircuitBreaker => "The deployment circuit breaker stopped the deployment",
            EventKind::FailingToStart => {
                "Tasks keep failing to start, so the scheduler is backing off"
            }
            EventKind::TasksProtected => "Tasks protected from scale-in hold the deployment back",
            EventKind::UnhealthyTargets => "Load balancer health checks are failing",
            EventKind::TargetRegistrationFailed => {
                "Tasks could not be registered with the load balancer"
            }
            EventKind::SteadyState => "The service reached a steady state",
            EventKind::DeploymentCompleted => "A deployment completed",
            EventKind::Routine => "Routine scheduler activity",
            EventKind::Other => "Other scheduler event",
        }
    }

    /// The cause code an event of this kind names by itself. Only a task
    /// the scheduler could not place is one cause whatever else is known;
    /// the others say what happened, and the stopped tasks (or the
    /// roles, the subnets) say why.
    pub fn cause(self) -> Option<Cause> {
        match self {
            EventKind::CannotPlaceTask => Some(Cause::PlacementFailed),
            EventKind::UnableToAssumeRole
            | EventKind::NoFreeIps
            | EventKind::CircuitBreaker
            | EventKind::FailingToStart
            | EventKind::TasksProtected
            | EventKind::UnhealthyTargets
            | EventKind::TargetRegistrationFailed
            | EventKind::SteadyState
            | EventKind::DeploymentCompleted
            | EventKind::Routine
            | EventKind::Other => None,
        }
    }

    /// How to fix what the kind says, as a first step.
    pub fn fix(self) -> &'static [&'static str] {
        match self {
            EventKind::UnableToAssumeRole => &[
                "Make the role in the event trust ecs-tasks.amazonaws.com (task and execution roles) or ecs.amazonaws.com (service-linked role): `aws iam get-role --role-name <role> --query Role.AssumeRolePolicyDocument`",
                "If the role was just created, wait a minute for IAM to propagate, then `aws ecs update-service --force-new-deployment`",
            ],
            EventKind::NoFreeIps => &[
                "Each Fargate task takes one IP of its subnet: add subnets with free addresses to the service's awsvpcConfiguration, or free addresses (`aws ec2 describe-subnets --query 'Subnets[].[SubnetId,AvailableIpAddressCount]'`)",
            ],
            EventKind::CannotPlaceTask => &[
                "Read the reason in the event: for Fargate capacity, retry or add another capacity provider or Availability Zone; for EC2, add container instances with enough CPU, memory and free ports, or relax the placement constraints",
            ],
            EventKind::CircuitBreaker => &[
                "The failed deployment's stopped tasks hold the cause: the groups above (or `ecs-doctor task <id>` for one of them) name it; fix it and deploy again",
            ],
            EventKind::FailingToStart => &[
                "The service's stopped tasks hold the cause: the groups above name it (tasks stopped more than an hour ago are gone: run ecs-doctor from an EventBridge rule to keep every diagnosis)",
            ],
            EventKind::TasksProtected => &[
                "Wait: the scheduler replaces a protected task once its app clears the protection or it expires (`aws ecs get-task-protection --cluster <cluster> --tasks <id>` shows when)",
                "The app protects a task through the ECS agent's task protection endpoint while it works: if it renews the protection without end, fix the app so it clears it when its work is done",
                "Only once you have decided its work may be cut off: `aws ecs update-task-protection --cluster <cluster> --tasks <id> --no-protection-enabled` (the scheduler then stops the task, whatever it is doing)",
            ],
            EventKind::UnhealthyTargets => &[
                "Compare the target group's health check (path, port, matcher) with what the container serves, and give slow starters a `healthCheckGracePeriodSeconds`: `aws elbv2 describe-target-health --target-group-arn <arn>`",
            ],
            EventKind::TargetRegistrationFailed => &[
                "Check the target group's target type (ip for awsvpc), its VPC, and the caller's elasticloadbalancing:RegisterTargets through the ECS service-linked role",
            ],
            EventKind::SteadyState
            | EventKind::DeploymentCompleted
            | EventKind::Routine
            | EventKind::Other => &[],
        }
    }
}

struct Row {
    kind: EventKind,
    /// Any one of these fragments identifies the kind.
    any: &'static [&'static str],
}

/// Most specific first.
const ROWS: &[Row] = &[
    Row {
        kind: EventKind::UnableToAssumeRole,
        any: &[
            "unable to assume role",
            "unable to assume the role",
            "ecs was unable to assume",
            "role could not be assumed",
            "trust relationship has been misconfigured",
        ],
    },
    Row {
        kind: EventKind::NoFreeIps,
        any: &[
            "insufficient free addresses",
            "no free ip",
            "not enough free ip",
            "free ip addresses",
            "insufficientfreeaddressesinsubnet",
        ],
    },
    Row {
        kind: EventKind::TasksProtected,
        any: &["number of protected tasks"],
    },
    Row {
        kind: EventKind::CircuitBreaker,
        any: &[
            "circuit breaker",
            "deployment failed",
            "rolling back to deployment",
            "rolled back",
        ],
    },
    // A placement attempt that failed pulling the image: the tasks fail to
    // start, whatever "unable to place" says.
    Row {
        kind: EventKind::FailingToStart,
        any: &["reason: cannotpullcontainer", "reason: cannotpullimage"],
    },
    Row {
        kind: EventKind::CannotPlaceTask,
        any: &[
            "unable to place a task",
            "was unable to place",
            "capacity is unavailable",
            "no container instance met",
            "no container instances were found",
            "closest matching container-instance",
            "could not launch",
            "resource:fargate",
            "resource:cpu",
            "resource:memory",
            "resource:eni",
            "resource:ports",
            "already using a port required",
        ],
    },
    Row {
        kind: EventKind::FailingToStart,
        any: &[
            "unable to consistently start tasks",
            "failed to launch a task",
            "is unable to start",
        ],
    },
    Row {
        kind: EventKind::UnhealthyTargets,
        any: &[
            "is unhealthy in target-group",
            "is unhealthy in (target-group",
            "is unhealthy in (elb",
            "is not healthy in target-group",
            "health checks failed",
            "failed elb health checks",
        ],
    },
    Row {
        kind: EventKind::TargetRegistrationFailed,
        any: &[
            "failed to register targets",
            "unable to register",
            "failed to register",
        ],
    },
    Row {
        kind: EventKind::SteadyState,
        any: &["has reached a steady state"],
    },
    Row {
        kind: EventKind::DeploymentCompleted,
        any: &["deployment completed"],
    },
    Row {
        kind: EventKind::Routine,
        any: &[
            "has started",
            "has stopped",
            "registered",
            "deregistered",
            "has begun draining",
        ],
    },
];

/// What a placement failure in an event of `kind` was short of, read by
/// the stop-text catalogue's own table (the texts are the same: the
/// scheduler quotes RunTask's failure reasons).
pub fn shortage_of(kind: EventKind, message: &str) -> Option<Shortage> {
    match kind {
        EventKind::CannotPlaceTask => crate::stops::catalogue::shortage(&normalize(message)),
        _ => None,
    }
}

/// What a service event message is about.
pub fn kind_of(message: &str) -> EventKind {
    let text = normalize(message).to_lowercase();
    ROWS.iter()
        .find(|row| row.any.iter().any(|f| text.contains(f)))
        .map_or(EventKind::Other, |row| row.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_messages_land_in_their_kind() {
        let cases = [
            ("(service web) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster.", EventKind::CannotPlaceTask),
            ("(service web) was unable to place a task. Reason: Capacity is unavailable at this time. Please try again later or in a different availability zone.", EventKind::CannotPlaceTask),
            ("(service web) failed to launch a task with (error ECS was unable to assume the role 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole' that was provided for this task.)", EventKind::UnableToAssumeRole),
            ("(service web) was unable to place a task. Reason: There are insufficient free addresses in subnet subnet-0a1b to place the task.", EventKind::NoFreeIps),
            ("(service web) (deployment ecs-svc/123) deployment failed: tasks failed to start.", EventKind::CircuitBreaker),
            ("(service web) rolling back to deployment ecs-svc/456.", EventKind::CircuitBreaker),
            ("(service web) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section.", EventKind::FailingToStart),
            ("(service web) (port 3000) is unhealthy in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/abc) due to (reason Health checks failed with these codes: [404]).", EventKind::UnhealthyTargets),
            ("(service web) failed to register targets in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/abc) with (error The following targets are not in a running state)", EventKind::TargetRegistrationFailed),
            ("service (service-name) was unable to reach steady state because task set (taskSet-ID) was unable to scale in. Reason: The number of protected tasks are more than the desired count of tasks", EventKind::TasksProtected),
            ("(service web) has reached a steady state.", EventKind::SteadyState),
            ("(service web) (deployment ecs-svc/123) deployment completed.", EventKind::DeploymentCompleted),
            ("(service web) has started 2 tasks: (task 0123) (task 4567).", EventKind::Routine),
            ("(service web) has stopped 1 running tasks: (task 0123).", EventKind::Routine),
            ("(service web) did something new.", EventKind::Other),
        ];
        for (message, want) in cases {
            assert_eq!(kind_of(message), want, "{message}");
        }
    }

    #[test]
    fn a_placement_event_says_what_was_short() {
        let cases = [
            ("(service web) was unable to place a task. Reason: Capacity is unavailable at this time. Please try again later or in a different availability zone.", Shortage::FargateCapacity),
            ("service (service-name) was unable to place a task because no container instance met all of its requirements. The closest matching container-instance container-instance-id has insufficient CPU units available.", Shortage::Cpu),
            ("(service web) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance 0123) has insufficient memory available.", Shortage::Memory),
            ("service appmesh-dev-ecs-colorapp-TcpEchoService-14M0PCTB9QFKJ was unable to place a task because no container instance met all of its requirements. The closest matching container-instance acf43593-6b86-4838-86e5-46d896fdc8b3 encountered error \"RESOURCE:ENI\". For more information, see the Troubleshooting section.", Shortage::Eni),
            ("service ComfyUIStack-ComfyUIService6B91FEDA-6l6z6AJugL5Q was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your capacity provider. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.", Shortage::NoInstances),
            ("service storage-prod-bag-unpacker was unable to place a task. Reason: You've reached the limit on the number of tasks you can run concurrently. For more information, see the Troubleshooting section.", Shortage::Quota),
        ];
        for (message, want) in cases {
            let kind = kind_of(message);
            assert_eq!(kind, EventKind::CannotPlaceTask, "{message}");
            assert_eq!(kind.cause(), Some(Cause::PlacementFailed));
            assert_eq!(shortage_of(kind, message), Some(want), "{message}");
        }
        // Only a placement event is read for a shortage.
        let pull = "(service relay-temporal-worker) was unable to place a task. Reason: CannotPullContainerError: pull image manifest has been retried 7 time(s): image Manifest does not contain descriptor matching platform 'linux/amd64'.";
        assert_eq!(kind_of(pull), EventKind::FailingToStart);
        assert_eq!(shortage_of(kind_of(pull), pull), None);
    }

    #[test]
    fn json_names_are_the_report_names() {
        for kind in EventKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }

    #[test]
    fn only_trouble_is_a_problem() {
        assert!(EventKind::CannotPlaceTask.is_problem());
        assert!(EventKind::CircuitBreaker.is_problem());
        assert!(!EventKind::SteadyState.is_problem());
        assert!(!EventKind::Routine.is_problem());
        assert!(!EventKind::Other.is_problem());
        // Protected tasks are named but are the app's choice, not a failure.
        assert!(EventKind::TasksProtected.is_problem());
        assert!(!EventKind::TasksProtected.is_failure());
        assert!(EventKind::CircuitBreaker.is_failure());
        assert!(!EventKind::Routine.is_failure());
    }

    #[test]
    fn every_problem_kind_has_a_fix_and_the_rest_none() {
        let problems = EventKind::ALL.iter().filter(|k| k.is_problem()).count();
        assert_eq!(problems, 8);
        for kind in EventKind::ALL {
            assert_eq!(kind.is_problem(), !kind.fix().is_empty(), "{kind:?}");
        }
    }
}
