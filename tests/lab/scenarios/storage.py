"""Storage: EFS volumes that cannot be mounted and ephemeral storage that fills up.

The EFS scenarios build what a user's IaC would: a file system, a mount target
in each private subnet behind its own security group, a file system policy and
a task role where the scenario needs them, and a task definition whose volume
names the file system. The web service runs in private subnets behind a NAT
gateway, so its start-up paths are fine; only the EFS path is at fault."""

from __future__ import annotations

import json
from datetime import timedelta

from labkit import (
    ACCOUNT,
    Lab,
    Probe,
    TaskRef,
    app_exit_timeline,
    init_failure_timeline,
    scenario,
)

EFS_TIMEOUT = (
    "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: "
    "mount.nfs4: Connection timed out : unsuccessful EFS utils command execution; code: 32"
)
EFS_DENIED = (
    "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: "
    "b'mount.nfs4: access denied by server while mounting 127.0.0.1:/' : unsuccessful EFS utils "
    "command execution; code: 32"
)


def _file_system(lab: Lab, stack_net, admit_group: str) -> tuple[str, str]:
    """File system `web-data` with a mount target in every task subnet, behind
    security group `web-efs`, which admits NFS from `admit_group` only."""
    ec2, efs = lab.client("ec2"), lab.client("efs")
    efs_sg = ec2.create_security_group(GroupName="web-efs", Description="web EFS mount targets",
                                       VpcId=stack_net.vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=efs_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049,
         "UserIdGroupPairs": [{"GroupId": admit_group, "Description": "NFS"}]}])
    fs = efs.create_file_system(CreationToken="web-data", PerformanceMode="generalPurpose", Encrypted=True,
                                Tags=[{"Key": "Name", "Value": "web-data"}])["FileSystemId"]
    for subnet in stack_net.task_subnet_ids:
        efs.create_mount_target(FileSystemId=fs, SubnetId=subnet, SecurityGroups=[efs_sg])
    return fs, efs_sg


def _service_task(lab: Lab, stack) -> TaskRef:
    """Service `web` (CreateService through the API) and one task it launched."""
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=False, created=lab.ago(days=2))
    return lab.run_task(stack.cluster, stack.task_definition_arn, service="web")


def _stop_before_start(lab: Lab, task: TaskRef, reason: str) -> None:
    containers = [{"name": "web", "exit_code": None, "reason": reason, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="TaskFailedToStart", stopped_reason=reason,
                    timeline=init_failure_timeline(lab.ago(minutes=3)), containers=containers)
    lab.verify_stopped_task(task, containers)


@scenario("efs-mount-failed", summary="the mount targets' security group admits NFS from the batch workers only")
def efs_mount_failed(lab: Lab) -> dict:
    net = lab.build_vpc(public=False, nat=True)
    batch_sg = lab.client("ec2").create_security_group(GroupName="batch-workers", Description="batch workers",
                                                       VpcId=net.vpc_id)["GroupId"]
    fs, efs_sg = _file_system(lab, net, admit_group=batch_sg)
    stack = lab.build_web_stack(
        network=net,
        container_opts={"mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": False}]},
        task_definition_opts={"volumes": [{"name": "data", "efsVolumeConfiguration": {
            "fileSystemId": fs, "rootDirectory": "/", "transitEncryption": "ENABLED"}}]},
    )
    task = _service_task(lab, stack)
    _stop_before_start(lab, task, EFS_TIMEOUT)
    return {"cluster": stack.cluster, "task_arn": task.arn, "file_system_id": fs, "efs_security_group": efs_sg,
            "task_security_group": net.task_security_group_id}


@efs_mount_failed.check
def _(p: Probe) -> None:
    efs = p.client("efs")
    targets = efs.describe_mount_targets(FileSystemId=p.info["file_system_id"])["MountTargets"]
    p.expect(len(targets) >= 2, "a mount target per task subnet")
    groups = efs.describe_mount_target_security_groups(MountTargetId=targets[0]["MountTargetId"])["SecurityGroups"]
    p.equal(groups, [p.info["efs_security_group"]], "mount target security group")
    td = p.task_definition(p.task()["taskDefinitionArn"])
    p.equal(td["volumes"][0]["efsVolumeConfiguration"]["fileSystemId"], p.info["file_system_id"], "volume")


BATCH_ONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "BatchWorkersOnly", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/batch-worker"},
        "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
    }],
}


