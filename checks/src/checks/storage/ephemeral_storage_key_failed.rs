//! ## What it detects
//! The cluster encrypts Fargate ephemeral storage with a customer managed
//! key (`configuration.managedStorageConfiguration.fargateEphemeralStorageKmsKeyId`
//! of `DescribeClusters`), and Fargate cannot use it: the key is
//! `Disabled`, `PendingDeletion` or gone (`kms:DescribeKey`), it is a
//! multi-Region key or is named by an alias (neither is supported), or its
//! key policy (`kms:GetKeyPolicy`) does not allow the service principal
//! `fargate.amazonaws.com` `kms:GenerateDataKeyWithoutPlaintext` and
//! `kms:CreateGrant` for the cluster. The key policy is evaluated with the
//! same IAM evaluator and key-policy rules as every other key, with the
//! encryption context Fargate presents (`aws:ecs:clusterAccount`,
//! `aws:ecs:clusterName`) and `kms:GrantOperations` `Decrypt`; any other
//! condition is reported as not evaluated. Fargate tasks only; a key whose
//! state or policy could not be read is a gap.
//!
//! No published stop reason for this failure was found to quote (the
//! developer guide says only that the task fails), so the judgement rests
//! on the cluster's configuration and the key's state and policy, for a
//! task that never started; a stop reason that names another failure
//! counts against it.
//!
//! ## Why it matters
//! Disabling the key, scheduling its deletion or revoking Fargate's access
//! in its policy does not touch running tasks, which keep their storage,
//! but every new task of every service of the cluster fails: a deployment
//! or a scale-out then stops working while everything running looks fine.
//!
//! ## Example
//! ```text
//! cluster prod: managedStorageConfiguration.fargateEphemeralStorageKmsKeyId =
//!     arn:aws:kms:us-east-1:123456789012:key/1234abcd-…
//! kms:DescribeKey: key arn:aws:kms:us-east-1:123456789012:key/1234abcd-… is Disabled
//! ```
//!
//! ## How to fix
//! Enable the key (`aws kms enable-key`), or cancel its deletion and
//! enable it (`aws kms cancel-key-deletion`); give the cluster a
//! single-Region key by its key ARN; or add to the key policy the
//! statements for `fargate.amazonaws.com` (`kms:GenerateDataKeyWithoutPlaintext`,
//! and `kms:CreateGrant` for `Decrypt` grants), each limited by the
//! encryption context to the cluster's account and name. Never open the
//! key to `"Principal": "*"` or `kms:*`.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-storage-encryption.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-create-storage-key.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-managing-kms-key.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ManagedStorageConfiguration.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::Fact;
use crate::iam::access::arn_account;
use crate::iam::key_policy::{self, KeyAccess};
use crate::iam::policy::{self, Context, Principal};
use crate::report::{Finding, Strength, Verdict};
use crate::stops::StopCode;

/// The service principal that uses the key for the task's storage.
const FARGATE: &str = "fargate.amazonaws.com";

/// What Fargate calls on the key.
const ACTIONS: &[&str] = &["kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant"];

/// The encryption context Fargate presents, and the grant it creates.
fn fargate_context(account: &str, cluster: &str) -> Context {
    let mut ctx = Context::new();
    policy::with_key(&mut ctx, "kms:EncryptionContext:aws:ecs:clusterAccount", Some(vec![account.to_string()]));
    policy::with_key(&mut ctx, "kms:EncryptionContext:aws:ecs:clusterName", Some(vec![cluster.to_string()]));
    policy::with_key(&mut ctx, "kms:GrantOperations", Some(vec!["Decrypt".to_string()]));
    ctx
}

