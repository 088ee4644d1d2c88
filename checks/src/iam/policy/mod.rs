//! IAM policy evaluation inside ecs-doctor, for when `iam:SimulatePrincipalPolicy`
//! is refused or not offered.
//!
//! It follows IAM's evaluation logic for one principal and one request: an
//! explicit `Deny` wins, else any `Allow` allows, else the request is
//! implicitly denied. Statements are matched on `Action` / `NotAction`
//! (case-insensitive wildcards), `Resource` / `NotResource` (case-sensitive
//! wildcards), and for trust and resource policies `Principal` /
//! `NotPrincipal`. Condition blocks are evaluated only for the context keys
//! the caller knows (for a trust policy: `aws:SourceAccount`,
//! `aws:SourceArn`, `sts:ExternalId`); any other condition is reported as
//! "not evaluated", never silently treated as true or false.
//!
//! What this module cannot see — service control policies, permission
//! boundaries it is not given, session policies, and resource or key
//! policies it is not given — the caller states in its report.

use serde_json::Value;
use std::collections::BTreeMap;

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` (the listed patterns) or `NotAction` (everything but them); the
/// same shape serves `Resource` / `NotResource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patterns {
    Listed(Vec<String>),
    AllBut(Vec<String>),
}

/// Who a statement of a trust or resource policy applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"Principal": "*"`.
    Anyone,
    /// `"Principal": {"Service": …, "AWS": …, "Federated": …}`.
    Listed(BTreeMap<String, Vec<String>>),
    /// `"NotPrincipal": {…}`.
    AllBut(BTreeMap<String, Vec<String>>),
}

/// One `Condition` test: `{"StringEquals": {"aws:SourceAccount": ["1"]}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `Sid`, else `#<index>` (1-based) so a report can still point at it.
    pub label: String,
    pub effect: Effect,
    pub actions: Patterns,
    /// `None` when the statement names no resource (trust policies).
    pub resources: Option<Patterns>,
    pub principals: Option<Principals>,
    pub conditions: Vec<Condition>,
}

/// A parsed policy document and the name a report calls it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    /// `Version`: policy variables (`${aws:username}`) only exist in `2012-10-17`.
    pub version: Option<String>,
    pub statements: Vec<Statement>,
}

/// Strings or a list of strings, as IAM accepts both.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

fn patterns(stmt: &Value, yes: &str, no: &str) -> Option<Patterns> {
    if let Some(v) = stmt.get(yes) {
        Some(Patterns::Listed(strings(v)))
    } else {
        stmt.get(no).map(|v| Patterns::AllBut(strings(v)))
    }
}

fn principal_map(v: &Value) -> Option<Principals> {
    match v {
        Value::String(s) if s == "*" => Some(Principals::Anyone),
        Value::Object(map) => Some(Principals::Listed(
            map.iter().map(|(k, v)| (k.clone(), strings(v))).collect(),
        )),
        _ => None,
    }
}

