//! ECS-managed EBS volumes: the volume configured at launch, as the
//! service's deployment gives it, the infrastructure role it names, its KMS
//! key and its key policy, its snapshot and the volume ECS created. Describe and get calls only.

use super::{iam, kms, Collector};
use ecs_doctor_checks::evidence::*;

const IMPACT: &str = "the EBS volume check (ebs-volume-failed)";

/// What the task's ECS-managed EBS volume needs, when its task definition
/// has a volume configured at launch.
pub async fn volume(
    c: &Collector,
    td: Option<&TaskDefinition>,
    task: &Task,
    service: Option<&Service>,
) -> Fact<EbsEvidence> {
    let Some(td) = td else {
        return Fact::not_applicable("the task definition could not be read");
    };
    let Some(volume) = td.volumes.iter().find(|v| v.configured_at_launch) else {
        return Fact::not_applicable("no volume of the task definition is configured at launch");
    };
    let config = configuration(&volume.name, task, service);
    let given = config.value().cloned().unwrap_or_default();
    let role_arn = given.role_arn.clone().or_else(|| {
        task.ebs_attachment
            .as_ref()
            .and_then(|a| a.role_arn.clone())
    });
    let volume_id = task
        .ebs_attachment
        .as_ref()
        .and_then(|a| a.volume_id.clone());
    let (role, (kms_key, key_policy), snapshot, volume_read) = tokio::join!(
        async {
            match &role_arn {
                Some(arn) => iam::infrastructure_role(c, arn).await,
                None => Fact::not_applicable("no infrastructure role is known"),
            }
        },
        async {
            match &given.kms_key_id {
                Some(key) => {
                    let read = kms::key(c, key, IMPACT).await;
                    (read.described, read.policy)
                }
                None => {
                    let why = "the volume configuration names no KMS key";
                    (Fact::not_applicable(why), Fact::not_applicable(why))
                }
            }
        },
        async {
            match &given.snapshot_id {
                Some(id) => snapshot(c, id).await,
                None => Fact::not_applicable("the volume configuration names no snapshot"),
            }
        },
        async {
            match &volume_id {
                Some(id) => ebs_volume(c, id).await,
                None => Fact::not_applicable("the attachment names no volume"),
            }
        },
    );
    Fact::gathered(EbsEvidence {
        volume_name: volume.name.clone(),
        config,
        role,
        kms_key,
        key_policy,
        snapshot,
        volume: volume_read,
    })
}

/// The volume's configuration from the deployment that started the task
/// (its `startedBy`), else the service's primary deployment.
fn configuration(name: &str, task: &Task, service: Option<&Service>) -> Fact<ManagedEbsVolume> {
    let Some(service) = service else {
        return Fact::not_applicable(
            "a standalone task: ECS keeps RunTask's volume configuration nowhere it can be read",
        );
    };
    let deployment = service
        .deployments
        .iter()
        .find(|d| task.started_by.as_deref() == Some(d.id.as_str()))
        .or_else(|| {
            service
                .deployments
                .iter()
                .find(|d| d.status.as_deref() == Some("PRIMARY"))
        });
    match deployment.and_then(|d| d.volume_configurations.iter().find(|(n, _)| n == name)) {
        Some((_, m)) => Fact::gathered(m.clone()),
        None => Fact::not_applicable(format!(
            "the service's deployments give no configuration for volume {name}"
        )),
    }
}

async fn snapshot(c: &Collector, id: &str) -> Fact<Snapshot> {
    let got = c.ec2().describe_snapshots().snapshot_ids(id).send().await;
    match c.fact("ec2:DescribeSnapshots", IMPACT, got) {
        Fact::Gathered { value } => match value.snapshots().first() {
            Some(s) => Fact::gathered(Snapshot {
                id: s.snapshot_id().unwrap_or(id).to_string(),
                state: s.state().map(|x| x.as_str().to_string()),
                encrypted: s.encrypted(),
                kms_key_id: s.kms_key_id().map(str::to_string),
            }),
            None => Fact::absent(format!("snapshot {id} does not exist")),
        },
        Fact::Absent { .. } => Fact::absent(format!("snapshot {id} does not exist")),
        other => other.map(|_| Snapshot::default()),
    }
}

async fn ebs_volume(c: &Collector, id: &str) -> Fact<EbsVolume> {
    let got = c.ec2().describe_volumes().volume_ids(id).send().await;
    match c.fact("ec2:DescribeVolumes", IMPACT, got) {
        Fact::Gathered { value } => match value.volumes().first() {
            Some(v) => Fact::gathered(EbsVolume {
                id: v.volume_id().unwrap_or(id).to_string(),
                availability_zone: v.availability_zone().map(str::to_string),
                state: v.state().map(|s| s.as_str().to_string()),
            }),
            None => Fact::absent(format!("volume {id} does not exist")),
        },
        Fact::Absent { .. } => Fact::absent(format!("volume {id} does not exist")),
        other => other.map(|_| EbsVolume::default()),
    }
}
