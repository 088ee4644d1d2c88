"""KMS keys that refuse a task: a secret's customer managed key whose key policy
does not let the execution role decrypt, one whose key policy delegates to the
account (the role's own policies decide), and the cluster's key for Fargate
ephemeral storage, disabled.

Built through the AWS APIs: the keys (CreateKey with their key policies,
DisableKey), the secrets (CreateSecret with KmsKeyId), the execution role with its
inline policy, the cluster's `managedStorageConfiguration`
(UpdateCluster; moto keeps the cluster's `configuration` and returns it from
DescribeClusters with `include=CONFIGURATIONS`).

Set in-process, because only ECS writes them: the Fargate agent's verdict (stop
code, stop reason, timeline). moto does not evaluate key policies: the stop
reason says what KMS would have refused. The secret's refusal is the agent's
real wording (`Access to KMS is not allowed`, as in the corpus). For the
ephemeral storage key no stop reason is published: that scenario sets the opaque
`Task failed to start` (a real text that states no cause; ECS always sets some
reason), and the judgement rests on the cluster's configuration and the key's state.
"""

from __future__ import annotations

import json

from labkit import ACCOUNT, Lab, Probe, init_failure_timeline, pull_failure_timeline, scenario

REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
ADMIN_ONLY = {
    "Version": "2012-10-17",
    "Id": "web-secrets-key",
    "Statement": [{"Sid": "KeyAdministrators", "Effect": "Allow",
                   "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/key-admin"},
                   "Action": "kms:*", "Resource": "*"}],
}
DELEGATING = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                   "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}],
}
KMS_REFUSED = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
    "failed: unable to retrieve secret from asm: service call has been retried 1 time(s): "
    "AccessDeniedException: Access to KMS is not allowed"
)


def _secret_stack(lab: Lab, key_policy: dict, **stack_opts):
    """A key under `key_policy`, secret prod/web/db encrypted with it, and a web
    stack whose execution role may read the secret and decrypt with the key."""
    kms = lab.client("kms")
    key = kms.create_key(Description="web secrets", Policy=json.dumps(key_policy))["KeyMetadata"]
    secret_arn = lab.client("secretsmanager").create_secret(
        Name="prod/web/db", KmsKeyId=key["Arn"], Description="web database credentials",
        SecretString=json.dumps({"username": "web_app", "password": "lab-not-a-secret"}),
    )["ARN"]
    role_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "WebSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:prod/web/*"},
        {"Sid": "WebSecretsKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["Arn"]},
    ]}
    stack = lab.build_web_stack(network_opts={"public": True},
                                execution_role_opts={"inline": {"web-secrets": role_policy}},
                                container_opts={"secrets": [{"name": "DB_PASSWORD",
                                                             "valueFrom": f"{secret_arn}:password::"}]},
                                **stack_opts)
    task = lab.run_task(stack.cluster, stack.task_definition_arn, stack.network, assign_public_ip=True)
    return stack, task, key, secret_arn