impl Policy {
    /// Parse a policy document (already URL-decoded JSON).
    pub fn parse(name: &str, doc: &Value) -> Result<Policy, String> {
        let version = doc
            .get("Version")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let raw = match doc.get("Statement") {
            Some(Value::Array(items)) => items.clone(),
            Some(single @ Value::Object(_)) => vec![single.clone()],
            _ => return Err(format!("policy {name} has no Statement")),
        };
        let mut statements = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            let label = s
                .get("Sid")
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| format!("#{}", i + 1));
            let effect = match s.get("Effect").and_then(|v| v.as_str()) {
                Some(e) if e.eq_ignore_ascii_case("allow") => Effect::Allow,
                Some(e) if e.eq_ignore_ascii_case("deny") => Effect::Deny,
                other => {
                    return Err(format!(
                    "policy {name} statement {label}: Effect {other:?} is neither Allow nor Deny"
                ))
                }
            };
            let Some(actions) = patterns(s, "Action", "NotAction") else {
                return Err(format!(
                    "policy {name} statement {label} has neither Action nor NotAction"
                ));
            };
            let principals = match (s.get("Principal"), s.get("NotPrincipal")) {
                (Some(p), _) => principal_map(p),
                (None, Some(p)) => match principal_map(p) {
                    Some(Principals::Listed(m)) => Some(Principals::AllBut(m)),
                    Some(Principals::Anyone) => Some(Principals::AllBut(BTreeMap::from([(
                        "*".to_string(),
                        vec!["*".to_string()],
                    )]))),
                    other => other,
                },
                (None, None) => None,
            };
            let mut conditions = Vec::new();
            if let Some(Value::Object(ops)) = s.get("Condition") {
                for (operator, tests) in ops {
                    if let Value::Object(keys) = tests {
                        for (key, values) in keys {
                            conditions.push(Condition {
                                operator: operator.clone(),
                                key: key.clone(),
                                values: strings(values),
                            });
                        }
                    }
                }
            }
            statements.push(Statement {
                label,
                effect,
                actions,
                resources: patterns(s, "Resource", "NotResource"),
                principals,
                conditions,
            });
        }
        Ok(Policy {
            name: name.to_string(),
            version,
            statements,
        })
    }
}

/// IAM's wildcard match: `*` is any run of characters, `?` any one character.
pub fn wildcard_match(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if case_insensitive {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A service principal such as `ecs-tasks.amazonaws.com`.
    Service(String),
    /// An IAM role (its ARN, e.g. `arn:aws:iam::123456789012:role/x`).
    Role { arn: String, account: String },
    /// A request whose signer is not the task's (a URL a service presigned,
    /// such as ECR's for a layer in its storage bucket): only statements for
    /// any principal (`*`) apply to it.
    Unidentified,
}

/// What is known about the request's context keys. A key mapped to `None`
/// is known to be absent; a key missing from the map is unknown.
pub type Context = BTreeMap<String, Option<Vec<String>>>;

/// Add a known context key (names are case-insensitive).
pub fn with_key(ctx: &mut Context, key: &str, values: Option<Vec<String>>) {
    ctx.insert(key.to_ascii_lowercase(), values);
}

/// One request to evaluate.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub action: &'a str,
    /// `None` for trust policies, which have no resource.
    pub resource: Option<&'a str>,
    /// `None` for identity policies, which have no principal element.
    pub principal: Option<&'a Principal>,
    pub context: &'a Context,
}

/// The outcome of IAM's evaluation logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
}

/// A statement by policy name and label, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    pub policy: String,
    pub statement: String,
}

impl std::fmt::Display for StatementRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} statement {}", self.policy, self.statement)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEvaluation {
    pub decision: Decision,
    /// The statements that decided: the Deny(s) for an explicit deny, the
    /// Allow(s) for an allow; empty for an implicit deny.
    pub deciding: Vec<StatementRef>,
    /// Statements that would apply but whose conditions are false, with the
    /// condition that fails (e.g. why a trust policy does not trust).
    pub failed_conditions: Vec<String>,
    /// What was not evaluated (conditions on unknown keys, policy variables).
    /// An allow that rests only on such statements is still `Allowed`, with
    /// these caveats, and an unevaluated Deny is listed here too.
    pub not_evaluated: Vec<String>,
}

/// The truth of a condition block.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Truth {
    True,
    False(String),
    Unknown(String),
}

fn condition_text(c: &Condition) -> String {
    format!("{} {} {:?}", c.operator, c.key, c.values)
}

