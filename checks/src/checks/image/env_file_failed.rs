//! ## What it detects
//! An environment file of a container definition (`environmentFiles`, type
//! `s3`) that ECS could not download before the container started. The
//! stop text is `ResourceInitializationError: failed to download env files:
//! …`, and S3 says why:
//! - the object does not exist at that key: S3 answers a caller without
//!   `s3:ListBucket` on the bucket `403 Forbidden` for a missing key, so a
//!   `HeadObject … StatusCode: 403` text is read together with the fact;
//! - the bucket does not exist (`NoSuchBucket`);
//! - the value is not an S3 object ARN (`arn:aws:s3:::bucket/key`);
//! - the bucket is in another Region than the task and the task's path to
//!   S3 in that Region is blocked (an S3 gateway endpoint serves only its
//!   own Region's buckets). The download's timeout is the network checks'
//!   to claim, so this fact only corroborates; the bucket's Region is the
//!   one `GetBucketLocation` gives, else the one S3's redirect names.
//!
//! Each fact is read on its own, metadata only: `ListObjectsV2` with the key
//! as the prefix (`s3:ListBucket`) and `GetBucketLocation`; the file's
//! content is never read. A read that was refused is a gap, never a pass.
//!
//! When S3 refused a role whose own policies allow the file, the bucket's
//! policy (`s3:GetBucketPolicy`) is evaluated as a resource policy for the
//! role, with the same evaluator as the role's policies: an explicit deny
//! names its statement.
//!
//! Not this check's: the execution role's own policies refusing
//! `s3:GetObject` or `s3:GetBucketLocation` (`execution-role-permissions`),
//! and a download that timed out or could not connect (the network checks:
//! `no-egress-route`, `vpc-endpoint-missing`, …). When S3 refused a role
//! whose policies allow the file, what remains is named: the bucket policy,
//! a VPC endpoint policy, the KMS key of an SSE-KMS object (and the bucket
//! policy when it could not be read or decided).
//!
//! ## Why it matters
//! ECS downloads every environment file with the execution role before any
//! container of the task starts; one file that cannot be read stops the
//! whole task, every time, and no container log says why.
//!
//! ## Example
//! ```text
//! stoppedReason = "ResourceInitializationError: failed to download env files: service call has been
//!     retried 1 time(s): operation error S3: HeadObject, https response error StatusCode: 403, …"
//! s3:ListBucket: no object has key web.env in bucket app-config (container web)
//! ```
//!
//! ## How to fix
//! Change the one thing that is wrong: upload the file to the exact key the
//! task definition names (`aws s3 cp web.env s3://app-config/web.env`), or
//! correct the ARN in the container's `environmentFiles` to the object that
//! exists; name a bucket that exists; copy the file to a bucket in the
//! task's Region and point the ARN at it when the task cannot reach the
//! bucket's Region. The file must be an S3 object ARN of a `.env` file of
//! `VARIABLE=VALUE` lines. Never widen a policy to `*`.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/use-environment-file.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/taskdef-envfiles.html
//! - https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
//! - https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::{s3_object, EnvFileEvidence, Fact};
use crate::iam::access::{arn_account, Permission};
use crate::iam::permissions::{env_file as required_for_env_file, partition};
use crate::iam::policy::{self, Context, Decision, Policy, Principal, Request};
use crate::reach::dest::AwsService;
use crate::report::{Finding, Strength, Verdict};
use crate::stops::chain::{Domain, Outcome};
use crate::stops::{Detail, StopText};

const DOC: &str = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/use-environment-file.html";

/// What can be wrong with an environment file, each read from its own fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    NotAnObjectArn,
    BucketMissing,
    ObjectMissing,
    RegionUnreachable,
}

/// How the stop text's download failed, by its innermost link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Said {
    /// Timed out or could not connect: the network path's.
    Network,
    /// S3 refused (`403 Forbidden`, `AccessDenied`).
    Refused,
    /// S3 said not found (`NoSuchKey`, `NoSuchBucket`, `404`).
    NotFound,
    /// Another error, or none the text names.
    Other,
}

impl Said {
    fn of(t: &StopText) -> Said {
        match t.class.reading.outcome {
            Some(o) if o.is_network() => Said::Network,
            Some(o) if o.is_refusal() => Said::Refused,
            Some(Outcome::NotFound | Outcome::NotFoundOrDenied) => Said::NotFound,
            _ => Said::Other,
        }
    }
}

