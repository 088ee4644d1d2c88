//! ## What it detects
//! A container image in ECR whose repository, tag or digest does not exist.
//! Every ECR image is looked up in its own account and Region (taken from
//! the image URI) with `ecr:DescribeImages`; the report names exactly what
//! is missing and lists the most recently pushed tags that do exist (or,
//! for a missing repository, the similarly named repositories the registry
//! holds). A repository in another account that ecs-doctor may not read is
//! reported as a gap, not as missing. When the pull failed with "not found"
//! and the tag exists today because it was pushed after the task stopped,
//! the observed error still ranks, and the report says when it was pushed.
//!
//! ## Why it matters
//! The task can never start: every retry fails the same way
//! (`CannotPullContainerError: … failed to resolve ref … not found`,
//! «Check whether the image exists», `manifest unknown`) until the task
//! definition names an image that exists. Typical causes are a typo, a tag
//! CI never pushed, a repository in another account or Region, an image
//! expired by a lifecycle policy while a service still uses it, or an
//! untagged reference that silently means `latest`.
//!
//! ## Example
//! ```text
//! stopCode      = TaskFailedToStart
//! stoppedReason = CannotPullContainerError: pull image manifest has been retried 5 time(s):
//!                 failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3: … not found
//! ECR (123456789012, us-east-1): repository web exists; tag v3 does not (most recent tags: v2, v1)
//! ```
//!
//! ## How to fix
//! Push the missing tag (`docker push <repo>:<tag>`), or register a task
//! definition revision that names a tag that exists, then redeploy. Check
//! the ECR lifecycle policy if tags disappear on their own.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html
//! - https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html

use crate::context::Ctx;
use crate::stops::Detail;
use crate::iam::access::arn_account;

use crate::stops::StopCode;
use crate::task::Changed;
use crate::codes::Cause;
use crate::evidence::{EcrImage, Fact, ImageEvidence};
use crate::image_ref::{self, Registry};
use crate::report::{Finding, Strength, Verdict};

/// One missing image, as the report states it.
struct Missing<'a> {
    img: &'a ImageEvidence,
    title: String,
    evidence: Vec<String>,
    fixes: Vec<String>,
}

/// Levenshtein distance, for "did you mean" among repository names.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Up to three repository names close to `wanted`.
fn similar(wanted: &str, names: &[String]) -> Vec<String> {
    let last = wanted.rsplit('/').next().unwrap_or(wanted);
    let mut scored: Vec<(usize, &String)> = names
        .iter()
        .map(|n| {
            let d = distance(wanted, n).min(distance(last, n.rsplit('/').next().unwrap_or(n)));
            (d, n)
        })
        .filter(|(d, n)| *d <= 3.max(wanted.len() / 3) || n.ends_with(&format!("/{last}")))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n.clone()).collect()
}

fn repo_of(image: &str) -> String {
    let r = image_ref::parse(image);
    match (&r.digest, &r.tag) {
        (Some(_), Some(t)) => {
            let named = image.split('@').next().unwrap_or(image);
            named.strip_suffix(&format!(":{t}")).unwrap_or(named).to_string()
        }
        (Some(_), None) => image.split('@').next().unwrap_or(image).to_string(),
        (None, Some(t)) => image.strip_suffix(&format!(":{t}")).unwrap_or(image).to_string(),
        (None, None) => image.to_string(),
    }
}