fn eval_condition(c: &Condition, ctx: &Context) -> Truth {
    let mut op = c.operator.as_str();
    // Set operators behave like the plain ones for the single-valued keys
    // evaluated here.
    for prefix in ["ForAnyValue:", "ForAllValues:"] {
        if let Some(rest) = op.strip_prefix(prefix) {
            op = rest;
        }
    }
    let (op, if_exists) = match op.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (op, false),
    };
    let Some(known) = ctx.get(&c.key.to_ascii_lowercase()) else {
        return Truth::Unknown(condition_text(c));
    };
    if op == "Null" {
        let wants_absent = c.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
        return if wants_absent == known.is_none() {
            Truth::True
        } else {
            Truth::False(condition_text(c))
        };
    }
    let Some(actual) = known else {
        // The key is absent: `…IfExists` passes, negated operators pass, the rest fail.
        let negated = op.contains("Not");
        return if if_exists || negated {
            Truth::True
        } else {
            Truth::False(format!(
                "{} (the request has no {})",
                condition_text(c),
                c.key
            ))
        };
    };
    let matches = |pattern: &str, value: &str| -> Option<bool> {
        Some(match op {
            "StringEquals" | "StringNotEquals" => pattern == value,
            "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => {
                pattern.eq_ignore_ascii_case(value)
            }
            // ArnEquals and ArnLike behave the same: both take wildcards.
            "StringLike" | "StringNotLike" | "ArnLike" | "ArnNotLike" | "ArnEquals"
            | "ArnNotEquals" => wildcard_match(pattern, value, false),
            "Bool" => pattern.eq_ignore_ascii_case(value),
            _ => return None,
        })
    };
    let mut any = false;
    for value in actual {
        for pattern in &c.values {
            match matches(pattern, value) {
                Some(true) => any = true,
                Some(false) => {}
                None => return Truth::Unknown(condition_text(c)),
            }
        }
    }
    let negated = op.contains("Not");
    if any != negated {
        Truth::True
    } else {
        Truth::False(format!(
            "{} (the request has {} = {:?})",
            condition_text(c),
            c.key,
            actual
        ))
    }
}

fn conditions_hold(stmt: &Statement, ctx: &Context) -> Truth {
    let mut unknown = Vec::new();
    for c in &stmt.conditions {
        match eval_condition(c, ctx) {
            Truth::True => {}
            f @ Truth::False(_) => return f,
            Truth::Unknown(u) => unknown.push(u),
        }
    }
    if unknown.is_empty() {
        Truth::True
    } else {
        Truth::Unknown(unknown.join("; "))
    }
}

fn matches_any(patterns: &[String], text: &str, case_insensitive: bool) -> bool {
    patterns
        .iter()
        .any(|p| wildcard_match(p, text, case_insensitive))
}

fn action_matches(stmt: &Statement, action: &str) -> bool {
    match &stmt.actions {
        Patterns::Listed(p) => matches_any(p, action, true),
        Patterns::AllBut(p) => !matches_any(p, action, true),
    }
}

/// Resource patterns with a policy variable cannot be matched without the
/// request's context; `${*}`, `${?}` and `${$}` are escapes, not variables.
fn has_policy_variable(pattern: &str) -> bool {
    let stripped = pattern
        .replace("${*}", "")
        .replace("${?}", "")
        .replace("${$}", "");
    stripped.contains("${")
}

enum ResourceMatch {
    Yes,
    No,
    Unknown(String),
}

fn resource_matches(policy: &Policy, stmt: &Statement, resource: Option<&str>) -> ResourceMatch {
    let Some(resource) = resource else {
        return ResourceMatch::Yes;
    };
    let variables = policy.version.as_deref() == Some("2012-10-17");
    let check = |patterns: &[String]| -> Result<bool, String> {
        let mut unknown = None;
        for p in patterns {
            if variables && has_policy_variable(p) {
                unknown = Some(format!("resource pattern {p} uses a policy variable"));
                continue;
            }
            if wildcard_match(p, resource, false) {
                return Ok(true);
            }
        }
        match unknown {
            Some(u) => Err(u),
            None => Ok(false),
        }
    };
    match &stmt.resources {
        // An identity-policy statement without a resource is invalid and
        // matches nothing; a trust policy has no resources at all.
        None => ResourceMatch::No,
        Some(Patterns::Listed(p)) => match check(p) {
            Ok(true) => ResourceMatch::Yes,
            Ok(false) => ResourceMatch::No,
            Err(u) => ResourceMatch::Unknown(u),
        },
        Some(Patterns::AllBut(p)) => match check(p) {
            Ok(true) => ResourceMatch::No,
            Ok(false) => ResourceMatch::Yes,
            Err(u) => ResourceMatch::Unknown(u),
        },
    }
}