impl Fault {
    /// Does a text that failed this way state this fault? S3 answers a
    /// missing key `403` to a caller without `s3:ListBucket` (the
    /// execution role usually has only `s3:GetObject`), `404` with it.
    fn said_by(self, said: Said) -> bool {
        match self {
            Fault::ObjectMissing => matches!(said, Said::Refused | Said::NotFound),
            Fault::BucketMissing => said == Said::NotFound,
            Fault::NotAnObjectArn => said == Said::Other,
            Fault::RegionUnreachable => said == Said::Network,
        }
    }
}

struct Problem {
    fault: Fault,
    title: String,
    evidence: String,
    fix: String,
}

#[derive(Default)]
struct Judged {
    problems: Vec<Problem>,
    ruled_out: Vec<String>,
    gaps: Vec<String>,
}

/// The stop text about environment files, when there is one.
fn env_text<'c>(ctx: &'c Ctx) -> Option<&'c StopText> {
    ctx.stops.stating(Detail::AboutEnvFiles).or_else(|| {
        ctx.stops
            .all()
            .iter()
            .find(|t| t.class.reading.areas.contains(&Domain::EnvFiles))
    })
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let said = env_text(ctx);
    let Some(td) = ev.task_def() else {
        return match said {
            Some(t) => Verdict::Inconclusive(format!("{}; the task definition could not be read", t.quote())),
            None => Verdict::Skipped("the task definition could not be read".into()),
        };
    };
    let files: Vec<(&str, &str)> = td
        .containers
        .iter()
        .flat_map(|c| c.environment_files.iter().map(move |f| (c.name.as_str(), f.as_str())))
        .collect();
    if files.is_empty() {
        return match said {
            // RunTask's overrides may add files the task definition lacks.
            Some(t) => Verdict::Inconclusive(format!(
                "{}, but no container of the task definition has environment files (an override of RunTask's is not kept)",
                t.quote()
            )),
            None => Verdict::Skipped("no container of the task definition has environment files".into()),
        };
    }
    let mut judged = Judged::default();
    for (container, arn) in &files {
        match ev.env_files.iter().find(|e| e.container == *container && e.arn == *arn) {
            Some(e) => judge(ctx, e, &mut judged),
            None if s3_object(arn).is_none() => not_an_object_arn(container, arn, &mut judged),
            None => judged.gaps.push(format!("environment file {arn} (container {container}) was not read")),
        }
    }
    let started = ev.task.timestamps.started_at.is_some();
    if !judged.problems.is_empty() {
        return finding(ctx, said, started, &judged).into_verdict();
    }
    let summary = |judged: &Judged| {
        let mut parts = judged.ruled_out.clone();
        parts.extend(judged.gaps.iter().map(|g| format!("not checked: {g}")));
        parts.join("; ")
    };
    // A fact that could not be read leaves the check open, whatever else the
    // stop texts name: never a pass (as kms-key-policy-denied).
    match said.map(|t| (t, Said::of(t))) {
        Some((t, Said::Network)) => {
            let d = format!("{} ends on the network path, which the network checks judge; {}", t.quote(), summary(&judged));
            if judged.gaps.is_empty() {
                Verdict::Pass(d)
            } else {
                Verdict::Inconclusive(d)
            }
        }
        Some((t, Said::Refused)) if judged.gaps.is_empty() => refused(ctx, t, &files, &judged),
        Some((t, _)) if !judged.gaps.is_empty() => Verdict::Inconclusive(format!(
            "{}; {} (S3 answers 403 both for a refused read and, to a caller without s3:ListBucket, for a missing key)",
            t.quote(),
            summary(&judged)
        )),
        Some((t, _)) => Verdict::Inconclusive(format!(
            "{}, but every environment file is there now ({}): it may have been uploaded since",
            t.quote(),
            summary(&judged)
        )),
        // Every fact read and fine: another failure, or none, is not this check's.
        None if judged.gaps.is_empty() => Verdict::Pass(summary(&judged)),
        None => crate::task::startup_undecided(ev, summary(&judged)),
    }
}

fn not_an_object_arn(container: &str, arn: &str, out: &mut Judged) {
    out.problems.push(Problem {
        fault: Fault::NotAnObjectArn,
        title: format!("Environment file `{arn}` of container `{container}` is not an S3 object ARN"),
        evidence: format!("environmentFiles of container {container}: value {arn} names no bucket and key"),
        fix: format!(
            "Set the value in container {container}'s environmentFiles to the object's ARN, arn:aws:s3:::<bucket>/<key>.env."
        ),
    });
}

