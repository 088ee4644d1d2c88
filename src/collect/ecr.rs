//! ECR: whether each image's repository and tag or digest exist (in the
//! image's own account and Region), its platforms, and the repository policy.

use super::Collector;
use aws_sdk_ecr::types::{DescribeImagesFilter, ImageIdentifier, TagStatus};
use ecs_doctor_checks::arn;
use ecs_doctor_checks::evidence::*;
use ecs_doctor_checks::image_ref::{self, Registry};

/// Docker's schema 1 manifest, which names its architecture.
const SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";

/// Manifest types accepted when reading an image's platforms.
const MEDIA_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

pub async fn images(c: &Collector, td: Option<&TaskDefinition>, task: &Task) -> Vec<ImageEvidence> {
    let mut wanted: Vec<(String, String)> = match td {
        Some(td) => td
            .containers
            .iter()
            .map(|cd| (cd.name.clone(), cd.image.clone()))
            .collect(),
        None => task
            .containers
            .iter()
            .filter_map(|ct| Some((ct.name.clone(), ct.image.clone()?)))
            .collect(),
    };
    wanted.retain(|(_, image)| !image.is_empty());
    let futures = wanted.into_iter().map(|(container, mut image)| async move {
        // The platform is read from the reference the task definition names
        // (a tag's schema 1 form names it; a digest's does not).
        let named = image_ref::parse(&image);
        // ECS resolves a tag to a digest when it deploys, and pulls that
        // digest: whether the image exists is asked of what the task pulled.
        let resolved = task
            .containers
            .iter()
            .find(|ct| ct.name == container)
            .and_then(|ct| ct.image_digest.clone())
            .filter(|_| named.digest.is_none());
        if let Some(digest) = &resolved {
            image = format!("{image}@{digest}");
        }
        let pulled = image_ref::parse(&image);
        let (ecr, registry_repositories) = match &pulled.registry {
            Registry::EcrPrivate { account, region } => {
                let ecr = ecr_image(c, account, region, &pulled, &named).await;
                let repositories = if ecr.is_absent() {
                    repositories(c, account, region).await
                } else {
                    Fact::not_applicable("the repository exists")
                };
                (ecr, repositories)
            }
            Registry::EcrPublic => (Fact::not_applicable("ECR Public image"), Fact::default()),
            Registry::DockerHub => (Fact::not_applicable("Docker Hub image"), Fact::default()),
            Registry::Other { host } => (
                Fact::not_applicable(format!("image from registry {host}")),
                Fact::default(),
            ),
        };
        ImageEvidence {
            container,
            image,
            ecr,
            registry_repositories,
        }
    });
    futures::future::join_all(futures).await
}

fn identifier(r: &image_ref::ImageRef) -> ImageIdentifier {
    match &r.digest {
        Some(d) => ImageIdentifier::builder().image_digest(d).build(),
        None => ImageIdentifier::builder().image_tag(r.reference()).build(),
    }
}

/// `r` is what the task pulled (with the digest ECS resolved, if any);
/// `named` is what the task definition names, read for the platform.
async fn ecr_image(
    c: &Collector,
    account: &str,
    region: &str,
    r: &image_ref::ImageRef,
    named: &image_ref::ImageRef,
) -> Fact<EcrImage> {
    let ecr = c.ecr_in(region);
    let impact = format!("whether image {}:{} exists", r.repository, r.reference());
    // Every read of the image names only the repository and the reference,
    // so they start together rather than one after another: the image, its
    // manifest, the repository's recent tags and its policy.
    let (described, platforms, (tags, policy)) = tokio::join!(
        ecr.describe_images()
            .registry_id(account)
            .repository_name(&r.repository)
            .image_ids(identifier(r))
            .send(),
        platforms(c, &ecr, account, named),
        repository_context(c, &ecr, account, &r.repository),
    );
    let mut image = EcrImage {
        registry_id: account.to_string(),
        region: region.to_string(),
        repository: r.repository.clone(),
        repository_arn: Some(arn::format(
            ecs_doctor_checks::iam::permissions::partition(region),
            "ecr",
            region,
            account,
            &format!("repository/{}", r.repository),
        )),
        reference: r.reference(),
        ..Default::default()
    };
    match described {
        Ok(out) => {
            if let Some(d) = out.image_details().first() {
                image.found = Some(detail(d, platforms));
            }
        }
        Err(err) => {
            let code = aws_sdk_ecr::error::ProvideErrorMetadata::code(&err)
                .unwrap_or_default()
                .to_string();
            if code == "RepositoryNotFoundException" {
                return Fact::absent(format!(
                    "repository {} does not exist in account {account} ({region})",
                    r.repository
                ));
            }
            if code != "ImageNotFoundException" {
                return c.fact_from_error("ecr:DescribeImages", &impact, &err);
            }
        }
    }
    image.recent_tags = tags;
    image.repository_policy = policy;
    if image.found.is_none() && r.digest.is_some() {
        // Only a digest that is gone needs its tag's today and the lifecycle rules.
        (image.tag_now, image.lifecycle_policy) = digest_context(c, &ecr, account, r).await;
    } else {
        let why = "the image is not a missing digest";
        image.tag_now = Fact::not_applicable(why);
        image.lifecycle_policy = Fact::not_applicable(why);
    }
    Fact::gathered(image)
}

