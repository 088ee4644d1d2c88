//! How `DescribeTasks` failures become the errors a user sees, with the ECS
//! client answered by aws-smithy-mocks instead of AWS.

use super::ecs::describe_task;
use crate::error::{exit, DoctorError};
use crate::target::TaskTarget;
use aws_sdk_ecs::operation::describe_tasks::{DescribeTasksError, DescribeTasksOutput};
use aws_sdk_ecs::types::{error::AccessDeniedException, Failure};
use aws_sdk_ecs::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;

const TASK: &str = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef";

fn target() -> TaskTarget {
    TaskTarget {
        task: TASK.into(),
        cluster: "prod".into(),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
    }
}

/// An awsJson 1.1 error exactly as ECS puts it on the wire.
fn wire_error(status: u16, code: &str, message: &str) -> Response {
    let body = format!(r#"{{"__type":"{code}","message":"{message}"}}"#);
    Response::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body))
}

/// DescribeTasks through an ECS client whose only answer is `rule`. Retries
/// are off: the production client's retries end in the same error.
async fn describe_with(rule: &Rule) -> Result<ecs_doctor_checks::evidence::Task, DoctorError> {
    let ecs: Client = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [rule], |c| c
        .retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled()));
    let result = describe_task(&ecs, "us-east-1", &target(), None).await;
    assert_eq!(rule.num_calls(), 1, "DescribeTasks is asked exactly once");
    result
}

#[tokio::test]
async fn throttling_is_its_own_error_and_cannot_run() {
    let rule = mock!(Client::describe_tasks)
        .then_http_response(|| wire_error(400, "ThrottlingException", "Rate exceeded"));
    let err = describe_with(&rule).await.unwrap_err();
    assert!(
        matches!(&err, DoctorError::Throttled(m) if m.contains("ThrottlingException: Rate exceeded")),
        "{err:?}"
    );
    assert_eq!(err.exit_code(), exit::CANNOT_RUN);
}

#[tokio::test]
async fn access_denied_names_describe_tasks() {
    let message = "User: arn:aws:iam::123456789012:user/reader is not authorized to perform: ecs:DescribeTasks";
    let rule = mock!(Client::describe_tasks).then_error(move || {
        // A modelled error, with the metadata ECS's deserializer would attach.
        DescribeTasksError::AccessDeniedException(
            AccessDeniedException::builder()
                .message(message)
                .meta(
                    ErrorMetadata::builder()
                        .code("AccessDeniedException")
                        .message(message)
                        .build(),
                )
                .build(),
        )
    });
    let err = describe_with(&rule).await.unwrap_err();
    assert!(
        matches!(&err, DoctorError::DescribeTasksDenied(m) if m.contains("AccessDeniedException") && m.contains(message)),
        "{err:?}"
    );
    assert!(err.to_string().contains("ecs:DescribeTasks"), "{err}");
    assert_eq!(err.exit_code(), exit::CANNOT_RUN);
}

#[tokio::test]
async fn an_unknown_cluster_is_cluster_not_found() {
    let rule = mock!(Client::describe_tasks)
        .then_http_response(|| wire_error(400, "ClusterNotFoundException", "Cluster not found."));
    let err = describe_with(&rule).await.unwrap_err();
    assert!(
        matches!(&err, DoctorError::ClusterNotFound { cluster, region } if cluster == "prod" && region == "us-east-1"),
        "{err:?}"
    );
    assert_eq!(err.exit_code(), exit::CANNOT_RUN);
}

#[tokio::test]
async fn a_missing_task_is_task_not_found() {
    let rule = mock!(Client::describe_tasks)
        .match_requests(|req| req.cluster() == Some("prod") && req.tasks() == [TASK])
        .then_output(|| {
            DescribeTasksOutput::builder()
                .failures(Failure::builder().arn(TASK).reason("MISSING").build())
                .build()
        });
    let err = describe_with(&rule).await.unwrap_err();
    assert!(
        matches!(&err, DoctorError::TaskNotFound { task, cluster, .. } if task == TASK && cluster == "prod"),
        "{err:?}"
    );
    assert!(err.to_string().contains("about an hour"), "{err}");
    assert_eq!(err.exit_code(), exit::CANNOT_RUN);
}

#[tokio::test]
async fn a_found_task_is_converted() {
    let rule = mock!(Client::describe_tasks).then_output(|| {
        DescribeTasksOutput::builder()
            .tasks(
                aws_sdk_ecs::types::Task::builder()
                    .task_arn(TASK)
                    .last_status("STOPPED")
                    .stop_code(aws_sdk_ecs::types::TaskStopCode::EssentialContainerExited)
                    .build(),
            )
            .build()
    });
    let task = describe_with(&rule).await.expect("the task");
    assert_eq!(task.id, "0123456789abcdef0123456789abcdef");
    assert_eq!(task.stop_code.as_deref(), Some("EssentialContainerExited"));
}