fn judge(ctx: &Ctx, e: &EnvFileEvidence, out: &mut Judged) {
    let Some((bucket, key)) = e.location() else {
        return not_an_object_arn(&e.container, &e.arn, out);
    };
    let (c, arn) = (&e.container, &e.arn);
    if e.bucket_missing() {
        out.problems.push(Problem {
            fault: Fault::BucketMissing,
            title: format!("The bucket `{bucket}` of environment file `{arn}` does not exist"),
            evidence: format!("S3: NoSuchBucket: bucket {bucket} does not exist (container {c})"),
            fix: format!(
                "Correct the bucket in container {c}'s environmentFiles ({arn}) to the bucket that holds the file, or upload the file there: aws s3 cp {} s3://<bucket>/{key}",
                file_name(key)
            ),
        });
        return;
    }
    match &e.object {
        Fact::Gathered { value } => out.ruled_out.push(format!(
            "object s3://{bucket}/{key} exists{}",
            value.size.map(|s| format!(" ({s} bytes)")).unwrap_or_default()
        )),
        Fact::Absent { detail } => out.problems.push(Problem {
            fault: Fault::ObjectMissing,
            title: format!("The environment file `{arn}` does not exist: bucket `{bucket}` has no object `{key}`"),
            evidence: format!("s3:ListBucket: {detail} (container {c})"),
            fix: format!(
                "Upload the file to the exact key the task definition names: aws s3 cp {} s3://{bucket}/{key} (or correct the ARN in container {c}'s environmentFiles to the object that exists)",
                file_name(key)
            ),
        }),
        Fact::NotApplicable { .. } => {}
        other => out.gaps.push(format!(
            "whether s3://{bucket}/{key} exists: {}",
            other.gap_reason().unwrap_or_default()
        )),
    }
    judge_region(ctx, bucket, &e.bucket_region, out);
}

/// A bucket in another Region is read there: the task must reach S3 in
/// that Region (a gateway endpoint serves only its own Region).
fn judge_region(ctx: &Ctx, bucket: &str, region: &Fact<String>, out: &mut Judged) {
    let task_region = &ctx.ev.region;
    let region = match region {
        Fact::Gathered { value } => value,
        Fact::Absent { .. } | Fact::NotApplicable { .. } => return,
        other => {
            out.gaps.push(format!(
                "the Region of bucket {bucket}: {}",
                other.gap_reason().unwrap_or_default()
            ));
            return;
        }
    };
    if region == task_region {
        out.ruled_out.push(format!("bucket {bucket} is in the task's Region {task_region}"));
        return;
    }
    let paths: Vec<_> = ctx
        .network
        .paths()
        .filter(|p| p.destination().is_some_and(|d| d.service == AwsService::S3 && &d.region == region))
        .collect();
    let blocked = paths.iter().find_map(|p| p.steps.iter().find(|s| s.is_blocked()).map(|s| (p, s)));
    if let Some((p, s)) = blocked {
        out.problems.push(Problem {
            fault: Fault::RegionUnreachable,
            title: format!(
                "The bucket `{bucket}` is in {region}, and the task in {task_region} has no path to S3 there"
            ),
            evidence: format!(
                "s3:GetBucketLocation: bucket {bucket} is in {region}; {}: {} (an S3 gateway endpoint serves only its own Region's buckets)",
                p.title, s.hop.label
            ),
            fix: format!(
                "Copy the file to a bucket in {task_region} and point the ARN in environmentFiles at it: aws s3 cp s3://{bucket}/<key> s3://<bucket in {task_region}>/<key>"
            ),
        });
    } else if paths.is_empty() || paths.iter().any(|p| p.steps.iter().any(|s| s.is_unknown())) {
        out.gaps.push(format!("whether the task reaches S3 in {region}, where bucket {bucket} is"));
    } else {
        out.ruled_out.push(format!("bucket {bucket} is in {region}, and the task's path to S3 there is open"));
    }
}

fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

