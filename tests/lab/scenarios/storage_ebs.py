"""Storage: ECS-managed EBS volumes that ECS could not create or attach.

Built through the AWS APIs: the infrastructure role (CreateRole with its trust
policy, AttachRolePolicy of AWS's `AmazonECSInfrastructureRolePolicyForVolumes`,
moto's copy), the KMS key (CreateKey, DisableKey), a snapshot (CreateVolume then
CreateSnapshot), the volume a task kept (CreateVolume), the task definition whose
volume `data` is `configuredAtLaunch`, and service `web` (CreateService).

Set in-process, because only ECS writes them and moto models neither: the service's
`volumeConfigurations` (moto keeps none), the task's `AmazonElasticBlockStorage`
attachment with its status and `statusReason` (`Lab.set_ebs_attachment`), and the
Fargate agent's verdict (stop code, stop reason, timeline). The status reasons are
the texts AWS documents (troubleshoot-ebs-volumes-scenarios.html); the stop reason
of a task whose volume failed is the bare `Task failed to start`.
"""

from __future__ import annotations

import json

from labkit import ACCOUNT, Lab, Probe, TaskRef, init_failure_timeline, pull_failure_timeline, scenario

REGION = "us-east-1"
VOLUMES_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSInfrastructureRolePolicyForVolumes"
BARE = "Task failed to start"
UNASSUMABLE = (
    "ECS was unable to assume the configured ECS Infrastructure Role "
    f"'arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRole'. Please verify that the role being passed "
    "has the proper trust relationship with Amazon ECS"
)
SETUP_FAILED = (
    "ECS failed to set up the EBS volume. Encountered IdempotentParameterMismatch\"; \"The client token you "
    "have provided is associated with a resource that is already deleted. Please use a different client token.\""
)
MOUNT_POINTS = {"mountPoints": [{"sourceVolume": "data", "containerPath": "/var/lib/data", "readOnly": False}]}
VOLUMES = {"volumes": [{"name": "data", "configuredAtLaunch": True}]}


def _infrastructure_role(lab: Lab, trusted: str, inline: dict | None = None) -> str:
    return lab.build_role("ecsInfrastructureRole", trusted_service=trusted, managed=[VOLUMES_POLICY],
                          inline=inline, description="lets ECS manage the tasks' EBS volumes")


def _service_task(lab: Lab, managed: dict) -> tuple[object, TaskRef]:
    """Service `web` in private subnets behind a NAT gateway, its volume `data`
    configured at launch with `managed`, and one task it launched."""
    stack = lab.build_web_stack(network_opts={"public": False, "nat": True}, container_opts=MOUNT_POINTS,
                                task_definition_opts=VOLUMES)
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=False, created=lab.ago(days=2))
    lab.set_service_volume_configurations(stack.cluster, "web", [{"name": "data", "managedEBSVolume": managed}])
    task = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    return stack, task


def _volume_failed(lab: Lab, task: TaskRef, role: str, reason: str) -> None:
    containers = [{"name": "web", "exit_code": None, "reason": None, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="TaskFailedToStart", stopped_reason=BARE,
                    timeline=init_failure_timeline(lab.ago(minutes=3)), containers=containers)
    lab.set_ebs_attachment(task, "data", "FAILED", role, status_reason=reason)
    lab.verify_stopped_task(task, containers)


@scenario("ebs-infrastructure-role-untrusted",
          summary="the EBS volume's infrastructure role trusts ecs-tasks.amazonaws.com instead of ecs.amazonaws.com")
def ebs_role_untrusted(lab: Lab) -> dict:
    role = _infrastructure_role(lab, "ecs-tasks.amazonaws.com")
    stack, task = _service_task(lab, {"roleArn": role, "sizeInGiB": 20, "volumeType": "gp3",
                                      "filesystemType": "ext4"})
    _volume_failed(lab, task, role, UNASSUMABLE)
    return {"cluster": stack.cluster, "task_arn": task.arn, "role_arn": role, "trusted": "ecs-tasks.amazonaws.com"}


@ebs_role_untrusted.check
def _(p: Probe) -> None:
    role = p.client("iam").get_role(RoleName="ecsInfrastructureRole")["Role"]
    p.equal(role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"], "ecs-tasks.amazonaws.com",
            "the role trusts the tasks' principal")
    att = [a for a in p.task()["attachments"] if a["type"] == "AmazonElasticBlockStorage"][0]
    p.equal(att["status"], "FAILED", "the EBS attachment")


@scenario("ebs-kms-key-disabled",
          summary="the EBS volume is encrypted with a customer managed key that is disabled")
def ebs_kms_key_disabled(lab: Lab) -> dict:
    kms = lab.client("kms")
    key = kms.create_key(Description="web data volumes")["KeyMetadata"]
    kms.disable_key(KeyId=key["KeyId"])
    role = _infrastructure_role(lab, "ecs.amazonaws.com", inline={"web-data-key": {
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Resource": key["Arn"],
            "Action": ["kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt"]}]}})
    stack, task = _service_task(lab, {"roleArn": role, "sizeInGiB": 20, "volumeType": "gp3",
                                      "encrypted": True, "kmsKeyId": key["Arn"], "filesystemType": "ext4"})
    _volume_failed(lab, task, role, SETUP_FAILED)
    return {"cluster": stack.cluster, "task_arn": task.arn, "key_id": key["KeyId"], "key_arn": key["Arn"]}


