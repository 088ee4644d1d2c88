//! What an `AccessDenied` text says: the action refused, the resource, the
//! principal (`assumed-role/<role>/<session>`) and the kind of policy that
//! refused. Stop texts, service events and application log lines all write
//! AWS's message the same way; this is the one reader of it.

use regex::Regex;
use std::sync::OnceLock;

/// What an `AccessDenied` stop text says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeniedCall {
    /// The text it was read from, verbatim.
    pub text: String,
    pub action: String,
    pub resource: Option<String>,
    /// The principal refused, as the text names it (`arn:aws:sts::…:assumed-role/web-task/…`).
    pub principal: Option<String>,
    /// The role of the `assumed-role/<role>/<session>` principal.
    pub role: Option<String>,
    /// The session name: ECS uses the task id.
    pub session: Option<String>,
    /// Which kind of policy refused, when the message says
    /// (`identity-based policy`, `service control policy`, …).
    pub policy_kind: Option<String>,
    /// `true` for "with an explicit deny", `false` for "because no … allows".
    pub explicit: Option<bool>,
}

impl DeniedCall {
    /// AWS blames a VPC endpoint policy.
    pub fn blames_endpoint_policy(&self) -> bool {
        self.policy_kind.as_deref() == Some("vpc endpoint policy")
    }

    /// AWS blames a resource's own policy (an ECR repository policy, a
    /// bucket policy).
    pub fn blames_resource_based_policy(&self) -> bool {
        self.policy_kind.as_deref() == Some("resource-based policy")
    }

    /// AWS blames a policy other than the principal's own: a VPC endpoint
    /// policy or a resource-based policy.
    pub fn blames_a_resource_policy(&self) -> bool {
        self.blames_endpoint_policy() || self.blames_resource_based_policy()
    }
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid access-denied regex"))
}

/// Read `… is not authorized to perform: <action> …` from one text.
pub fn denied_call(text: &str) -> Option<DeniedCall> {
    static ACTION: OnceLock<Regex> = OnceLock::new();
    static PRINCIPAL: OnceLock<Regex> = OnceLock::new();
    static RESOURCE: OnceLock<Regex> = OnceLock::new();
    static EXPLICIT: OnceLock<Regex> = OnceLock::new();
    static IMPLICIT: OnceLock<Regex> = OnceLock::new();
    static WHO: OnceLock<Regex> = OnceLock::new();
    let action_re = re(
        &ACTION,
        r"(?i)is not authori[sz]ed to perform:?\s*([a-z0-9-]+:[a-z0-9*]+)",
    );
    let caps = action_re.captures(text)?;
    let action = caps[1].to_string();
    let after = &text[caps.get(0).map(|m| m.end()).unwrap_or(0)..];
    let principal = re(
        &PRINCIPAL,
        r"(?i)assumed-role/([A-Za-z0-9+=,.@_-]+)/([A-Za-z0-9+=,.@_-]+)",
    )
    .captures(text);
    let resource = re(&RESOURCE, r#"(?i)^\s*on resource:?\s*([^\s"',;)]+)"#)
        .captures(after)
        .map(|c| c[1].trim_end_matches('.').to_string());
    let explicit = re(
        &EXPLICIT,
        r"(?i)with an explicit deny in an? ((?:identity|resource)-based policy|service control policy|resource control policy|permissions boundary|session policy|VPC endpoint policy)",
    )
    .captures(after);
    let implicit = re(
        &IMPLICIT,
        r"(?i)because no ((?:identity|resource)-based policy|session policy|permissions boundary|service control policy|resource control policy|VPC endpoint policy) allows",
    )
    .captures(after);
    let (policy_kind, explicit) = match (explicit, implicit) {
        (Some(c), _) => (Some(c[1].to_ascii_lowercase()), Some(true)),
        (None, Some(c)) => (Some(c[1].to_ascii_lowercase()), Some(false)),
        _ => (None, None),
    };
    let who = re(
        &WHO,
        r#"(arn:aws[a-z-]*:(?:sts|iam)::[^:\s]*:[^\s"',]+)\s+is not authori[sz]ed"#,
    )
    .captures(text)
    .map(|c| c[1].to_string());
    Some(DeniedCall {
        text: text.to_string(),
        action,
        resource,
        principal: who,
        role: principal.as_ref().map(|c| c[1].to_string()),
        session: principal.as_ref().map(|c| c[2].to_string()),
        policy_kind,
        explicit,
    })
}