/// What ECR says of one image, with its platforms read apart.
fn detail(d: &aws_sdk_ecr::types::ImageDetail, platforms: Fact<Vec<Platform>>) -> EcrImageDetail {
    EcrImageDetail {
        digest: d.image_digest().map(str::to_string),
        tags: d.image_tags().to_vec(),
        pushed_at: super::ts(d.image_pushed_at()),
        manifest_media_type: d.image_manifest_media_type().map(str::to_string),
        platforms,
        size_bytes: d.image_size_in_bytes(),
    }
}

/// For an image whose digest is gone: what its tag names today, and the
/// repository's lifecycle rules (which may have expired the digest). Read
/// only then, so a healthy task costs no extra request.
async fn digest_context(
    c: &Collector,
    ecr: &aws_sdk_ecr::Client,
    account: &str,
    r: &image_ref::ImageRef,
) -> (Fact<EcrImageDetail>, Fact<serde_json::Value>) {
    let Some(digest) = &r.digest else {
        let why = "the image is not named by digest";
        return (Fact::not_applicable(why), Fact::not_applicable(why));
    };
    let tag_now = async {
        let Some(tag) = &r.tag else {
            return Fact::not_applicable("the image names a digest and no tag");
        };
        let out = ecr
            .describe_images()
            .registry_id(account)
            .repository_name(&r.repository)
            .image_ids(ImageIdentifier::builder().image_tag(tag).build())
            .send()
            .await;
        match out {
            Ok(out) => match out.image_details().first() {
                Some(d) => Fact::gathered(detail(
                    d,
                    Fact::not_applicable("not read for the tag's current image"),
                )),
                None => Fact::absent(format!("tag {tag} names no image")),
            },
            Err(err) => c.fact_from_error(
                "ecr:DescribeImages",
                &format!("what tag {tag} names today, beside digest {digest}"),
                &err,
            ),
        }
    };
    let lifecycle = async {
        let out = ecr
            .get_lifecycle_policy()
            .registry_id(account)
            .repository_name(&r.repository)
            .send()
            .await;
        match c.fact(
            "ecr:GetLifecyclePolicy",
            &format!("whether a lifecycle rule expired digest {digest}"),
            out,
        ) {
            Fact::Gathered { value } => match value
                .lifecycle_policy_text()
                .and_then(|t| serde_json::from_str(t).ok())
            {
                Some(v) => Fact::gathered(v),
                None => Fact::absent("the repository has no lifecycle policy"),
            },
            other => other.map(|_| serde_json::Value::Null),
        }
    };
    tokio::join!(tag_now, lifecycle)
}

/// The most repository names kept for "did you mean".
const MAX_REPOSITORIES: usize = 500;

/// The repositories a registry holds, when the one an image names is missing.
async fn repositories(c: &Collector, account: &str, region: &str) -> Fact<Vec<String>> {
    let ecr = c.ecr_in(region);
    let mut pages = ecr
        .describe_repositories()
        .registry_id(account)
        .into_paginator()
        .send();
    let mut names = Vec::new();
    while let Some(page) = pages.next().await {
        match page {
            Ok(out) => names.extend(
                out.repositories()
                    .iter()
                    .filter_map(|r| r.repository_name().map(str::to_string)),
            ),
            Err(e) => {
                return c.fact_from_error(
                    "ecr:DescribeRepositories",
                    "suggesting a repository name that exists",
                    &e,
                )
            }
        }
        if names.len() >= MAX_REPOSITORIES {
            names.truncate(MAX_REPOSITORIES);
            break;
        }
    }
    names.sort();
    Fact::gathered(names)
}

/// What a repository says beside one image: its recent tags (for "did you
/// mean") and its policy (cross-account pulls).
async fn repository_context(
    c: &Collector,
    ecr: &aws_sdk_ecr::Client,
    account: &str,
    repository: &str,
) -> (Fact<Vec<String>>, Fact<serde_json::Value>) {
    tokio::join!(recent_tags(c, ecr, account, repository), async {
        let p = ecr
            .get_repository_policy()
            .registry_id(account)
            .repository_name(repository)
            .send()
            .await;
        match c.fact(
            "ecr:GetRepositoryPolicy",
            "cross-account pull permissions",
            p,
        ) {
            Fact::Gathered { value } => match value
                .policy_text()
                .and_then(|t| serde_json::from_str(t).ok())
            {
                Some(v) => Fact::gathered(v),
                None => Fact::absent("the repository has no policy"),
            },
            other => other.map(|_| serde_json::Value::Null),
        }
    })
}