@scenario("efs-access-denied", summary="IAM authorization on; the file system policy grants the batch role, not the task role")
def efs_access_denied(lab: Lab) -> dict:
    net = lab.build_vpc(public=False, nat=True)
    fs, _ = _file_system(lab, net, admit_group=net.task_security_group_id)
    lab.client("efs").put_file_system_policy(FileSystemId=fs, Policy=json.dumps(BATCH_ONLY_POLICY))
    task_role = lab.build_role("web-task", description="the web app's own permissions", inline={
        "web-s3": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::web-assets/*"}]}})
    stack = lab.build_web_stack(
        network=net,
        container_opts={"mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": False}]},
        task_definition_opts={
            "taskRoleArn": task_role,
            "volumes": [{"name": "data", "efsVolumeConfiguration": {
                "fileSystemId": fs, "transitEncryption": "ENABLED",
                "authorizationConfig": {"iam": "ENABLED"}}}],
        },
    )
    task = _service_task(lab, stack)
    _stop_before_start(lab, task, EFS_DENIED)
    return {"cluster": stack.cluster, "task_arn": task.arn, "file_system_id": fs, "task_role_arn": task_role}


@efs_access_denied.check
def _(p: Probe) -> None:
    policy = json.loads(p.client("efs").describe_file_system_policy(FileSystemId=p.info["file_system_id"])["Policy"])
    p.equal(policy["Statement"][0]["Principal"]["AWS"], f"arn:aws:iam::{ACCOUNT}:role/batch-worker", "grantee")
    td = p.task_definition(p.task()["taskDefinitionArn"])
    p.equal(td.get("taskRoleArn"), p.info["task_role_arn"], "task role")


@scenario("ephemeral-storage-exhausted", summary="a report job spools uploads to /tmp on 21 GiB of ephemeral storage")
def ephemeral_storage_exhausted(lab: Lab) -> dict:
    stack = lab.build_web_stack(family="reports", container="reports", repo="reports",
                                network_opts={"public": True}, log_group="/ecs/reports",
                                task_definition_opts={"ephemeralStorage": {"sizeInGiB": 21}})
    task = lab.run_task(stack.cluster, stack.task_definition_arn, stack.network, assign_public_ip=True)
    tl = app_exit_timeline(stopped=lab.ago(minutes=4), ran_for=timedelta(minutes=38))
    stream = lab.log_stream_for(stack, task)
    decisive = "OSError: [Errno 28] No space left on device: '/tmp/spool/export-2026-11.csv.part'"
    lab.write_logs(stack.log_group, stream, [
        (tl.started + timedelta(seconds=2), "INFO reports 2.4.1 starting, spool dir /tmp/spool"),
        (tl.started + timedelta(minutes=12), "INFO export 2026-11: 41,200,000 rows, writing CSV"),
        (tl.started + timedelta(minutes=37), "Traceback (most recent call last):"),
        (tl.started + timedelta(minutes=37, seconds=1), '  File "/app/reports/export.py", line 88, in write_chunk'),
        (tl.started + timedelta(minutes=37, seconds=1), decisive),
    ])
    containers = [{"name": "reports", "exit_code": 1}]
    lab.set_outcome(task, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited",
                    timeline=tl, containers=containers)
    lab.verify_stopped_task(task, containers)
    return {"cluster": stack.cluster, "task_arn": task.arn, "decisive_line": decisive}


@ephemeral_storage_exhausted.check
def _(p: Probe) -> None:
    td = p.task_definition(p.task()["taskDefinitionArn"])
    p.equal(td.get("ephemeralStorage"), {"sizeInGiB": 21}, "ephemeral storage")


# nginx's start under a read-only root file system, as a user quoted it (the official image's
# entrypoint, then the refused mkdir): https://github.com/namespacelabs/foundation/issues/47
NGINX_READ_ONLY = [
    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
    "10-listen-on-ipv6-by-default.sh: info: can not modify /etc/nginx/conf.d/default.conf (read-only file system?)",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
    "/docker-entrypoint.sh: Configuration complete; ready for start up",
    "2022/03/04 17:05:32 [emerg] 1#1: mkdir() \"/var/cache/nginx/client_temp\" failed (30: Read-only file system)",
    "nginx: [emerg] mkdir() \"/var/cache/nginx/client_temp\" failed (30: Read-only file system)",
]


@scenario("read-only-filesystem", summary="nginx with readonlyRootFilesystem cannot create /var/cache/nginx/client_temp")
def read_only_filesystem(lab: Lab) -> dict:
    net = lab.build_vpc(public=False, nat=True)
    stack = lab.build_web_stack(network=net, container_opts={"readonlyRootFilesystem": True, "port": 80})
    task = _service_task(lab, stack)
    tl = app_exit_timeline(stopped=lab.ago(minutes=3), ran_for=timedelta(seconds=1))
    stream = lab.log_stream_for(stack, task)
    lab.write_logs(stack.log_group, stream, [
        (tl.started + timedelta(milliseconds=20 * i), line) for i, line in enumerate(NGINX_READ_ONLY)])
    containers = [{"name": "web", "exit_code": 1}]
    lab.set_outcome(task, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited",
                    timeline=tl, containers=containers)
    lab.verify_stopped_task(task, containers)
    return {"cluster": stack.cluster, "task_arn": task.arn, "log_group": stack.log_group, "log_stream": stream,
            "decisive_line": NGINX_READ_ONLY[-1], "writable_path": "/var/cache/nginx"}


@read_only_filesystem.check
def _(p: Probe) -> None:
    td = p.task_definition(p.task()["taskDefinitionArn"])
    p.equal(td["containerDefinitions"][0].get("readonlyRootFilesystem"), True, "read-only root file system")
    p.equal(td["containerDefinitions"][0].get("mountPoints"), [], "no writable volume")
    events = p.client("logs").get_log_events(logGroupName=p.info["log_group"], logStreamName=p.info["log_stream"],
                                             startFromHead=True)["events"]
    p.equal(events[-1]["message"], p.info["decisive_line"], "the refused write is the last line")
