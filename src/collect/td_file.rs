//! A task definition from a file, as CI pipelines hold it: the
//! `register-task-definition` input (`aws ecs register-task-definition
//! --cli-input-json`), or a `describe-task-definition` output. Read with
//! serde into the input shape, then turned into the evidence model the
//! collector also produces (environment values redacted the same way).

use crate::error::DoctorError;
use ecs_doctor_checks::evidence::{
    ContainerDefinition, ContainerDependency, ContainerRestartPolicy, EfsVolume, EnvVar,
    HealthCheck, LogConfiguration, MountPoint, PortMapping, SecretRef, TaskDefinition, Volume,
};
use ecs_doctor_checks::redact;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    family: String,
    #[serde(default)]
    task_definition_arn: Option<String>,
    #[serde(default)]
    revision: Option<i32>,
    #[serde(default)]
    container_definitions: Vec<ContainerInput>,
    network_mode: Option<String>,
    #[serde(default)]
    requires_compatibilities: Vec<String>,
    cpu: Option<String>,
    memory: Option<String>,
    execution_role_arn: Option<String>,
    task_role_arn: Option<String>,
    runtime_platform: Option<RuntimePlatform>,
    ephemeral_storage: Option<EphemeralStorage>,
    #[serde(default)]
    volumes: Vec<VolumeInput>,
    proxy_configuration: Option<ProxyConfiguration>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuntimePlatform {
    cpu_architecture: Option<String>,
    operating_system_family: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EphemeralStorage {
    size_in_gi_b: i32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProxyConfiguration {
    container_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VolumeInput {
    name: String,
    efs_volume_configuration: Option<EfsInput>,
    #[serde(default)]
    configured_at_launch: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EfsInput {
    file_system_id: String,
    root_directory: Option<String>,
    transit_encryption: Option<String>,
    authorization_config: Option<EfsAuthorization>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EfsAuthorization {
    access_point_id: Option<String>,
    iam: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerInput {
    name: String,
    image: String,
    essential: Option<bool>,
    #[serde(default)]
    port_mappings: Vec<PortInput>,
    #[serde(default)]
    environment: Vec<KeyValue>,
    #[serde(default)]
    environment_files: Vec<EnvironmentFile>,
    #[serde(default)]
    secrets: Vec<SecretInput>,
    log_configuration: Option<LogInput>,
    health_check: Option<HealthInput>,
    #[serde(default)]
    depends_on: Vec<DependsOn>,
    start_timeout: Option<i32>,
    stop_timeout: Option<i32>,
    memory: Option<i32>,
    memory_reservation: Option<i32>,
    repository_credentials: Option<RepositoryCredentials>,
    #[serde(default)]
    command: Vec<String>,
    #[serde(default)]
    entry_point: Vec<String>,
    #[serde(default)]
    mount_points: Vec<MountInput>,
    firelens_configuration: Option<Firelens>,
    readonly_root_filesystem: Option<bool>,
    restart_policy: Option<RestartInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestartInput {
    enabled: bool,
    #[serde(default)]
    ignored_exit_codes: Vec<i32>,
    restart_attempt_period: Option<i32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PortInput {
    container_port: Option<i32>,
    host_port: Option<i32>,
    protocol: Option<String>,
}

#[derive(Deserialize)]
struct KeyValue {
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct EnvironmentFile {
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecretInput {
    name: String,
    value_from: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogInput {
    log_driver: String,
    #[serde(default)]
    options: BTreeMap<String, String>,
    #[serde(default)]
    secret_options: Vec<SecretInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HealthInput {
    #[serde(default)]
    command: Vec<String>,
    interval: Option<i32>,
    timeout: Option<i32>,
    retries: Option<i32>,
    start_period: Option<i32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DependsOn {
    container_name: String,
    condition: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RepositoryCredentials {
    credentials_parameter: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MountInput {
    source_volume: Option<String>,
    container_path: Option<String>,
    read_only: Option<bool>,
}

#[derive(Deserialize)]
struct Firelens {
    r#type: String,
}

fn secrets(list: Vec<SecretInput>) -> Vec<SecretRef> {
    list.into_iter()
        .map(|s| SecretRef {
            name: s.name,
            value_from: s.value_from,
        })
        .collect()
}

fn container(c: ContainerInput) -> ContainerDefinition {
    ContainerDefinition {
        name: c.name,
        image: c.image,
        essential: c.essential.unwrap_or(true),
        port_mappings: c
            .port_mappings
            .into_iter()
            .map(|p| PortMapping {
                container_port: p.container_port,
                host_port: p.host_port,
                protocol: p.protocol,
            })
            .collect(),
        environment: c
            .environment
            .into_iter()
            .map(|kv| EnvVar {
                value: redact::env_value(&kv.name, &kv.value),
                name: kv.name,
            })
            .collect(),
        environment_files: c.environment_files.into_iter().map(|f| f.value).collect(),
        secrets: secrets(c.secrets),
        log_configuration: c.log_configuration.map(|l| LogConfiguration {
            driver: l.log_driver,
            options: l.options,
            secret_options: secrets(l.secret_options),
        }),
        health_check: c.health_check.map(|h| HealthCheck {
            command: h.command,
            interval: h.interval,
            timeout: h.timeout,
            retries: h.retries,
            start_period: h.start_period,
        }),
        depends_on: c
            .depends_on
            .into_iter()
            .map(|d| ContainerDependency {
                container_name: d.container_name,
                condition: d.condition,
            })
            .collect(),
        start_timeout: c.start_timeout,
        stop_timeout: c.stop_timeout,
        memory: c.memory,
        memory_reservation: c.memory_reservation,
        repository_credentials: c.repository_credentials.map(|r| r.credentials_parameter),
        command: c.command,
        entry_point: c.entry_point,
        mount_points: c
            .mount_points
            .into_iter()
            .map(|m| MountPoint {
                source_volume: m.source_volume.unwrap_or_default(),
                container_path: m.container_path.unwrap_or_default(),
                read_only: m.read_only.unwrap_or(false),
            })
            .collect(),
        firelens: c.firelens_configuration.map(|f| f.r#type),
        readonly_root_filesystem: c.readonly_root_filesystem,
        restart_policy: c.restart_policy.map(|r| ContainerRestartPolicy {
            enabled: r.enabled,
            ignored_exit_codes: r.ignored_exit_codes,
            restart_attempt_period: r.restart_attempt_period,
        }),
    }
}

/// The task definition in `text`: the input shape itself, or a
/// `describe-task-definition` output wrapping it in `taskDefinition`.
pub fn parse(text: &str) -> Result<TaskDefinition, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let value = match value.get("taskDefinition") {
        Some(inner) => inner.clone(),
        None => value,
    };
    let input: Input = serde_json::from_value(value)
        .map_err(|e| format!("not a task definition (register-task-definition input): {e}"))?;
    if input.container_definitions.is_empty() {
        return Err("it has no containerDefinitions".into());
    }
    Ok(TaskDefinition {
        arn: input.task_definition_arn.unwrap_or_default(),
        family: input.family,
        revision: input.revision.unwrap_or_default(),
        network_mode: input.network_mode,
        requires_compatibilities: input.requires_compatibilities,
        cpu: input.cpu,
        memory: input.memory,
        execution_role_arn: input.execution_role_arn,
        task_role_arn: input.task_role_arn,
        cpu_architecture: input
            .runtime_platform
            .as_ref()
            .and_then(|p| p.cpu_architecture.clone()),
        os_family: input
            .runtime_platform
            .and_then(|p| p.operating_system_family),
        containers: input
            .container_definitions
            .into_iter()
            .map(container)
            .collect(),
        ephemeral_storage_gib: input.ephemeral_storage.map(|e| e.size_in_gi_b),
        volumes: input
            .volumes
            .into_iter()
            .map(|v| Volume {
                name: v.name,
                efs: v.efs_volume_configuration.map(|e| EfsVolume {
                    file_system_id: e.file_system_id,
                    root_directory: e.root_directory,
                    transit_encryption: e.transit_encryption,
                    access_point_id: e
                        .authorization_config
                        .as_ref()
                        .and_then(|a| a.access_point_id.clone()),
                    iam: e.authorization_config.and_then(|a| a.iam),
                }),
                configured_at_launch: v.configured_at_launch,
            })
            .collect(),
        proxy_container: input.proxy_configuration.map(|p| p.container_name),
    })
}

/// Read and parse the file (`-` is standard input); a file that is not a
/// task definition is bad input, said in one line.
pub fn read(path: &Path) -> Result<TaskDefinition, DoctorError> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| DoctorError::BadInput(format!("could not read {}: {e}", path.display())))?;
    parse(&text).map_err(|why| DoctorError::BadInput(format!("{}: {why}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn the_register_input_and_the_describe_output_read_the_same() {
        let input = r#"{"family": "web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
            "cpu": "256", "memory": "512", "runtimePlatform": {"cpuArchitecture": "ARM64"},
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "containerDefinitions": [{"name": "web", "image": "nginx:1.27",
                "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "PORT", "value": "3000"}],
                "dependsOn": [{"containerName": "envoy", "condition": "HEALTHY"}],
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web"}}}]}"#;
        let td = parse(input).expect("a task definition");
        assert_eq!(td.family, "web");
        assert_eq!(td.cpu_architecture.as_deref(), Some("ARM64"));
        let web = &td.containers[0];
        assert!(web.essential, "essential unless it says otherwise");
        assert_eq!(web.depends_on[0].condition, "HEALTHY");
        assert_ne!(
            web.environment[0].value, "hunter2",
            "values are redacted as they are read"
        );
        assert_eq!(web.environment[1].value, "3000");
        let wrapped = format!("{{\"taskDefinition\": {input}}}");
        assert_eq!(parse(&wrapped).unwrap(), td);
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        assert!(parse("{").unwrap_err().starts_with("not JSON"));
        assert!(parse("{\"family\": \"web\"}")
            .unwrap_err()
            .contains("no containerDefinitions"));
        assert!(parse("[1, 2]")
            .unwrap_err()
            .contains("not a task definition"));
    }
}
