//! A preflight's collection: the task definition (registered, or from a
//! file), the service's network configuration and load balancers (or the
//! subnets and groups given), and everything a task of it would need to
//! start. No task has run, so there is no task to describe: a stand-in
//! task carries what the service and the task definition say.

use super::{connect, ecs, gather::gather, required, td_file, Collector};
use crate::cli::PreflightArgs;
use crate::error::DoctorError;
use ecs_doctor_checks::arn;
use ecs_doctor_checks::evidence::{
    Evidence, Fact, Inputs, Question, Service, Task, TaskDefinition,
};

/// Collect what a preflight judges.
pub async fn preflight(args: &PreflightArgs) -> Result<Evidence, DoctorError> {
    let file = match &args.file {
        Some(path) => Some(td_file::read(path)?),
        None => None,
    };
    preflight_of(args, file).await
}

/// Collect what a preflight judges, with the task definition of a file
/// (or given inline) already read, if there is one.
pub async fn preflight_of(
    args: &PreflightArgs,
    file: Option<TaskDefinition>,
) -> Result<Evidence, DoctorError> {
    let arn_region = args
        .cluster
        .as_deref()
        .and_then(arn::region)
        .map(str::to_string);
    let collector = connect(arn_region.as_ref(), None, &args.aws).await?;
    let mut task = Task {
        cluster_arn: args.cluster.clone().unwrap_or_default(),
        last_status: "PREFLIGHT".into(),
        ..Default::default()
    };
    let service = service(&collector, args, &mut task).await?;
    let task_definition = match file {
        Some(td) => Fact::gathered(td),
        None => {
            task.task_definition_arn = match (&args.task_definition, service.value()) {
                (Some(td), _) => td.clone(),
                (None, Some(s)) => s.task_definition.clone().unwrap_or_default(),
                (None, None) => {
                    return Err(DoctorError::BadInput(
                        "preflight needs --service and --cluster, --task-definition, or --file"
                            .into(),
                    ))
                }
            };
            ecs::task_definition(&collector, &task).await
        }
    };
    describe_task_definition(&mut task, &task_definition, args)?;
    let placement = &args.placement;
    if service.value().is_none() && placement.subnets.is_empty() {
        return Err(DoctorError::BadInput(
            "give --service (its network configuration) or --subnet and --security-group: the network is part of what a preflight checks".into(),
        ));
    }
    let collector = Collector {
        account: account(&service, &task_definition),
        ..collector
    };
    let inputs = Inputs {
        from_cidr: None,
        subnets: placement.subnets.clone(),
        security_groups: placement.security_groups.clone(),
        // AWS defaults assignPublicIp to DISABLED.
        assign_public_ip: placement
            .assign_public_ip
            .or_else(|| (!placement.subnets.is_empty()).then_some(false)),
        log_lines: 0,
        task_source: None,
    };
    let eni = Fact::not_applicable("no task has run yet");
    Ok(gather(
        collector,
        task,
        task_definition,
        service,
        eni,
        inputs,
        Question::Preflight,
    )
    .await)
}

/// The service `--service` names in `--cluster`, if given: a task of it
/// would have its group, launch type and platform version, and the
/// cluster's ARN in the service's account.
async fn service(
    collector: &Collector,
    args: &PreflightArgs,
    task: &mut Task,
) -> Result<Fact<Service>, DoctorError> {
    let (Some(name), Some(cluster)) = (&args.service, &args.cluster) else {
        return Ok(Fact::not_applicable("no --service given"));
    };
    let service = ecs::service_named(collector, cluster, name).await;
    let found = required(
        &service,
        |detail| super::service_absent(detail, cluster, &collector.region),
        args.aws.profile.as_deref(),
        "a preflight of a service needs its task definition and network configuration",
    )?;
    if let Some(value) = found {
        task.group = Some(format!("service:{}", value.name));
        task.launch_type = value.launch_type.clone();
        task.platform_version = value.platform_version.clone();
        // The service ARN names the cluster's account.
        if let Some(account) = arn::account(&value.arn).filter(|_| !cluster.starts_with("arn:")) {
            task.cluster_arn = arn::format(
                ecs_doctor_checks::iam::permissions::partition(&collector.region),
                "ecs",
                &collector.region,
                account,
                &format!("cluster/{cluster}"),
            );
        }
    }
    Ok(service)
}

/// What the task definition says of a task of it (its ARN or file label,
/// Fargate); a preflight cannot go on without it.
fn describe_task_definition(
    task: &mut Task,
    task_definition: &Fact<TaskDefinition>,
    args: &PreflightArgs,
) -> Result<(), DoctorError> {
    let Some(td) = task_definition.value() else {
        let name = task.task_definition_arn.clone();
        required(
            task_definition,
            |detail| format!("task definition {name}: {detail}"),
            args.aws.profile.as_deref(),
            "a preflight judges the task definition",
        )?;
        return Ok(());
    };
    task.task_definition_arn = if td.arn.is_empty() {
        format!("{} (from a file)", td.label())
    } else {
        td.arn.clone()
    };
    if task.launch_type.is_none()
        && td
            .requires_compatibilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case("FARGATE"))
    {
        task.launch_type = Some("FARGATE".into());
    }
    Ok(())
}

/// The account a preflight's task would run in: the first that the
/// service, the task definition or its execution role names.
fn account(service: &Fact<Service>, task_definition: &Fact<TaskDefinition>) -> Option<String> {
    [
        service.value().map(|s| s.arn.as_str()),
        task_definition.value().map(|t| t.arn.as_str()),
        task_definition
            .value()
            .and_then(|t| t.execution_role_arn.as_deref()),
    ]
    .into_iter()
    .flatten()
    .find_map(arn::account)
    .map(str::to_string)
}