@ebs_kms_key_disabled.check
def _(p: Probe) -> None:
    meta = p.client("kms").describe_key(KeyId=p.info["key_id"])["KeyMetadata"]
    p.equal(meta["KeyState"], "Disabled", "the key")


@scenario("ebs-volume-fine-image-missing",
          summary="the EBS volume (from a snapshot) attached; the task then failed to pull tag v3, which ECR lacks")
def ebs_volume_fine(lab: Lab) -> dict:
    ec2 = lab.client("ec2")
    role = _infrastructure_role(lab, "ecs.amazonaws.com")
    seed = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=20, VolumeType="gp3")["VolumeId"]
    snapshot = ec2.create_snapshot(VolumeId=seed, Description="web data seed")["SnapshotId"]
    stack = lab.build_web_stack(network_opts={"public": False, "nat": True}, container_opts=MOUNT_POINTS,
                                task_definition_opts=VOLUMES, tags=("v1", "v2"), image_tag="v3")
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=False, created=lab.ago(days=2))
    lab.set_service_volume_configurations(stack.cluster, "web", [{"name": "data", "managedEBSVolume": {
        "roleArn": role, "snapshotId": snapshot, "sizeInGiB": 20, "volumeType": "gp3",
        "filesystemType": "ext4"}}])
    task = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    zone = lab.client("ecs").describe_tasks(cluster=stack.cluster, tasks=[task.arn])["tasks"][0]["availabilityZone"]
    # The volume ECS made for the task and kept (deleteOnTermination false), in the task's zone.
    volume = ec2.create_volume(AvailabilityZone=zone, Size=20, VolumeType="gp3", SnapshotId=snapshot)["VolumeId"]
    ref = stack.image_uri
    reason = (f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
              f"failed to resolve ref {ref}: {ref}: not found")
    containers = [{"name": "web", "exit_code": None, "reason": reason, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="TaskFailedToStart", stopped_reason=reason,
                    timeline=pull_failure_timeline(lab.ago(minutes=3)), containers=containers)
    lab.set_ebs_attachment(task, "data", "DETACHED", role, volume_id=volume, delete_on_termination=False)
    lab.verify_stopped_task(task, containers)
    return {"cluster": stack.cluster, "task_arn": task.arn, "snapshot_id": snapshot, "volume_id": volume,
            "image": ref}


@ebs_volume_fine.check
def _(p: Probe) -> None:
    snaps = p.client("ec2").describe_snapshots(SnapshotIds=[p.info["snapshot_id"]])["Snapshots"]
    p.equal(len(snaps), 1, "the snapshot")
    td = p.task_definition(p.task()["taskDefinitionArn"])
    p.equal(td["volumes"][0].get("configuredAtLaunch"), True, "the volume is configured at launch")
    svc = p.client("ecs").describe_services(cluster="prod", services=["web"])["services"][0]
    config = svc["deployments"][0]["volumeConfigurations"][0]["managedEBSVolume"]
    p.equal(config["snapshotId"], p.info["snapshot_id"], "the service's volume configuration")
    p.equal(json.dumps(config["filesystemType"]), '"ext4"', "file system type")
