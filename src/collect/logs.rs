//! CloudWatch Logs: each container's last lines and the log groups the task
//! definition names.

use super::Collector;
use ecs_doctor_checks::evidence::*;

/// `awslogs` stream name: `<prefix>/<container>/<task-id>`.
fn stream_name(prefix: &str, container: &str, task_id: &str) -> String {
    format!("{prefix}/{container}/{task_id}")
}

pub async fn container_logs(
    c: &Collector,
    task: &Task,
    td: Option<&TaskDefinition>,
    limit: u32,
) -> Vec<ContainerLogs> {
    let Some(td) = td else { return Vec::new() };
    let end_ms = task
        .timestamps
        .stopped_at
        .as_deref()
        .and_then(|s| {
            aws_smithy_types::DateTime::from_str(s, aws_smithy_types::date_time::Format::DateTime)
                .ok()
        })
        .map(|d| d.to_millis().unwrap_or(i64::MAX).saturating_add(60_000));
    let futures = td.containers.iter().map(|cd| async move {
        let Some(log) = &cd.log_configuration else {
            c.gap(
                "logs:GetLogEvents",
                "not in CloudWatch Logs",
                &format!(
                    "the log lines of container {}: it has no log configuration, so its output was not kept anywhere",
                    cd.name
                ),
            );
            return ContainerLogs {
                container: cd.name.clone(),
                driver: "none".into(),
                lines: Fact::not_applicable("the container has no log configuration"),
                ..Default::default()
            };
        };
        if log.driver != "awslogs" {
            let destination = ecs_doctor_checks::logs::excerpt::destination(&log.driver, Some(log));
            c.gap(
                "logs:GetLogEvents",
                "not in CloudWatch Logs",
                &format!(
                    "the log lines of container {}: they went to {destination}; read them there",
                    cd.name
                ),
            );
            return ContainerLogs {
                container: cd.name.clone(),
                driver: log.driver.clone(),
                lines: Fact::not_applicable(format!("logs go to the {} driver, not CloudWatch Logs", log.driver)),
                ..Default::default()
            };
        }
        let group = log.options.get("awslogs-group").cloned();
        let region = log.options.get("awslogs-region").cloned().unwrap_or_else(|| c.region.clone());
        let prefix = log.options.get("awslogs-stream-prefix").cloned();
        let (Some(group_name), Some(prefix)) = (group.clone(), prefix) else {
            return ContainerLogs {
                container: cd.name.clone(),
                driver: log.driver.clone(),
                group,
                region: Some(region),
                lines: Fact::not_applicable("awslogs-group or awslogs-stream-prefix is not set, so the stream name is unknown"),
                ..Default::default()
            };
        };
        let stream = stream_name(&prefix, &cd.name, &task.id);
        if limit == 0 {
            // `--log-lines 0`: no log events are read at all.
            return ContainerLogs { container: cd.name.clone(), driver: log.driver.clone(), group, stream: Some(stream), region: Some(region), lines: Fact::not_applicable("--log-lines 0: no log lines were read") };
        }
        c.log_reads.wait(&region).await;
        let result = c
            .logs_in(&region)
            .get_log_events()
            .log_group_name(&group_name)
            .log_stream_name(&stream)
            .start_from_head(false)
            .limit(limit as i32)
            .set_end_time(end_ms)
            .send()
            .await;
        let lines = match c.fact("logs:GetLogEvents", &format!("the log lines of container {}", cd.name), result) {
            Fact::Absent { .. } => Fact::absent(format!(
                "log stream {stream} does not exist in {group_name}"
            )),
            other => other.map(|out| {
                out.events()
                    .iter()
                    .map(|e| LogLine {
                        timestamp: e
                            .timestamp()
                            .and_then(|ms| aws_smithy_types::DateTime::from_millis(ms).fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
                        message: e.message().unwrap_or_default().trim_end().to_string(),
                    })
                    .collect()
            }),
        };
        ContainerLogs { container: cd.name.clone(), driver: log.driver.clone(), group, stream: Some(stream), region: Some(region), lines }
    });
    futures::future::join_all(futures).await
}

/// Whether each `awslogs-group` exists.
pub async fn log_groups(c: &Collector, td: Option<&TaskDefinition>) -> Vec<LogGroupEvidence> {
    let Some(td) = td else { return Vec::new() };
    let mut wanted: Vec<(String, String)> = td
        .containers
        .iter()
        .filter_map(|cd| cd.log_configuration.as_ref())
        .filter(|l| l.driver == "awslogs")
        .filter_map(|l| {
            let group = l.options.get("awslogs-group")?.clone();
            let region = l
                .options
                .get("awslogs-region")
                .cloned()
                .unwrap_or_else(|| c.region.clone());
            Some((group, region))
        })
        .collect();
    wanted.sort();
    wanted.dedup();
    let futures = wanted.into_iter().map(|(name, region)| async move {
        let result = c
            .logs_in(&region)
            .describe_log_groups()
            .log_group_name_prefix(&name)
            .send()
            .await;
        let group = match c.fact(
            "logs:DescribeLogGroups",
            &format!("whether log group {name} exists"),
            result,
        ) {
            Fact::Gathered { value } => match value
                .log_groups()
                .iter()
                .find(|g| g.log_group_name() == Some(name.as_str()))
            {
                Some(g) => Fact::gathered(LogGroup {
                    arn: g.arn().map(str::to_string),
                    retention_days: g.retention_in_days(),
                    kms_key_id: g.kms_key_id().map(str::to_string),
                }),
                None => Fact::absent(format!("log group {name} does not exist in {region}")),
            },
            other => other.map(|_| LogGroup::default()),
        };
        LogGroupEvidence {
            name,
            region,
            group,
        }
    });
    futures::future::join_all(futures).await
}