#[test]
fn rejected_and_expired_credentials_name_the_profile_and_the_fix() {
    let expired = super::credentials_rejected(
        "ExpiredTokenException: The security token included in the request is expired",
        Some("prod-admin"),
    )
    .expect("an expired token is a rejection")
    .to_string();
    assert!(expired.contains("profile prod-admin"), "{expired}");
    assert!(
        expired.contains("aws sso login --profile prod-admin"),
        "{expired}"
    );
    let invalid = super::credentials_rejected(
        "InvalidClientTokenId: The security token included in the request is invalid.",
        None,
    )
    .expect("an unknown key is a rejection")
    .to_string();
    assert!(
        invalid.contains("InvalidClientTokenId") && invalid.contains("access key"),
        "{invalid}"
    );
    assert!(super::credentials_rejected("AccessDeniedException: no", None).is_none());
}

#[test]
fn an_endpoint_url_must_be_http_with_a_host() {
    for good in [
        "http://127.0.0.1:4566",
        "https://ecs.us-east-1.amazonaws.com",
    ] {
        assert_eq!(super::connect::checked_endpoint(good).ok(), Some(good));
    }
    for bad in ["not a url", "ftp://x", "http://", "localhost:4566"] {
        let err = super::connect::checked_endpoint(bad).expect_err(bad);
        assert_eq!(err.exit_code(), crate::error::exit::USAGE, "{bad}: {err}");
    }
}

/// A collector whose every AWS request is answered with a server error and
/// counted, with retries off.
fn counting_collector() -> (
    super::Collector,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use aws_smithy_runtime_api::client::http::{
        http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[derive(Debug)]
    struct Counting(Arc<AtomicUsize>);
    impl HttpConnector for Counting {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            self.0.fetch_add(1, Ordering::SeqCst);
            HttpConnectorFuture::ready(Ok(wire_error(500, "InternalError", "unavailable")))
        }
    }
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    "AKIDEXAMPLE",
                    "example",
                    None,
                    None,
                    "test",
                ),
            ),
        )
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .http_client(http_client_fn(move |_, _| {
            SharedHttpConnector::new(Counting(counter.clone()))
        }))
        .build();
    let collector = super::Collector::new(
        sdk,
        super::deadline::Deadline::after(std::time::Duration::from_secs(60)),
        None,
        super::memo::Memo::new(),
    );
    (collector, sent)
}

fn task_with_eni(status: &str) -> ecs_doctor_checks::evidence::Task {
    ecs_doctor_checks::evidence::Task {
        eni_attachment: Some(ecs_doctor_checks::evidence::EniAttachment {
            status: Some(status.into()),
            eni_id: Some("eni-0123456789abcdef0".into()),
            subnet_id: Some("subnet-0123456789abcdef0".into()),
            private_ip: Some("10.0.1.17".into()),
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_deleted_eni_is_known_to_be_gone_without_asking() {
    use ecs_doctor_checks::evidence::Fact;
    use std::sync::atomic::Ordering;

    let (c, sent) = counting_collector();
    let eni = super::network::task_eni(&c, &task_with_eni("DELETED")).await;
    assert!(
        matches!(&eni, Fact::Absent { detail } if detail.contains("eni-0123456789abcdef0") && detail.contains("DELETED")),
        "{eni:?}"
    );
    assert_eq!(sent.load(Ordering::SeqCst), 0, "EC2 is not asked");
    assert!(c.gaps().is_empty());

    // An attachment that is still there is asked about, and a failed answer
    // is a failed fact, not an absent one.
    let eni = super::network::task_eni(&c, &task_with_eni("ATTACHED")).await;
    assert_eq!(sent.load(Ordering::SeqCst), 1);
    assert!(matches!(eni, Fact::Failed { .. }), "{eni:?}");
}

#[tokio::test]
async fn a_service_the_sweep_described_is_not_asked_again() {
    use ecs_doctor_checks::evidence::{Fact, Service, Task};
    use std::sync::atomic::Ordering;

    let (c, sent) = counting_collector();
    let described = Service {
        name: "web".into(),
        arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
        desired_count: 2,
        ..Default::default()
    };
    let c = c.with_described_services(vec![described]);
    let task_of = |group: &str, cluster: &str| Task {
        group: Some(group.into()),
        cluster_arn: cluster.into(),
        ..Default::default()
    };
    let prod = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    let service = super::ecs::service(&c, &task_of("service:web", prod), "prod").await;
    assert!(
        matches!(&service, Fact::Gathered { value } if value.name == "web" && value.desired_count == 2),
        "{service:?}"
    );
    assert_eq!(sent.load(Ordering::SeqCst), 0, "ECS is not asked");

    // A service of the same name in another cluster, or another service,
    // is asked about; its failure is a failed fact.
    let staging = "arn:aws:ecs:us-east-1:123456789012:cluster/staging";
    let other = super::ecs::service(&c, &task_of("service:web", staging), "staging").await;
    assert!(matches!(other, Fact::Failed { .. }), "{other:?}");
    let api = super::ecs::service(&c, &task_of("service:api", prod), "prod").await;
    assert!(matches!(api, Fact::Failed { .. }), "{api:?}");
    assert_eq!(sent.load(Ordering::SeqCst), 2);
}