/// The five most recently pushed tags, newest first.
async fn recent_tags(
    c: &Collector,
    ecr: &aws_sdk_ecr::Client,
    account: &str,
    repository: &str,
) -> Fact<Vec<String>> {
    let pages = ecr
        .describe_images()
        .registry_id(account)
        .repository_name(repository)
        .filter(
            DescribeImagesFilter::builder()
                .tag_status(TagStatus::Tagged)
                .build(),
        )
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut images = match c
        .listed(
            "ecr:DescribeImages",
            "listing the repository's existing tags",
            pages,
            |out| {
                out.image_details()
                    .iter()
                    .map(|d| {
                        (
                            d.image_pushed_at().map(|t| t.secs()).unwrap_or_default(),
                            d.image_tags().to_vec(),
                        )
                    })
                    .collect::<Vec<_>>()
            },
        )
        .gathered_or_gap()
    {
        Ok(value) => value,
        Err(gap) => return gap,
    };
    images.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    Fact::gathered(
        images
            .into_iter()
            .flat_map(|(_, tags)| tags)
            .take(5)
            .collect(),
    )
}

/// The platforms of an image index, or of a single-platform manifest.
///
/// An image index lists its platforms. A single-platform manifest keeps its
/// platform in the image config blob, which only a layer download URL could
/// fetch; instead ecs-doctor asks ECR for the Docker schema 1 form of the
/// manifest, which carries `architecture` itself. ECR converts a schema 2
/// manifest that way when it is requested by tag (not by digest, and not an
/// OCI manifest). Both are `ecr:BatchGetImage` calls: read-only.
async fn platforms(
    c: &Collector,
    ecr: &aws_sdk_ecr::Client,
    account: &str,
    r: &image_ref::ImageRef,
) -> Fact<Vec<Platform>> {
    // The schema 1 form is asked for at the same time: it is only read for a
    // single-platform Docker manifest, but waiting to know that costs a round trip.
    let by_tag = r.digest.is_none();
    let (out, v1) = tokio::join!(
        ecr.batch_get_image()
            .registry_id(account)
            .repository_name(&r.repository)
            .image_ids(identifier(r))
            .set_accepted_media_types(Some(MEDIA_TYPES.iter().map(|s| s.to_string()).collect()))
            .send(),
        async {
            if by_tag {
                Some(
                    ecr.batch_get_image()
                        .registry_id(account)
                        .repository_name(&r.repository)
                        .image_ids(identifier(r))
                        .accepted_media_types(SCHEMA1)
                        .send()
                        .await,
                )
            } else {
                None
            }
        }
    );
    let (manifest, media_type) = match c.fact("ecr:BatchGetImage", "the image platform check", out)
    {
        Fact::Gathered { value } => {
            let Some(image) = value.images().first() else {
                return Fact::absent("ECR returned no manifest");
            };
            match image.image_manifest() {
                Some(m) => (
                    m.to_string(),
                    image.image_manifest_media_type().map(str::to_string),
                ),
                None => return Fact::absent("ECR returned no manifest"),
            }
        }
        other => return other.map(|_| Vec::new()),
    };
    let listed = image_ref::manifest_platforms(&manifest);
    if !matches!(listed, Fact::NotApplicable { .. }) {
        return listed;
    }
    if r.digest.is_some() {
        return Fact::not_applicable(
            "single-platform manifest pulled by digest: its platform is in the image config, which ecs-doctor does not download",
        );
    }
    let oci = media_type.as_deref() == Some("application/vnd.oci.image.manifest.v1+json")
        || manifest.contains("application/vnd.oci.image.manifest.v1+json");
    if oci {
        return Fact::not_applicable(
            "single-platform OCI manifest: its platform is in the image config, which ecs-doctor does not download",
        );
    }
    let Some(v1) = v1 else {
        return Fact::not_applicable("single-platform manifest pulled by digest");
    };
    match c.fact("ecr:BatchGetImage", "the image platform check", v1) {
        Fact::Gathered { value } => match value
            .images()
            .first()
            .and_then(|i| i.image_manifest())
            .and_then(image_ref::schema1_platform)
        {
            Some(p) => Fact::gathered(vec![p]),
            None => Fact::not_applicable(
                "single-platform manifest: ECR did not return its schema 1 form, so its platform (in the image config) is unknown",
            ),
        },
        other => other.map(|_| Vec::new()),
    }
}
