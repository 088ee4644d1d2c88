use super::*;
use crate::testkit::image::execution_role_policy;
use serde_json::json;

const ROLE: &str = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";

fn identity(policies: &[(&str, Value)], action: &str, resource: &str) -> PolicyEvaluation {
    let parsed: Vec<Policy> = policies
        .iter()
        .map(|(n, d)| Policy::parse(n, d).unwrap())
        .collect();
    evaluate(
        &parsed,
        &Request {
            action,
            resource: Some(resource),
            principal: None,
            context: &Context::new(),
        },
    )
}

#[test]
fn wildcards() {
    let cases = [
        ("ecr:*", "ecr:BatchGetImage", true, true),
        ("ECR:batchget*", "ecr:BatchGetImage", true, true),
        ("ecr:Get*", "ecr:BatchGetImage", true, false),
        ("logs:?utLogEvents", "logs:PutLogEvents", true, true),
        ("*", "anything:AtAll", true, true),
        (
            "arn:aws:ecr:*:123456789012:repository/team/*",
            "arn:aws:ecr:us-east-1:123456789012:repository/team/web",
            false,
            true,
        ),
        (
            "arn:aws:ecr:*:123456789012:repository/Team/*",
            "arn:aws:ecr:us-east-1:123456789012:repository/team/web",
            false,
            false,
        ),
        ("a*b*c", "aXXbYYc", false, true),
        ("a*b*c", "aXXbYY", false, false),
        ("", "", false, true),
    ];
    for (pattern, text, ci, want) in cases {
        assert_eq!(
            wildcard_match(pattern, text, ci),
            want,
            "{pattern} vs {text}"
        );
    }
}

/// Table-driven: real policy documents against the requests a task makes.
#[test]
fn identity_policy_table() {
    let repo = "arn:aws:ecr:us-east-1:123456789012:repository/web";
    let other_repo = "arn:aws:ecr:us-east-1:123456789012:repository/api";
    let group = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*";
    let secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf";
    let deny_pull = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "NoPullFromWeb",
            "Effect": "Deny",
            "Action": "ecr:BatchGetImage",
            "Resource": repo
        }]
    });
    let not_action = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EverythingButSecrets",
            "Effect": "Allow",
            "NotAction": ["secretsmanager:*", "kms:*"],
            "Resource": "*"
        }]
    });
    let scoped = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Auth", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Sid": "PullApiOnly", "Effect": "Allow",
             "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
             "Resource": other_repo}
        ]
    });
    let not_resource = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllSecretsButProd", "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "NotResource": "arn:aws:secretsmanager:*:*:secret:prod/*"
        }]
    });
    let managed = ("AmazonECSTaskExecutionRolePolicy", execution_role_policy());
    use Decision::*;
    type Row<'a> = (&'a str, Vec<(&'a str, Value)>, &'a str, &'a str, Decision);
    let table: Vec<Row> = vec![
        (
            "managed policy allows the pull",
            vec![managed.clone()],
            "ecr:BatchGetImage",
            repo,
            Allowed,
        ),
        (
            "managed policy allows the auth token",
            vec![managed.clone()],
            "ecr:GetAuthorizationToken",
            "*",
            Allowed,
        ),
        (
            "managed policy allows log writes",
            vec![managed.clone()],
            "logs:PutLogEvents",
            group,
            Allowed,
        ),
        (
            "managed policy lacks CreateLogGroup",
            vec![managed.clone()],
            "logs:CreateLogGroup",
            group,
            ImplicitDeny,
        ),
        (
            "managed policy lacks secrets",
            vec![managed.clone()],
            "secretsmanager:GetSecretValue",
            secret,
            ImplicitDeny,
        ),
        (
            "deny overrides the managed allow",
            vec![managed.clone(), ("deny-pull", deny_pull.clone())],
            "ecr:BatchGetImage",
            repo,
            ExplicitDeny,
        ),
        (
            "deny is scoped to one action",
            vec![managed.clone(), ("deny-pull", deny_pull)],
            "ecr:GetDownloadUrlForLayer",
            repo,
            Allowed,
        ),
        (
            "NotAction allows the others",
            vec![("not-action", not_action.clone())],
            "logs:CreateLogStream",
            group,
            Allowed,
        ),
        (
            "NotAction excludes secrets",
            vec![("not-action", not_action.clone())],
            "secretsmanager:GetSecretValue",
            secret,
            ImplicitDeny,
        ),
        (
            "NotAction excludes kms (case-insensitive)",
            vec![("not-action", not_action)],
            "KMS:Decrypt",
            "arn:aws:kms:us-east-1:123456789012:key/1",
            ImplicitDeny,
        ),
        (
            "resource-scoped allow misses the repository",
            vec![("scoped", scoped.clone())],
            "ecr:BatchGetImage",
            repo,
            ImplicitDeny,
        ),
        (
            "resource-scoped allow covers its repository",
            vec![("scoped", scoped.clone())],
            "ecr:BatchGetImage",
            other_repo,
            Allowed,
        ),
        (
            "resource-scoped policy still allows the token",
            vec![("scoped", scoped)],
            "ecr:GetAuthorizationToken",
            "*",
            Allowed,
        ),
        (
            "NotResource allows other secrets",
            vec![("not-resource", not_resource.clone())],
            "secretsmanager:GetSecretValue",
            secret,
            Allowed,
        ),
        (
            "NotResource excludes prod",
            vec![("not-resource", not_resource)],
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
            ImplicitDeny,
        ),
        (
            "no policies at all",
            vec![],
            "ecr:BatchGetImage",
            repo,
            ImplicitDeny,
        ),
    ];
    for (name, policies, action, resource, want) in table {
        let got = identity(&policies, action, resource);
        assert_eq!(got.decision, want, "{name}: {got:?}");
    }
}

