//! Which IAM actions the task execution role needs, on which resources,
//! derived from the task definition alone.

use crate::evidence::{ExecConfiguration, SecretEvidence, SecretMetadata, TaskDefinition};
use crate::image_ref::{self, Registry};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Requirement {
    pub action: String,
    pub resource: String,
    /// Why the task needs it, e.g. `pull image web:v1 (container web)`.
    pub why: String,
}

/// What a requirement for a container's `repositoryCredentials` is for.
pub const REGISTRY_CREDENTIALS: &str = "private registry credentials";

fn req(action: &str, resource: impl Into<String>, why: impl Into<String>) -> Requirement {
    Requirement {
        action: action.to_string(),
        resource: resource.into(),
        why: why.into(),
    }
}

/// The partition of a Region (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Split a Secrets Manager `valueFrom` into the secret ARN (without the
/// `:json-key:version-stage:version-id` suffix) and its Region.
pub fn secrets_manager_arn(value_from: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = value_from.split(':').collect();
    if parts.len() < 7 || parts[0] != "arn" || parts[2] != "secretsmanager" || parts[5] != "secret"
    {
        return None;
    }
    Some((parts[..7].join(":"), parts[3].to_string()))
}

/// What a Secrets Manager `valueFrom` selects inside the secret: the parts
/// after the ARN, `json-key:version-stage:version-id`, each empty when unset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretSelector {
    pub json_key: Option<String>,
    pub version_stage: Option<String>,
    pub version_id: Option<String>,
}

impl SecretSelector {
    pub fn of(value_from: &str) -> Option<SecretSelector> {
        secrets_manager_arn(value_from)?;
        let parts: Vec<&str> = value_from.split(':').collect();
        let part = |i: usize| {
            parts
                .get(i)
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .map(str::to_string)
        };
        Some(SecretSelector {
            json_key: part(7),
            version_stage: part(8),
            version_id: part(9),
        })
    }

    pub fn is_whole_secret(&self) -> bool {
        self.json_key.is_none() && self.version_stage.is_none() && self.version_id.is_none()
    }
}

/// The parameter ARN and Region of an SSM `valueFrom` (a name or an ARN).
pub fn ssm_parameter_arn(
    value_from: &str,
    region: &str,
    account: &str,
) -> Option<(String, String, String)> {
    if value_from.starts_with("arn:") {
        let parts: Vec<&str> = value_from.splitn(6, ':').collect();
        if parts.len() == 6 && parts[2] == "ssm" && parts[5].starts_with("parameter") {
            let name = parts[5].trim_start_matches("parameter");
            let name = if name.starts_with('/') {
                name.to_string()
            } else {
                format!("/{name}")
            };
            // A parameter named `/a/b` is `parameter/a/b`; `a` is `parameter/a` but read as `a`.
            let display = if name.matches('/').count() > 1 {
                name.clone()
            } else {
                name.trim_start_matches('/').to_string()
            };
            return Some((value_from.to_string(), parts[3].to_string(), display));
        }
        return None;
    }
    let path = value_from.trim_start_matches('/');
    Some((
        format!(
            "arn:{}:ssm:{region}:{account}:parameter/{path}",
            partition(region)
        ),
        region.to_string(),
        value_from.to_string(),
    ))
}

