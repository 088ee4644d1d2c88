//! Evidence fixtures for the image, registry, execution-role, secret and log
//! checks: one healthy Fargate task that each test breaks in one place.

use crate::evidence::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
pub use super::TASK_ID;
pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";
pub const REPO_ARN: &str = "arn:aws:ecr:us-east-1:123456789012:repository/web";
pub const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2";
pub const LOG_GROUP_ARN: &str = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*";

pub fn task_arn() -> String {
    format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task/prod/{TASK_ID}")
}

/// `AmazonECSTaskExecutionRolePolicy`, as AWS publishes it.
pub fn execution_role_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchGetImage",
                "logs:CreateLogStream",
                "logs:PutLogEvents"
            ],
            "Resource": "*"
        }]
    })
}

pub fn ecs_tasks_trust() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "",
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    })
}

pub fn awslogs(group: &str) -> LogConfiguration {
    let mut options = BTreeMap::new();
    options.insert("awslogs-group".to_string(), group.to_string());
    options.insert("awslogs-region".to_string(), REGION.to_string());
    options.insert("awslogs-stream-prefix".to_string(), "ecs".to_string());
    LogConfiguration {
        driver: "awslogs".into(),
        options,
        secret_options: Vec::new(),
    }
}

pub fn role() -> Role {
    Role {
        arn: ROLE_ARN.into(),
        name: "ecsTaskExecutionRole".into(),
        trust_policy: ecs_tasks_trust(),
        attached_policies: Fact::gathered(vec![AttachedPolicy {
            arn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy".into(),
            name: "AmazonECSTaskExecutionRolePolicy".into(),
            document: Fact::gathered(execution_role_policy()),
            updated_at: None,
        }]),
        inline_policies: Fact::gathered(Vec::new()),
        permissions_boundary_arn: None,
    }
}

/// What moto (and many locked-down accounts) answer to `iam:SimulatePrincipalPolicy`.
pub fn simulation_unavailable() -> Fact<Vec<SimulationResult>> {
    Fact::Failed {
        action: "iam:SimulatePrincipalPolicy".into(),
        error: "the response could not be parsed".into(),
    }
}

pub fn ecr_image(reference: &str, found: bool) -> EcrImage {
    EcrImage {
        registry_id: ACCOUNT.into(),
        region: REGION.into(),
        repository: "web".into(),
        repository_arn: Some(REPO_ARN.into()),
        reference: reference.into(),
        found: found.then(|| EcrImageDetail {
            digest: Some("sha256:5f2a9c".into()),
            tags: vec![reference.into()],
            pushed_at: Some("2026-01-01T10:00:00Z".into()),
            manifest_media_type: Some(
                "application/vnd.docker.distribution.manifest.v2+json".into(),
            ),
            platforms: Fact::gathered(vec![Platform {
                os: "linux".into(),
                architecture: "amd64".into(),
                variant: None,
            }]),
            size_bytes: Some(66_285_402),
        }),
        recent_tags: Fact::gathered(vec!["v2".into(), "v1".into()]),
        repository_policy: Fact::absent("the repository has no policy"),
        tag_now: Fact::not_applicable("the image is not named by digest"),
        lifecycle_policy: Fact::not_applicable("the image is not named by digest"),
    }
}

/// A running Fargate task whose image, role, secrets and logs are all fine.
pub fn healthy() -> Evidence {
    let mut ev = super::running();
    let td = TaskDefinition {
        containers: vec![ContainerDefinition {
            name: "web".into(),
            image: IMAGE.into(),
            essential: true,
            log_configuration: Some(awslogs("/ecs/web")),
            ..Default::default()
        }],
        execution_role_arn: Some(ROLE_ARN.into()),
        ..ev.task_def()
            .expect("the kit's task has a task definition")
            .clone()
    };
    // This family's task pulled its image and runs outside a service.
    ev.task.timestamps = TaskTimestamps {
        pull_started_at: Some("2026-01-01T12:00:01Z".into()),
        pull_stopped_at: Some("2026-01-01T12:00:09Z".into()),
        started_at: Some("2026-01-01T12:00:10Z".into()),
        ..Default::default()
    };
    ev.task.group = None;
    ev.task.started_by = None;
    ev.task.containers[0].image = Some(IMAGE.into());
    ev.service = Fact::not_applicable("the task was not started by a service");
    ev.logs = Vec::new();
    ev.task_definition = Fact::gathered(td);
    ev.images = vec![ImageEvidence {
        container: "web".into(),
        image: IMAGE.into(),
        ecr: Fact::gathered(ecr_image("v2", true)),
        registry_repositories: Fact::not_applicable("the repository exists"),
    }];
    ev.execution_role = Fact::gathered(role());
    ev.simulation = simulation_unavailable();
    ev.log_groups = vec![LogGroupEvidence {
        name: "/ecs/web".into(),
        region: REGION.into(),
        group: Fact::gathered(LogGroup {
            arn: Some(format!(
                "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/web:*"
            )),
            retention_days: Some(30),
            kms_key_id: None,
        }),
    }];
    ev
}