fn principal_in(listed: &BTreeMap<String, Vec<String>>, who: &Principal) -> bool {
    listed.iter().any(|(kind, values)| match who {
        Principal::Service(name) => {
            kind == "*"
                || (kind.eq_ignore_ascii_case("Service")
                    && values.iter().any(|v| v.eq_ignore_ascii_case(name)))
        }
        Principal::Role { arn, account } => {
            kind == "*"
                || (kind.eq_ignore_ascii_case("AWS")
                    && values.iter().any(|v| {
                        v == "*"
                            || v == arn
                            || v == account
                            || v.strip_prefix("arn:")
                                .and_then(|rest| rest.split(':').nth(3))
                                .is_some_and(|acct| acct == account)
                                && v.ends_with(":root")
                    }))
        }
        Principal::Unidentified => {
            kind == "*" || (kind.eq_ignore_ascii_case("AWS") && values.iter().any(|v| v == "*"))
        }
    })
}

fn principal_matches(stmt: &Statement, who: Option<&Principal>) -> bool {
    let Some(who) = who else {
        // Identity policies have no Principal element.
        return stmt.principals.is_none();
    };
    match &stmt.principals {
        None => false,
        Some(Principals::Anyone) => true,
        Some(Principals::Listed(m)) => principal_in(m, who),
        Some(Principals::AllBut(m)) => !principal_in(m, who),
    }
}

/// Evaluate one request against a set of policies of the same kind
/// (all identity policies of a role, or one trust / resource policy).
pub fn evaluate(policies: &[Policy], req: &Request<'_>) -> PolicyEvaluation {
    let mut deny = Vec::new();
    let mut allow = Vec::new();
    let mut conditional_allow = Vec::new();
    let mut failed_conditions = Vec::new();
    let mut not_evaluated = Vec::new();
    for policy in policies {
        for stmt in &policy.statements {
            if !action_matches(stmt, req.action) || !principal_matches(stmt, req.principal) {
                continue;
            }
            let at = StatementRef {
                policy: policy.name.clone(),
                statement: stmt.label.clone(),
            };
            // Trust policies (no resource in the request) are matched without one.
            let resource = if req.principal.is_some() && stmt.resources.is_none() {
                ResourceMatch::Yes
            } else {
                resource_matches(policy, stmt, req.resource)
            };
            match resource {
                ResourceMatch::No => continue,
                ResourceMatch::Unknown(why) => {
                    not_evaluated.push(format!("{at}: {why}"));
                    if stmt.effect == Effect::Allow {
                        conditional_allow.push(at);
                    }
                    continue;
                }
                ResourceMatch::Yes => {}
            }
            match (stmt.effect, conditions_hold(stmt, req.context)) {
                (Effect::Deny, Truth::True) => deny.push(at),
                (Effect::Allow, Truth::True) => allow.push(at),
                (_, Truth::False(why)) => {
                    if stmt.effect == Effect::Allow {
                        failed_conditions.push(format!("{at} requires {why}"));
                    }
                }
                (effect, Truth::Unknown(why)) => {
                    not_evaluated.push(format!(
                        "{at} has a condition that was not evaluated: {why}"
                    ));
                    if effect == Effect::Allow {
                        conditional_allow.push(at);
                    }
                }
            }
        }
    }
    let (decision, deciding) = if !deny.is_empty() {
        (Decision::ExplicitDeny, deny)
    } else if !allow.is_empty() {
        (Decision::Allowed, allow)
    } else if !conditional_allow.is_empty() {
        (Decision::Allowed, conditional_allow)
    } else {
        (Decision::ImplicitDeny, Vec::new())
    };
    PolicyEvaluation {
        decision,
        deciding,
        failed_conditions,
        not_evaluated,
    }
}

