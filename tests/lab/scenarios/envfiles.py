"""Environment files in S3 (`environmentFiles`) that the Fargate agent could not download.

Built through the AWS APIs: the bucket and its objects (CreateBucket, PutObject), the
execution role with an inline policy allowing `s3:GetObject` on the bucket's objects and
`s3:GetBucketLocation` on the bucket (CreateRole, PutRolePolicy), and the task definition
whose container `web` names the file (RegisterTaskDefinition). The web stack runs in a
public subnet with a public IP, so the network path to S3 is never the cause.

Set in-process, because only the Fargate agent writes it: the task's verdict (stop code,
stop reason, timeline). The one published text of a refused download that was in fact a
missing object is `… operation error S3: HeadObject, https response error StatusCode: 403,
api error Forbidden: Forbidden.` (OneClickTag/OneClickTag, ENV_FILES_FIX.md: the bucket was
empty); S3 answers 403 for a missing key to a caller without `s3:ListBucket`. No text of a
missing bucket is published, so that scenario's task stops with the bare `Task failed to
start` and the judgement rests on what S3 says.
"""

from __future__ import annotations

import json
from typing import Any

from labkit import Lab, Probe, TaskRef, init_failure_timeline, pull_failure_timeline, scenario

BUCKET = "app-config"
KEY = "prod/web.env"
FORBIDDEN = (
    "ResourceInitializationError: failed to download env files: service call has been retried 1 time(s): "
    "operation error S3: HeadObject, https response error StatusCode: 403, api error Forbidden: Forbidden."
)
BARE = "Task failed to start"


def _env_file_policy(bucket: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": f"arn:aws:s3:::{bucket}"},
    ]}


def _bucket(lab: Lab, objects: dict[str, str]) -> None:
    s3 = lab.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for key, body in objects.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode())


def _stack_task(lab: Lab, bucket: str = BUCKET, **kw: Any) -> tuple[Any, TaskRef]:
    stack = lab.build_web_stack(
        network_opts={"public": True},
        execution_role_opts={"inline": {"web-env-files": _env_file_policy(bucket)}},
        container_opts={"environmentFiles": [{"type": "s3", "value": f"arn:aws:s3:::{bucket}/{KEY}"}]},
        **kw,
    )
    task = lab.run_task(stack.cluster, stack.task_definition_arn, stack.network, assign_public_ip=True)
    return stack, task