/// The same task, stopped before its container started with `reason` (set as
/// the stopped reason and as the container's reason, as Fargate does).
pub fn failed_to_start(reason: &str) -> Evidence {
    let mut ev = healthy();
    ev.task.last_status = "STOPPED".into();
    ev.task.desired_status = Some("STOPPED".into());
    ev.task.stop_code = Some("TaskFailedToStart".into());
    ev.task.stopped_reason = Some(reason.into());
    ev.task.timestamps.started_at = None;
    ev.task.timestamps.pull_stopped_at = None;
    ev.task.timestamps.stopped_at = Some("2026-01-01T12:01:00Z".into());
    for c in &mut ev.task.containers {
        c.last_status = Some("STOPPED".into());
        c.reason = Some(reason.into());
        c.exit_code = None;
    }
    ev
}

/// The task definition, for edits.
pub fn td_mut(ev: &mut Evidence) -> &mut TaskDefinition {
    match &mut ev.task_definition {
        Fact::Gathered { value } => value,
        _ => panic!("fixture has a task definition"),
    }
}

/// Set one awslogs option of the `web` container.
pub fn set_log_option(ev: &mut Evidence, key: &str, value: &str) {
    td_mut(ev).containers[0]
        .log_configuration
        .as_mut()
        .expect("the kit's container logs with awslogs")
        .options
        .insert(key.into(), value.into());
}

/// The execution role, for edits.
pub fn role_mut(ev: &mut Evidence) -> &mut Role {
    match &mut ev.execution_role {
        Fact::Gathered { value } => value,
        _ => panic!("fixture has an execution role"),
    }
}

/// The first image's ECR evidence, for edits.
pub fn ecr_mut(ev: &mut Evidence) -> &mut EcrImage {
    match &mut ev.images[0].ecr {
        Fact::Gathered { value } => value,
        _ => panic!("fixture has an ECR image"),
    }
}

/// Add a `secrets[]` reference to the `web` container, with its metadata.
pub fn add_secret(ev: &mut Evidence, name: &str, value_from: &str, metadata: Fact<SecretMetadata>) {
    td_mut(ev).containers[0].secrets.push(SecretRef {
        name: name.into(),
        value_from: value_from.into(),
    });
    ev.secrets.push(SecretEvidence {
        container: "web".into(),
        name: name.into(),
        value_from: value_from.into(),
        metadata,
        found_in_task_region: None,
    });
}

pub fn secret_metadata(arn: &str, kms_key_id: Option<&str>) -> Fact<SecretMetadata> {
    Fact::gathered(SecretMetadata {
        arn: Some(arn.into()),
        name: arn.rsplit(':').next().map(str::to_string),
        kms_key_id: kms_key_id.map(str::to_string),
        service: "secretsmanager".into(),
        versions: Some(BTreeMap::from([(
            "6c2d1e0a-5b1f-4b7e-9a40-0e4f1c2b3a4d".to_string(),
            vec!["AWSCURRENT".to_string()],
        )])),
    })
}

/// A recorded `iam:SimulatePrincipalPolicy` answer.
pub fn simulated(action: &str, resource: &str, decision: &str) -> SimulationResult {
    SimulationResult {
        action: action.into(),
        resource: resource.into(),
        decision: decision.into(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Family;
    use crate::report::Verdict;

    /// The healthy fixture is healthy for every check of the family, so each
    /// check's own test breaks exactly one thing.
    #[test]
    fn healthy_task_has_no_image_family_finding() {
        let ev = healthy();
        for check in crate::checks::CHECKS
            .iter()
            .filter(|c| c.code.family() == Family::Image)
        {
            let verdict = crate::testkit::run(check.run, &ev);
            assert!(
                matches!(verdict, Verdict::Pass(_) | Verdict::Skipped(_)),
                "{}: {verdict:?}",
                check.code
            );
        }
    }

    /// One stop, one top candidate: a bare pull failure for a missing tag does
    /// not also implicate the role, the secrets or the logs.
    #[test]
    fn a_missing_tag_implicates_only_image_not_found() {
        let mut ev = failed_to_start("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3: not found");
        *ecr_mut(&mut ev) = ecr_image("v3", false);
        let report = crate::diagnose(&ev, "test");
        let image_codes: Vec<_> = report
            .candidates
            .iter()
            .filter(|c| c.family == Family::Image)
            .map(|c| c.code)
            .collect();
        assert_eq!(
            image_codes,
            vec![crate::Cause::ImageNotFound],
            "{:?}",
            report.candidates
        );
    }
}