/// The statements the key policy needs, scoped to the cluster.
fn statements(account: &str, cluster: &str) -> serde_json::Value {
    let context = serde_json::json!({
        "kms:EncryptionContext:aws:ecs:clusterAccount": [account],
        "kms:EncryptionContext:aws:ecs:clusterName": [cluster],
    });
    serde_json::json!([
        {"Sid": "AllowFargateGenerateDataKey", "Effect": "Allow", "Principal": {"Service": FARGATE},
         "Action": "kms:GenerateDataKeyWithoutPlaintext", "Resource": "*",
         "Condition": {"StringEquals": context}},
        {"Sid": "AllowFargateCreateGrant", "Effect": "Allow", "Principal": {"Service": FARGATE},
         "Action": "kms:CreateGrant", "Resource": "*",
         "Condition": {"StringEquals": context, "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]}}},
    ])
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    if crate::task::on_fargate(ev) == Some(false) {
        return Verdict::Skipped("the task is not on Fargate".into());
    }
    let key = match &ev.kms.fargate_storage_key {
        Fact::Gathered { value } => value.clone(),
        Fact::NotApplicable { reason } | Fact::Absent { detail: reason } => {
            return Verdict::Skipped(format!("no customer managed key for Fargate ephemeral storage ({reason})"))
        }
        other => {
            return crate::task::startup_undecided(
                ev,
                format!("the cluster's managed storage configuration: {}", other.gap_reason().unwrap_or_default()),
            )
        }
    };
    let cluster = crate::task::cluster_name(ev);
    let account = ev
        .account
        .clone()
        .or_else(|| arn_account(&ev.task.cluster_arn).map(str::to_string))
        .unwrap_or_default();
    let mut problems: Vec<(String, String, String)> = Vec::new();
    let mut gaps = Vec::new();
    let mut fine = Vec::new();
    if key.contains(":alias/") || key.starts_with("alias/") {
        problems.push((
            format!("the cluster names key {key} by an alias, which Fargate ephemeral storage does not support"),
            format!("fargateEphemeralStorageKmsKeyId = {key}"),
            format!("Name the key by its key ARN: aws ecs update-cluster --cluster {cluster} --configuration '{{\"managedStorageConfiguration\":{{\"fargateEphemeralStorageKmsKeyId\":\"<key ARN>\"}}}}' (aws kms describe-key --key-id {key} shows it)."),
        ));
    }
    let read = ev.kms.key(&key);
    match read.map(|r| &r.described) {
        Some(Fact::Gathered { value }) => {
            let arn = value.arn.clone().unwrap_or_else(|| key.clone());
            if let Some(fix) = value.state_fix() {
                problems.push((format!("key {arn} is {}", value.state()), value.state_evidence(), fix));
            } else {
                fine.push(format!("key {arn} is Enabled"));
            }
            if value.multi_region == Some(true) {
                problems.push((
                    format!("key {arn} is a multi-Region key, which Fargate ephemeral storage does not support"),
                    format!("kms:DescribeKey: key {arn} is multi-Region"),
                    format!("Give the cluster a single-Region key in {}: aws ecs update-cluster --cluster {cluster} --configuration with managedStorageConfiguration.fargateEphemeralStorageKmsKeyId set to its ARN.", ev.region),
                ));
            }
        }
        Some(Fact::Absent { detail }) => problems.push((
            format!("key {key} does not exist"),
            format!("kms:DescribeKey: {detail}"),
            format!("Give the cluster a key that exists: aws ecs update-cluster --cluster {cluster} --configuration with managedStorageConfiguration.fargateEphemeralStorageKmsKeyId set to its ARN."),
        )),
        Some(other) => gaps.push(format!("the key's state: {}", other.gap_reason().unwrap_or_default())),
        None => gaps.push(format!("key {key} was not read")),
    }
    match read.map(|r| &r.policy) {
        Some(Fact::Gathered { value: doc }) => {
            let who = Principal::Service(FARGATE.to_string());
            let context = fargate_context(&account, cluster);
            let mut refused = Vec::new();
            for action in ACTIONS {
                match key_policy::decide(doc, &who, action, &context) {
                    Ok(d) if d.access.refuses() => {
                        let why = match &d.access {
                            KeyAccess::Denied { by } => format!("denied by {by}"),
                            _ if !d.failed_conditions.is_empty() => d.failed_conditions.join("; "),
                            _ => format!("no statement allows {FARGATE}"),
                        };
                        refused.push(format!("{action}: {why}"));
                    }
                    Ok(d) => fine.push(format!(
                        "the key policy allows {FARGATE} {action}{}",
                        if d.not_evaluated.is_empty() { String::new() } else { format!(" (not evaluated: {})", d.not_evaluated.join("; ")) }
                    )),
                    Err(e) => gaps.push(format!("the key policy is not valid: {e}")),
                }
            }
            if !refused.is_empty() {
                problems.push((
                    format!("the policy of key {key} does not let Fargate use it for cluster {cluster}"),
                    format!("key policy of {key}: {}", refused.join("; ")),
                    format!(
                        "Add these statements to the key policy of {key}, merged with its other statements (aws kms get-key-policy --key-id {key} --policy-name default, then aws kms put-key-policy): {}",
                        statements(&account, cluster)
                    ),
                ));
            }
        }
        Some(other) => gaps.push(format!("the key policy: {}", other.gap_reason().unwrap_or_default())),
        None => {}
    }
    let started = crate::task::task_started(ev);
    if problems.is_empty() {
        if !gaps.is_empty() {
            return crate::task::startup_undecided(ev, format!("Fargate ephemeral storage key {key}: {}", gaps.join("; ")));
        }
        return Verdict::Pass(format!("Fargate ephemeral storage key {key}: {}", fine.join("; ")));
    }
    if let Some(started) = started {
        let said: Vec<&str> = problems.iter().map(|(t, _, _)| t.as_str()).collect();
        return Verdict::Pass(format!(
            "{started}, so Fargate used ephemeral storage key {key} when it launched; new tasks of the cluster will fail now: {}",
            said.join("; ")
        ));
    }
    let failed_to_start = StopCode::of(ev) == StopCode::TaskFailedToStart;
    let strength = if failed_to_start { Strength::Corroborating } else { Strength::Circumstantial };
    let mut f = Finding::new(
        Cause::EphemeralStorageKeyFailed,
        strength,
        format!("Fargate cannot use the cluster's ephemeral storage key: {}", problems[0].0),
    )
    .evidence(format!("cluster {cluster}: managedStorageConfiguration.fargateEphemeralStorageKmsKeyId = {key}"));
    for (_, evidence, fix) in &problems {
        f = f.evidence(evidence.clone()).fix(fix.clone());
    }
    f = f.evidence("no published stop reason names this failure: the judgement rests on the key's state and policy");
    // The bare "Task failed to start" names nothing.
    if let Some(t) = ctx
        .stops
        .all()
        .iter()
        .find(|t| t.class.kind().is_some_and(|k| !matches!(k, crate::stops::StopKind::FailedToStartBare)))
    {
        f = f.against(format!("{} names another failure", t.quote()));
    }
    for g in &gaps {
        f = f.evidence(format!("not read: {g}"));
    }
    f.doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-managing-kms-key.html")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-create-storage-key.html")
        .into_verdict()
}

#[cfg(test)]
mod tests;
