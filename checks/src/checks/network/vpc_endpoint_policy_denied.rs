//! ## What it detects
//! A VPC endpoint on the task's path exists and routes, but its endpoint
//! policy refuses what the task asks through it:
//! - the S3 gateway endpoint on the subnet's route table does not allow
//!   `s3:GetObject` on ECR's layer bucket
//!   (`arn:aws:s3:::prod-<region>-starport-layer-bucket/*`), so image layers
//!   cannot be downloaded (`… 403 Forbidden` on the layer download);
//! - an interface endpoint for `ecr.api`, `ecr.dkr`, `logs`,
//!   `secretsmanager` or `ssm` does not allow the execution role the action
//!   on the resource (`ecr:GetAuthorizationToken`, the pull actions on the
//!   repository, `logs:CreateLogStream` on the log group,
//!   `secretsmanager:GetSecretValue` on the secret, `ssm:GetParameters` on
//!   the parameter), or a `Deny` statement matches it. AWS says so in the
//!   stop reason: `… because no VPC endpoint policy allows the … action` or
//!   `… with an explicit deny in a VPC endpoint policy`.
//!
//! Only the endpoints the task's traffic takes count: those the network
//! evaluation routes each destination through (private DNS for an
//! interface endpoint, the prefix-list route for the S3 gateway endpoint).
//! Each policy document (from `ec2:DescribeVpcEndpoints`) is evaluated with
//! the same IAM evaluator as the role's policies, as the endpoint sees the
//! request: the principal is the execution role (a layer download is a URL
//! ECR presigned, so only statements for any principal apply to it), the
//! action and the resource. An endpoint without a policy document allows
//! full access; a document that cannot be parsed is a gap, never a pass.
//!
//! ## Why it matters
//! An endpoint policy is a second gate after the role's own policies:
//! whatever the role may do, a request through the endpoint is refused
//! unless the endpoint policy allows it too. Endpoint policies written for
//! "only our buckets" or "only our account's roles" silently cut off ECR's
//! layer bucket (owned by AWS) or the task's execution role, and every task
//! behind the endpoint fails to start.
//!
//! ## Example
//! ```text
//! stoppedReason = CannotPullContainerError: failed to copy: httpReadSeeker: failed open:
//!                 unexpected status code 403 Forbidden
//! path: S3 (prod-us-east-1-starport-layer-bucket) via gateway endpoint vpce-0a1b (rtb-main)
//! endpoint policy of vpce-0a1b: no statement allows s3:GetObject on
//!                 arn:aws:s3:::prod-us-east-1-starport-layer-bucket/* (statements: OnlyOurBuckets)
//! ```
//!
//! ## How to fix
//! Add one statement to the endpoint's policy, scoped to what the task
//! needs (`aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-… --policy-document …`):
//! for the S3 gateway endpoint, `{"Effect": "Allow", "Principal": "*",
//! "Action": "s3:GetObject", "Resource":
//! "arn:aws:s3:::prod-<region>-starport-layer-bucket/*"}`; for an interface
//! endpoint, an Allow for the execution role's ARN with the refused actions
//! on the named resources. Narrow a `Deny` that matches so it no longer
//! covers the execution role. Never replace the policy with full access
//! for everyone to make the error go away.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
//! - https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
//! - https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::{Fact, VpcEndpoint};
use crate::iam::access::{self, arn_account, DeniedCall, REPOSITORY_ACTIONS};
use crate::iam::permissions::partition;
use crate::iam::policy::{self, Context, Decision, Policy, Principal, Request};
use crate::reach::{AwsService, Destination, PathEval, Scope, Via};
use crate::report::{Finding, Strength, Verdict};
use crate::stops::{Detail, StopCode};
use crate::task::unknown_task_definition;

/// One request the task sends through an endpoint.
struct Ask {
    action: String,
    resource: String,
    /// Why the task sends it.
    why: String,
    principal: Principal,
}

