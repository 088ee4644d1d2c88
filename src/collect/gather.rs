//! The orchestrations of one diagnosis: which reads run, and in which
//! dependency wave. A wave starts every read that what is already known
//! allows, all at once; each read is one *piece* that fills its part of the
//! [`Evidence`]. The chain of dependent requests is the number of waves
//! plus the chains inside a piece (secrets before the simulation that needs
//! their KMS keys; IAM's `GetPolicy` before `GetPolicyVersion`), so no read
//! waits on anything it does not need (README, Performance).

use super::{ebs, ecr, ecs, efs, elb, envfiles, iam, kms, logs, network, secrets, Collector};
use crate::cli::TaskArgs;
use crate::error::DoctorError;
use crate::target::TaskTarget;
use ecs_doctor_checks::arn;
use ecs_doctor_checks::evidence::{
    Evidence, ExecEvidence, Fact, Inputs, NetworkInterface, Question, Service, Task,
    TaskDefinition, TaskPlacement,
};
use ecs_doctor_checks::iam::access;
use futures::future::BoxFuture;
use std::future::Future;

/// What a finished read writes into the evidence.
type Fill = Box<dyn FnOnce(&mut Evidence) + Send>;

/// One read of a wave, and where its answer goes.
type Piece<'a> = BoxFuture<'a, Fill>;

/// A piece: `read`, then `put` its answer into the evidence.
fn piece<'a, T: Send + 'static>(
    read: impl Future<Output = T> + Send + 'a,
    put: impl FnOnce(&mut Evidence, T) + Send + 'static,
) -> Piece<'a> {
    Box::pin(async move {
        let answer = read.await;
        Box::new(move |evidence: &mut Evidence| put(evidence, answer)) as Fill
    })
}

/// Run the pieces of one wave together and write each answer in.
async fn wave(evidence: &mut Evidence, pieces: Vec<Piece<'_>>) {
    for fill in futures::future::join_all(pieces).await {
        fill(evidence);
    }
}

/// Collect every piece of evidence about the target task that `purpose` needs.
pub async fn collect(
    target: &TaskTarget,
    args: &TaskArgs,
    purpose: Question,
) -> Result<Evidence, DoctorError> {
    let collector =
        super::connect(target.region.as_ref(), target.account.clone(), &args.aws).await?;
    let task = ecs::describe_task(
        &collector.ecs(),
        &collector.region,
        target,
        args.aws.profile.as_deref(),
    )
    .await?;
    let inputs = Inputs {
        from_cidr: args.from_cidr.clone(),
        subnets: args.placement.subnets.clone(),
        security_groups: args.placement.security_groups.clone(),
        assign_public_ip: args.placement.assign_public_ip,
        log_lines: args.log_lines,
        task_source: None,
    };
    let evidence = collect_found(&collector, task, &target.cluster, inputs, purpose).await;
    collector.print_stats();
    Ok(evidence)
}

/// Everything about a task already described (by DescribeTasks, a sweep's
/// batch, or an EventBridge event): its own gaps, the run's shared answers.
/// The first wave reads what the task names (its task definition, service
/// and ENI); the second, everything those name.
pub async fn collect_found(
    collector: &Collector,
    task: Task,
    cluster: &str,
    inputs: Inputs,
    purpose: Question,
) -> Evidence {
    let account = collector
        .account
        .clone()
        .or_else(|| arn::account(&task.arn).map(str::to_string));
    let c = collector.for_task(account);
    let mut evidence = Evidence::default();
    wave(
        &mut evidence,
        vec![
            piece(ecs::task_definition(&c, &task), |e, td| {
                e.task_definition = td
            }),
            piece(ecs::service(&c, &task, cluster), |e, s| e.service = s),
            piece(network::task_eni(&c, &task), |e, eni| e.network.eni = eni),
        ],
    )
    .await;
    let task_definition = std::mem::take(&mut evidence.task_definition);
    let service = std::mem::take(&mut evidence.service);
    let eni = std::mem::take(&mut evidence.network.eni);
    gather(c, task, task_definition, service, eni, inputs, purpose).await
}

/// What the last wave starts from: the task and what the first wave read.
struct Known<'a> {
    c: &'a Collector,
    task: &'a Task,
    td: Option<&'a TaskDefinition>,
    service: Option<&'a Service>,
    placement: Fact<TaskPlacement>,
    eni: Fact<NetworkInterface>,
    log_lines: u32,
    purpose: Question,
}

