//! Secrets Manager and SSM Parameter Store: whether each referenced secret
//! exists. Metadata calls only — ecs-doctor never reads a secret's value.

use super::Collector;
use aws_sdk_ssm::types::ParameterStringFilter;
use ecs_doctor_checks::evidence::*;
use ecs_doctor_checks::permissions::{secrets_manager_arn, ssm_parameter_arn};

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
            let metadata = if let Some((arn, region)) = secrets_manager_arn(&value_from) {
                let result = c
                    .secretsmanager_in(&region)
                    .describe_secret()
                    .secret_id(&arn)
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
                })
            } else if let Some((_, region, param)) =
                ssm_parameter_arn(&value_from, &c.region, &account)
            {
                let filter = ParameterStringFilter::builder()
                    .key("Name")
                    .option("Equals")
                    .values(&param)
                    .build();
                match filter {
                    Ok(filter) => {
                        let result = c
                            .ssm_in(&region)
                            .describe_parameters()
                            .parameter_filters(filter)
                            .send()
                            .await;
                        match c.fact(
                            "ssm:DescribeParameters",
                            &format!("whether parameter {name} exists"),
                            result,
                        ) {
                            Fact::Gathered { value } => match value.parameters().first() {
                                Some(p) => Fact::gathered(SecretMetadata {
                                    arn: p.arn().map(str::to_string),
                                    name: p.name().map(str::to_string),
                                    kms_key_id: p.key_id().map(str::to_string),
                                    service: "ssm".into(),
                                }),
                                None => Fact::absent(format!(
                                    "parameter {param} does not exist in {region}"
                                )),
                            },
                            other => other.map(|_| SecretMetadata::default()),
                        }
                    }
                    Err(e) => Fact::Failed {
                        action: "ssm:DescribeParameters".into(),
                        error: e.to_string(),
                    },
                }
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
            }
        }
    });
    futures::future::join_all(futures).await
}
