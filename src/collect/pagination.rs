//! Every listing a collector reads is read to its last page: a call of an
//! operation that paginates (its output has a next token) goes through the
//! SDK's `into_paginator()`, or is allow-listed here with the reason one
//! page holds the whole answer. A listing cut at its first page would drop
//! what a large account has on the second, silently.

use std::path::Path;

/// The operations that paginate, as `service operation` lines.
const PAGINATED: &str = include_str!("paginated_operations.txt");

/// Calls of a paginated operation that read one page on purpose: the
/// file, the operation, a fragment the call must contain (what makes one
/// page enough), and why.
const ONE_PAGE_ENOUGH: &[(&str, &str, &str, &str)] = &[
    ("network.rs", "describe_network_interfaces", ".network_interface_ids(", "the task's one ENI, by its id"),
    ("network.rs", "describe_subnets", ".set_subnet_ids(", "the task's subnets, by their ids"),
    ("network.rs", "describe_vpcs", ".vpc_ids(", "the task's one VPC, by its id"),
    ("network.rs", "describe_prefix_lists", ".set_prefix_list_ids(", "the prefix lists routes and rules name, by their ids"),
    ("ecr.rs", "describe_images", ".image_ids(", "one image, by its tag or digest"),
    ("ebs.rs", "describe_snapshots", ".snapshot_ids(", "one snapshot, by its id"),
    ("ebs.rs", "describe_volumes", ".volume_ids(", "one volume, by its id"),
    ("efs.rs", "describe_file_systems", ".file_system_id(", "one file system, by its id"),
    ("efs.rs", "describe_access_points", ".access_point_id(", "one access point, by its id"),
    ("elb.rs", "describe_target_groups", ".target_group_arns(", "one target group, by its ARN"),
    ("elb.rs", "describe_load_balancers", ".set_load_balancer_arns(", "the load balancers one target group names, by their ARNs"),
    ("logs.rs", "describe_log_groups", ".log_group_name_prefix(", "the groups whose names start with the one wanted come ASCII-sorted, so the exact name, which sorts before every longer one, is on the first page"),
    ("logs.rs", "get_log_events", ".limit(", "the last --log-lines events of a stream, which one page holds"),
    ("envfiles.rs", "list_objects_v2", ".max_keys(1)", "whether one key exists: listed with the key as the prefix, the key itself sorts first"),
    ("simulate.rs", "simulate_principal_policy", ".resource_arns(", "one resource and the few actions needed on it: fewer results than a page holds"),
];

/// The source of `text` without comments and without its test module.
fn code_of(text: &str) -> String {
    let text = text.split("\nmod tests {").next().unwrap_or(text);
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `text[at..at + len]` is a whole identifier.
fn whole_word(text: &str, at: usize, len: usize) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    !text[..at].chars().next_back().is_some_and(ident)
        && !text[at + len..].chars().next().is_some_and(ident)
}

/// Each call of a paginated operation in `code` that reads one page and is
/// not allow-listed for `file`: (operation, the call up to its `.send()`).
fn single_page_calls(file: &str, code: &str) -> Vec<(String, String)> {
    let mut operations: Vec<&str> = PAGINATED
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| Some(l.split_once(' ')?.1))
        .collect();
    operations.sort();
    operations.dedup();
    let mut found = Vec::new();
    for operation in operations {
        for (at, _) in code.match_indices(operation) {
            if !whole_word(code, at, operation.len()) {
                continue;
            }
            let rest = &code[at..];
            let call = match rest.find(".send()") {
                Some(end) => &rest[..end],
                None => rest,
            };
            let paginated = call.contains(".into_paginator()");
            let allowed = ONE_PAGE_ENOUGH.iter().any(|(f, op, fragment, _)| {
                *f == file && *op == operation && call.contains(fragment)
            });
            if !paginated && !allowed {
                found.push((operation.to_string(), call.to_string()));
            }
        }
    }
    found
}

/// Every `.rs` file under `dir`, by its file name.
fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let name = path
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .to_string();
            out.push((name, std::fs::read_to_string(&path).expect("readable")));
        }
    }
}

#[test]
fn every_listing_a_collector_reads_is_read_to_its_last_page() {
    let mut files = Vec::new();
    sources(Path::new("src/collect"), &mut files);
    assert!(files.len() > 10, "the collectors were found");
    let mut single = Vec::new();
    // This file and the mocked tests name operations without calling AWS.
    let collectors = files
        .iter()
        .filter(|(file, _)| file != "pagination.rs" && file != "tests.rs");
    for (file, text) in collectors {
        for (operation, call) in single_page_calls(file, &code_of(text)) {
            single.push(format!("{file}: {operation}: {}", call.trim()));
        }
    }
    assert!(
        single.is_empty(),
        "a paginated operation read one page: use into_paginator() with \
         Collector::listed, or allow-list why one page holds it all:\n{}",
        single.join("\n---\n")
    );
}

#[test]
fn a_single_page_listing_is_caught() {
    let code = code_of(
        r#"
        let r = ec2
            .describe_internet_gateways()
            .filters(vpc_filter("attachment.vpc-id", &vpc_id))
            .send()
            .await;
        // ec2.describe_nat_gateways().send() in a comment is not a call
        let pages = ec2
            .describe_route_tables()
            .filters(vpc_filter("vpc-id", &vpc_id))
            .into_paginator()
            .send();
        let one = ec2.describe_vpcs().vpc_ids(&vpc_id).send().await;
        let all = ec2.describe_vpcs().send().await;
        "#,
    );
    let found: Vec<String> = single_page_calls("network.rs", &code)
        .into_iter()
        .map(|(operation, _)| operation)
        .collect();
    assert_eq!(found, ["describe_internet_gateways", "describe_vpcs"]);
    // The allow-list holds for its own file only.
    let found = single_page_calls("ecs.rs", &code);
    assert_eq!(found.len(), 3, "{found:?}");
}

#[test]
fn the_paginated_operations_include_the_listings_collectors_read() {
    for operation in [
        "describe_internet_gateways",
        "describe_nat_gateways",
        "describe_vpc_endpoints",
        "describe_network_acls",
        "describe_subnets",
        "describe_route_tables",
        "describe_security_groups",
        "list_attached_role_policies",
        "list_role_policies",
        "list_tasks",
        "list_services",
        "describe_images",
        "describe_log_streams",
        "describe_mount_targets",
        "describe_parameters",
    ] {
        assert!(
            PAGINATED
                .lines()
                .any(|l| l.ends_with(&format!(" {operation}"))),
            "{operation}"
        );
    }
    for (_, operation, _, why) in ONE_PAGE_ENOUGH {
        assert!(
            PAGINATED
                .lines()
                .any(|l| l.ends_with(&format!(" {operation}"))),
            "{operation} is allow-listed but does not paginate"
        );
        assert!(!why.is_empty());
    }
}