def _stop(lab: Lab, task, reason: str, timeline) -> None:
    containers = [{"name": "web", "exit_code": None, "reason": reason, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="TaskFailedToStart", stopped_reason=reason, timeline=timeline,
                    containers=containers)
    lab.verify_stopped_task(task, containers)


@scenario("kms-key-policy-denied",
          summary="the secret's customer managed key's policy names only a key administrator; the role's policy allows kms:Decrypt")
def kms_key_policy_denied(lab: Lab) -> dict:
    stack, task, key, secret_arn = _secret_stack(lab, ADMIN_ONLY)
    _stop(lab, task, KMS_REFUSED, init_failure_timeline(lab.ago(minutes=3)))
    return {"cluster": stack.cluster, "task_arn": task.arn, "key_arn": key["Arn"], "secret_arn": secret_arn,
            "role_arn": ROLE_ARN}


@kms_key_policy_denied.check
def _(p: Probe) -> None:
    policy = json.loads(p.client("kms").get_key_policy(KeyId=p.info["key_arn"], PolicyName="default")["Policy"])
    p.equal([s["Principal"]["AWS"] for s in policy["Statement"]], [f"arn:aws:iam::{ACCOUNT}:role/key-admin"],
            "the key policy names the key administrator only")
    meta = p.client("secretsmanager").describe_secret(SecretId=p.info["secret_arn"])
    p.equal(meta.get("KmsKeyId"), p.info["key_arn"], "the secret's key")
    p.equal(p.task().get("stopCode"), "TaskFailedToStart", "stopCode")


@scenario("kms-key-policy-delegated-image-missing",
          summary="the secret's key policy delegates to the account and the role may decrypt; the task failed to pull tag v3")
def kms_key_policy_delegated(lab: Lab) -> dict:
    stack, task, key, secret_arn = _secret_stack(lab, DELEGATING, tags=("v1", "v2"), image_tag="v3")
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web:v3"
    reason = (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
        f"{image}: {image}: not found"
    )
    _stop(lab, task, reason, pull_failure_timeline(lab.ago(minutes=3)))
    return {"cluster": stack.cluster, "task_arn": task.arn, "key_arn": key["Arn"], "secret_arn": secret_arn}


@kms_key_policy_delegated.check
def _(p: Probe) -> None:
    policy = json.loads(p.client("kms").get_key_policy(KeyId=p.info["key_arn"], PolicyName="default")["Policy"])
    p.equal(policy["Statement"][0]["Principal"]["AWS"], f"arn:aws:iam::{ACCOUNT}:root", "the key policy delegates")


def _fargate_key_policy(cluster: str) -> dict:
    """The key policy the developer guide gives (fargate-create-storage-key.html)."""
    context = {"kms:EncryptionContext:aws:ecs:clusterAccount": [ACCOUNT],
               "kms:EncryptionContext:aws:ecs:clusterName": [cluster]}
    return {"Version": "2012-10-17", "Statement": [
        DELEGATING["Statement"][0],
        {"Sid": "Allow generate data key access for Fargate tasks.", "Effect": "Allow",
         "Principal": {"Service": "fargate.amazonaws.com"}, "Action": ["kms:GenerateDataKeyWithoutPlaintext"],
         "Condition": {"StringEquals": context}, "Resource": "*"},
        {"Sid": "Allow grant creation permission for Fargate tasks.", "Effect": "Allow",
         "Principal": {"Service": "fargate.amazonaws.com"}, "Action": ["kms:CreateGrant"],
         "Condition": {"StringEquals": context, "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]}},
         "Resource": "*"},
    ]}


@scenario("ephemeral-storage-key-disabled",
          summary="the cluster encrypts Fargate ephemeral storage with a customer managed key that is disabled")
def ephemeral_storage_key_disabled(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": True})
    kms = lab.client("kms")
    key = kms.create_key(Description="prod Fargate ephemeral storage",
                         Policy=json.dumps(_fargate_key_policy(stack.cluster)))["KeyMetadata"]
    lab.client("ecs").update_cluster(cluster=stack.cluster, configuration={
        "managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": key["Arn"]}})
    kms.disable_key(KeyId=key["KeyId"])
    task = lab.run_task(stack.cluster, stack.task_definition_arn, stack.network, assign_public_ip=True)
    _stop(lab, task, "Task failed to start", init_failure_timeline(lab.ago(minutes=3)))
    return {"cluster": stack.cluster, "task_arn": task.arn, "key_arn": key["Arn"], "key_id": key["KeyId"]}


@ephemeral_storage_key_disabled.check
def _(p: Probe) -> None:
    cluster = p.client("ecs").describe_clusters(clusters=[p.info["cluster"]], include=["CONFIGURATIONS"])["clusters"][0]
    p.equal(cluster["configuration"]["managedStorageConfiguration"]["fargateEphemeralStorageKmsKeyId"],
            p.info["key_arn"], "the cluster's ephemeral storage key")
    p.equal(p.client("kms").describe_key(KeyId=p.info["key_id"])["KeyMetadata"]["KeyState"], "Disabled", "the key")
    p.equal(p.task().get("stoppedReason"), "Task failed to start", "an opaque stop reason: none is published for it")


@scenario("ephemeral-storage-key-disabled-service",
          summary="service web: both of its new tasks failed to start; the cluster's ephemeral storage key is disabled")
def ephemeral_storage_key_disabled_service(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": True})
    kms = lab.client("kms")
    key = kms.create_key(Description="prod Fargate ephemeral storage",
                         Policy=json.dumps(_fargate_key_policy(stack.cluster)))["KeyMetadata"]
    lab.client("ecs").update_cluster(cluster=stack.cluster, configuration={
        "managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": key["Arn"]}})
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=True, desired_count=2, created=lab.ago(days=2))
    kms.disable_key(KeyId=key["KeyId"])
    tasks = [lab.run_task(stack.cluster, stack.task_definition_arn, service="web") for _ in range(2)]
    for task, minutes in zip(tasks, (12, 6)):
        _stop(lab, task, "Task failed to start", init_failure_timeline(lab.ago(minutes=minutes)))
    return {
        "cluster": stack.cluster,
        "task_arn": tasks[-1].arn,
        "service": "web",
        "args": ["service", "web", "--cluster", stack.cluster, "--region", REGION],
        "essential_calls": ["ecs:DescribeServices"],
        "expect_groups": {"ephemeral-storage-key-failed": 2},
        "key_arn": key["Arn"],
    }


@ephemeral_storage_key_disabled_service.check
def _(p: Probe) -> None:
    ecs = p.client("ecs")
    arns = ecs.list_tasks(cluster=p.info["cluster"], desiredStatus="STOPPED")["taskArns"]
    p.equal(len(arns), 2, "two stopped tasks")
    p.equal(p.client("kms").describe_key(KeyId=p.info["key_arn"])["KeyMetadata"]["KeyState"], "Disabled", "the key")
