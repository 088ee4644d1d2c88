//! What the user pointed at: a task ARN, a task id with `--cluster`, or an
//! ECS console task URL.

use crate::error::{echo, DoctorError};
use ecs_doctor_checks::arn::{self, Arn};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTarget {
    /// The task id or full ARN, as ECS accepts it in DescribeTasks.
    pub task: String,
    pub cluster: String,
    pub region: Option<String>,
    pub account: Option<String>,
}

fn is_task_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Parse `task` with the optional `--cluster`.
pub fn parse(task: &str, cluster: Option<&str>) -> Result<TaskTarget, DoctorError> {
    if cluster.is_some_and(|c| c.trim().is_empty()) {
        return Err(DoctorError::BadTarget(
            "--cluster is empty: give the cluster's name or ARN".into(),
        ));
    }
    let task = task.trim();
    if task.starts_with("arn:") {
        return parse_arn(task, cluster);
    }
    if task.starts_with("https://") || task.starts_with("http://") {
        return parse_console_url(task, cluster);
    }
    if is_task_id(task) {
        let Some(cluster) = cluster else {
            return Err(DoctorError::BadTarget(format!(
                "task id {} needs --cluster (or pass the full task ARN)",
                echo(task)
            )));
        };
        return Ok(TaskTarget {
            task: task.to_string(),
            cluster: cluster.to_string(),
            region: None,
            account: None,
        });
    }
    Err(DoctorError::BadTarget(format!(
        "not a task ARN, task id or ECS console URL: {} (expected arn:aws:ecs:<region>:<account>:task/<cluster>/<id>)",
        echo(task)
    )))
}

fn parse_arn(arn: &str, cluster_flag: Option<&str>) -> Result<TaskTarget, DoctorError> {
    let bad =
        |why: &str| DoctorError::BadTarget(format!("malformed task ARN {}: {why}", echo(arn)));
    let Some(parsed) = Arn::parse(arn) else {
        return Err(bad(
            "expected arn:<partition>:ecs:<region>:<account>:task/<cluster>/<id>",
        ));
    };
    let (partition, service, resource) = (parsed.partition, parsed.service, parsed.resource);
    if !parsed.known_partition() {
        return Err(bad(&format!("unknown partition {partition:?}")));
    }
    if service != "ecs" {
        return Err(bad(&format!("service is {service:?}, not ecs")));
    }
    let Some(region) = parsed.region().filter(|r| {
        r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }) else {
        return Err(bad("missing or invalid region"));
    };
    let Some(account) = parsed
        .account()
        .filter(|a| a.len() == 12 && a.chars().all(|c| c.is_ascii_digit()))
    else {
        return Err(bad("the account must be 12 digits"));
    };
    let Some(path) = resource.strip_prefix("task/") else {
        return Err(bad("the resource must be task/<cluster>/<id>"));
    };
    let segments: Vec<&str> = path.split('/').collect();
    let (cluster, id) = match segments.as_slice() {
        [cluster, id] if !cluster.is_empty() && is_task_id(id) => (cluster.to_string(), *id),
        // The old ARN format has no cluster in it.
        [id] if is_task_id(id) => match cluster_flag {
            Some(c) => (c.to_string(), *id),
            None => {
                return Err(bad(
                    "an old-format task ARN without a cluster needs --cluster",
                ))
            }
        },
        _ => return Err(bad("the resource must be task/<cluster>/<id>")),
    };
    if let Some(flag) = cluster_flag {
        let flag_name = arn::name(flag);
        if flag_name != cluster {
            return Err(DoctorError::BadTarget(format!(
                "--cluster {flag} disagrees with the cluster {cluster} in the task ARN"
            )));
        }
    }
    let _ = id;
    Ok(TaskTarget {
        task: arn.to_string(),
        cluster,
        region: Some(region.to_string()),
        account: Some(account.to_string()),
    })
}