fn finding(ctx: &Ctx, said: Option<&StopText>, started: bool, judged: &Judged) -> Finding {
    let how = said.map(Said::of);
    let states = |p: &Problem| how.is_some_and(|h| p.fault.said_by(h));
    let first = judged.problems.iter().find(|p| states(p)).unwrap_or(&judged.problems[0]);
    let role_refuses = role_refuses(ctx);
    let strength = if started {
        Strength::Circumstantial
    } else if states(first) && !role_refuses && first.fault != Fault::RegionUnreachable {
        // A timeout is the network checks' to convict (one Direct finding
        // per text): the bucket's Region only corroborates it.
        Strength::Direct
    } else if said.is_some() || crate::stops::StopCode::of(ctx.ev) == crate::stops::StopCode::TaskFailedToStart {
        Strength::Corroborating
    } else {
        Strength::Circumstantial
    };
    let mut f = Finding::new(Cause::EnvFileFailed, strength, first.title.clone());
    if let Some(t) = said {
        f = f.evidence(t.quote());
        if how == Some(Said::Network) && first.fault != Fault::RegionUnreachable {
            f = f.against("the download timed out or could not connect: the network checks judge the path to S3");
        } else if how == Some(Said::Network) {
            f = f.evidence("the download timed out or could not connect: the network checks judge the path to S3; the bucket's Region is why that path is the one that counts");
        }
    }
    if role_refuses {
        f = f.against("the execution role's own policies refuse the file too (execution-role-permissions): fix that first");
    }
    if started {
        f = f.against("the task's containers started, so its environment files were downloaded at its start");
    }
    let mut ordered: Vec<&Problem> = vec![first];
    ordered.extend(judged.problems.iter().filter(|p| !std::ptr::eq(*p, first)));
    for p in &ordered {
        f = f.evidence(p.evidence.clone());
        if !std::ptr::eq(*p, first) {
            f = f.evidence(format!("also: {}", p.title));
        }
        f = f.fix(p.fix.clone());
    }
    for r in &judged.ruled_out {
        f = f.evidence(format!("ruled out: {r}"));
    }
    for g in &judged.gaps {
        f = f.evidence(format!("not checked: {g}"));
    }
    f.doc(DOC)
}

/// Do the execution role's own policies refuse an environment file's
/// object or bucket? That refusal is `execution-role-permissions`'.
fn role_refuses(ctx: &Ctx) -> bool {
    let Ok(assessment) = &ctx.role_access else { return false };
    assessment
        .denied()
        .any(|a| a.requirement.action.to_ascii_lowercase().starts_with("s3:"))
}

/// S3 refused, every object exists and its bucket is reachable: the
/// execution role's own refusal is another check's; for a role its policies
/// allow, the bucket's policy is evaluated as a resource policy, and what
/// remains is named (an endpoint policy, the object's KMS key).
fn refused(ctx: &Ctx, t: &StopText, files: &[(&str, &str)], judged: &Judged) -> Verdict {
    let ruled_out = judged.ruled_out.join("; ");
    let assessment = match &ctx.role_access {
        Ok(a) => a,
        Err(why) => return Verdict::Inconclusive(format!("{}; {ruled_out}; the execution role's access: {why}", t.quote())),
    };
    let mut allowed = Vec::new();
    let mut actions: Vec<String> = Vec::new();
    for (container, arn) in files {
        // Every S3 permission the file needs, as execution-role-permissions judges them.
        let needs = required_for_env_file(arn, container, partition(&ctx.ev.region));
        if needs.is_empty() {
            return Verdict::Inconclusive(format!("{}; {ruled_out}; what {arn} needs was not decided", t.quote()));
        }
        for need in &needs {
            let (action, resource) = (need.action.as_str(), need.resource.as_str());
            match assessment.find(action, Some(resource)).map(|a| &a.outcome) {
                Some(Permission::Allowed) => {}
                Some(p) if p.is_denied() => {
                    return Verdict::Pass(format!(
                        "{ruled_out}; the execution role's own policies refuse {action} on {resource}: execution-role-permissions"
                    ))
                }
                Some(Permission::Unknown(why)) => {
                    return Verdict::Inconclusive(format!("{}; {ruled_out}; {action} on {resource}: {why}", t.quote()))
                }
                _ => {
                    return Verdict::Inconclusive(format!(
                        "{}; {ruled_out}; {action} on {resource} was not decided",
                        t.quote()
                    ))
                }
            }
            if !actions.iter().any(|a| a == action) {
                actions.push(action.to_string());
            }
        }
        allowed.push(*arn);
    }
    let role_arn = assessment.role_arn.as_str();
    let role = role_arn.rsplit('/').next().unwrap_or(role_arn);
    let policies = bucket_policies(ctx, role_arn, &allowed);
    let bucket = allowed.iter().find_map(|a| s3_object(a).map(|(b, _)| b)).unwrap_or("<bucket>");
    let allowed_line = format!(
        "execution role {role}: {} allowed for {} ({})",
        actions.join(" and "),
        allowed.join(", "),
        assessment.method_line()
    );
    if let Some((bucket, arn, by)) = policies.denying.first() {
        return Finding::new(
            Cause::EnvFileFailed,
            Strength::Direct,
            format!("The policy of bucket `{bucket}` denies execution role `{role}` the environment file `{arn}`"),
        )
        .evidence(t.quote())
        .evidence(format!("s3:GetBucketPolicy: s3:GetObject on {arn} for {role_arn}: explicitly denied by {by}"))
        .evidence(allowed_line)
        .evidence(format!("ruled out: {ruled_out}"))
        .fix(format!(
            "Narrow {by} of bucket {bucket}'s policy so that it does not deny role {role} s3:GetObject on {arn} (aws s3api get-bucket-policy --bucket {bucket}, then put-bucket-policy with that statement changed)"
        ))
        .doc(DOC)
        .into_verdict();
    }
    let mut remaining = vec!["a VPC endpoint policy on the path", "the KMS key of an SSE-KMS object"];
    if !policies.unread.is_empty() {
        remaining.insert(0, "the bucket policy");
    }
    let mut f = Finding::new(
        Cause::EnvFileFailed,
        Strength::Corroborating,
        format!("S3 refused the environment file to execution role `{role}`, whose own policies allow it"),
    )
    .evidence(t.quote())
    .evidence(allowed_line)
    .evidence(format!("ruled out: {ruled_out}"));
    for r in &policies.ruled_out {
        f = f.evidence(format!("ruled out: {r}"));
    }
    for u in &policies.unread {
        f = f.evidence(format!("not checked: {u}"));
    }
    f.evidence(format!("not read: {}", remaining.join(", ")))
        .fix(format!(
            "Find what refuses role {role} s3:GetObject on the file's ARN ({}); with an SSE-KMS object, let the role kms:Decrypt with that key only",
            if policies.unread.is_empty() { "the endpoint policy of the S3 endpoint on the task's path".to_string() } else { format!("first the policy of bucket {bucket}: aws s3api get-bucket-policy --bucket {bucket}") }
        ))
        .doc(DOC)
        .into_verdict()
}

