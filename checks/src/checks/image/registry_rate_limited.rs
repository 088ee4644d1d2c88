//! ## What it detects
//! The registry refused the pull because of its pull rate limit: the stop
//! reason says `toomanyrequests`, `You have reached your pull rate limit`
//! or `429 Too Many Requests`. ecs-doctor names the image and registry, and
//! whether the pull was anonymous (no `repositoryCredentials`).
//!
//! ## Why it matters
//! Docker Hub limits pulls per source IP for anonymous clients and per
//! account for authenticated ones. Every task behind the same NAT gateway
//! shares one public IP, so a deployment or a crash loop can use up the
//! limit and then no task of any service can start until it resets.
//!
//! ## Example
//! ```text
//! stoppedReason = CannotPullContainerError: … toomanyrequests: You have reached your pull rate limit.
//!                 You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limits
//! container web: image nginx:1.27 on docker.io, repositoryCredentials not set (anonymous pulls)
//! ```
//!
//! ## How to fix
//! Pull from ECR instead: an ECR pull-through cache rule for Docker Hub, or
//! the official images mirrored on ECR Public (`public.ecr.aws/docker/library/<name>`).
//! Or authenticate the pulls with `repositoryCredentials` (a Docker Hub
//! access token in Secrets Manager) so they count against a paid account.
//!
//! ## References
//! - https://docs.docker.com/docker-hub/usage/
//! - https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html

use crate::context::Ctx;
use crate::task::unknown_task_definition;
use crate::stops::Detail;

use crate::codes::Cause;
use crate::image_ref::{self, Registry};
use crate::report::{Finding, Strength, Verdict};

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let images: Vec<_> = td
        .containers
        .iter()
        .map(|c| (c, image_ref::parse(&c.image)))
        .collect();
    let hub: Vec<_> = images
        .iter()
        .filter(|(_, r)| r.registry == Registry::DockerHub)
        .collect();
    let Some(stated) = ctx.stops.stating(Detail::RateLimited) else {
        if hub.is_empty() {
            return Verdict::Skipped("no Docker Hub image and no rate-limit error".into());
        }
        return Verdict::Pass(format!(
            "no rate-limit error in the stop reason for the Docker Hub image(s) {}",
            hub.iter().map(|(c, _)| c.image.as_str()).collect::<Vec<_>>().join(", ")
        ));
    };
    // The image the text names, else the Docker Hub image, else any image outside ECR.
    let named = images
        .iter()
        .find(|(c, r)| stated.names(&c.image) || stated.names(r.repository.trim_start_matches("library/")))
        .or(hub.first().copied())
        .or(images.iter().find(|(_, r)| !r.is_ecr_private()));
    let text = &stated.text;
    let mut finding = Finding::new(
        Cause::RegistryRateLimited,
        Strength::Direct,
        match named {
            Some((c, r)) => format!(
                "{} rate-limited the pull of `{}` (container `{}`)",
                if r.registry == Registry::DockerHub { "Docker Hub".to_string() } else { r.host.clone() },
                c.image,
                c.name
            ),
            None => "The registry rate-limited the image pull".to_string(),
        },
    )
    .evidence(format!("stop reason: \"{text}\""));
    if let Some((c, r)) = named {
        let host = if r.registry == Registry::DockerHub { "docker.io" } else { r.host.as_str() };
        finding = finding.evidence(match &c.repository_credentials {
            None => format!(
                "container {}: image {} on {host}, repositoryCredentials not set: anonymous pulls, limited per source IP (shared by every task behind the same NAT gateway)",
                c.name, c.image
            ),
            Some(cred) => format!(
                "container {}: image {} on {host}, authenticated with {cred}: the account's own pull limit was reached",
                c.name, c.image
            ),
        });
        if r.registry == Registry::DockerHub && r.repository.starts_with("library/") {
            let name = r.repository.trim_start_matches("library/");
            finding = finding.fix(format!(
                "Use the ECR Public mirror of the official image: public.ecr.aws/docker/library/{name}:{}",
                r.reference()
            ));
        }
    }
    finding
        .fix(format!(
            "Or cache Docker Hub in ECR: aws ecr create-pull-through-cache-rule --region {} --ecr-repository-prefix docker-hub --upstream-registry-url registry-1.docker.io --credential-arn <Secrets Manager ARN of a Docker Hub token>, then use <account>.dkr.ecr.{}.amazonaws.com/docker-hub/<repository>:<tag>.",
            ev.region, ev.region
        ))
        .fix("Or authenticate the pulls: set repositoryCredentials to a Secrets Manager secret holding a Docker Hub access token.")
        .doc("https://docs.docker.com/docker-hub/usage/")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::testkit::image::*;

    #[test]
    fn ecr_task_skips() {
        assert!(matches!(check(&healthy()), Verdict::Skipped(_)));
    }

    #[test]
    fn docker_hub_without_error_passes() {
        let mut ev = healthy();
        td_mut(&mut ev).containers[0].image = "nginx:1.27".into();
        assert!(matches!(check(&ev), Verdict::Pass(_)));
    }

    #[test]
    fn anonymous_docker_hub_pull_limit() {
        let mut ev = failed_to_start("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref docker.io/library/nginx:1.27: unexpected status from HEAD request to https://registry-1.docker.io/v2/library/nginx/manifests/1.27: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limits");
        td_mut(&mut ev).containers[0].image = "nginx:1.27".into();
        match check(&ev) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Direct);
                assert_eq!(f.title, "Docker Hub rate-limited the pull of `nginx:1.27` (container `web`)");
                assert!(f.evidence.iter().any(|e| e.contains("anonymous pulls")));
                assert!(f.fix[0].contains("public.ecr.aws/docker/library/nginx:1.27"), "{:?}", f.fix);
            }
            other => panic!("{other:?}"),
        }
    }
}