/// Everything the execution role must be allowed to do for this task definition.
pub fn required(td: &TaskDefinition, region: &str, account: &str) -> Vec<Requirement> {
    let part = partition(region);
    let mut out = Vec::new();
    for c in &td.containers {
        let image = image_ref::parse(&c.image);
        if let Registry::EcrPrivate {
            account: acct,
            region: r,
        } = &image.registry
        {
            let why = format!("pull {} (container {})", c.image, c.name);
            out.push(req("ecr:GetAuthorizationToken", "*", why.clone()));
            let repo = format!(
                "arn:{}:ecr:{r}:{acct}:repository/{}",
                partition(r),
                image.repository
            );
            for action in [
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchGetImage",
            ] {
                out.push(req(action, repo.clone(), why.clone()));
            }
        }
        if let Some(cred) = &c.repository_credentials {
            out.push(req(
                "secretsmanager:GetSecretValue",
                cred.clone(),
                format!("{REGISTRY_CREDENTIALS} (container {})", c.name),
            ));
        }
        if let Some(log) = &c.log_configuration {
            if log.driver == "awslogs" {
                if let Some(group) = log.options.get("awslogs-group") {
                    let r = log
                        .options
                        .get("awslogs-region")
                        .map(String::as_str)
                        .unwrap_or(region);
                    let arn = format!(
                        "arn:{}:logs:{r}:{account}:log-group:{group}:*",
                        partition(r)
                    );
                    let why = format!("send logs to {group} (container {})", c.name);
                    out.push(req("logs:CreateLogStream", arn.clone(), why.clone()));
                    out.push(req("logs:PutLogEvents", arn.clone(), why.clone()));
                    if log
                        .options
                        .get("awslogs-create-group")
                        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
                    {
                        out.push(req("logs:CreateLogGroup", arn, why));
                    }
                }
            }
            for s in &log.secret_options {
                push_secret(
                    &mut out,
                    &s.value_from,
                    region,
                    account,
                    format!("log option {} (container {})", s.name, c.name),
                );
            }
        }
        for s in &c.secrets {
            push_secret(
                &mut out,
                &s.value_from,
                region,
                account,
                format!("secret {} (container {})", s.name, c.name),
            );
        }
        for f in &c.environment_files {
            out.extend(env_file(f, &c.name, part));
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.action == b.action && a.resource == b.resource);
    out
}

/// What downloading one environment file (`environmentFiles`, an S3 object
/// ARN of partition `part`) needs: the object, and its bucket's Region.
/// None when the value is no S3 ARN of that partition.
pub fn env_file(arn: &str, container: &str, part: &str) -> Vec<Requirement> {
    let Some(rest) = arn.strip_prefix(&format!("arn:{part}:s3:::")) else {
        return Vec::new();
    };
    let bucket = rest.split('/').next().unwrap_or(rest);
    let why = format!("environment file {arn} (container {container})");
    vec![
        req("s3:GetObject", arn, why.clone()),
        req(
            "s3:GetBucketLocation",
            format!("arn:{part}:s3:::{bucket}"),
            why,
        ),
    ]
}

/// The KMS key ARN behind a secret's `kms_key_id`, when it is a
/// customer-managed key (the AWS managed `aws/secretsmanager` and `aws/ssm`
/// keys need no `kms:Decrypt` grant on the execution role).
pub fn customer_kms_key(
    meta: &SecretMetadata,
    fallback_region: &str,
    fallback_account: &str,
) -> Option<String> {
    let key = meta.kms_key_id.as_deref()?.trim();
    if key.is_empty() || crate::iam::key_policy::is_aws_managed(key, None) {
        return None;
    }
    // A bare key id or alias: qualify it with the secret's own Region and account.
    let (region, account) = meta
        .arn
        .as_deref()
        .and_then(|arn| {
            let parts: Vec<&str> = arn.split(':').collect();
            (parts.len() > 4).then(|| (parts[3].to_string(), parts[4].to_string()))
        })
        .unwrap_or_else(|| (fallback_region.to_string(), fallback_account.to_string()));
    Some(kms_key_arn(key, &region, &account))
}

/// A KMS key as an ARN: an ARN as given, a bare key id or alias qualified
/// with `region` and `account`.
pub fn kms_key_arn(key: &str, region: &str, account: &str) -> String {
    let key = key.trim();
    if key.starts_with("arn:") {
        return key.to_string();
    }
    let resource = if key.starts_with("alias/") {
        key.to_string()
    } else {
        format!("key/{key}")
    };
    format!(
        "arn:{}:kms:{region}:{account}:{resource}",
        partition(region)
    )
}

/// The four Session Manager channel actions ECS Exec's agent calls.
pub const SSM_MESSAGES: &[&str] = &[
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
];

/// Where the cluster's `executeCommandConfiguration` sends ECS Exec session
/// logs. Only `OVERRIDE` names a destination the session depends on;
/// `DEFAULT` logs through the containers' awslogs configuration on a
/// best-effort basis, as the reference checker treats it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionLogs {
    pub log_group: Option<String>,
    /// The bucket and its key prefix.
    pub bucket: Option<(String, String)>,
}

pub fn exec_session_logs(config: &ExecConfiguration) -> SessionLogs {
    let overridden = config
        .logging
        .as_deref()
        .is_some_and(|l| l.eq_ignore_ascii_case("OVERRIDE"));
    if !overridden {
        return SessionLogs::default();
    }
    SessionLogs {
        log_group: config.log_group.clone(),
        bucket: config
            .s3_bucket
            .clone()
            .map(|b| (b, config.s3_key_prefix.clone().unwrap_or_default())),
    }
}

/// What the task role must allow for ECS Exec: the Session Manager
/// channels, `kms:Decrypt` on the cluster's exec key, and writing the
/// session logs where the cluster sends them.
pub fn exec_task_role(config: &ExecConfiguration, region: &str, account: &str) -> Vec<Requirement> {
    let part = partition(region);
    let mut out: Vec<Requirement> = SSM_MESSAGES
        .iter()
        .map(|a| req(a, "*", "open the ECS Exec session channels"))
        .collect();
    if let Some(key) = &config.kms_key_id {
        out.push(req(
            "kms:Decrypt",
            kms_key_arn(key, region, account),
            "decrypt the ECS Exec session (the cluster's kmsKeyId)",
        ));
    }
    let logs = exec_session_logs(config);
    if let Some(group) = logs.log_group {
        let why = format!("write ECS Exec session logs to log group {group}");
        out.push(req("logs:DescribeLogGroups", "*", why.clone()));
        for action in [
            "logs:CreateLogStream",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
        ] {
            out.push(req(
                action,
                format!("arn:{part}:logs:{region}:{account}:log-group:{group}:*"),
                why.clone(),
            ));
        }
    }
    if let Some((bucket, prefix)) = logs.bucket {
        let why = format!("write ECS Exec session logs to S3 bucket {bucket}");
        out.push(req(
            "s3:GetEncryptionConfiguration",
            format!("arn:{part}:s3:::{bucket}"),
            why.clone(),
        ));
        out.push(req(
            "s3:PutObject",
            format!("arn:{part}:s3:::{bucket}/{prefix}*"),
            why,
        ));
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|r| seen.insert((r.action.clone(), r.resource.clone())));
    out
}