/// What an endpoint's policy says of one request.
struct Refused<'a> {
    endpoint: &'a VpcEndpoint,
    dest: &'a Destination,
    ask: Ask,
    /// The Deny statements that match, when the refusal is explicit.
    denies: Vec<String>,
    /// The statements of the policy (none of which allows the request).
    statements: Vec<String>,
    caveats: Vec<String>,
}

/// ECR's layer bucket in a Region, as an S3 object ARN pattern.
pub(crate) fn layer_bucket_objects(region: &str) -> String {
    format!(
        "arn:{}:s3:::prod-{region}-starport-layer-bucket/*",
        partition(region)
    )
}

/// The requests the task sends to a destination, for the execution role.
fn asks(ctx: &Ctx, dest: &Destination, role_arn: Option<&str>) -> Result<Vec<Ask>, String> {
    if dest.service == AwsService::S3 {
        return Ok(vec![Ask {
            action: "s3:GetObject".into(),
            resource: layer_bucket_objects(&dest.region),
            why: "image layers from ECR's layer bucket".into(),
            principal: Principal::Unidentified,
        }]);
    }
    let fits = |action: &str| -> bool {
        let a = action.to_ascii_lowercase();
        match dest.service {
            AwsService::EcrApi => a == "ecr:getauthorizationtoken",
            AwsService::EcrRegistry => REPOSITORY_ACTIONS.iter().any(|r| r.eq_ignore_ascii_case(&a)),
            AwsService::SecretsManager => a.starts_with("secretsmanager:"),
            AwsService::Ssm => a.starts_with("ssm:"),
            AwsService::Logs => a.starts_with("logs:"),
            AwsService::Kms => a.starts_with("kms:"),
            AwsService::S3
            | AwsService::Registry
            | AwsService::Efs
            | AwsService::SsmMessages => false,
        }
    };
    let assessment = ctx.role_access.as_ref().map_err(Clone::clone)?;
    let Some(role_arn) = role_arn else {
        return Ok(Vec::new());
    };
    let principal = Principal::Role {
        arn: role_arn.to_string(),
        account: arn_account(role_arn).unwrap_or_default().to_string(),
    };
    Ok(assessment
        .accesses
        .iter()
        .filter(|a| fits(&a.requirement.action))
        .map(|a| Ask {
            action: a.requirement.action.clone(),
            resource: a.requirement.resource.clone(),
            why: a.requirement.why.clone(),
            principal: principal.clone(),
        })
        .collect())
}

/// The request as the endpoint sees it: the principal's ARN and account,
/// the endpoint and its VPC, the Region.
fn request_context(ask: &Ask, ep: &VpcEndpoint, vpc_id: Option<&str>, region: &str) -> Context {
    let mut c = Context::new();
    if let Principal::Role { arn, account } = &ask.principal {
        policy::with_key(&mut c, "aws:PrincipalArn", Some(vec![arn.clone()]));
        policy::with_key(&mut c, "aws:PrincipalAccount", Some(vec![account.clone()]));
    }
    policy::with_key(&mut c, "aws:SourceVpce", Some(vec![ep.id.clone()]));
    if let Some(vpc) = vpc_id {
        policy::with_key(&mut c, "aws:SourceVpc", Some(vec![vpc.to_string()]));
    }
    policy::with_key(&mut c, "aws:RequestedRegion", Some(vec![region.to_string()]));
    c
}

