//! ## What it detects
//! The application was refused an AWS call and says so in its log:
//! `AccessDenied` / `User: arn:aws:sts::…:assumed-role/<role>/<session> is
//! not authorized to perform: <action> on resource: <arn>`. When the
//! refused principal is the task's own task role, ecs-doctor evaluates the
//! role's attached and inline policies for exactly that action and resource
//! and names what is missing (or the explicit Deny that refuses it). When
//! the principal is not the task role (static keys in the environment
//! override it, the SDK fell back to an EC2 instance role, the app assumed
//! another role), the report says so. A FireLens log router's refusals are
//! left to `sidecar-failed`.
//!
//! ## Why it matters
//! The app's own AWS calls (S3, SQS, DynamoDB, …) run with the **task**
//! role, not the execution role that pulled the image. An app that needs a
//! permission at start-up exits, and a service replaces it again and again
//! while the stop reason only says «Essential container in task exited».
//!
//! ## Example
//! ```text
//! log: User: arn:aws:sts::123456789012:assumed-role/web-task/0123… is not authorized to perform: ecs:GetTaskProtection on resource: arn:aws:ecs:…:task/prod/0123… because no identity-based policy allows the ecs:GetTaskProtection action
//! task role web-task: no statement of web-task-policy allows ecs:GetTaskProtection on arn:aws:ecs:…:task/prod/0123…
//! ```
//!
//! ## How to fix
//! Add a statement to the task role that allows exactly the refused action
//! on exactly the refused resource (never `*`): `aws iam put-role-policy`
//! with `{"Effect": "Allow", "Action": "<action>", "Resource": "<arn>"}`.
//! A running task picks a changed policy up within minutes. If an explicit
//! Deny refuses it, narrow that statement instead. If the app did not call
//! as its task role, remove the static keys (`AWS_ACCESS_KEY_ID`) from the
//! container's environment or let the SDK's default credential chain find
//! the task role.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
//! - https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
//! - https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::{Evidence, Fact};
use crate::iam::access::{decide, denied_call, DeniedCall, Permission};
use crate::iam::permissions::Requirement;
use crate::report::{Finding, Strength, Verdict};
use crate::task::{failed_essential_container, sidecar_role, unknown_task_definition};

const DOC: &str = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html";

/// Environment names that put static credentials or another profile in front of the task role.
const CREDENTIAL_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
];

/// The least-privilege statement for one refused call: exactly its action
/// on exactly its resource. A refusal that names no resource (or `*`) gets
/// a placeholder to fill in, never `*`.
fn statement(call: &DeniedCall) -> String {
    let resource = call
        .resource
        .as_deref()
        .filter(|r| *r != "*")
        .unwrap_or("<the ARN the app uses>");
    format!(
        "{{\"Version\": \"2012-10-17\", \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": \"{}\", \"Resource\": \"{resource}\"}}]}}",
        call.action
    )
}

/// A policy name for the fix: `s3:GetObject` → `allow-s3-GetObject`.
fn policy_name(action: &str) -> String {
    format!("allow-{}", action.replace([':', '*'], "-"))
}

/// The refusal that matters: the last one in the log of the container that
/// ended the task, else the last one of any app container (not a sidecar).
fn refusal(ev: &Evidence) -> Option<(String, DeniedCall)> {
    let mut found: Vec<(String, DeniedCall)> = ev
        .logs
        .iter()
        .filter(|l| sidecar_role(ev, &l.container).is_none())
        .filter_map(|l| {
            ev.log_lines(&l.container)
                .iter()
                .rev()
                .find_map(|m| denied_call(m.message.trim()))
                .map(|d| (l.container.clone(), d))
        })
        .collect();
    let first = found.iter().position(|(c, _)| crate::task::ended_the_task(ev, c)).unwrap_or(0);
    (!found.is_empty()).then(|| found.swap_remove(first))
}

