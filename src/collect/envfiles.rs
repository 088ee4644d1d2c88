//! Environment files in S3: for each `environmentFiles` entry of the task
//! definition, whether its object exists and its bucket's Region. Metadata
//! only: `ListObjectsV2` with the key as the prefix (`s3:ListBucket`),
//! `GetBucketLocation` and `GetBucketPolicy`; the file's content is never read.
//!
//! A bucket answers only in its own Region: a call to another Region's
//! endpoint is redirected (`PermanentRedirect`, HTTP 301) with the bucket's
//! Region in the `x-amz-bucket-region` header, which the SDK does not
//! follow. So the listing and the policy read go to the Region
//! `GetBucketLocation` named, and a redirect is followed once to the Region
//! its header names, which is then the bucket's Region. A bucket that does
//! not exist is an absent Region (`NoSuchBucket`).

use super::Collector;
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use ecs_doctor_checks::evidence::*;

const IMPACT: &str = "the environment file check (env-file-failed)";

/// Every environment file of the task definition, read concurrently; none
/// without a task definition or without environment files.
pub async fn env_files(c: &Collector, td: Option<&TaskDefinition>) -> Vec<EnvFileEvidence> {
    let Some(td) = td else { return Vec::new() };
    let files = td.containers.iter().flat_map(|cd| {
        cd.environment_files
            .iter()
            .map(move |f| (cd.name.clone(), f.clone()))
    });
    futures::future::join_all(files.map(|(container, arn)| env_file(c, container, arn))).await
}

async fn env_file(c: &Collector, container: String, arn: String) -> EnvFileEvidence {
    let Some((bucket, key)) = s3_object(&arn) else {
        let why = "the value is not an S3 object ARN (arn:aws:s3:::bucket/key)";
        return EnvFileEvidence {
            container,
            object: Fact::not_applicable(why),
            bucket_region: Fact::not_applicable(why),
            bucket_policy: Fact::not_applicable(why),
            arn,
        };
    };
    let located = location(c, bucket).await;
    let region = located.value().cloned().unwrap_or_else(|| c.region.clone());
    let ((listed, listed_in), (bucket_policy, policy_in)) =
        tokio::join!(object(c, &region, bucket, key), policy(c, &region, bucket));
    // A Region a redirect named is the bucket's: S3 itself said so.
    let bucket_region = match (located, listed_in.or(policy_in)) {
        (known @ (Fact::Gathered { .. } | Fact::Absent { .. }), _) => known,
        (_, Some(r)) => Fact::gathered(r),
        (unknown, None) => unknown,
    };
    let gone = |detail: String| EnvFileEvidence {
        container: container.clone(),
        arn: arn.clone(),
        object: Fact::not_applicable(format!("bucket {bucket} does not exist")),
        bucket_region: Fact::absent(detail),
        bucket_policy: Fact::not_applicable(format!("bucket {bucket} does not exist")),
    };
    match (listed, &bucket_region) {
        (_, Fact::Absent { detail }) => gone(detail.clone()),
        (Listed::NoBucket(detail), _) => gone(detail),
        (Listed::Object(object), _) => EnvFileEvidence {
            container: container.clone(),
            arn: arn.clone(),
            object,
            bucket_region,
            bucket_policy,
        },
    }
}

/// Calls `call` in `region`, and once more in the Region a redirect names;
/// that Region too, a fact of S3's about the bucket.
async fn following<T, E, F, Fut>(
    region: &str,
    call: F,
) -> (Result<T, SdkError<E, Response>>, Option<String>)
where
    E: ProvideErrorMetadata,
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkError<E, Response>>>,
{
    let got = call(region.to_string()).await;
    match &got {
        Err(e) => match redirected_to(e).filter(|r| r != region) {
            Some(other) => (call(other.clone()).await, Some(other)),
            None => (got, None),
        },
        Ok(_) => (got, None),
    }
}

/// The bucket's policy document; absent when the bucket has none.
async fn policy(
    c: &Collector,
    region: &str,
    bucket: &str,
) -> (Fact<serde_json::Value>, Option<String>) {
    let (got, redirected) = following(region, |r: String| async move {
        c.s3_in(&r).get_bucket_policy().bucket(bucket).send().await
    })
    .await;
    let fact = match c.fact("s3:GetBucketPolicy", IMPACT, got) {
        Fact::Gathered { value } => match value.policy().map(serde_json::from_str) {
            Some(Ok(document)) => Fact::gathered(document),
            Some(Err(e)) => Fact::Failed {
                action: "s3:GetBucketPolicy".into(),
                error: format!("the policy of bucket {bucket} is not JSON: {e}"),
            },
            None => Fact::absent(format!("bucket {bucket} has no policy")),
        },
        other => other.map(|_| serde_json::Value::Null),
    };
    (fact, redirected)
}

/// The bucket's Region; a redirect names it too. Absent: no such bucket.
async fn location(c: &Collector, bucket: &str) -> Fact<String> {
    let got = c
        .s3_in(&c.region)
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await;
    if let Err(e) = &got {
        if let Some(region) = redirected_to(e) {
            return Fact::gathered(region);
        }
    }
    match c.fact("s3:GetBucketLocation", IMPACT, got) {
        Fact::Gathered { value } => Fact::gathered(bucket_region(
            value.location_constraint().map(|l| l.as_str()),
        )),
        other => other.map(|_| String::new()),
    }
}

/// What the listing said: the object's fact, or that the bucket does not exist.
enum Listed {
    Object(Fact<S3Object>),
    NoBucket(String),
}

/// The object with exactly `key`, listed in `region` (once more in the
/// Region a redirect names). Keys list in UTF-8 binary order and a key sorts
/// before every longer key it prefixes, so the first key listed with `key`
/// as the prefix is `key` itself when the object exists: one key is enough.
async fn object(c: &Collector, region: &str, bucket: &str, key: &str) -> (Listed, Option<String>) {
    let (got, redirected) = following(region, |r: String| async move {
        c.s3_in(&r)
            .list_objects_v2()
            .bucket(bucket)
            .prefix(key)
            .max_keys(1)
            .send()
            .await
    })
    .await;
    if let Err(e) = &got {
        if e.code() == Some("NoSuchBucket") {
            let why = e.message().unwrap_or("The specified bucket does not exist");
            return (Listed::NoBucket(format!("NoSuchBucket: {why}")), redirected);
        }
    }
    let fact = match c.fact("s3:ListBucket", IMPACT, got) {
        Fact::Gathered { value } => match value.contents().iter().find(|o| o.key() == Some(key)) {
            Some(o) => Fact::gathered(S3Object {
                key: key.to_string(),
                size: o.size(),
            }),
            None => Fact::absent(format!("no object has key {key} in bucket {bucket}")),
        },
        other => other.map(|_| S3Object::default()),
    };
    (Listed::Object(fact), redirected)
}

/// The bucket's Region from a redirect's `x-amz-bucket-region` header.
fn redirected_to<E: ProvideErrorMetadata>(e: &SdkError<E, Response>) -> Option<String> {
    let raw = e.raw_response()?;
    let region = raw.headers().get("x-amz-bucket-region")?;
    (!region.is_empty() && raw.status().as_u16() != 200).then(|| region.to_string())
}