/// The endpoints on the task's egress paths, with the destination each serves.
fn endpoint_paths<'a>(paths: &'a [PathEval], endpoints: &'a [VpcEndpoint]) -> Vec<(&'a VpcEndpoint, &'a Destination)> {
    let mut out: Vec<(&VpcEndpoint, &Destination)> = Vec::new();
    for p in paths {
        let id = match &p.via {
            Via::InterfaceEndpoint(id) | Via::GatewayEndpoint(id) => id,
            Via::Route(_) | Via::Local | Via::Nowhere => continue,
        };
        let (Some(dest), Some(ep)) = (p.destination(), endpoints.iter().find(|e| &e.id == id)) else {
            continue;
        };
        if !out.iter().any(|(e, d)| e.id == ep.id && d.service == dest.service && d.host == dest.host) {
            out.push((ep, dest));
        }
    }
    out
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let role_arn = td.execution_role_arn.as_deref();
    let said: Vec<DeniedCall> = access::denied_calls(&ctx.stops)
        .into_iter()
        .filter(DeniedCall::blames_endpoint_policy)
        .collect();
    let said_text = ctx.stops.stating(Detail::EndpointPolicyDenied);
    let layer_refused = ctx.stops.stating(Detail::LayerRefused);
    let paths = match &ctx.network.egress {
        Scope::Paths(p) => p.as_slice(),
        Scope::Skipped(why) => {
            return match said_text {
                Some(t) => from_text_alone(ctx, &said, &t.quote(), role_arn, why),
                None => Verdict::Skipped(why.clone()),
            }
        }
        Scope::Unknown(why) => {
            return match said_text {
                Some(t) => from_text_alone(ctx, &said, &t.quote(), role_arn, why),
                None => crate::task::startup_undecided(ev, format!("the task's network paths are unknown: {why}")),
            }
        }
    };
    let endpoints = match &ev.network.vpc_endpoints {
        Fact::Gathered { value } => value.as_slice(),
        other => {
            let why = format!("the VPC endpoints could not be read: {}", other.gap_reason().unwrap_or_default());
            return match said_text {
                Some(t) => from_text_alone(ctx, &said, &t.quote(), role_arn, &why),
                None => crate::task::startup_undecided(ev, why),
            };
        }
    };
    let on_path = endpoint_paths(paths, endpoints);
    if on_path.is_empty() {
        return match said_text {
            Some(t) => from_text_alone(ctx, &said, &t.quote(), role_arn, "no VPC endpoint is on the task's path"),
            None => Verdict::Skipped("no VPC endpoint is on the task's path".into()),
        };
    }
    let vpc_id = ev.network.vpc.value().map(|v| v.id.as_str());
    let mut refused: Vec<Refused> = Vec::new();
    let mut allowed: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for (ep, dest) in &on_path {
        let asks = match asks(ctx, dest, role_arn) {
            Ok(a) => a,
            Err(why) => {
                if ep.policy.is_some() {
                    unknown.push(format!("what the task asks {} through {}: {why}", dest.label(), ep.id));
                }
                continue;
            }
        };
        let Some(doc) = &ep.policy else {
            allowed.push(format!("{} ({}) has no endpoint policy: full access", ep.id, dest.service.label()));
            continue;
        };
        let parsed = match Policy::parse(&format!("endpoint policy of {}", ep.id), doc) {
            Ok(p) => p,
            Err(e) => {
                unknown.push(format!("the policy of {} could not be read: {e}", ep.id));
                continue;
            }
        };
        let mut all_allowed = true;
        for ask in asks {
            let context = request_context(&ask, ep, vpc_id, &dest.region);
            let eval = policy::evaluate(
                std::slice::from_ref(&parsed),
                &Request {
                    action: &ask.action,
                    resource: Some(&ask.resource),
                    principal: Some(&ask.principal),
                    context: &context,
                },
            );
            match eval.decision {
                Decision::Allowed => {}
                Decision::ExplicitDeny | Decision::ImplicitDeny => {
                    all_allowed = false;
                    refused.push(Refused {
                        endpoint: ep,
                        dest,
                        denies: eval.deciding.iter().map(|d| d.statement.clone()).collect(),
                        statements: parsed.statements.iter().map(|s| s.label.clone()).collect(),
                        caveats: eval.not_evaluated.into_iter().chain(eval.failed_conditions).collect(),
                        ask,
                    });
                }
            }
        }
        if all_allowed {
            allowed.push(format!("the policy of {} ({}) allows what the task asks through it", ep.id, dest.service.label()));
        }
    }
    if refused.is_empty() {
        if let Some(t) = said_text {
            let mut f = text_finding(ctx, &said, &t.quote(), role_arn);
            for a in &allowed {
                f = f.against(format!("{a} (ecs-doctor's evaluation; conditions on keys it does not know are not evaluated)"));
            }
            return f.into_verdict();
        }
        if !unknown.is_empty() {
            return crate::task::startup_undecided(ev, unknown.join("; "));
        }
        return Verdict::Pass(allowed.join("; "));
    }
    finding(ctx, &refused, &said, said_text.map(|t| t.quote()), layer_refused.map(|t| t.quote()), role_arn).into_verdict()
}

