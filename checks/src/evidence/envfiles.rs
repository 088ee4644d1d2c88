//! Environment files in S3 (`environmentFiles` of a container definition):
//! what S3 says of each file's object and bucket. Metadata only: whether the
//! object exists and its size (`s3:ListBucket`), and the bucket's Region
//! (`s3:GetBucketLocation`), and the bucket's policy (`s3:GetBucketPolicy`); the
//! file's content is never read.

use super::Fact;
use serde::{Deserialize, Serialize};

/// One environment file of one container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EnvFileEvidence {
    pub container: String,
    /// The `value` of the task definition's entry, as written.
    pub arn: String,
    /// The object, listed with `ListObjectsV2` (the key as the prefix):
    /// absent when no object has that key; not applicable when the value is
    /// no S3 object ARN or the bucket does not exist.
    pub object: Fact<S3Object>,
    /// The bucket's Region (`GetBucketLocation`, or the Region a redirect of
    /// S3's names; an empty constraint is `us-east-1`, `EU` is `eu-west-1`):
    /// absent when S3 said the bucket does not exist (`NoSuchBucket`).
    pub bucket_region: Fact<String>,
    /// The bucket's policy (`GetBucketPolicy`): absent when it has none.
    #[serde(default)]
    pub bucket_policy: Fact<serde_json::Value>,
}

impl EnvFileEvidence {
    /// The bucket and key of the ARN, when it is an S3 object ARN.
    pub fn location(&self) -> Option<(&str, &str)> {
        s3_object(&self.arn)
    }

    /// Did S3 say the bucket itself does not exist?
    pub fn bucket_missing(&self) -> bool {
        self.bucket_region.is_absent()
    }
}

/// What `ListObjectsV2` says of the object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct S3Object {
    pub key: String,
    pub size: Option<i64>,
}

/// The bucket and key of an S3 object ARN (`arn:<partition>:s3:::bucket/key`),
/// when the text is one (a bucket and a key, neither empty).
pub fn s3_object(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    if partition.is_empty() {
        return None;
    }
    let path = rest.strip_prefix("s3:::")?;
    let (bucket, key) = path.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// The Region a `LocationConstraint` names: none (or an empty one) is
/// `us-east-1`, the legacy `EU` is `eu-west-1`.
pub fn bucket_region(constraint: Option<&str>) -> String {
    match constraint.map(str::trim) {
        None | Some("") => "us-east-1".to_string(),
        Some(c) if c.eq_ignore_ascii_case("EU") => "eu-west-1".to_string(),
        Some(c) => c.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_arn_has_a_bucket_and_a_key() {
        assert_eq!(
            s3_object("arn:aws:s3:::cfg/prod/web.env"),
            Some(("cfg", "prod/web.env"))
        );
        assert_eq!(
            s3_object("arn:aws-cn:s3:::cfg/web.env"),
            Some(("cfg", "web.env"))
        );
        for not_one in [
            "arn:aws:s3:::cfg",
            "arn:aws:s3:::cfg/",
            "s3://cfg/web.env",
            "arn:aws:ssm:::cfg/web.env",
            "arn::s3:::cfg/a.env",
        ] {
            assert_eq!(s3_object(not_one), None, "{not_one}");
        }
    }

    #[test]
    fn a_location_constraint_names_a_region() {
        assert_eq!(bucket_region(None), "us-east-1");
        assert_eq!(bucket_region(Some("")), "us-east-1");
        assert_eq!(bucket_region(Some("EU")), "eu-west-1");
        assert_eq!(bucket_region(Some("eu-central-1")), "eu-central-1");
    }
}