/// `pinned`: the task definition itself names the digest (else ECS
/// resolved the tag to it when it deployed).
fn missing_image(img: &ImageEvidence, pinned: bool) -> Option<Missing<'_>> {
    let parsed = image_ref::parse(&img.image);
    let Registry::EcrPrivate { account, region } = &parsed.registry else { return None };
    let untagged = parsed.tag.is_none() && parsed.digest.is_none();
    match &img.ecr {
        Fact::Gathered { value } if value.found.is_none() => {
            let what = if parsed.digest.is_some() { "Digest" } else { "Tag" };
            let mut evidence = vec![format!(
                "ecr:DescribeImages in account {} / {}: repository `{}` exists, {} `{}` is not in it",
                value.registry_id,
                value.region,
                value.repository,
                what.to_ascii_lowercase(),
                value.reference
            )];
            if untagged {
                evidence.push(format!("the image `{}` names no tag, so ECS pulls `latest`", img.image));
            }
            evidence.push(match &value.recent_tags {
                Fact::Gathered { value: tags } if tags.is_empty() => {
                    format!("repository `{}` holds no tagged images", value.repository)
                }
                Fact::Gathered { value: tags } => format!("most recent tags: {}", tags.join(", ")),
                other => format!(
                    "the repository's tags could not be listed: {}",
                    other.gap_reason().unwrap_or_default()
                ),
            });
            let mut fixes = vec![format!("Push the image: docker push {}:{}", repo_of(&img.image), value.reference)];
            if parsed.digest.is_some() {
                let (lines, digest_fixes) = digest_gone(value, parsed.tag.as_deref(), pinned);
                evidence.extend(lines);
                fixes = digest_fixes;
            }
            fixes.push(match value.recent_tags.value().and_then(|t| t.first()) {
                Some(t) => format!(
                    "Or register a task definition revision that uses an existing tag (newest: `{}:{t}`) and redeploy.",
                    repo_of(&img.image)
                ),
                None => "Or register a task definition revision that names an image that exists, and redeploy.".to_string(),
            });
            let named = match (&parsed.digest, &parsed.tag) {
                (Some(_), Some(tag)) => format!(" (tag `{tag}`)"),
                _ => String::new(),
            };
            Some(Missing {
                img,
                title: format!(
                    "{what} `{}`{named} does not exist in ECR repository `{}` ({}, {}; container `{}`)",
                    value.reference, value.repository, value.registry_id, value.region, img.container
                ),
                evidence,
                fixes,
            })
        }
        Fact::Absent { detail } => {
            let mut evidence = vec![format!("ecr:DescribeImages in account {account} / {region}: {detail}")];
            let mut fixes = Vec::new();
            match &img.registry_repositories {
                Fact::Gathered { value } => {
                    let near = similar(&parsed.repository, value);
                    if near.is_empty() {
                        evidence.push(format!(
                            "the registry {account} ({region}) holds {} repositories, none with a similar name",
                            value.len()
                        ));
                    } else {
                        evidence.push(format!("similar repositories in that registry: {}", near.join(", ")));
                        fixes.push(format!(
                            "If you meant `{}`, register a task definition revision with {}.dkr.ecr.{region}.amazonaws.com/{}:{} and redeploy.",
                            near[0], account, near[0], parsed.reference()
                        ));
                    }
                }
                other => {
                    if let Some(why) = other.gap_reason().filter(|_| !matches!(other, Fact::NotApplicable { .. })) {
                        evidence.push(format!("the registry's repositories could not be listed: {why}"));
                    }
                }
            }
            fixes.push(format!(
                "Or create it and push the image: aws ecr create-repository --region {region} --repository-name {} && docker push {}",
                parsed.repository, img.image
            ));
            fixes.push("Check the account and Region in the image URI: ECR looks the repository up exactly there.".into());
            Some(Missing {
                img,
                title: format!(
                    "ECR repository `{}` does not exist in account {account} ({region}; container `{}`)",
                    parsed.repository, img.container
                ),
                evidence,
                fixes,
            })
        }
        _ => None,
    }
}

