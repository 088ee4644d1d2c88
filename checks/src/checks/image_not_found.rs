//! ## What it detects
//! A container image whose ECR repository, tag or digest does not exist, so
//! the pull fails (`CannotPullContainerError: … failed to resolve ref …
//! not found`, «Check whether the image exists», `manifest unknown`).
//!
//! ## Why it matters
//! The task can never start: every retry fails the same way until the task
//! definition names an image that exists. Typical causes are a typo, a tag
//! that CI never pushed, a repository in another account or Region, or an
//! image removed by a lifecycle policy while a service still uses it.
//!
//! ## Example
//! ```text
//! stopCode      = TaskFailedToStart
//! stoppedReason = CannotPullContainerError: pull image manifest has been retried 5 time(s):
//!                 failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3: … not found
//! ECR: repository web exists; tag v3 does not (latest tags: v2, v1)
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

use crate::classify::{find_stop_text, StopCode};
use crate::codes::Cause;
use crate::evidence::{Evidence, Fact};
use crate::report::{Finding, Strength, Verdict};

/// Stop-text fragments that say the image or tag does not exist.
const NOT_FOUND_TEXT: &[&str] = &[
    "failed to resolve ref",
    "manifest unknown",
    "check whether the image exists",
    "not found",
    "repository does not exist",
    "requested access to the resource is denied",
];

pub(crate) fn check(ev: &Evidence) -> Verdict {
    let ecr_images: Vec<_> = ev.images.iter().filter(|i| !matches!(i.ecr, Fact::NotApplicable { .. })).collect();
    if ecr_images.is_empty() {
        return Verdict::Skipped("no container uses an ECR private image".into());
    }
    let pull_text = find_stop_text(ev, &["cannotpullcontainer", "pull image", "failed to resolve ref", "manifest unknown", "check whether the image exists"]);
    let mut unknown = Vec::new();
    for img in &ecr_images {
        let (repo_missing, ecr) = match &img.ecr {
            Fact::Gathered { value } if value.found.is_some() => continue,
            Fact::Gathered { value } => (false, Some(value)),
            Fact::Absent { .. } => (true, None),
            other => {
                unknown.push(format!("{}: {}", img.image, other.gap_reason().unwrap_or_default()));
                continue;
            }
        };
        let text_says_missing = pull_text.as_deref().is_some_and(|t| crate::classify::contains_any(t, NOT_FOUND_TEXT));
        let strength = if text_says_missing || StopCode::of(ev) == StopCode::TaskFailedToStart && pull_text.is_some() {
            Strength::Direct
        } else {
            Strength::Corroborating
        };
        let title = match ecr {
            Some(e) => format!("Image tag `{}` does not exist in ECR repository `{}` (container `{}`)", e.reference, e.repository, img.container),
            None => format!("ECR repository for image `{}` does not exist (container `{}`)", img.image, img.container),
        };
        let mut finding = Finding::new(Cause::ImageNotFound, strength, title);
        if let Some(t) = &pull_text {
            finding = finding.evidence(format!("stoppedReason/container reason = \"{t}\""));
        }
        match ecr {
            Some(e) => {
                finding = finding.evidence(format!(
                    "ecr:DescribeImages in {} / account {}: repository `{}` exists, `{}` is not in it",
                    e.region, e.registry_id, e.repository, e.reference
                ));
                if e.recent_tags.is_empty() {
                    finding = finding.evidence(format!("repository `{}` holds no tagged images", e.repository));
                } else {
                    finding = finding.evidence(format!("most recent tags: {}", e.recent_tags.join(", ")));
                }
                finding = finding
                    .fix(format!("Push the image: docker push {}:{}", img.image.rsplit_once(':').map(|(r, _)| r).unwrap_or(&img.image), e.reference))
                    .fix(match e.recent_tags.first() {
                        Some(t) => format!("Or register a task definition revision that uses an existing tag (newest: `{t}`) and redeploy."),
                        None => "Or register a task definition revision that names an image that exists, and redeploy.".to_string(),
                    });
            }
            None => {
                finding = finding
                    .evidence(format!("ecr: {}", img.ecr.gap_reason().unwrap_or_default()))
                    .fix("Check the repository name, account and Region in the image URI; create the repository and push the image if it is missing.");
            }
        }
        if repo_missing {
            finding = finding.fix("If the repository lives in another account, make sure the image URI names that account.");
        }
        return finding
            .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html")
            .into_verdict();
    }
    if !unknown.is_empty() {
        return Verdict::Inconclusive(format!("could not look up {}", unknown.join("; ")));
    }
    Verdict::Pass(format!(
        "every ECR image exists: {}",
        ecr_images.iter().map(|i| i.image.as_str()).collect::<Vec<_>>().join(", ")
    ))
}
