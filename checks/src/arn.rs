//! Amazon Resource Names: the one parser, used by the checks and by the
//! collectors alike.
//!
//! An ARN is `arn:<partition>:<service>:<region>:<account>:<resource>`; the
//! resource may itself hold colons (`secret:prod/db-AbCdEf`,
//! `log-group:/ecs/web:*`) and slashes (`task/prod/0123…`). Region and
//! account are empty for global resources (`arn:aws:s3:::bucket`,
//! `arn:aws:iam::aws:policy/…`); the accessors here return `None` for an
//! empty field, so a caller never mistakes "" for a Region.

/// The partitions AWS has.
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// An ARN split into its six fields, borrowing the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    region: &'a str,
    account: &'a str,
    /// Everything after the fifth colon (`task/prod/0123…`, `role/path/name`).
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// The six fields of `text`, or `None` when it is not an ARN (no `arn:`
    /// prefix, or fewer than six fields). The partition is not checked
    /// against [`PARTITIONS`]: see [`Arn::known_partition`].
    pub fn parse(text: &'a str) -> Option<Arn<'a>> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        })
    }

    /// The Region, unless the field is empty (a global resource).
    pub fn region(&self) -> Option<&'a str> {
        Some(self.region).filter(|r| !r.is_empty())
    }

    /// The account, unless the field is empty (`arn:aws:s3:::bucket`).
    pub fn account(&self) -> Option<&'a str> {
        Some(self.account).filter(|a| !a.is_empty())
    }

    /// Whether the partition is one AWS has.
    pub fn known_partition(&self) -> bool {
        PARTITIONS.contains(&self.partition)
    }

    /// The resource's type and the rest: `task/prod/0123` gives
    /// `("task", "prod/0123")`, `secret:prod/db-AbCdEf` gives
    /// `("secret", "prod/db-AbCdEf")`. A resource with neither separator
    /// (`arn:aws:s3:::bucket`) has an empty type.
    pub fn resource_type(&self) -> (&'a str, &'a str) {
        let cut = self.resource.find(['/', ':']);
        match cut {
            Some(i) => (&self.resource[..i], &self.resource[i + 1..]),
            None => ("", self.resource),
        }
    }

    /// The last `/`-separated part of the resource: a role's or a user's
    /// name without its path, a task's id, a service's name.
    pub fn resource_name(&self) -> &'a str {
        self.resource.rsplit('/').next().unwrap_or(self.resource)
    }
}

/// The Region an ARN names, if `text` is an ARN with one.
pub fn region(text: &str) -> Option<&str> {
    Arn::parse(text)?.region()
}

/// The account an ARN names, if `text` is an ARN with one.
pub fn account(text: &str) -> Option<&str> {
    Arn::parse(text)?.account()
}

/// The name at the end of a name-or-ARN, as the APIs that take either
/// accept it: an ARN's [`Arn::resource_name`] (`cluster/prod` → `prod`,
/// `task/prod/0123` → `0123`), or the text after its last `/` otherwise
/// (`prod`, a role name).
pub fn name(text: &str) -> &str {
    match Arn::parse(text) {
        Some(arn) => arn.resource_name(),
        None => text.rsplit('/').next().unwrap_or(text),
    }
}

/// An ARN built from its fields.
pub fn format(
    partition: &str,
    service: &str,
    region: &str,
    account: &str,
    resource: &str,
) -> String {
    format!("arn:{partition}:{service}:{region}:{account}:{resource}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_six_fields_and_keeps_colons_in_the_resource() {
        let a = Arn::parse("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf")
            .unwrap();
        assert_eq!(a.partition, "aws");
        assert_eq!(a.service, "secretsmanager");
        assert_eq!(a.region(), Some("eu-west-1"));
        assert_eq!(a.account(), Some("123456789012"));
        assert_eq!(a.resource, "secret:prod/db-AbCdEf");
        assert_eq!(a.resource_type(), ("secret", "prod/db-AbCdEf"));
        let g = Arn::parse("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*").unwrap();
        assert_eq!(g.resource_type(), ("log-group", "/ecs/web:*"));
    }

    #[test]
    fn empty_region_and_account_are_none() {
        let s3 = Arn::parse("arn:aws:s3:::my-bucket").unwrap();
        assert_eq!((s3.region(), s3.account()), (None, None));
        assert_eq!(s3.resource_type(), ("", "my-bucket"));
        let p = Arn::parse("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
            .unwrap();
        assert_eq!(p.region(), None);
        assert_eq!(p.account(), Some("aws"));
        assert_eq!(p.resource_name(), "AmazonECSTaskExecutionRolePolicy");
    }

    #[test]
    fn what_is_not_an_arn_is_none() {
        for text in [
            "",
            "arn",
            "arn:aws:ecs",
            "arn:aws:ecs:r:a",
            "task/prod/1",
            "ARN:aws:ecs:r:a:x",
        ] {
            assert_eq!(Arn::parse(text), None, "{text}");
            assert_eq!(region(text), None);
        }
    }

    #[test]
    fn a_name_or_an_arn_gives_the_name() {
        assert_eq!(
            name("arn:aws:ecs:eu-west-1:123456789012:cluster/prod"),
            "prod"
        );
        assert_eq!(
            name("arn:aws:ecs:eu-west-1:123456789012:service/prod/web"),
            "web"
        );
        assert_eq!(name("arn:aws:iam::123456789012:role/path/app"), "app");
        assert_eq!(name("prod"), "prod");
        assert_eq!(name("prod/web"), "web");
        assert_eq!(name(""), "");
    }

    #[test]
    fn partitions_and_names() {
        let t = Arn::parse("arn:aws-cn:ecs:cn-north-1:123456789012:task/prod/0123").unwrap();
        assert!(t.known_partition());
        assert_eq!(t.resource_type(), ("task", "prod/0123"));
        assert_eq!(t.resource_name(), "0123");
        assert!(!Arn::parse("arn:nope:ecs:r:a:task/x")
            .unwrap()
            .known_partition());
        assert_eq!(
            format("aws", "iam", "", "123456789012", "role/app"),
            "arn:aws:iam::123456789012:role/app"
        );
    }
}