/// A digest that is gone: what its tag names today, and the lifecycle rules
/// that may have expired it (evidence lines and fixes).
fn digest_gone(value: &EcrImage, tag: Option<&str>, pinned: bool) -> (Vec<String>, Vec<String>) {
    let mut lines = Vec::new();
    let mut fixes = Vec::new();
    match (&value.tag_now, tag) {
        (Fact::Gathered { value: now }, Some(tag)) => {
            let digest = now.digest.as_deref().unwrap_or("an image with no digest");
            let pushed = now.pushed_at.as_deref().map(|p| format!(", pushed at {p}")).unwrap_or_default();
            if pinned {
                lines.push(format!("tag `{tag}` now names {digest}{pushed}: the tag moved on, and the task definition pins the old digest"));
                fixes.push(format!(
                    "Register a task definition revision that names `{}:{tag}` (or its current digest {digest}) and deploy it: redeploying this revision pulls the missing digest again.",
                    value.repository
                ));
            } else {
                lines.push(format!("tag `{tag}` now names {digest}{pushed}: the tag moved on after ECS resolved it for this deployment"));
                fixes.push(format!(
                    "Deploy again so ECS resolves `{tag}` to its current digest ({digest}): aws ecs update-service --cluster <cluster> --service <service> --force-new-deployment"
                ));
            }
        }
        (Fact::Absent { .. }, Some(tag)) => {
            lines.push(format!("tag `{tag}` names no image any more either"));
        }
        (other, Some(tag)) => lines.push(format!(
            "what tag `{tag}` names today could not be read: {}",
            other.gap_reason().unwrap_or_default()
        )),
        (_, None) => {}
    }
    match &value.lifecycle_policy {
        Fact::Gathered { value: policy } => {
            let rules = policy["rules"].as_array().cloned().unwrap_or_default();
            for rule in &rules {
                let selection = &rule["selection"];
                lines.push(format!(
                    "lifecycle rule {} of `{}`{}: expires {} images beyond {} {}",
                    rule["rulePriority"],
                    value.repository,
                    rule["description"].as_str().map(|d| format!(" (\"{d}\")")).unwrap_or_default(),
                    selection["tagStatus"].as_str().unwrap_or("any"),
                    selection["countNumber"],
                    match selection["countType"].as_str() {
                        Some("sinceImagePushed") => format!("{} since pushed", selection["countUnit"].as_str().unwrap_or("days")),
                        _ => "in count".to_string(),
                    }
                ));
            }
            if !rules.is_empty() {
                fixes.push(format!(
                    "Keep images a service runs out of the lifecycle rules' reach: select by a tag prefix your deployments do not use, or raise the count (aws ecr get-lifecycle-policy --repository-name {})",
                    value.repository
                ));
            }
        }
        Fact::Absent { .. } => lines.push(format!(
            "repository `{}` has no lifecycle policy: the digest was deleted (aws ecr batch-delete-image) or never pushed to this repository",
            value.repository
        )),
        other => lines.push(format!(
            "the lifecycle policy could not be read: {}",
            other.gap_reason().unwrap_or_default()
        )),
    }
    (lines, fixes)
}

/// The pull failed with "not found", and the image exists today because it
/// was pushed after the task stopped: the observed error still happened and
/// ranks, and the report says what changed since.
fn pushed_since_the_stop(ctx: &Ctx, images: &[&ImageEvidence]) -> Option<Finding> {
    let text = ctx.stops.stating(Detail::ImageMissing)?;
    let times = &ctx.ev.task.timestamps;
    let pulled = times.pull_started_at.as_deref().or(times.created_at.as_deref())?;
    images.iter().find_map(|img| {
        let ecr = img.ecr.value()?;
        let found = ecr.found.as_ref()?;
        let pushed = found.pushed_at.as_deref()?;
        // The pull failed between its start and the stop: a push after the
        // pull started is one the pull could not see.
        let when = match crate::task::changed_since_the_start(ctx.ev, pushed)? {
            Changed::AfterTheStop(after) => format!("{after} after this task stopped"),
            Changed::WhileStarting => "after the pull started, before the task stopped".to_string(),
        };
        if !text.names(&ecr.repository) {
            return None;
        }
        Some(
            Finding::new(
                Cause::ImageNotFound,
                Strength::Direct,
                format!(
                    "`{}:{}` did not exist when the task pulled it (container `{}`): it was pushed {when}",
                    ecr.repository, ecr.reference, img.container
                ),
            )
            .evidence(text.quote())
            .evidence(format!(
                "ecr:DescribeImages in account {} / {}: `{}` exists now, pushed at {pushed}; the pull started at {pulled}",
                ecr.registry_id, ecr.region, ecr.reference
            ))
            .fix("The image exists now: a new deployment should start (a service retries on its own; `aws ecs update-service --cluster <cluster> --service <service> --force-new-deployment` starts one at once).")
            .fix("Push images before registering the task definition that names them, so a deployment never starts ahead of its image.")
            .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html"),
        )
    })
}