fn is_s3(r: &Refused) -> bool {
    r.dest.service == AwsService::S3
}

fn finding(
    ctx: &Ctx,
    refused: &[Refused],
    said: &[DeniedCall],
    said_text: Option<String>,
    layer_text: Option<String>,
    role_arn: Option<&str>,
) -> Finding {
    let ev = ctx.ev;
    let first = &refused[0];
    let named_by_aws = said.iter().any(|c| {
        refused
            .iter()
            .any(|r| r.ask.action.eq_ignore_ascii_case(&c.action))
    });
    let layer_named = layer_text.is_some() && refused.iter().any(is_s3);
    let started = ev.task.timestamps.started_at.is_some();
    let strength = if (named_by_aws || layer_named) && !started {
        Strength::Direct
    } else if StopCode::of(ev) == StopCode::TaskFailedToStart && !started {
        Strength::Corroborating
    } else {
        Strength::Circumstantial
    };
    let title = if is_s3(first) {
        format!(
            "The policy of S3 gateway endpoint {} does not allow s3:GetObject on ECR's layer bucket: image layers cannot be downloaded",
            first.endpoint.id
        )
    } else {
        format!(
            "The policy of VPC endpoint {} ({}) refuses `{}` on `{}` for the execution role",
            first.endpoint.id,
            first.dest.service.label(),
            first.ask.action,
            first.ask.resource
        )
    };
    let mut f = Finding::new(Cause::VpcEndpointPolicyDenied, strength, title);
    for c in said {
        f = f.evidence(format!("stop reason: \"{}\"", c.text));
    }
    if said.is_empty() {
        if let Some(t) = said_text.or(layer_text) {
            f = f.evidence(t);
        }
    }
    for r in refused {
        let who = match &r.ask.principal {
            Principal::Role { arn, .. } => format!(" for {arn}"),
            Principal::Service(_) | Principal::Unidentified => String::new(),
        };
        let decision = if r.denies.is_empty() {
            format!(
                "no statement allows it (statements: {})",
                if r.statements.is_empty() { "none".to_string() } else { r.statements.join(", ") }
            )
        } else {
            format!("explicitly denied by statement {}", r.denies.join(", "))
        };
        f = f.evidence(format!(
            "endpoint {} ({}, {}) is on the path to {}: its policy refuses {} on {}{who}: {decision}; needed for {}",
            r.endpoint.id,
            r.endpoint.service_name,
            r.endpoint.endpoint_type,
            r.dest.label(),
            r.ask.action,
            r.ask.resource,
            r.ask.why
        ));
        for c in r.caveats.iter().take(2) {
            f = f.evidence(format!("not evaluated: {c}"));
        }
    }
    if started {
        f = f.against("the task's containers started, so whatever they needed at start-up got through");
    }
    for fix in fixes(refused, role_arn) {
        f = f.fix(fix);
    }
    f.doc("https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html")
        .doc("https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html")
}

