//! ECS: the task, its task definition and its service.

use super::{error_class, ts, Collector, ErrorClass};
use crate::error::DoctorError;
use crate::target::TaskTarget;
use ecs_doctor_checks::arn::{self, Arn};
use ecs_doctor_checks::evidence::*;
use ecs_doctor_checks::redact;

/// DescribeTasks: the one call without which nothing can be diagnosed. Its
/// errors end the run, each as its own [`DoctorError`]. `region` only names
/// where the task was looked for.
pub async fn describe_task(
    ecs: &aws_sdk_ecs::Client,
    region: &str,
    target: &TaskTarget,
    profile: Option<&str>,
) -> Result<Task, DoctorError> {
    let out = ecs
        .describe_tasks()
        .cluster(&target.cluster)
        .tasks(&target.task)
        .send()
        .await;
    let out = match out {
        Ok(o) => o,
        Err(err) => {
            let (class, message) = error_class(&err);
            if let Some(rejected) = super::credentials_rejected(&message, profile) {
                return Err(rejected);
            }
            return Err(match class {
                ErrorClass::NotFound if message.contains("Cluster") => {
                    DoctorError::ClusterNotFound {
                        cluster: target.cluster.clone(),
                        region: region.to_string(),
                    }
                }
                ErrorClass::Denied => DoctorError::DescribeTasksDenied(message),
                ErrorClass::Throttled => DoctorError::Throttled(message),
                ErrorClass::Network => DoctorError::Unreachable(message),
                _ if message.contains("ClusterNotFound") => DoctorError::ClusterNotFound {
                    cluster: target.cluster.clone(),
                    region: region.to_string(),
                },
                _ => DoctorError::Unreachable(message),
            });
        }
    };
    let Some(task) = out.tasks().first() else {
        return Err(DoctorError::TaskNotFound {
            task: target.task.clone(),
            cluster: target.cluster.clone(),
            region: region.to_string(),
        });
    };
    Ok(convert_task(task))
}

/// The task's attachment of one of `kinds` (its `type`, in any case).
fn attachment<'a>(
    t: &'a aws_sdk_ecs::types::Task,
    kinds: &[&str],
) -> Option<&'a aws_sdk_ecs::types::Attachment> {
    t.attachments().iter().find(|a| {
        a.r#type()
            .is_some_and(|ty| kinds.iter().any(|k| ty.eq_ignore_ascii_case(k)))
    })
}

/// One of an attachment's details, by name.
fn detail(a: &aws_sdk_ecs::types::Attachment, name: &str) -> Option<String> {
    a.details()
        .iter()
        .find(|d| d.name() == Some(name))
        .and_then(|d| d.value())
        .map(str::to_string)
}

