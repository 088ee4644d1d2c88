//! EFS: each file system the task definition mounts, its mount targets and
//! their security groups, its file system policy and the access points the
//! volumes name. Describe calls only.

use super::Collector;
use ecs_doctor_checks::evidence::*;

const IMPACT: &str = "the EFS mount check";

pub async fn file_systems(c: &Collector, td: Option<&TaskDefinition>) -> Vec<EfsEvidence> {
    let Some(td) = td else { return Vec::new() };
    let mut wanted: Vec<(String, Vec<String>)> = Vec::new();
    for efs in td.volumes.iter().filter_map(|v| v.efs.as_ref()) {
        let entry = match wanted.iter_mut().find(|(id, _)| *id == efs.file_system_id) {
            Some(e) => e,
            None => {
                wanted.push((efs.file_system_id.clone(), Vec::new()));
                wanted.last_mut().expect("just pushed")
            }
        };
        if let Some(ap) = &efs.access_point_id {
            if !entry.1.contains(ap) {
                entry.1.push(ap.clone());
            }
        }
    }
    let efs = c.efs();
    let futures = wanted.into_iter().map(|(id, access_points)| {
        let efs = efs.clone();
        async move {
            let (file_system, mount_targets, policy, access_points) = tokio::join!(
                file_system(c, &efs, &id),
                mount_targets(c, &efs, &id),
                policy(c, &efs, &id),
                futures::future::join_all(
                    access_points
                        .into_iter()
                        .map(|ap| access_point(c, &efs, ap))
                ),
            );
            EfsEvidence {
                file_system_id: id,
                file_system,
                mount_targets,
                policy,
                access_points,
            }
        }
    });
    futures::future::join_all(futures).await
}

async fn file_system(c: &Collector, efs: &aws_sdk_efs::Client, id: &str) -> Fact<FileSystem> {
    let got = efs.describe_file_systems().file_system_id(id).send().await;
    match c.fact("elasticfilesystem:DescribeFileSystems", IMPACT, got) {
        Fact::Gathered { value } => match value.file_systems().first() {
            Some(fs) => Fact::gathered(FileSystem {
                arn: fs.file_system_arn().map(str::to_string),
                life_cycle_state: Some(fs.life_cycle_state().as_str().to_string()),
                availability_zone: fs.availability_zone_name().map(str::to_string),
            }),
            None => Fact::absent(format!("file system {id} does not exist")),
        },
        Fact::Absent { .. } => Fact::absent(format!("file system {id} does not exist")),
        other => other.map(|_| FileSystem::default()),
    }
}

async fn mount_targets(
    c: &Collector,
    efs: &aws_sdk_efs::Client,
    id: &str,
) -> Fact<Vec<MountTarget>> {
    let pages = efs
        .describe_mount_targets()
        .file_system_id(id)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let found = match c.listed(
        "elasticfilesystem:DescribeMountTargets",
        IMPACT,
        pages,
        |page| page.mount_targets().to_vec(),
    ) {
        Fact::Gathered { value } => value,
        Fact::Absent { .. } => return Fact::absent(format!("file system {id} does not exist")),
        other => return other.map(|_| Vec::new()),
    };
    let futures = found.into_iter().map(|mt| {
        let efs = efs.clone();
        async move {
            let got = efs
                .describe_mount_target_security_groups()
                .mount_target_id(mt.mount_target_id())
                .send()
                .await;
            let security_groups = c
                .fact(
                    "elasticfilesystem:DescribeMountTargetSecurityGroups",
                    IMPACT,
                    got,
                )
                .map(|out| out.security_groups().to_vec());
            MountTarget {
                id: mt.mount_target_id().to_string(),
                subnet_id: mt.subnet_id().to_string(),
                availability_zone: mt.availability_zone_name().map(str::to_string),
                ip_address: mt.ip_address().map(str::to_string),
                life_cycle_state: Some(mt.life_cycle_state().as_str().to_string()),
                security_groups,
            }
        }
    });
    Fact::gathered(futures::future::join_all(futures).await)
}

async fn policy(c: &Collector, efs: &aws_sdk_efs::Client, id: &str) -> Fact<serde_json::Value> {
    let got = efs
        .describe_file_system_policy()
        .file_system_id(id)
        .send()
        .await;
    match c.fact("elasticfilesystem:DescribeFileSystemPolicy", IMPACT, got) {
        Fact::Gathered { value } => match value.policy() {
            Some(doc) => match serde_json::from_str(doc) {
                Ok(v) => Fact::gathered(v),
                Err(e) => Fact::Failed {
                    action: "elasticfilesystem:DescribeFileSystemPolicy".into(),
                    error: format!("the policy is not JSON: {e}"),
                },
            },
            None => Fact::absent(format!("file system {id} has no file system policy")),
        },
        // `PolicyNotFound`: the file system has no policy (or does not exist,
        // which the file system's own fact says).
        Fact::Absent { .. } => Fact::absent(format!("file system {id} has no file system policy")),
        other => other.map(|_| serde_json::Value::Null),
    }
}

async fn access_point(
    c: &Collector,
    efs: &aws_sdk_efs::Client,
    id: String,
) -> (String, Fact<AccessPoint>) {
    let got = efs
        .describe_access_points()
        .access_point_id(&id)
        .send()
        .await;
    let fact = match c.fact("elasticfilesystem:DescribeAccessPoints", IMPACT, got) {
        Fact::Gathered { value } => match value.access_points().first() {
            Some(ap) => Fact::gathered(AccessPoint {
                id: ap.access_point_id().unwrap_or(&id).to_string(),
                file_system_id: ap.file_system_id().unwrap_or_default().to_string(),
                life_cycle_state: ap.life_cycle_state().map(|s| s.as_str().to_string()),
                root_directory: ap
                    .root_directory()
                    .and_then(|r| r.path())
                    .map(str::to_string),
            }),
            None => Fact::absent(format!("access point {id} does not exist")),
        },
        Fact::Absent { .. } => Fact::absent(format!("access point {id} does not exist")),
        other => other.map(|_| AccessPoint::default()),
    };
    (id, fact)
}
