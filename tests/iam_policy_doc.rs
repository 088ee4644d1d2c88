//! The documented least-privilege policy names every action the collectors
//! use, and nothing the collectors do not use.

use std::collections::BTreeSet;

fn collector_actions() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/collect");
    let re = regex::Regex::new(r#""((?:ecs|ec2|logs|ecr|iam|secretsmanager|ssm|elasticloadbalancing|elasticfilesystem|kms|sts|s3):[A-Za-z]+)""#).unwrap();
    let mut actions = BTreeSet::new();
    let mut dirs = vec![dir];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                actions.extend(re.captures_iter(&text).map(|c| c[1].to_string()));
            }
        }
    }
    assert!(
        actions.contains("iam:ListAttachedRolePolicies"),
        "the scan reaches the collectors in sub-folders"
    );
    actions
}

#[test]
fn documented_policy_matches_the_collectors() {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/iam-policy.json"))
            .unwrap(),
    )
    .unwrap();
    let documented: BTreeSet<String> = doc["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let used = collector_actions();
    // DescribeTasks is called before the gap machinery exists, so it is named in the error text only.
    let mut expected = used.clone();
    expected.insert("ecs:DescribeTasks".into());
    let missing: Vec<_> = expected.difference(&documented).collect();
    let unused: Vec<_> = documented.difference(&expected).collect();
    assert!(missing.is_empty(), "docs/iam-policy.json lacks {missing:?}");
    assert!(
        unused.is_empty(),
        "docs/iam-policy.json names actions ecs-doctor never calls: {unused:?}"
    );
    for action in &documented {
        let verb = action.split(':').nth(1).unwrap();
        assert!(
            ["Describe", "Get", "List", "BatchGet", "Simulate"]
                .iter()
                .any(|p| verb.starts_with(p)),
            "{action} is not a read-only action"
        );
    }
}

/// The Lambda function in `deploy/` reads exactly what the documented policy
/// allows, and writes only to its own log group.
#[test]
fn the_deploy_template_grants_the_documented_policy_and_nothing_else() {
    let read = |path: &str| -> serde_json::Value {
        let text =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
                .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let doc = read("docs/iam-policy.json");
    let template = read("deploy/ecs-doctor.template.json");
    let role = &template["Resources"]["FunctionRole"]["Properties"];
    let policies = role["Policies"].as_array().expect("inline policies");
    assert_eq!(policies.len(), 2, "{policies:#?}");
    let statements: Vec<&serde_json::Value> = policies
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap())
        .collect();
    let read_only = statements
        .iter()
        .find(|s| s["Sid"] == "EcsDoctorReadOnly")
        .expect("the read-only statement");
    assert_eq!(
        read_only["Action"], doc["Statement"][0]["Action"],
        "deploy/ecs-doctor.template.json and docs/iam-policy.json differ"
    );
    let logs = statements
        .iter()
        .find(|s| s["Sid"] == "OwnLogGroupOnly")
        .expect("the log statement");
    assert_eq!(
        logs["Action"],
        serde_json::json!(["logs:CreateLogStream", "logs:PutLogEvents"])
    );
    assert_eq!(
        logs["Resource"],
        serde_json::json!({"Fn::Sub": "${ReportLogGroup.Arn}"})
    );
    assert_eq!(statements.len(), 2, "no other statement: {statements:#?}");
    assert!(role["ManagedPolicyArns"].is_null(), "no managed policies");
}

/// Notifications are opt-in: their policy is created only with them, and
/// grants `sns:Publish` on the one topic and three item calls on the one
/// table, nothing else; the function's concurrency is capped.
#[test]
fn the_deploy_templates_notifications_write_only_their_topic_and_table() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/ecs-doctor.template.json"),
    )
    .unwrap();
    let template: serde_json::Value = serde_json::from_str(&text).unwrap();
    let resources = template["Resources"].as_object().unwrap();
    let policies: Vec<(&String, &serde_json::Value)> = resources
        .iter()
        .filter(|(_, r)| {
            r["Type"]
                .as_str()
                .is_some_and(|t| t.starts_with("AWS::IAM::") && t != "AWS::IAM::Role")
        })
        .collect();
    assert_eq!(policies.len(), 1, "one more policy, for notifications");
    let (name, policy) = policies[0];
    assert_eq!(name, "NotificationPolicy");
    assert_eq!(policy["Type"], "AWS::IAM::RolePolicy");
    assert_eq!(
        policy["Condition"], "Notify",
        "only when notifications are on"
    );
    assert_eq!(
        policy["Properties"]["RoleName"],
        serde_json::json!({"Ref": "FunctionRole"})
    );
    let topic = serde_json::json!({"Fn::If": ["UseExistingTopic",
        {"Ref": "NotificationTopicArn"}, {"Ref": "NotificationTopic"}]});
    let statements = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    assert_eq!(statements.len(), 2, "{statements:#?}");
    assert_eq!(statements[0]["Action"], "sns:Publish");
    assert_eq!(statements[0]["Resource"], topic);
    assert_eq!(
        statements[1]["Action"],
        serde_json::json!([
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem"
        ])
    );
    assert_eq!(
        statements[1]["Resource"],
        serde_json::json!({"Fn::GetAtt": ["NoticeTable", "Arn"]})
    );
    assert!(statements
        .iter()
        .all(|s| s["Effect"] == "Allow" && s["Resource"] != "*" && s["Condition"].is_null()));

    let table = &resources["NoticeTable"];
    assert_eq!(table["Condition"], "Notify");
    assert_eq!(table["Properties"]["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["Properties"]["TimeToLiveSpecification"],
        serde_json::json!({"AttributeName": "expires_at", "Enabled": true})
    );
    assert_eq!(resources["NotificationTopic"]["Condition"], "CreateTopic");

    let function = &resources["Function"]["Properties"];
    assert_eq!(
        function["ReservedConcurrentExecutions"],
        serde_json::json!({"Ref": "ReservedConcurrency"})
    );
    let env = &function["Environment"]["Variables"];
    assert_eq!(
        env["ECS_DOCTOR_TOPIC_ARN"],
        serde_json::json!({"Fn::If": ["Notify", topic, {"Ref": "AWS::NoValue"}]})
    );
    assert_eq!(
        env["ECS_DOCTOR_DEDUP_TABLE"],
        serde_json::json!({"Fn::If": ["Notify", {"Ref": "NoticeTable"}, {"Ref": "AWS::NoValue"}]})
    );
    assert_eq!(
        env["ECS_DOCTOR_NOTIFY_WINDOW"],
        serde_json::json!({"Ref": "NotificationWindowSeconds"})
    );
}