#[test]
fn deny_names_the_deciding_statement() {
    let deny = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "NoSecrets", "Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"}]});
    let allow = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let got = identity(
        &[("admin", allow), ("guard", deny)],
        "secretsmanager:GetSecretValue",
        "arn:x",
    );
    assert_eq!(got.decision, Decision::ExplicitDeny);
    assert_eq!(got.deciding[0].to_string(), "guard statement NoSecrets");
}

#[test]
fn conditions_are_reported_not_guessed() {
    let conditional = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "PullViaEndpoint", "Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}]});
    let got = identity(
        &[("endpoint-only", conditional)],
        "ecr:BatchGetImage",
        "arn:x",
    );
    assert_eq!(got.decision, Decision::Allowed);
    assert_eq!(got.not_evaluated.len(), 1, "{got:?}");
    assert!(got.not_evaluated[0].contains("aws:SourceVpce"));
    let conditional_deny = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "OutsideVpc", "Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}}]});
    let got = identity(&[("p", conditional_deny)], "ecr:BatchGetImage", "arn:x");
    assert_eq!(got.decision, Decision::Allowed);
    assert!(got.not_evaluated[0].contains("OutsideVpc"), "{got:?}");
}

#[test]
fn policy_variables_are_not_matched_blindly() {
    let doc = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
        "Resource": "arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}/*"}]});
    let got = identity(
        &[("tagged", doc.clone())],
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:us-east-1:1:secret:web/db",
    );
    assert_eq!(got.decision, Decision::Allowed);
    assert!(!got.not_evaluated.is_empty());
    // In a 2008-10-17 policy the same text is a literal.
    let mut old = doc;
    old["Version"] = json!("2008-10-17");
    let got = identity(
        &[("old", old)],
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:us-east-1:1:secret:web/db",
    );
    assert_eq!(got.decision, Decision::ImplicitDeny);
}

fn ctx() -> TrustContext {
    TrustContext {
        account: "123456789012".into(),
        task_arn: "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef".into(),
    }
}

#[test]
fn trust_policy_table() {
    let standard = json!({"Version": "2012-10-17", "Statement": [{"Sid": "", "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let wrong_service = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": ["ecs.amazonaws.com", "ec2.amazonaws.com"]}, "Action": "sts:AssumeRole"}]});
    let source_account_ok = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"},
                      "ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"}}}]});
    let source_account_other = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}}}]});
    let source_arn_other_region = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:ecs:eu-west-1:123456789012:*"}}}]});
    let external_id = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "abc"}}}]});
    let denied = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Sid": "Lockdown", "Effect": "Deny", "Principal": "*", "Action": "sts:*"}]});
    let web_identity_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}]});
    let org_condition = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceOrgID": "o-abc"}}}]});
    let table = [
        ("standard", standard, true, ""),
        (
            "wrong service",
            wrong_service,
            false,
            "it trusts Service: ec2.amazonaws.com, Service: ecs.amazonaws.com",
        ),
        ("source account matches", source_account_ok, true, ""),
        (
            "source account is another account",
            source_account_other,
            false,
            "aws:SourceAccount",
        ),
        (
            "source ARN in another Region",
            source_arn_other_region,
            false,
            "eu-west-1",
        ),
        (
            "external id ECS never sends",
            external_id,
            false,
            "sts:ExternalId",
        ),
        ("explicit deny", denied, false, "Lockdown"),
        (
            "web identity only",
            web_identity_only,
            false,
            "no statement allows",
        ),
        (
            "unevaluated condition keeps trust, with a caveat",
            org_condition,
            true,
            "",
        ),
    ];
    for (name, doc, trusted, reason) in table {
        let t = trust(&doc, &ctx()).unwrap();
        assert_eq!(t.trusted, trusted, "{name}: {t:?}");
        if !reason.is_empty() {
            assert!(t.reasons.join(" ").contains(reason), "{name}: {t:?}");
        }
    }
    let t = trust(
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceOrgID": "o-abc"}}}]}),
        &ctx(),
    )
    .unwrap();
    assert!(t.not_evaluated[0].contains("aws:SourceOrgID"), "{t:?}");
}

#[test]
fn resource_policy_principals() {
    let repo_policy = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "AllowProdPull", "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::111111111111:root"]},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]}]});
    let policy = Policy::parse("repository policy", &repo_policy).unwrap();
    let eval = |arn: &str, account: &str| {
        let who = Principal::Role {
            arn: arn.into(),
            account: account.into(),
        };
        evaluate(
            std::slice::from_ref(&policy),
            &Request {
                action: "ecr:BatchGetImage",
                resource: None,
                principal: Some(&who),
                context: &Context::new(),
            },
        )
        .decision
    };
    assert_eq!(
        eval("arn:aws:iam::111111111111:role/exec", "111111111111"),
        Decision::Allowed
    );
    assert_eq!(eval(ROLE, "123456789012"), Decision::ImplicitDeny);
}

#[test]
fn malformed_policies_are_errors() {
    assert!(Policy::parse("x", &json!({"Version": "2012-10-17"})).is_err());
    assert!(Policy::parse(
        "x",
        &json!({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]})
    )
    .is_err());
    // A single statement object (not a list) is valid IAM.
    let p = Policy::parse(
        "x",
        &json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
    )
    .unwrap();
    assert_eq!(p.statements.len(), 1);
}