/// What the principal of a refusal is, when it is not the task role.
fn other_principal(call: &DeniedCall) -> String {
    let who = call.principal.clone().unwrap_or_else(|| "another principal".into());
    match (&call.role, &call.session) {
        (Some(role), Some(s)) if s.starts_with("i-") => format!(
            "{who}: the role of EC2 instance {s} (`{role}`), so the SDK fell back to the instance's credentials"
        ),
        (Some(role), _) => format!("{who}: role `{role}`, which the app or its configuration assumed"),
        (None, _) if who.contains(":user/") => format!("{who}: an IAM user's keys, which override the task role"),
        _ => who,
    }
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    // Without the task definition, neither the task role nor the logs (read
    // from its log configuration) are known.
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let Some((container, call)) = refusal(ev) else {
        let unread = failed_essential_container(ev)
            .filter(|_| td.task_role_arn.is_some())
            .and_then(|c| ev.log_gap(&c.name).map(|why| format!("`{}`: {why}", c.name)));
        return match unread {
            Some(gap) => Verdict::Inconclusive(format!(
                "the log could not be read, so whether the app was refused an AWS call is unknown ({gap})"
            )),
            None => Verdict::Skipped("no app log line says an AWS call was refused (`is not authorized to perform`)".into()),
        };
    };
    let strength = if crate::task::ended_the_task(ev, &container) { Strength::Direct } else { Strength::Corroborating };
    let line = format!("container `{container}` log line: \"{}\"", call.text);
    let on = call.resource.as_deref().map(|r| format!(" on {r}")).unwrap_or_default();
    let credentials: Vec<String> = td
        .container(&container)
        .map(|d| {
            d.environment
                .iter()
                .map(|e| e.name.clone())
                .chain(d.secrets.iter().map(|s| s.name.clone()))
                .filter(|n| CREDENTIAL_VARS.iter().any(|v| n.eq_ignore_ascii_case(v)))
                .collect()
        })
        .unwrap_or_default();
    let Some(role_arn) = td.task_role_arn.clone() else {
        let mut f = Finding::new(
            Cause::TaskRolePermissions,
            strength,
            format!("The app in `{container}` was refused {}{on}, and the task has no task role", call.action),
        )
        .evidence(line)
        .evidence(format!("taskRoleArn is not set in {}: the app called as {}", td.label(), other_principal(&call)));
        if !credentials.is_empty() {
            f = f.evidence(format!("container `{container}` sets {}", credentials.join(", ")));
        }
        return f
            .fix(format!(
                "Create a task role trusted by ecs-tasks.amazonaws.com with the policy '{}', set taskRoleArn, register the revision and deploy it.",
                statement(&call)
            ))
            .fix("Let the app's SDK use the default credential chain, which finds the task role; remove static keys from its environment.")
            .doc(DOC)
            .into_verdict();
    };
    let role_name = crate::arn::name(&role_arn).to_string();
    if call.role.as_deref() != Some(role_name.as_str()) {
        let mut f = Finding::new(
            Cause::TaskRolePermissions,
            Strength::Corroborating,
            format!(
                "The app in `{container}` was refused {}{on}, but not as its task role `{role_name}`",
                call.action
            ),
        )
        .evidence(line)
        .evidence(format!("the refused principal is {}", other_principal(&call)))
        .evidence(format!("taskRoleArn = {role_arn}"));
        if !credentials.is_empty() {
            f = f.evidence(format!(
                "container `{container}` sets {}: credentials in the environment come before the task role",
                credentials.join(", ")
            ));
        }
        return f
            .fix(format!(
                "Make the app call as the task role: remove {} from container `{container}` and let the SDK's default credential chain find the task role (on EC2, the task role comes before the instance role only when the app reaches the ECS credentials endpoint).",
                if credentials.is_empty() { "static keys and profiles".to_string() } else { credentials.join(", ") }
            ))
            .fix(format!(
                "Then allow the call to the task role: aws iam put-role-policy --role-name {role_name} --policy-name {} --policy-document '{}'",
                policy_name(&call.action),
                statement(&call)
            ))
            .doc(DOC)
            .into_verdict();
    }
    let role = match &ev.task_role {
        Fact::Gathered { .. } => &ev.task_role,
        Fact::Absent { detail } => {
            return Finding::new(
                Cause::TaskRolePermissions,
                strength,
                format!("The task role {role_name} does not exist, and the app in `{container}` was refused {}", call.action),
            )
            .evidence(line)
            .evidence(format!("iam:GetRole {role_name}: {detail}"))
            .fix(format!(
                "Create role {role_name} (trusted by ecs-tasks.amazonaws.com) with the policy '{}', or point taskRoleArn at a role that exists.",
                statement(&call)
            ))
            .doc(DOC)
            .into_verdict();
        }
        other => {
            return Verdict::Inconclusive(format!(
                "the app was refused {}{on} as task role {role_name}, but the role's policies could not be read: {}",
                call.action,
                other.gap_reason().unwrap_or_default()
            ))
        }
    };
    let resource = call.resource.clone().unwrap_or_else(|| "*".into());
    let requirement = Requirement {
        action: call.action.clone(),
        resource: resource.clone(),
        why: format!("the app in `{container}` calls it"),
    };
    let assessment = decide(
        &role_arn,
        role,
        &Fact::not_applicable("the task role is judged from its policies"),
        vec![requirement],
        &ev.region,
    );
    let Some(access) = assessment.accesses.first() else {
        return Verdict::Skipped("nothing to decide".into());
    };
    let decided = format!(
        "{} on {resource} for task role {role_name}: {}; not seen: {}",
        call.action,
        if access.detail.is_empty() { "undecided".to_string() } else { access.detail.clone() },
        assessment.unseen.join("; ")
    );
    match &access.outcome {
        Permission::Unknown(why) => Verdict::Inconclusive(format!(
            "the app was refused {}{on} as task role {role_name}, but the role's policies cannot decide it: {why}",
            call.action
        )),
        Permission::ImplicitDeny => Finding::new(
            Cause::TaskRolePermissions,
            strength,
            format!("Task role {role_name} does not allow {}{on}, which the app in `{container}` needs", call.action),
        )
        .evidence(line)
        .evidence(decided)
        .fix(format!(
            "Allow exactly that call to the task role: aws iam put-role-policy --role-name {role_name} --policy-name {} --policy-document '{}'",
            policy_name(&call.action),
            statement(&call)
        ))
        .fix("A changed policy reaches the running tasks within minutes; a service whose tasks keep failing starts working with its next task.")
        .doc(DOC)
        .into_verdict(),
        Permission::ExplicitDeny => Finding::new(
            Cause::TaskRolePermissions,
            strength,
            format!("Task role {role_name} explicitly denies {}{on}, which the app in `{container}` needs", call.action),
        )
        .evidence(line)
        .evidence(decided)
        .fix(format!(
            "Narrow the Deny statement named above so it no longer matches {}{on} (an Allow cannot override a Deny).",
            call.action
        ))
        .doc(DOC)
        .into_verdict(),
        Permission::Allowed => {
            let by = call.policy_kind.clone().map(|k| format!("the {k} the line names")).unwrap_or_else(|| {
                "a resource-based policy, a service control policy or a permissions boundary".into()
            });
            Finding::new(
                Cause::TaskRolePermissions,
                Strength::Corroborating,
                format!(
                    "The app in `{container}` was refused {}{on} as task role {role_name}, whose own policies allow it",
                    call.action
                ),
            )
            .evidence(line)
            .evidence(decided)
            .fix(format!(
                "Something beyond the role's own policies refused it: read {by}; it must allow task role {role_name} on {} too (for a bucket, its bucket policy; for a KMS key, its key policy). If the role's policy changed after the refusal, the next task picks it up.",
                call.resource.as_deref().unwrap_or("the resource")
            ))
            .doc("https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html")
            .into_verdict()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::evidence::{EnvVar, InlinePolicy, Role};
    use crate::testkit::{exited, found, running, EvidenceExt};

    const TASK_ROLE: &str = "arn:aws:iam::444455556666:role/my-ecs-task-role";
    // https://github.com/awsdocs/amazon-ecs-developer-guide/blob/49232cf2/doc_source/task-scale-in-protection-endpoint.md
    const PROTECTION: &str = "User: arn:aws:sts::444455556666:assumed-role/my-ecs-task-role/1234567890abcdef0 is not authorized to perform: ecs:GetTaskProtection on resource: arn:aws:ecs:us-west-2:555555555555:task/test/1234567890abcdef0 because no identity-based policy allows the ecs:GetTaskProtection action";
    // https://github.com/xtdb/xtdb/pull/2949
    const INSTANCE_ROLE: &str = "\"User: arn:aws:sts::<accountid>:assumed-role/xtdb-stack-ecs-EC2InstanceRole-cq4KLVh142Ez/i-0221dfee3da46d752 is not authorized to perform: sqs:createqueue on resource: arn:aws:sqs:eu-west-1:<account-id>:xtdb-object-store-notifs-queue-7de3c104-82b7-4463-a224-d93f831776d7 because no identity-based policy allows the sqs:createqueue action (Service: Sqs, Status Code: 403, Request ID: fa4ced72-32cf-51b5-9c7f-b0923e8b76df, Extended Request ID: null)\"}}";
    /// The resource the refusal above names.
    const PROTECTED_TASK: &str = "arn:aws:ecs:us-west-2:555555555555:task/test/1234567890abcdef0";

    fn with_role(ev: Evidence, document: serde_json::Value) -> Evidence {
        let mut ev = ev;
        if let Some(td) = ev.task_definition.value_mut() {
            td.task_role_arn = Some(TASK_ROLE.into());
        }
        ev.task_role = Fact::gathered(Role {
            arn: TASK_ROLE.into(),
            name: "my-ecs-task-role".into(),
            attached_policies: Fact::gathered(Vec::new()),
            inline_policies: Fact::gathered(vec![InlinePolicy { name: "app".into(), document: Fact::gathered(document) }]),
            ..Default::default()
        });
        ev
    }

    fn s3_only() -> serde_json::Value {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::app-config/*"}]})
    }

    #[test]
    fn a_missing_permission_is_named_with_a_least_privilege_fix() {
        let ev = with_role(exited().exit("web", Some(1), None).log("web", &[PROTECTION]), s3_only());
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert_eq!(
            f.title,
            format!("Task role my-ecs-task-role does not allow ecs:GetTaskProtection on {PROTECTED_TASK}, which the app in `web` needs")
        );
        assert!(f.evidence.iter().any(|e| e.contains("no statement of inline policy app allows it")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("put-role-policy --role-name my-ecs-task-role"), "{}", f.fix[0]);
        assert!(
            f.fix[0].contains(&format!("\"Action\": \"ecs:GetTaskProtection\", \"Resource\": \"{PROTECTED_TASK}\"")),
            "{}",
            f.fix[0]
        );
        assert!(!f.fix[0].contains("\"*\""), "never a wildcard: {}", f.fix[0]);
    }

    #[test]
    fn an_explicit_deny_is_narrowed_not_overridden() {
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ecs:GetTaskProtection", "Resource": PROTECTED_TASK},
            {"Sid": "NoProtection", "Effect": "Deny", "Action": "ecs:*TaskProtection", "Resource": "*"}]});
        let f = found(check(&with_role(exited().exit("web", Some(1), None).log("web", &[PROTECTION]), doc)));
        assert!(f.title.contains("explicitly denies"), "{}", f.title);
        assert!(f.fix[0].starts_with("Narrow the Deny statement"), "{}", f.fix[0]);
    }

    #[test]
    fn policies_that_allow_it_point_elsewhere() {
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ecs:GetTaskProtection", "Resource": PROTECTED_TASK}]});
        let f = found(check(&with_role(running().log("web", &[PROTECTION]), doc)));
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.title.ends_with("as task role my-ecs-task-role, whose own policies allow it"), "{}", f.title);
        assert!(f.fix[0].contains("the identity-based policy the line names"), "{}", f.fix[0]);
    }

    #[test]
    fn another_principal_is_named_and_not_judged_as_the_task_role() {
        let ev = with_role(exited().exit("web", Some(1), None).log("web", &[INSTANCE_ROLE]), s3_only())
            .def("web", |d| d.environment.push(EnvVar { name: "AWS_PROFILE".into(), value: "prod".into() }));
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.title.ends_with("but not as its task role `my-ecs-task-role`"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("EC2 instance i-0221dfee3da46d752")), "{:?}", f.evidence);
        assert!(f.evidence.iter().any(|e| e.contains("sets AWS_PROFILE")), "{:?}", f.evidence);
    }

    #[test]
    fn gaps_are_inconclusive_never_a_verdict() {
        let mut ev = with_role(exited().exit("web", Some(1), None).log("web", &[PROTECTION]), s3_only());
        ev.task_role = Fact::Denied { action: "iam:GetRole".into(), error: "AccessDenied".into() };
        assert!(matches!(check(&ev), Verdict::Inconclusive(d) if d.contains("iam:GetRole")));
        let mut unread = with_role(exited().exit("web", Some(1), None), s3_only());
        unread.logs[0].lines = Fact::Denied { action: "logs:GetLogEvents".into(), error: "AccessDeniedException".into() };
        assert!(matches!(check(&unread), Verdict::Inconclusive(d) if d.contains("logs:GetLogEvents")));
        // No task role and nothing refused: nothing to say.
        assert!(matches!(check(&exited().exit("web", Some(1), None)), Verdict::Skipped(_)));
    }
}
