//! KMS: the state (`kms:DescribeKey`) and the key policy
//! (`kms:GetKeyPolicy`, policy `default`) of each customer managed key the
//! task depends on: its secrets' and parameters' keys, the cluster's key
//! for Fargate ephemeral storage, an EBS volume's key. Each key is read in
//! its own Region; the memo sends each request once per run. AWS managed
//! keys (`alias/aws/…`) are not read. Only a key's own account may read its
//! key policy: another account's key comes back refused, a gap.

use super::{ecs, ts, Collector};
use ecs_doctor_checks::evidence::*;
use ecs_doctor_checks::iam::access::arn_region;
use ecs_doctor_checks::iam::key_policy::is_aws_managed;
use ecs_doctor_checks::iam::permissions::customer_kms_key;

const IMPACT: &str = "the KMS key checks (kms-key-policy-denied, ephemeral-storage-key-failed)";

/// Every customer managed key the task depends on, each read once.
pub async fn keys(c: &Collector, task: &Task, secrets: &[SecretEvidence]) -> KmsEvidence {
    let fargate = task
        .launch_type
        .as_deref()
        .is_some_and(|l| l.eq_ignore_ascii_case("FARGATE"))
        || task
            .capacity_provider_name
            .as_deref()
            .is_some_and(|p| p.to_ascii_uppercase().starts_with("FARGATE"));
    let fargate_storage_key = if fargate {
        ecs::fargate_storage_key(c, task).await
    } else {
        Fact::not_applicable("the task is not on Fargate")
    };
    let account = c.account.clone().unwrap_or_default();
    let mut wanted: Vec<String> = secrets
        .iter()
        .filter_map(|s| customer_kms_key(s.metadata.value()?, &c.region, &account))
        .collect();
    if let Some(k) = fargate_storage_key.value() {
        wanted.push(k.clone());
    }
    wanted.sort();
    wanted.dedup();
    let keys = futures::future::join_all(wanted.iter().map(|k| key(c, k, IMPACT))).await;
    KmsEvidence {
        fargate_storage_key,
        keys,
    }
}

/// One key: its state, then (by its ARN, as GetKeyPolicy takes no alias) its key policy.
pub async fn key(c: &Collector, key: &str, impact: &str) -> KeyEvidence {
    let described = describe(c, key, impact).await;
    let policy = match described.value() {
        Some(d) if is_aws_managed(key, Some(d)) => {
            Fact::not_applicable("an AWS managed key: its key policy is AWS's")
        }
        Some(d) => policy(c, d.arn.as_deref().unwrap_or(&d.key_id), impact).await,
        None if is_aws_managed(key, None) => {
            Fact::not_applicable("an AWS managed key: its key policy is AWS's")
        }
        None if key.contains(":alias/") || key.starts_with("alias/") => Fact::not_applicable(
            "the key is named by an alias that could not be resolved (GetKeyPolicy takes a key id or ARN)",
        ),
        None => policy(c, key, impact).await,
    };
    KeyEvidence {
        key: key.to_string(),
        described,
        policy,
    }
}

fn client(c: &Collector, key: &str) -> aws_sdk_kms::Client {
    c.kms_in(arn_region(key).unwrap_or(&c.region))
}

/// `kms:DescribeKey`.
pub async fn describe(c: &Collector, key: &str, impact: &str) -> Fact<KmsKey> {
    let got = client(c, key).describe_key().key_id(key).send().await;
    match c.fact("kms:DescribeKey", impact, got) {
        Fact::Gathered { value } => match value.key_metadata() {
            Some(m) => Fact::gathered(KmsKey {
                key_id: m.key_id().to_string(),
                arn: m.arn().map(str::to_string),
                key_state: m.key_state().map(|s| s.as_str().to_string()),
                deletion_date: ts(m.deletion_date()),
                key_manager: m.key_manager().map(|s| s.as_str().to_string()),
                multi_region: m.multi_region(),
            }),
            None => Fact::absent(format!("key {key} does not exist")),
        },
        Fact::Absent { .. } => Fact::absent(format!("key {key} does not exist")),
        other => other.map(|_| KmsKey::default()),
    }
}

/// `kms:GetKeyPolicy` for the policy named `default` (the only name a key policy has).
pub async fn policy(c: &Collector, key: &str, impact: &str) -> Fact<serde_json::Value> {
    let got = client(c, key)
        .get_key_policy()
        .key_id(key)
        .policy_name("default")
        .send()
        .await;
    match c.fact("kms:GetKeyPolicy", impact, got) {
        Fact::Gathered { value } => match value.policy() {
            Some(text) => match serde_json::from_str(text) {
                Ok(doc) => Fact::gathered(doc),
                Err(e) => Fact::Failed {
                    action: "kms:GetKeyPolicy".into(),
                    error: format!("the key policy is not JSON: {e}"),
                },
            },
            None => Fact::absent(format!("key {key} has no key policy")),
        },
        other => other.map(|_| serde_json::Value::Null),
    }
}