def _stop(lab: Lab, task: TaskRef, reason: str, timeline=None) -> None:
    containers = [{"name": "web", "exit_code": None, "reason": reason, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="TaskFailedToStart", stopped_reason=reason,
                    timeline=timeline or init_failure_timeline(lab.ago(minutes=3)), containers=containers)
    lab.verify_stopped_task(task, containers)


def _info(stack: Any, task: TaskRef, **extra: Any) -> dict:
    return {"cluster": stack.cluster, "task_arn": task.arn, "bucket": BUCKET, "key": KEY, **extra}


@scenario("envfile-object-missing",
          summary="the task's environment file prod/web.env is not in bucket app-config (staging/web.env is)")
def envfile_object_missing(lab: Lab) -> dict:
    _bucket(lab, {"staging/web.env": "LOG_LEVEL=debug\n"})
    stack, task = _stack_task(lab)
    _stop(lab, task, FORBIDDEN)
    return _info(stack, task)


@envfile_object_missing.check
def _(p: Probe) -> None:
    keys = [o["Key"] for o in p.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    p.equal(keys, ["staging/web.env"], "the bucket's objects")
    td = p.task_definition(p.task()["taskDefinitionArn"])
    p.equal(td["containerDefinitions"][0]["environmentFiles"][0]["value"], f"arn:aws:s3:::{BUCKET}/{KEY}",
            "the environment file")


@scenario("envfile-bucket-missing",
          summary="the task's environment file names bucket app-config-prod, which does not exist")
def envfile_bucket_missing(lab: Lab) -> dict:
    _bucket(lab, {KEY: "LOG_LEVEL=info\n"})
    stack, task = _stack_task(lab, bucket="app-config-prod")
    _stop(lab, task, BARE)
    return _info(stack, task, missing_bucket="app-config-prod")


@envfile_bucket_missing.check
def _(p: Probe) -> None:
    names = [b["Name"] for b in p.client("s3").list_buckets()["Buckets"]]
    p.expect(BUCKET in names and "app-config-prod" not in names, "buckets")


@scenario("envfile-fine-image-missing",
          summary="the environment file is in place; the task then failed to pull tag v3, which ECR lacks")
def envfile_fine_image_missing(lab: Lab) -> dict:
    _bucket(lab, {KEY: "LOG_LEVEL=info\nPORT=3000\n"})
    stack, task = _stack_task(lab, tags=("v1", "v2"), image_tag="v3")
    ref = stack.image_uri
    reason = (f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
              f"failed to resolve ref {ref}: {ref}: not found")
    _stop(lab, task, reason, pull_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, image=ref)


@envfile_fine_image_missing.check
def _(p: Probe) -> None:
    head = p.client("s3").head_object(Bucket=BUCKET, Key=KEY)
    p.expect(head["ContentLength"] > 0, "the environment file")


# The published text of a download that timed out (aws/aws-cli#6470).
TIMED_OUT = (
    "ResourceInitializationError: failed to download env files: file download command: non empty error "
    "stream: RequestCanceled: request context canceled caused by: context deadline exceeded"
)


@scenario("envfile-bucket-other-region",
          summary="the environment file's bucket is in eu-west-1; the task's endpoints-only VPC reaches S3 in "
                  "us-east-1 only (its gateway endpoint)")
def envfile_bucket_other_region(lab: Lab) -> dict:
    bucket = "app-config-eu"
    s3 = lab.client("s3", region="eu-west-1")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket=bucket, Key=KEY, Body=b"LOG_LEVEL=info\n")
    stack = lab.build_web_stack(
        network_opts={"public": False, "nat": False, "endpoints": ["ecr.api", "ecr.dkr", "logs", "s3"]},
        execution_role_opts={"inline": {"web-env-files": _env_file_policy(bucket)}},
        container_opts={"environmentFiles": [{"type": "s3", "value": f"arn:aws:s3:::{bucket}/{KEY}"}]},
    )
    task = lab.run_task(stack.cluster, stack.task_definition_arn, stack.network, assign_public_ip=False)
    _stop(lab, task, TIMED_OUT)
    return {"cluster": stack.cluster, "task_arn": task.arn, "bucket": bucket, "key": KEY,
            "bucket_region": "eu-west-1"}


@envfile_bucket_other_region.check
def _(p: Probe) -> None:
    where = p.client("s3").get_bucket_location(Bucket=p.info["bucket"])["LocationConstraint"]
    p.equal(where, "eu-west-1", "the bucket's Region")


# S3 refusing the download (aws/aws-cdk#12720, a comment of 2023-02-04).
ACCESS_DENIED = (
    "ResourceInitializationError: failed to download env files: file download command: non-empty error stream: "
    "failed to download file 1.env: failed to write to a temporary file: AccessDenied: Access Denied"
)


@scenario("envfile-bucket-policy-denies",
          summary="the file is in place and the execution role may read it, but bucket app-config's policy "
                  "denies that role s3:GetObject")
def envfile_bucket_policy_denies(lab: Lab) -> dict:
    """The published text was a role without s3:GetObject; S3 words a bucket
    policy's refusal of the download the same way (AccessDenied)."""
    _bucket(lab, {KEY: "LOG_LEVEL=info\n"})
    stack, task = _stack_task(lab)
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "OnlyDeployRole", "Effect": "Deny", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*", "Principal": {"AWS": stack.execution_role_arn}}]}
    lab.client("s3").put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    _stop(lab, task, ACCESS_DENIED)
    return _info(stack, task, statement="OnlyDeployRole")


@envfile_bucket_policy_denies.check
def _(p: Probe) -> None:
    policy = json.loads(p.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"])
    p.equal(policy["Statement"][0]["Effect"], "Deny", "the bucket policy")