/// Everything after the task itself: what `purpose` needs, in one wave.
pub(super) async fn gather(
    c: Collector,
    task: Task,
    task_definition: Fact<TaskDefinition>,
    service: Fact<Service>,
    eni: Fact<NetworkInterface>,
    inputs: Inputs,
    purpose: Question,
) -> Evidence {
    let mut evidence = Evidence {
        region: c.region.clone(),
        account: c.account.clone(),
        purpose,
        ..Default::default()
    };
    {
        let td = task_definition.value();
        let known = Known {
            c: &c,
            task: &task,
            td,
            service: service.value(),
            placement: network::placement(&task, td, service.value(), &eni, &inputs),
            eni,
            log_lines: inputs.log_lines,
            purpose,
        };
        let pieces = pieces(&known, &mut evidence);
        wave(&mut evidence, pieces).await;
    }
    evidence.task = task;
    evidence.task_definition = task_definition;
    evidence.service = service;
    evidence.inputs = inputs;
    evidence.gaps = c.gaps();
    evidence
}

/// Every read the question's checks need (its [`Needs`]), to run in one
/// wave; what it does not need is marked not applicable.
fn pieces<'a>(k: &'a Known<'a>, evidence: &mut Evidence) -> Vec<Piece<'a>> {
    let Known { c, task, td, .. } = *k;
    let needs = k.purpose.needs();
    let mut pieces = vec![piece(
        network::network(c, k.placement.clone(), k.eni.clone()),
        |e, n| e.network = n,
    )];
    // The task role is read beside the logs when the question or an EFS
    // volume needs it; otherwise only after them, when a line says the app
    // was refused an AWS call as the task role (task-role-permissions).
    let role_first = needs.task_role || !needs.logs || td.is_some_and(iam::uses_efs_iam);
    if role_first {
        pieces.push(piece(iam::task_role(c, td, needs.task_role), |e, r| {
            e.task_role = r
        }));
    }
    if needs.exec {
        pieces.push(piece(exec(c, task), |e, exec| {
            e.exec = Fact::gathered(exec)
        }));
    } else {
        evidence.exec = Fact::not_applicable("not an ECS Exec diagnosis");
    }
    if needs.logs && role_first {
        pieces.push(piece(
            logs::container_logs(c, task, td, k.log_lines),
            |e, logs| e.logs = logs,
        ));
    } else if needs.logs {
        pieces.push(piece(
            async move {
                let logs = logs::container_logs(c, task, td, k.log_lines).await;
                let refused = td
                    .and_then(|td| td.task_role_arn.as_deref())
                    .is_some_and(|arn| access::refused_as_role(arn, &logs));
                (logs, iam::task_role(c, td, refused).await)
            },
            |e, (logs, role)| {
                e.logs = logs;
                e.task_role = role;
            },
        ));
    }
    if needs.start_up {
        pieces.extend(start_up(k));
    } else {
        let why = "not needed for this question (only for a task's start-up)";
        evidence.execution_role = Fact::not_applicable(why);
        evidence.simulation = Fact::not_applicable(why);
    }
    pieces
}

/// The cluster's exec configuration and the caller, read together.
async fn exec(c: &Collector, task: &Task) -> ExecEvidence {
    let (cluster, caller) =
        tokio::join!(ecs::exec_configuration(c, task), iam::caller(c, &task.arn),);
    ExecEvidence { cluster, caller }
}

/// What a task needs to start: its images, the execution role and its
/// access, secrets, log groups, the service's load balancers and EFS.
fn start_up<'a>(k: &'a Known<'a>) -> Vec<Piece<'a>> {
    let Known { c, task, td, .. } = *k;
    vec![
        piece(ecr::images(c, td, task), |e, images| e.images = images),
        piece(iam::execution_role(c, td), |e, r| e.execution_role = r),
        // The simulation and the key reads need the secrets' KMS keys, so
        // they follow the secrets.
        piece(
            async move {
                let secrets = secrets::secrets(c, td).await;
                let (simulation, kms) = tokio::join!(
                    iam::simulation(c, td, &secrets),
                    kms::keys(c, task, &secrets)
                );
                (secrets, simulation, kms)
            },
            |e, (secrets, simulation, kms)| {
                e.secrets = secrets;
                e.simulation = simulation;
                e.kms = kms;
            },
        ),
        piece(logs::log_groups(c, td), |e, groups| e.log_groups = groups),
        piece(elb::load_balancing(c, k.service), |e, lbs| {
            e.load_balancing = lbs
        }),
        piece(efs::file_systems(c, td), |e, efs| e.efs = efs),
        piece(ebs::volume(c, td, task, k.service), |e, ebs| e.ebs = ebs),
        piece(envfiles::env_files(c, td), |e, files| e.env_files = files),
    ]
}