/// A pull failure that says an image ECR could not be asked about was not
/// found: the stop text is the evidence, the refused lookup the caveat.
fn stated_missing(ctx: &Ctx, images: &[&ImageEvidence]) -> Option<Finding> {
    // Every pull failure says "failed to resolve ref": only a text whose
    // innermost link says "not found" of an image states a missing image.
    let text = ctx.stops.all().iter().find(|t| {
        t.class.states(Detail::ImagePullFailed) && t.class.states(Detail::ImageMissing)
    })?;
    let img = images.iter().find(|i| {
        !matches!(i.ecr, Fact::Gathered { .. } | Fact::Absent { .. })
            && text.names(&image_ref::parse(&i.image).repository)
    })?;
    let parsed = image_ref::parse(&img.image);
    let gap = img.ecr.gap_reason().unwrap_or_default();
    Some(
        Finding::stated_not_confirmed(
            Cause::ImageNotFound,
            format!(
                "The pull failed with \"not found\" for image `{}` (container `{}`); ECR could not be asked to confirm",
                img.image, img.container
            ),
            &text.text,
            &gap,
        )
        .fix(format!(
            "Check that the tag exists: aws ecr describe-images --repository-name {} --image-ids imageTag={}",
            parsed.repository,
            parsed.reference()
        ))
        .fix("Push the image, or register a task definition revision that names an existing tag, and redeploy.")
        .fix("Allow ecr:DescribeImages (docs/iam-policy.json) so ecs-doctor can confirm it and list the existing tags.")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html"),
    )
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let ecr_images: Vec<&ImageEvidence> = ev
        .images
        .iter()
        .filter(|i| image_ref::parse(&i.image).is_ecr_private())
        .collect();
    if ecr_images.is_empty() {
        return Verdict::Skipped("no container uses an ECR private image".into());
    }
    let caller_account = ev.account.clone().or_else(|| arn_account(&ev.task.arn).map(str::to_string));
    let pinned = |i: &ImageEvidence| {
        ev.task_def()
            .and_then(|td| td.container(&i.container))
            .is_some_and(|cd| cd.image.contains('@'))
    };
    let missing: Vec<Missing> = ecr_images.iter().filter_map(|i| missing_image(i, pinned(i))).collect();
    let unknown: Vec<String> = ecr_images
        .iter()
        .filter(|i| !matches!(i.ecr, Fact::Gathered { .. } | Fact::Absent { .. }))
        .map(|i| {
            let parsed = image_ref::parse(&i.image);
            let cross = match (&parsed.registry, &caller_account) {
                (Registry::EcrPrivate { account, .. }, Some(mine)) if account != mine => {
                    format!(" (a repository in account {account}, not this account {mine})")
                }
                _ => String::new(),
            };
            format!("{}{cross}: {}", i.image, i.ecr.gap_reason().unwrap_or_default())
        })
        .collect();
    let Some(first) = missing.first() else {
        if let Some(f) = pushed_since_the_stop(ctx, &ecr_images) {
            return f.into_verdict();
        }
        if let Some(f) = stated_missing(ctx, &ecr_images) {
            return f.into_verdict();
        }
        if !unknown.is_empty() {
            return Verdict::Inconclusive(format!("could not look up {}", unknown.join("; ")));
        }
        if let Some(t) = ctx
            .stops
            .stating(Detail::ImageMissing)
            .filter(|t| ecr_images.iter().any(|i| t.names(&image_ref::parse(&i.image).repository)))
        {
            // The text says "not found" of an image that exists and was there
            // before the pull: the two disagree, and neither is dropped.
            return Verdict::Inconclusive(format!(
                "{} says the image was not found, but every ECR image exists and was pushed before the pull ({}): another account or Region, or a registry replicating late?",
                t.quote(),
                ecr_images.iter().map(|i| i.image.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        return Verdict::Pass(format!(
            "every ECR image exists: {}",
            ecr_images.iter().map(|i| i.image.as_str()).collect::<Vec<_>>().join(", ")
        ));
    };
    let pull_text = ctx
        .stops
        .stating(Detail::ImagePullFailed)
        .or_else(|| ctx.stops.stating(Detail::ImageMissing));
    let text_says_missing = pull_text.is_some_and(|t| t.class.states(Detail::ImageMissing));
    let pull_text = pull_text.map(|t| t.text.clone());
    let strength = if text_says_missing || (StopCode::of(ev) == StopCode::TaskFailedToStart && pull_text.is_some()) {
        Strength::Direct
    } else {
        Strength::Corroborating
    };
    let mut finding = Finding::new(Cause::ImageNotFound, strength, first.title.clone());
    if let Some(t) = &pull_text {
        finding = finding.evidence(format!("stop reason: \"{t}\""));
    }
    for m in &missing {
        if missing.len() > 1 {
            finding = finding.evidence(format!("{} (container {}): {}", m.img.image, m.img.container, m.title));
        }
        for e in &m.evidence {
            finding = finding.evidence(e.clone());
        }
    }
    for u in &unknown {
        finding = finding.evidence(format!("not checked: {u}"));
    }
    if ev.task.timestamps.started_at.is_some() || ev.task.timestamps.pull_stopped_at.is_some() {
        finding = finding.against("the task's image pull completed, so the image existed when it launched");
    }
    for m in &missing {
        for f in &m.fixes {
            finding = finding.fix(f.clone());
        }
    }
    finding
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::evidence::Evidence;
    crate::check_under_test!();
    use crate::testkit::found;
    use crate::testkit::image::*;

    const NOT_FOUND: &str = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3: 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3: not found";

    #[test]
    fn a_refused_pull_is_no_missing_image_even_with_the_lookup_refused() {
        let mut ev = failed_to_start("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3: denied: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/x is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:123456789012:repository/web");
        ev.images[0].ecr = Fact::Denied { action: "ecr:DescribeImages".into(), error: "AccessDeniedException".into() };
        assert!(matches!(check(&ev), Verdict::Inconclusive(_)), "{:?}", check(&ev));
    }

    #[test]
    fn a_refused_lookup_still_ranks_the_stop_text_lower_and_names_the_gap() {
        let mut ev = missing_tag();
        ev.images[0].ecr = Fact::Denied { action: "ecr:DescribeImages".into(), error: "AccessDeniedException".into() };
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.evidence.iter().any(|e| e.starts_with("not confirmed: ecr:DescribeImages was denied")), "{:?}", f.evidence);
        // Without a stop text that names the image, a refused lookup decides nothing.
        let mut quiet = ev.clone();
        quiet.task.stopped_reason = Some("CannotPullContainerError: pull image manifest has been retried 5 time(s)".into());
        quiet.task.containers[0].reason = None;
        assert!(matches!(check(&quiet), Verdict::Inconclusive(_)));
    }

    fn missing_tag() -> Evidence {
        let mut ev = failed_to_start(NOT_FOUND);
        let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3";
        td_mut(&mut ev).containers[0].image = image.into();
        ev.images[0].image = image.into();
        *ecr_mut(&mut ev) = ecr_image("v3", false);
        ev
    }

    /// The tag was pushed 12 minutes after the task stopped: today's lookup
    /// finds it, the stop text still says it was missing, and the report
    /// ranks the observed error and says what changed.
    #[test]
    fn a_tag_pushed_after_the_stop_still_explains_it() {
        let mut ev = missing_tag();
        *ecr_mut(&mut ev) = ecr_image("v3", true);
        ecr_mut(&mut ev).found.as_mut().unwrap().pushed_at = Some("2026-01-01T12:13:00Z".into());
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("pushed 12 minutes after this task stopped"), "{}", f.title);
        assert!(f.fix[0].contains("a new deployment should start"), "{:?}", f.fix);
        // Pushed after the pull started and before the stop: still not there for the pull.
        ev.task.timestamps.pull_started_at = Some("2026-01-01T12:00:00Z".into());
        ecr_mut(&mut ev).found.as_mut().unwrap().pushed_at = Some("2026-01-01T12:00:30Z".into());
        let f = found(check(&ev));
        assert!(f.title.ends_with("pushed after the pull started, before the task stopped"), "{}", f.title);
        // Pushed before the pull: the text and today's lookup disagree, and
        // the check says so rather than passing.
        ecr_mut(&mut ev).found.as_mut().unwrap().pushed_at = Some("2026-01-01T11:00:00Z".into());
        match check(&ev) {
            Verdict::Inconclusive(d) => assert!(d.contains("says the image was not found, but every ECR image exists"), "{d}"),
            other => panic!("{other:?}"),
        }
        // A pull that timed out says nothing of a missing image, pushed later or not.
        let mut timed_out = missing_tag();
        *ecr_mut(&mut timed_out) = ecr_image("v3", true);
        ecr_mut(&mut timed_out).found.as_mut().unwrap().pushed_at = Some("2026-01-01T12:13:00Z".into());
        let text = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3: failed to do request: Head \"https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/web/manifests/v3\": dial tcp 3.33.139.32:443: i/o timeout";
        timed_out.task.stopped_reason = Some(text.into());
        timed_out.task.containers[0].reason = Some(text.into());
        assert!(!matches!(check(&timed_out), Verdict::Found(_)), "{:?}", check(&timed_out));
    }

    /// ECS records `repo:tag@digest`; the digest expired while the tag moved
    /// on: name the digest, what the tag names now, and the lifecycle rule.
    #[test]
    fn an_expired_digest_names_the_tag_now_and_the_lifecycle_rule() {
        let mut ev = missing_tag();
        let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3@sha256:0ld";
        td_mut(&mut ev).containers[0].image = image.into();
        ev.images[0].image = image.into();
        let ecr = ecr_mut(&mut ev);
        ecr.reference = "sha256:0ld".into();
        ecr.tag_now = Fact::gathered(ecr_image("v3", true).found.unwrap());
        ecr.lifecycle_policy = Fact::gathered(serde_json::json!({"rules": [{
            "rulePriority": 1,
            "description": "Keep last 10 images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10},
            "action": {"type": "expire"}
        }]}));
        let f = found(check(&ev));
        assert!(f.title.starts_with("Digest `sha256:0ld` (tag `v3`) does not exist"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.starts_with("tag `v3` now names sha256:5f2a9c")), "{:?}", f.evidence);
        assert!(f.evidence.iter().any(|e| e.contains("lifecycle rule 1 of `web` (\"Keep last 10 images\"): expires any images beyond 10 in count")), "{:?}", f.evidence);
        // The task definition pins the digest: redeploying it pulls it again.
        assert!(f.fix[0].starts_with("Register a task definition revision that names `web:v3`"), "{:?}", f.fix);
        // ECS resolved the tag when it deployed: a new deployment resolves it again.
        let mut resolved = ev.clone();
        td_mut(&mut resolved).containers[0].image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3".into();
        let f = found(check(&resolved));
        assert!(f.fix[0].contains("--force-new-deployment"), "{:?}", f.fix);
        assert!(f.evidence.iter().any(|e| e.contains("after ECS resolved it for this deployment")), "{:?}", f.evidence);
        assert!(f.fix.iter().any(|x| x.contains("lifecycle rules' reach")), "{:?}", f.fix);
        assert!(f.fix.iter().any(|x| x.contains("(newest: `123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2`)")), "{:?}", f.fix);
        // The lifecycle policy refused: said, not guessed.
        ecr_mut(&mut ev).lifecycle_policy = Fact::Denied { action: "ecr:GetLifecyclePolicy".into(), error: "AccessDeniedException".into() };
        let f = found(check(&ev));
        assert!(f.evidence.iter().any(|e| e.starts_with("the lifecycle policy could not be read: ecr:GetLifecyclePolicy was denied")), "{:?}", f.evidence);
    }

    #[test]
    fn healthy_task_passes() {
        assert!(matches!(check(&healthy()), Verdict::Pass(_)));
    }

    #[test]
    fn missing_tag_names_the_tag_and_recent_tags() {
        match check(&missing_tag()) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Direct);
                assert!(f.title.starts_with("Tag `v3` does not exist in ECR repository `web` (123456789012, us-east-1"), "{}", f.title);
                assert!(f.evidence.contains(&"most recent tags: v2, v1".to_string()), "{:?}", f.evidence);
                assert_eq!(f.fix[0], "Push the image: docker push 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3");
                assert!(f.fix[1].contains("web:v2"), "{:?}", f.fix);
                assert!(f.against.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_repository_suggests_similar_names() {
        let mut ev = missing_tag();
        ev.images[0].ecr = Fact::absent("repository web does not exist in account 123456789012 (us-east-1)");
        ev.images[0].registry_repositories = Fact::gathered(vec!["team/web".into(), "api".into(), "wbe".into(), "billing".into()]);
        match check(&ev) {
            Verdict::Found(f) => {
                assert!(f.title.starts_with("ECR repository `web` does not exist in account 123456789012"), "{}", f.title);
                assert!(f.evidence.iter().any(|e| e.contains("similar repositories in that registry: team/web, wbe")), "{:?}", f.evidence);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cross_account_repository_that_cannot_be_read_is_a_gap() {
        let mut ev = failed_to_start(NOT_FOUND);
        let image = "210987654321.dkr.ecr.us-east-1.amazonaws.com/shared/base:1";
        td_mut(&mut ev).containers[0].image = image.into();
        ev.images[0].image = image.into();
        ev.images[0].ecr = Fact::Denied { action: "ecr:DescribeImages".into(), error: "AccessDeniedException".into() };
        match check(&ev) {
            Verdict::Inconclusive(d) => {
                assert!(d.contains("a repository in account 210987654321, not this account 123456789012"), "{d}");
                assert!(d.contains("ecr:DescribeImages was denied"), "{d}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn untagged_image_means_latest() {
        let mut ev = missing_tag();
        let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web";
        td_mut(&mut ev).containers[0].image = image.into();
        ev.images[0].image = image.into();
        *ecr_mut(&mut ev) = ecr_image("latest", false);
        match check(&ev) {
            Verdict::Found(f) => assert!(f.evidence.iter().any(|e| e.contains("names no tag, so ECS pulls `latest`")), "{:?}", f.evidence),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn non_ecr_images_skip() {
        let mut ev = healthy();
        ev.images[0].image = "nginx:1.27".into();
        assert!(matches!(check(&ev), Verdict::Skipped(_)));
    }

    #[test]
    fn edit_distance() {
        assert_eq!(distance("web", "wbe"), 2);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