pub fn convert_task(t: &aws_sdk_ecs::types::Task) -> Task {
    let arn = t.task_arn().unwrap_or_default().to_string();
    let eni_attachment = attachment(t, &["ElasticNetworkInterface", "eni"]).map(|a| {
        let detail = |name: &str| detail(a, name);
        EniAttachment {
            status: a.status().map(str::to_string),
            eni_id: detail("networkInterfaceId"),
            subnet_id: detail("subnetId"),
            private_ip: detail("privateIPv4Address"),
        }
    });
    let ebs_attachment = attachment(t, &["AmazonElasticBlockStorage"]).map(|a| {
        let detail = |name: &str| detail(a, name);
        EbsAttachment {
            status: a.status().map(str::to_string),
            volume_name: detail("volumeName"),
            volume_id: detail("volumeId"),
            role_arn: detail("roleArn"),
            status_reason: detail("statusReason"),
        }
    });
    Task {
        id: arn::name(&arn).to_string(),
        arn,
        cluster_arn: t.cluster_arn().unwrap_or_default().to_string(),
        task_definition_arn: t.task_definition_arn().unwrap_or_default().to_string(),
        last_status: t.last_status().unwrap_or("UNKNOWN").to_string(),
        desired_status: t.desired_status().map(str::to_string),
        stop_code: t.stop_code().map(|s| s.as_str().to_string()),
        stopped_reason: t.stopped_reason().map(str::to_string),
        launch_type: t.launch_type().map(|l| l.as_str().to_string()),
        platform_version: t.platform_version().map(str::to_string),
        capacity_provider_name: t.capacity_provider_name().map(str::to_string),
        group: t.group().map(str::to_string),
        started_by: t.started_by().map(str::to_string),
        availability_zone: t.availability_zone().map(str::to_string),
        health_status: t.health_status().map(|h| h.as_str().to_string()),
        cpu: t.cpu().map(str::to_string),
        memory: t.memory().map(str::to_string),
        timestamps: TaskTimestamps {
            created_at: ts(t.created_at()),
            pull_started_at: ts(t.pull_started_at()),
            pull_stopped_at: ts(t.pull_stopped_at()),
            started_at: ts(t.started_at()),
            stopping_at: ts(t.stopping_at()),
            execution_stopped_at: ts(t.execution_stopped_at()),
            stopped_at: ts(t.stopped_at()),
        },
        containers: t
            .containers()
            .iter()
            .map(|c| Container {
                name: c.name().unwrap_or_default().to_string(),
                image: c.image().map(str::to_string),
                image_digest: c.image_digest().map(str::to_string),
                last_status: c.last_status().map(str::to_string),
                exit_code: c.exit_code(),
                reason: c.reason().map(str::to_string),
                health_status: c.health_status().map(|h| h.as_str().to_string()),
                managed_agents: c
                    .managed_agents()
                    .iter()
                    .map(|a| ManagedAgent {
                        name: a.name().map(|n| n.as_str().to_string()).unwrap_or_default(),
                        last_status: a.last_status().map(str::to_string),
                        reason: a.reason().map(str::to_string),
                        last_started_at: ts(a.last_started_at()),
                    })
                    .collect(),
            })
            .collect(),
        eni_attachment,
        ebs_attachment,
        enable_execute_command: Some(t.enable_execute_command()),
    }
}

pub async fn task_definition(c: &Collector, task: &Task) -> Fact<TaskDefinition> {
    if task.task_definition_arn.is_empty() {
        return Fact::not_applicable("the task names no task definition");
    }
    let result = c
        .ecs()
        .describe_task_definition()
        .task_definition(&task.task_definition_arn)
        .send()
        .await;
    // ECS says a task definition does not exist with a ClientException.
    if let Err(err) = &result {
        let (_, message) = error_class(err);
        if message.starts_with("ClientException")
            && message.contains("Unable to describe task definition")
        {
            return Fact::absent(format!("ECS does not know it ({message})"));
        }
    }
    c.fact(
        "ecs:DescribeTaskDefinition",
        "the image, execution role, secrets, logging, port and health-check checks",
        result,
    )
    .map(|out| {
        out.task_definition()
            .map(convert_task_definition)
            .unwrap_or_default()
    })
}

fn convert_task_definition(td: &aws_sdk_ecs::types::TaskDefinition) -> TaskDefinition {
    TaskDefinition {
        arn: td.task_definition_arn().unwrap_or_default().to_string(),
        family: td.family().unwrap_or_default().to_string(),
        revision: td.revision(),
        network_mode: td.network_mode().map(|m| m.as_str().to_string()),
        requires_compatibilities: td
            .requires_compatibilities()
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        cpu: td.cpu().map(str::to_string),
        memory: td.memory().map(str::to_string),
        execution_role_arn: td.execution_role_arn().map(str::to_string),
        task_role_arn: td.task_role_arn().map(str::to_string),
        cpu_architecture: td
            .runtime_platform()
            .and_then(|p| p.cpu_architecture())
            .map(|a| a.as_str().to_string()),
        os_family: td
            .runtime_platform()
            .and_then(|p| p.operating_system_family())
            .map(|f| f.as_str().to_string()),
        containers: td
            .container_definitions()
            .iter()
            .map(convert_container_definition)
            .collect(),
        ephemeral_storage_gib: td.ephemeral_storage().map(|e| e.size_in_gib()),
        volumes: td
            .volumes()
            .iter()
            .map(|v| Volume {
                name: v.name().unwrap_or_default().to_string(),
                efs: v.efs_volume_configuration().map(|e| EfsVolume {
                    file_system_id: e.file_system_id().to_string(),
                    root_directory: e.root_directory().map(str::to_string),
                    transit_encryption: e.transit_encryption().map(|t| t.as_str().to_string()),
                    access_point_id: e
                        .authorization_config()
                        .and_then(|a| a.access_point_id())
                        .map(str::to_string),
                    iam: e
                        .authorization_config()
                        .and_then(|a| a.iam())
                        .map(|i| i.as_str().to_string()),
                }),
                configured_at_launch: v.configured_at_launch().unwrap_or(false),
            })
            .collect(),
        proxy_container: td
            .proxy_configuration()
            .map(|p| p.container_name().to_string()),
    }
}

