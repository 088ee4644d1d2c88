//! Secrets Manager and SSM Parameter Store: whether each referenced secret
//! exists. Metadata calls only — ecs-doctor never reads a secret's value.

use super::Collector;
use aws_sdk_ssm::types::ParameterStringFilter;
use ecs_doctor_checks::arn::Arn;
use ecs_doctor_checks::evidence::*;
use ecs_doctor_checks::iam::permissions::{secrets_manager_arn, ssm_parameter_arn};

pub async fn secrets(c: &Collector, td: Option<&TaskDefinition>) -> Vec<SecretEvidence> {
    let Some(td) = td else { return Vec::new() };
    let mut refs: Vec<(String, String, String)> = Vec::new();
    for cd in &td.containers {
        for s in &cd.secrets {
            refs.push((cd.name.clone(), s.name.clone(), s.value_from.clone()));
        }
        if let Some(cred) = &cd.repository_credentials {
            refs.push((
                cd.name.clone(),
                "repositoryCredentials".into(),
                cred.clone(),
            ));
        }
        if let Some(log) = &cd.log_configuration {
            for s in &log.secret_options {
                refs.push((
                    cd.name.clone(),
                    format!("logConfiguration.{}", s.name),
                    s.value_from.clone(),
                ));
            }
        }
    }
    let account = c.account.clone().unwrap_or_default();
    let futures = refs.into_iter().map(|(container, name, value_from)| {
        let account = account.clone();
        async move {
            let mut found_in_task_region = None;
            let metadata = if let Some((arn, region)) = secrets_manager_arn(&value_from) {
                let metadata = secret(c, &region, &arn, &name).await;
                if metadata.is_absent() && region != c.region {
                    found_in_task_region = secret_elsewhere(c, &arn).await;
                }
                metadata
            } else if let Some((_, region, param)) =
                ssm_parameter_arn(&value_from, &c.region, &account)
            {
                let metadata = parameter(c, &region, &param, &name).await;
                if metadata.is_absent() && region != c.region {
                    found_in_task_region = parameter_elsewhere(c, &param).await;
                }
                metadata
            } else {
                Fact::not_applicable(format!(
                    "{value_from} is neither a Secrets Manager ARN nor an SSM parameter"
                ))
            };
            SecretEvidence {
                container,
                name,
                value_from,
                metadata,
                found_in_task_region,
            }
        }
    });
    futures::future::join_all(futures).await
}

/// The first item a filtered listing's pages find (`Ok(None)` when none
/// does), reading pages only until one holds it, or the error of the page
/// that failed. DescribeParameters filters after it pages: a page may come
/// back empty with more to read, so its first page alone cannot say
/// "absent".
macro_rules! first_found {
    ($pages:expr, |$page:ident| $found:expr) => {{
        let mut pages = $pages;
        let mut result = Ok(None);
        while let Some(page) = pages.next().await {
            match page {
                Ok($page) => {
                    if let Some(item) = $found {
                        result = Ok(Some(item));
                        break;
                    }
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        result
    }};
}

/// `secretsmanager:DescribeSecret` in the secret's own Region.
async fn secret(c: &Collector, region: &str, arn: &str, name: &str) -> Fact<SecretMetadata> {
    let result = c
        .secretsmanager_in(region)
        .describe_secret()
        .secret_id(arn)
        .send()
        .await;
    c.fact(
        "secretsmanager:DescribeSecret",
        &format!("whether secret {name} exists"),
        result,
    )
    .map(|o| SecretMetadata {
        arn: o.arn().map(str::to_string),
        name: o.name().map(str::to_string),
        kms_key_id: o.kms_key_id().map(str::to_string),
        service: "secretsmanager".into(),
        versions: o.version_ids_to_stages().map(|v| {
            v.iter()
                .map(|(id, stages)| (id.clone(), stages.clone()))
                .collect()
        }),
    })
}

/// `ssm:DescribeParameters` for one name in one Region.
async fn parameter(c: &Collector, region: &str, param: &str, name: &str) -> Fact<SecretMetadata> {
    let filter = match ParameterStringFilter::builder()
        .key("Name")
        .option("Equals")
        .values(param)
        .build()
    {
        Ok(f) => f,
        Err(e) => {
            return Fact::Failed {
                action: "ssm:DescribeParameters".into(),
                error: e.to_string(),
            }
        }
    };
    let pages = c
        .ssm_in(region)
        .describe_parameters()
        .parameter_filters(filter)
        .into_paginator()
        .send();
    match c.fact(
        "ssm:DescribeParameters",
        &format!("whether parameter {name} exists"),
        first_found!(pages, |page| page.parameters().first().cloned()),
    ) {
        Fact::Gathered { value } => match value {
            Some(p) => Fact::gathered(SecretMetadata {
                arn: p.arn().map(str::to_string),
                name: p.name().map(str::to_string),
                kms_key_id: p.key_id().map(str::to_string),
                service: "ssm".into(),
                versions: None,
            }),
            None => Fact::absent(format!("parameter {param} does not exist in {region}")),
        },
        other => other.map(|_| SecretMetadata::default()),
    }
}

/// The secret's name without the six characters Secrets Manager appends to ARNs.
fn secret_name(arn: &str) -> &str {
    let full = Arn::parse(arn).map_or(arn, |a| a.resource_type().1);
    match full.rsplit_once('-') {
        Some((name, suffix)) if suffix.len() == 6 => name,
        _ => full,
    }
}

/// A secret of the same name in the task's Region, when the referenced Region
/// has none: the usual copy-paste slip. Only a hint, so a refusal is no gap.
async fn secret_elsewhere(c: &Collector, arn: &str) -> Option<String> {
    let out = c
        .secretsmanager_in(&c.region)
        .describe_secret()
        .secret_id(secret_name(arn))
        .send()
        .await
        .ok()?;
    out.arn().map(str::to_string)
}

/// A parameter of the same name in the task's Region (see `secret_elsewhere`).
async fn parameter_elsewhere(c: &Collector, param: &str) -> Option<String> {
    let filter = ParameterStringFilter::builder()
        .key("Name")
        .option("Equals")
        .values(param)
        .build()
        .ok()?;
    let pages = c
        .ssm_in(&c.region)
        .describe_parameters()
        .parameter_filters(filter)
        .into_paginator()
        .send();
    let found = first_found!(pages, |page| page.parameters().first().cloned()).ok()??;
    found.arn().map(str::to_string)
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_names_without_the_arn_suffix() {
        assert_eq!(
            super::secret_name(
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/web/db-AbCdEf"
            ),
            "prod/web/db"
        );
        assert_eq!(
            super::secret_name("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/web/db"),
            "prod/web/db"
        );
    }
}