/// What the caller must be allowed: `ecs:ExecuteCommand` on the task
/// (policies often scope it by cluster or container name).
pub fn exec_caller(task_arn: &str) -> Vec<Requirement> {
    vec![req(
        "ecs:ExecuteCommand",
        task_arn,
        "start an ECS Exec session in the task",
    )]
}

/// `kms:Decrypt` for every referenced secret or parameter whose metadata names a
/// customer-managed KMS key.
pub fn kms_requirements(
    secrets: &[SecretEvidence],
    region: &str,
    account: &str,
) -> Vec<Requirement> {
    let mut out: Vec<Requirement> = secrets
        .iter()
        .filter_map(|s| {
            let meta = s.metadata.value()?;
            let key = customer_kms_key(meta, region, account)?;
            Some(req(
                "kms:Decrypt",
                key,
                format!(
                    "decrypt {} {} (container {})",
                    meta.service, s.name, s.container
                ),
            ))
        })
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.action == b.action && a.resource == b.resource);
    out
}

/// Everything the execution role must be allowed to do: the task definition's
/// needs plus `kms:Decrypt` for secrets under customer-managed keys.
pub fn required_with_secrets(
    td: &TaskDefinition,
    secrets: &[SecretEvidence],
    region: &str,
    account: &str,
) -> Vec<Requirement> {
    let mut out = required(td, region, account);
    out.extend(kms_requirements(secrets, region, account));
    out.sort();
    out.dedup_by(|a, b| a.action == b.action && a.resource == b.resource);
    out
}

fn push_secret(
    out: &mut Vec<Requirement>,
    value_from: &str,
    region: &str,
    account: &str,
    why: String,
) {
    if let Some((arn, _)) = secrets_manager_arn(value_from) {
        out.push(req("secretsmanager:GetSecretValue", arn, why));
    } else if let Some((arn, _, _)) = ssm_parameter_arn(value_from, region, account) {
        out.push(req("ssm:GetParameters", arn, why));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{ContainerDefinition, LogConfiguration, SecretRef};

    #[test]
    fn kms_decrypt_only_for_customer_keys() {
        use crate::evidence::Fact;
        let secret = |kms: Option<&str>| SecretEvidence {
            container: "web".into(),
            name: "DB".into(),
            value_from: "arn:aws:secretsmanager:eu-west-1:210987654321:secret:db-AbCdEf".into(),
            metadata: Fact::gathered(SecretMetadata {
                arn: Some("arn:aws:secretsmanager:eu-west-1:210987654321:secret:db-AbCdEf".into()),
                kms_key_id: kms.map(str::to_string),
                service: "secretsmanager".into(),
                ..Default::default()
            }),
            found_in_task_region: None,
        };
        let reqs = kms_requirements(
            &[
                secret(None),
                secret(Some("alias/aws/secretsmanager")),
                secret(Some("1234abcd-12ab-34cd-56ef-1234567890ab")),
            ],
            "us-east-1",
            "123456789012",
        );
        assert_eq!(reqs.len(), 1, "{reqs:?}");
        assert_eq!(reqs[0].action, "kms:Decrypt");
        assert_eq!(
            reqs[0].resource,
            "arn:aws:kms:eu-west-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        );
    }

    #[test]
    fn ecr_logs_and_secrets() {
        let mut options = std::collections::BTreeMap::new();
        options.insert("awslogs-group".to_string(), "/ecs/web".to_string());
        options.insert("awslogs-create-group".to_string(), "true".to_string());
        let td = TaskDefinition {
            containers: vec![ContainerDefinition {
                name: "web".into(),
                image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1".into(),
                log_configuration: Some(LogConfiguration { driver: "awslogs".into(), options, secret_options: vec![] }),
                secrets: vec![
                    SecretRef { name: "DB".into(), value_from: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::".into() },
                    SecretRef { name: "KEY".into(), value_from: "/prod/key".into() },
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        let r = required(&td, "us-east-1", "123456789012");
        let has = |a: &str, res: &str| r.iter().any(|x| x.action == a && x.resource == res);
        assert!(has("ecr:GetAuthorizationToken", "*"));
        assert!(has(
            "ecr:BatchGetImage",
            "arn:aws:ecr:us-east-1:123456789012:repository/web"
        ));
        assert!(has(
            "logs:CreateLogGroup",
            "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*"
        ));
        assert!(has(
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
        ));
        assert!(has(
            "ssm:GetParameters",
            "arn:aws:ssm:us-east-1:123456789012:parameter/prod/key"
        ));
    }
}