fn secret_refs(secrets: &[aws_sdk_ecs::types::Secret]) -> Vec<SecretRef> {
    secrets
        .iter()
        .map(|s| SecretRef {
            name: s.name().to_string(),
            value_from: s.value_from().to_string(),
        })
        .collect()
}

fn convert_container_definition(
    cd: &aws_sdk_ecs::types::ContainerDefinition,
) -> ContainerDefinition {
    ContainerDefinition {
        name: cd.name().unwrap_or_default().to_string(),
        image: cd.image().unwrap_or_default().to_string(),
        essential: cd.essential().unwrap_or(true),
        port_mappings: cd
            .port_mappings()
            .iter()
            .map(|p| PortMapping {
                container_port: p.container_port(),
                host_port: p.host_port(),
                protocol: p.protocol().map(|x| x.as_str().to_string()),
            })
            .collect(),
        environment: cd
            .environment()
            .iter()
            .map(|kv| {
                let name = kv.name().unwrap_or_default().to_string();
                let value = redact::env_value(&name, kv.value().unwrap_or_default());
                EnvVar { name, value }
            })
            .collect(),
        environment_files: cd
            .environment_files()
            .iter()
            .map(|f| f.value().to_string())
            .collect(),
        secrets: secret_refs(cd.secrets()),
        log_configuration: cd.log_configuration().map(|l| LogConfiguration {
            driver: l.log_driver().as_str().to_string(),
            options: l
                .options()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            secret_options: secret_refs(l.secret_options()),
        }),
        health_check: cd.health_check().map(|h| HealthCheck {
            command: h.command().to_vec(),
            interval: h.interval(),
            timeout: h.timeout(),
            retries: h.retries(),
            start_period: h.start_period(),
        }),
        depends_on: cd
            .depends_on()
            .iter()
            .map(|d| ContainerDependency {
                container_name: d.container_name().to_string(),
                condition: d.condition().as_str().to_string(),
            })
            .collect(),
        start_timeout: cd.start_timeout(),
        stop_timeout: cd.stop_timeout(),
        memory: cd.memory(),
        memory_reservation: cd.memory_reservation(),
        repository_credentials: cd
            .repository_credentials()
            .map(|r| r.credentials_parameter().to_string()),
        command: cd.command().to_vec(),
        entry_point: cd.entry_point().to_vec(),
        mount_points: cd
            .mount_points()
            .iter()
            .map(|m| MountPoint {
                source_volume: m.source_volume().unwrap_or_default().to_string(),
                container_path: m.container_path().unwrap_or_default().to_string(),
                read_only: m.read_only().unwrap_or(false),
            })
            .collect(),
        firelens: cd
            .firelens_configuration()
            .map(|f| f.r#type().as_str().to_string()),
        readonly_root_filesystem: cd.readonly_root_filesystem(),
        restart_policy: cd.restart_policy().map(|r| ContainerRestartPolicy {
            enabled: r.enabled(),
            ignored_exit_codes: r.ignored_exit_codes().to_vec(),
            restart_attempt_period: r.restart_attempt_period(),
        }),
    }
}

fn convert_vpc(
    n: Option<&aws_sdk_ecs::types::NetworkConfiguration>,
) -> Option<AwsVpcConfiguration> {
    let v = n?.awsvpc_configuration()?;
    Some(AwsVpcConfiguration {
        subnets: v.subnets().to_vec(),
        security_groups: v.security_groups().to_vec(),
        assign_public_ip: v
            .assign_public_ip()
            .map(|a| a.as_str().eq_ignore_ascii_case("ENABLED")),
    })
}

/// The cluster with its configuration (`DescribeClusters` with
/// `CONFIGURATIONS`, which returns `configuration`: ECS Exec's and the
/// managed storage's).
async fn cluster_configuration(
    c: &Collector,
    task: &Task,
    impact: &str,
) -> Fact<aws_sdk_ecs::operation::describe_clusters::DescribeClustersOutput> {
    let got = c
        .ecs()
        .describe_clusters()
        .clusters(&task.cluster_arn)
        .include(aws_sdk_ecs::types::ClusterField::Configurations)
        .send()
        .await;
    c.fact("ecs:DescribeClusters", impact, got)
}

/// The cluster's key for Fargate ephemeral storage
/// (`configuration.managedStorageConfiguration.fargateEphemeralStorageKmsKeyId`);
/// not applicable when it sets none.
pub async fn fargate_storage_key(c: &Collector, task: &Task) -> Fact<String> {
    let impact = "the Fargate ephemeral storage key check (ephemeral-storage-key-failed)";
    match cluster_configuration(c, task, impact).await {
        Fact::Gathered { value } => match value.clusters().first() {
            Some(cluster) => match cluster
                .configuration()
                .and_then(|conf| conf.managed_storage_configuration())
                .and_then(|m| m.fargate_ephemeral_storage_kms_key_id())
            {
                Some(key) => Fact::gathered(key.to_string()),
                None => Fact::not_applicable(
                    "the cluster sets no customer managed key for Fargate ephemeral storage",
                ),
            },
            None => Fact::absent(format!("cluster {} does not exist", task.cluster_arn)),
        },
        other => other.map(|_| String::new()),
    }
}

/// The cluster's ECS Exec configuration (`DescribeClusters` with `CONFIGURATIONS`).
pub async fn exec_configuration(c: &Collector, task: &Task) -> Fact<ExecConfiguration> {
    match cluster_configuration(
        c,
        task,
        "the cluster's ECS Exec configuration (KMS key, session logging)",
    )
    .await
    {
        Fact::Gathered { value } => match value.clusters().first() {
            Some(cluster) => {
                let exec = cluster
                    .configuration()
                    .and_then(|conf| conf.execute_command_configuration());
                let log = exec.and_then(|e| e.log_configuration());
                Fact::gathered(ExecConfiguration {
                    cluster_arn: cluster
                        .cluster_arn()
                        .unwrap_or(&task.cluster_arn)
                        .to_string(),
                    kms_key_id: exec.and_then(|e| e.kms_key_id()).map(str::to_string),
                    logging: exec
                        .and_then(|e| e.logging())
                        .map(|l| l.as_str().to_string()),
                    log_group: log
                        .and_then(|l| l.cloud_watch_log_group_name())
                        .map(str::to_string),
                    s3_bucket: log.and_then(|l| l.s3_bucket_name()).map(str::to_string),
                    s3_key_prefix: log.and_then(|l| l.s3_key_prefix()).map(str::to_string),
                })
            }
            None => Fact::absent(format!("cluster {} does not exist", task.cluster_arn)),
        },
        other => other.map(|_| ExecConfiguration::default()),
    }
}

/// The service that launched the task, when its group is `service:NAME`.
/// `cluster` names the cluster when the task does not.
pub async fn service(c: &Collector, task: &Task, cluster: &str) -> Fact<Service> {
    let Some(name) = task
        .group
        .as_deref()
        .and_then(|g| g.strip_prefix("service:"))
    else {
        return Fact::not_applicable("the task was not started by a service");
    };
    let cluster = if task.cluster_arn.is_empty() {
        cluster
    } else {
        task.cluster_arn.as_str()
    };
    if let Some(known) = c
        .described_services
        .iter()
        .find(|s| s.name == name && same_cluster(&s.arn, cluster))
    {
        return Fact::gathered(known.clone());
    }
    service_named(c, cluster, name).await
}

/// Whether a service's ARN lies in `cluster` (a name or an ARN). A
/// service ARN of the old format (`service/NAME`) does not say: the run
/// described it in the cluster it sweeps, which is the task's.
fn same_cluster(service_arn: &str, cluster: &str) -> bool {
    let cluster_name = arn::name(cluster);
    cluster_of_service_arn(service_arn).is_none_or(|c| c == cluster_name)
}

/// The cluster a `service/CLUSTER/NAME` ARN names.
pub fn cluster_of_service_arn(service_arn: &str) -> Option<&str> {
    let mut path = Arn::parse(service_arn)?.resource.split('/');
    match (path.next(), path.next(), path.next()) {
        (Some("service"), Some(cluster), Some(_)) => Some(cluster),
        _ => None,
    }
}

/// One service of a cluster: its network configuration, load balancers,
/// events and deployments.
pub async fn service_named(c: &Collector, cluster: &str, name: &str) -> Fact<Service> {
    let result = c
        .ecs()
        .describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await;
    match c.fact(
        "ecs:DescribeServices",
        "service network configuration, events, deployments and load balancers",
        result,
    ) {
        Fact::Gathered { value } => match value.services().first() {
            Some(s) => Fact::gathered(convert_service(s, name)),
            None => Fact::absent(format!("service {name} does not exist (any more)")),
        },
        other => other.map(|_| Service::default()),
    }
}

/// Up to ten services of a cluster in one DescribeServices call; the ones
/// ECS does not know are left out (its `failures` name them).
pub async fn services(c: &Collector, cluster: &str, names: &[String]) -> Fact<Vec<Service>> {
    let result = c
        .ecs()
        .describe_services()
        .cluster(cluster)
        .set_services(Some(names.to_vec()))
        .send()
        .await;
    c.fact(
        "ecs:DescribeServices",
        "the services' events, deployments and counts",
        result,
    )
    .map(|out| {
        out.services()
            .iter()
            .map(|s| convert_service(s, ""))
            .collect()
    })
}

fn convert_service(s: &aws_sdk_ecs::types::Service, name: &str) -> Service {
    Service {
        name: s.service_name().unwrap_or(name).to_string(),
        arn: s.service_arn().unwrap_or_default().to_string(),
        status: s.status().map(str::to_string),
        desired_count: s.desired_count(),
        running_count: s.running_count(),
        network_configuration: convert_vpc(s.network_configuration()),
        health_check_grace_period_seconds: s.health_check_grace_period_seconds(),
        load_balancers: s
            .load_balancers()
            .iter()
            .map(|lb| ServiceLoadBalancer {
                target_group_arn: lb.target_group_arn().map(str::to_string),
                load_balancer_name: lb.load_balancer_name().map(str::to_string),
                container_name: lb.container_name().map(str::to_string),
                container_port: lb.container_port(),
            })
            .collect(),
        events: s
            .events()
            .iter()
            .map(|e| ServiceEvent {
                created_at: ts(e.created_at()),
                message: e.message().unwrap_or_default().to_string(),
            })
            .collect(),
        deployments: s
            .deployments()
            .iter()
            .map(|d| Deployment {
                id: d.id().unwrap_or_default().to_string(),
                status: d.status().map(str::to_string),
                task_definition: d.task_definition().map(str::to_string),
                rollout_state: d.rollout_state().map(|r| r.as_str().to_string()),
                rollout_state_reason: d.rollout_state_reason().map(str::to_string),
                network_configuration: convert_vpc(d.network_configuration()),
                created_at: ts(d.created_at()),
                desired_count: Some(d.desired_count()),
                running_count: Some(d.running_count()),
                failed_tasks: Some(d.failed_tasks()),
                volume_configurations: d
                    .volume_configurations()
                    .iter()
                    .filter_map(|v| {
                        let m = v.managed_ebs_volume()?;
                        Some((
                            v.name().to_string(),
                            ManagedEbsVolume {
                                role_arn: Some(m.role_arn().to_string()),
                                kms_key_id: m.kms_key_id().map(str::to_string),
                                encrypted: m.encrypted(),
                                snapshot_id: m.snapshot_id().map(str::to_string),
                                filesystem_type: m
                                    .filesystem_type()
                                    .map(|f| f.as_str().to_string()),
                                volume_type: m.volume_type().map(str::to_string),
                                size_in_gib: m.size_in_gib(),
                            },
                        ))
                    })
                    .collect(),
            })
            .collect(),
        enable_execute_command: Some(s.enable_execute_command()),
        task_definition: s.task_definition().map(str::to_string),
        launch_type: s.launch_type().map(|l| l.as_str().to_string()),
        platform_version: s.platform_version().map(str::to_string),
    }
}