/// What the buckets' own policies say of the role reading the files.
#[derive(Default)]
struct BucketPolicies {
    /// (bucket, object ARN, the denying statements).
    denying: Vec<(String, String, String)>,
    ruled_out: Vec<String>,
    unread: Vec<String>,
}

fn bucket_policies(ctx: &Ctx, role_arn: &str, arns: &[&str]) -> BucketPolicies {
    let account = arn_account(role_arn).unwrap_or_default();
    let who = Principal::Role { arn: role_arn.to_string(), account: account.to_string() };
    let mut context = Context::new();
    policy::with_key(&mut context, "aws:SecureTransport", Some(vec!["true".into()]));
    policy::with_key(&mut context, "aws:PrincipalArn", Some(vec![role_arn.to_string()]));
    policy::with_key(&mut context, "aws:PrincipalAccount", Some(vec![account.to_string()]));
    let mut out = BucketPolicies::default();
    for arn in arns {
        let Some(e) = ctx.ev.env_files.iter().find(|e| e.arn == *arn) else { continue };
        let Some((bucket, _)) = e.location() else { continue };
        let document = match &e.bucket_policy {
            Fact::Gathered { value } => value,
            Fact::Absent { .. } => {
                out.ruled_out.push(format!("bucket {bucket} has no bucket policy (a bucket of another account would need one that allows the role)"));
                continue;
            }
            Fact::NotApplicable { .. } => continue,
            other => {
                out.unread.push(format!("the policy of bucket {bucket}: {}", other.gap_reason().unwrap_or_default()));
                continue;
            }
        };
        let parsed = match Policy::parse("bucket policy", document) {
            Ok(p) => p,
            Err(e) => {
                out.unread.push(format!("the policy of bucket {bucket} is not valid: {e}"));
                continue;
            }
        };
        let eval = policy::evaluate(
            std::slice::from_ref(&parsed),
            &Request { action: "s3:GetObject", resource: Some(arn), principal: Some(&who), context: &context },
        );
        if eval.decision == Decision::ExplicitDeny {
            let by = eval.deciding.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            out.denying.push((bucket.to_string(), arn.to_string(), by));
        } else if eval.not_evaluated.is_empty() {
            out.ruled_out.push(format!(
                "the policy of bucket {bucket} does not deny the role s3:GetObject on {arn} (a deny only: if the bucket belongs to another account, which its ARN does not say, its policy must also allow the role)"
            ));
        } else {
            out.unread.push(format!(
                "the policy of bucket {bucket}: {}",
                eval.not_evaluated.join("; ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests;
