use super::*;
use serde_json::json;

const ROLE: &str = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";

fn role() -> Principal {
    Principal::Role {
        arn: ROLE.into(),
        account: "123456789012".into(),
    }
}

fn decide_role(doc: Value, via: Option<&str>) -> KeyDecision {
    decide(
        &doc,
        &role(),
        "kms:Decrypt",
        &role_context(ROLE, via, "us-east-1"),
    )
    .unwrap()
}

#[test]
fn the_default_key_policy_delegates_to_the_account() {
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]});
    assert!(matches!(
        decide_role(doc, None).access,
        KeyAccess::Delegated { .. }
    ));
    let bare = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "kms:Decrypt", "Resource": "*"}]});
    assert!(matches!(
        decide_role(bare, None).access,
        KeyAccess::Delegated { .. }
    ));
}

#[test]
fn a_statement_naming_the_role_allows_it_itself() {
    let doc = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Tasks", "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*"}]});
    match decide_role(doc, None).access {
        KeyAccess::Named { by } => assert!(by.contains("Tasks"), "{by}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn another_principal_only_is_not_allowed_and_a_deny_refuses() {
    let other = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/admin"},
        "Action": "kms:*", "Resource": "*"}]});
    assert_eq!(decide_role(other, None).access, KeyAccess::NotAllowed);
    let deny = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "NoDecrypt", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}]});
    assert!(
        matches!(decide_role(deny, None).access, KeyAccess::Denied { by } if by.contains("NoDecrypt"))
    );
}

#[test]
fn via_service_and_caller_account_are_judged_other_conditions_are_not() {
    let doc = |service: &str| {
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt",
        "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": service, "kms:CallerAccount": "123456789012"}}}]})
    };
    let asm = "secretsmanager.us-east-1.amazonaws.com";
    assert!(matches!(
        decide_role(doc(asm), Some("secretsmanager")).access,
        KeyAccess::Named { .. }
    ));
    let d = decide_role(doc(asm), Some("ssm"));
    assert_eq!(d.access, KeyAccess::NotAllowed);
    assert!(
        d.failed_conditions[0].contains("kms:ViaService"),
        "{:?}",
        d.failed_conditions
    );
    let context = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:SecretARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"}}}]});
    let d = decide_role(context, Some("secretsmanager"));
    assert!(
        matches!(d.access, KeyAccess::Named { .. }),
        "an unknown condition never refuses"
    );
    assert!(
        d.not_evaluated[0].contains("kms:EncryptionContext:SecretARN"),
        "{:?}",
        d.not_evaluated
    );
}

#[test]
fn a_service_principal_is_named_or_not_allowed() {
    let doc = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "fargate.amazonaws.com"},
        "Action": "kms:GenerateDataKeyWithoutPlaintext", "Resource": "*"}]});
    let fargate = Principal::Service("fargate.amazonaws.com".into());
    let d = decide(
        &doc,
        &fargate,
        "kms:GenerateDataKeyWithoutPlaintext",
        &Context::new(),
    )
    .unwrap();
    assert!(matches!(d.access, KeyAccess::Named { .. }));
    let d = decide(&doc, &fargate, "kms:CreateGrant", &Context::new()).unwrap();
    assert_eq!(d.access, KeyAccess::NotAllowed);
}

#[test]
fn aws_managed_keys_are_told_apart() {
    assert!(is_aws_managed(
        "arn:aws:kms:us-east-1:123456789012:alias/aws/secretsmanager",
        None
    ));
    let described = KmsKey {
        key_id: "k".into(),
        key_manager: Some("AWS".into()),
        ..Default::default()
    };
    assert!(is_aws_managed(
        "arn:aws:kms:us-east-1:123456789012:key/k",
        Some(&described)
    ));
    assert!(!is_aws_managed(
        "arn:aws:kms:us-east-1:123456789012:key/k",
        None
    ));
}