/// The service principal of ECS tasks.
pub const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";

/// What ECS presents when it assumes a task's execution role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustContext {
    /// The account the task runs in (`aws:SourceAccount`).
    pub account: String,
    /// The task's ARN, the most specific `aws:SourceArn` ECS could present.
    pub task_arn: String,
}

/// Whether a role's trust policy lets ECS tasks assume it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub trusted: bool,
    /// Why not, in one or more sentences (empty when trusted).
    pub reasons: Vec<String>,
    /// What decided, when trusted.
    pub deciding: Vec<StatementRef>,
    /// Conditions that could not be evaluated.
    pub not_evaluated: Vec<String>,
}

/// Every principal a trust policy's Allow statements name, for "it trusts X instead".
pub fn trusted_principals(policy: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    for s in &policy.statements {
        if s.effect != Effect::Allow {
            continue;
        }
        match &s.principals {
            Some(Principals::Anyone) => out.push("*".to_string()),
            Some(Principals::Listed(m)) => {
                for (kind, values) in m {
                    for v in values {
                        out.push(format!("{kind}: {v}"));
                    }
                }
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The service principal of ECS itself, which assumes an infrastructure role.
pub const ECS_SERVICE: &str = "ecs.amazonaws.com";

/// Evaluate a trust policy for `ecs-tasks.amazonaws.com` calling `sts:AssumeRole`.
pub fn trust(doc: &Value, ctx: &TrustContext) -> Result<Trust, String> {
    trust_for(doc, ctx, ECS_TASKS)
}

/// Evaluate a trust policy for a service principal (`ecs-tasks.amazonaws.com`
/// for a task's roles, `ecs.amazonaws.com` for an infrastructure role)
/// calling `sts:AssumeRole`.
pub fn trust_for(doc: &Value, ctx: &TrustContext, service: &str) -> Result<Trust, String> {
    let policy = Policy::parse("trust policy", doc)?;
    let mut context = Context::new();
    with_key(
        &mut context,
        "aws:SourceAccount",
        Some(vec![ctx.account.clone()]),
    );
    with_key(
        &mut context,
        "aws:SourceArn",
        Some(vec![ctx.task_arn.clone()]),
    );
    // ECS passes no external id and no MFA when it assumes a task role.
    with_key(&mut context, "sts:ExternalId", None);
    with_key(&mut context, "aws:MultiFactorAuthPresent", None);
    with_key(
        &mut context,
        "aws:PrincipalServiceName",
        Some(vec![service.to_string()]),
    );
    let who = Principal::Service(service.to_string());
    let ev = evaluate(
        std::slice::from_ref(&policy),
        &Request {
            action: "sts:AssumeRole",
            resource: None,
            principal: Some(&who),
            context: &context,
        },
    );
    let mut reasons = Vec::new();
    match ev.decision {
        Decision::Allowed => {}
        Decision::ExplicitDeny => {
            for d in &ev.deciding {
                reasons.push(format!("{d} denies {service} sts:AssumeRole"));
            }
        }
        Decision::ImplicitDeny => {
            if ev.failed_conditions.is_empty() {
                let others = trusted_principals(&policy);
                reasons.push(if others.is_empty() {
                    format!("no statement allows {service} to call sts:AssumeRole")
                } else {
                    format!(
                        "no statement allows {service} to call sts:AssumeRole; it trusts {}",
                        others.join(", ")
                    )
                });
            }
            reasons.extend(ev.failed_conditions.iter().cloned());
        }
    }
    Ok(Trust {
        trusted: ev.decision == Decision::Allowed,
        reasons,
        deciding: if ev.decision == Decision::Allowed {
            ev.deciding
        } else {
            Vec::new()
        },
        not_evaluated: ev.not_evaluated,
    })
}

#[cfg(test)]
mod tests;