/// `https://<region>.console.aws.amazon.com/ecs/v2/clusters/<cluster>/tasks/<id>/configuration?region=<region>`
fn parse_console_url(raw: &str, cluster_flag: Option<&str>) -> Result<TaskTarget, DoctorError> {
    let bad = |why: &str| {
        DoctorError::BadTarget(format!("unrecognised ECS console URL {}: {why}", echo(raw)))
    };
    let url = url::Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    let host = url.host_str().unwrap_or_default();
    if !host.contains("console.aws.amazon.com") && !host.contains("console.amazonaws.cn") {
        return Err(bad("not an AWS console address"));
    }
    // The console keeps the path after '#' in older links.
    let path = match url.fragment() {
        Some(f) if f.contains("/clusters/") => f.to_string(),
        _ => url.path().to_string(),
    };
    let segs: Vec<&str> = path.split(['/', '?']).filter(|s| !s.is_empty()).collect();
    let find_after = |key: &str| {
        segs.iter()
            .position(|s| *s == key)
            .and_then(|i| segs.get(i + 1))
            .map(|s| s.to_string())
    };
    let cluster = find_after("clusters")
        .or_else(|| cluster_flag.map(str::to_string))
        .ok_or_else(|| bad("no /clusters/<name>/ in it"))?;
    let task = find_after("tasks").ok_or_else(|| bad("no /tasks/<id>/ in it"))?;
    if !is_task_id(&task) {
        return Err(bad("the task id is malformed"));
    }
    let region = url
        .query_pairs()
        .find(|(k, _)| k == "region")
        .map(|(_, v)| v.to_string())
        .or_else(|| {
            host.split('.')
                .next()
                .filter(|p| p.contains('-'))
                .map(str::to_string)
        });
    Ok(TaskTarget {
        task,
        cluster,
        region,
        account: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_arn_gives_region_account_cluster() {
        let t = parse(
            "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef",
            None,
        )
        .unwrap();
        assert_eq!(t.cluster, "prod");
        assert_eq!(t.region.as_deref(), Some("eu-west-1"));
        assert_eq!(t.account.as_deref(), Some("123456789012"));
    }

    #[test]
    fn old_arn_needs_cluster() {
        assert!(parse(
            "arn:aws:ecs:us-east-1:123456789012:task/0123456789abcdef0123456789abcdef",
            None
        )
        .is_err());
        let t = parse(
            "arn:aws:ecs:us-east-1:123456789012:task/0123456789abcdef0123456789abcdef",
            Some("c"),
        )
        .unwrap();
        assert_eq!(t.cluster, "c");
    }

    #[test]
    fn malformed_arns_are_rejected() {
        for bad in [
            "arn:aws:ecs:us-east-1:123:task/c/abc",
            "arn:aws:s3:::bucket",
            "arn:aws:ecs:us-east-1:123456789012:service/c/web",
            "arn:aws:ecs::123456789012:task/c/abc",
            "not a task",
            "arn:aws:ecs:us-east-1:123456789012:task/c/a/b",
        ] {
            assert!(parse(bad, None).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn task_id_with_cluster_and_mismatch() {
        assert!(parse("abc123", None).is_err());
        assert_eq!(parse("abc123", Some("c")).unwrap().cluster, "c");
        assert!(parse(
            "arn:aws:ecs:us-east-1:123456789012:task/prod/abc",
            Some("staging")
        )
        .is_err());
    }

    #[test]
    fn console_urls() {
        let t = parse("https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/0123abc/configuration?region=us-east-1", None).unwrap();
        assert_eq!(
            (t.cluster.as_str(), t.task.as_str(), t.region.as_deref()),
            ("prod", "0123abc", Some("us-east-1"))
        );
        let t = parse("https://console.aws.amazon.com/ecs/home?region=eu-west-1#/clusters/prod/tasks/abc/details", None).unwrap();
        assert_eq!(
            (t.cluster.as_str(), t.task.as_str(), t.region.as_deref()),
            ("prod", "abc", Some("eu-west-1"))
        );
        assert!(parse("https://example.com/clusters/x/tasks/y", None).is_err());
    }

    proptest::proptest! {
        /// Any text a user pastes is a target or a bad-usage error (exit 2),
        /// never a panic, and an error echoes it in bounded length.
        #[test]
        fn any_input_is_a_target_or_a_usage_error(
            input in proptest::prop_oneof![
                ".{0,200}",
                "arn:aws:ecs:[a-z0-9-]{0,12}:[0-9]{0,12}:task/[a-zA-Z0-9/_-]{0,60}",
                "https://[a-z0-9-]{0,12}\\.console\\.aws\\.amazon\\.com/ecs/v2/[a-zA-Z0-9/?=&_-]{0,80}",
                "[a-f0-9]{0,40}",
                ".{1000,3000}",
            ],
            cluster in proptest::option::of("[a-zA-Z0-9/_-]{0,30}"),
        ) {
            match parse(&input, cluster.as_deref()) {
                Ok(t) => proptest::prop_assert!(!t.task.is_empty() && !t.cluster.is_empty()),
                Err(e) => {
                    proptest::prop_assert_eq!(e.exit_code(), crate::error::exit::USAGE);
                    proptest::prop_assert!(e.to_string().chars().count() < 400, "{}", e);
                }
            }
        }
    }
}