/// One scoped statement per endpoint: what it refuses, for whom; or the
/// Deny to narrow.
fn fixes(refused: &[Refused], role_arn: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let mut ids: Vec<&str> = refused.iter().map(|r| r.endpoint.id.as_str()).collect();
    ids.dedup();
    for id in ids {
        let mine: Vec<&Refused> = refused.iter().filter(|r| r.endpoint.id == id).collect();
        for r in mine.iter().filter(|r| !r.denies.is_empty()) {
            out.push(format!(
                "Narrow statement {} of the policy of {id} so that it no longer denies {} on {} to the task (for example, exclude {} with a StringNotEquals aws:PrincipalArn condition).",
                r.denies.join(", "),
                r.ask.action,
                r.ask.resource,
                role_arn.unwrap_or("the execution role")
            ));
        }
        let missing: Vec<&&Refused> = mine.iter().filter(|r| r.denies.is_empty()).collect();
        if missing.is_empty() {
            continue;
        }
        let statement = if missing.iter().all(|r| is_s3(r)) {
            serde_json::json!({
                "Sid": "AllowEcrImageLayers",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": layer_bucket_objects(&missing[0].dest.region),
            })
        } else {
            let mut actions: Vec<&str> = missing.iter().map(|r| r.ask.action.as_str()).collect();
            actions.sort();
            actions.dedup();
            let mut resources: Vec<&str> = missing.iter().map(|r| r.ask.resource.as_str()).collect();
            resources.sort();
            resources.dedup();
            serde_json::json!({
                "Sid": "AllowEcsTaskStart",
                "Effect": "Allow",
                "Principal": {"AWS": role_arn.unwrap_or("<execution role ARN>")},
                "Action": actions,
                "Resource": resources,
            })
        };
        out.push(format!(
            "Add this statement to the policy of {id} (aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {id} shows the current document; aws ec2 modify-vpc-endpoint --vpc-endpoint-id {id} --policy-document '<the document with it>'): {statement}"
        ));
    }
    out
}

/// AWS named a VPC endpoint policy, and ecs-doctor could not find the
/// endpoint or its evaluation allows the call.
fn text_finding(ctx: &Ctx, said: &[DeniedCall], quote: &str, role_arn: Option<&str>) -> Finding {
    let started = ctx.ev.task.timestamps.started_at.is_some();
    let call = said.first();
    let title = match call {
        Some(c) => format!(
            "AWS refused `{}`{} because of a VPC endpoint policy",
            c.action,
            c.resource.as_deref().map(|r| format!(" on `{r}`")).unwrap_or_default()
        ),
        None => "AWS refused a start-up call because of a VPC endpoint policy".to_string(),
    };
    let mut f = Finding::new(
        Cause::VpcEndpointPolicyDenied,
        if started { Strength::Circumstantial } else { Strength::Direct },
        title,
    )
    .evidence(format!("stop reason: {quote}"));
    let statement = call.map(|c| {
        serde_json::json!({
            "Sid": "AllowEcsTaskStart",
            "Effect": "Allow",
            "Principal": {"AWS": role_arn.unwrap_or("<execution role ARN>")},
            "Action": c.action,
            "Resource": c.resource.as_deref().unwrap_or("<the resource the error names>"),
        })
    });
    f = f.fix(match statement {
        Some(s) => format!(
            "Add this statement to the policy of the VPC endpoint of that service in the task's VPC (aws ec2 describe-vpc-endpoints --filters Name=vpc-id,Values=<vpc> shows them): {s}"
        ),
        None => "Allow the execution role the refused action on the refused resource in the policy of the VPC endpoint of that service.".to_string(),
    });
    if started {
        f = f.against("the task's containers started, so whatever they needed at start-up got through");
    }
    f.doc("https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html")
}

fn from_text_alone(ctx: &Ctx, said: &[DeniedCall], quote: &str, role_arn: Option<&str>, why: &str) -> Verdict {
    text_finding(ctx, said, quote, role_arn)
        .evidence(format!("the endpoint's policy could not be evaluated: {why}"))
        .into_verdict()
}

#[cfg(test)]
mod tests;
