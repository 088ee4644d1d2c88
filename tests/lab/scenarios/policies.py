"""Resource policies that refuse a task: a VPC endpoint's policy on the task's path,
and an ECR repository policy in another account.

Built through the AWS APIs: endpoints with CreateVpcEndpoint and a PolicyDocument,
the shared repository with CreateRepository, PutImage and SetRepositoryPolicy as its
own account. Set in-process: the Fargate agent's verdict (stop code, stop reason,
timeline). moto neither enforces endpoint policies nor shares another account's
repository: the stop reasons say what AWS would have refused, and the lab answers
another account's ECR reads as ECR does (`labkit._serve_other_accounts_ecr_like_aws`).
"""

from __future__ import annotations

import json

from labkit import (
    ACCOUNT,
    Lab,
    Probe,
    _image_manifest,
    init_failure_timeline,
    pull_failure_timeline,
    scenario,
)

OTHER = "210987654321"  # the account that owns the shared repository
REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
ENDPOINTS = ["ecr.api", "ecr.dkr", "logs", "s3"]
# The layer download refused by S3 (a real stop text: zenn.dev/carenet/articles/5db608fea5ca51).
LAYER_403 = "CannotPullContainerError: failed to copy: httpReadSeeker: failed open: unexpected status code 403 Forbidden"
ONLY_OUR_BUCKETS = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "OnlyOurBuckets", "Effect": "Allow", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::acme-assets", "arn:aws:s3:::acme-assets/*"],
    }],
}


def _stop(lab: Lab, task, reason: str, timeline) -> None:
    containers = [{"name": "web", "exit_code": None, "reason": reason, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="TaskFailedToStart", stopped_reason=reason, timeline=timeline,
                    containers=containers)
    lab.verify_stopped_task(task, containers)


def _private(lab: Lab, endpoints: list[str], policies: dict[str, dict], **kw):
    stack = lab.build_web_stack(
        network_opts={"public": False, "nat": False, "endpoints": endpoints, "endpoint_policies": policies},
        **kw,
    )
    task = lab.run_task(stack.cluster, stack.task_definition_arn, stack.network, assign_public_ip=False)
    return stack, task


@scenario("vpc-endpoint-policy-denied-s3",
          summary="endpoints-only VPC; the S3 gateway endpoint's policy allows only the company's buckets, not ECR's layer bucket")
def endpoint_policy_s3(lab: Lab) -> dict:
    stack, task = _private(lab, ENDPOINTS, {"s3": ONLY_OUR_BUCKETS})
    _stop(lab, task, LAYER_403, pull_failure_timeline(lab.ago(minutes=3)))
    return {"cluster": stack.cluster, "task_arn": task.arn, "endpoint_id": stack.network.endpoint_ids["s3"],
            "statement": "OnlyOurBuckets"}


@endpoint_policy_s3.check
def _(p: Probe) -> None:
    ep = p.client("ec2").describe_vpc_endpoints(VpcEndpointIds=[p.info["endpoint_id"]])["VpcEndpoints"][0]
    p.equal(json.loads(ep["PolicyDocument"])["Statement"][0]["Sid"], "OnlyOurBuckets", "the endpoint's policy")


@scenario("vpc-endpoint-policy-denied-secrets",
          summary="the Secrets Manager endpoint's policy allows only the deploy role; the execution role may read the secret")
def endpoint_policy_secrets(lab: Lab) -> dict:
    secret_arn = lab.client("secretsmanager").create_secret(
        Name="prod/web/db", SecretString=json.dumps({"password": "lab-not-a-secret"}))["ARN"]
    policies = {"secretsmanager": {"Version": "2012-10-17", "Statement": [{
        "Sid": "OnlyDeployRole", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/deploy"},
        "Action": "secretsmanager:*", "Resource": "*"}]}}
    stack, task = _private(
        lab, ENDPOINTS + ["secretsmanager"], policies,
        execution_role_opts={"inline": {"read-db-secret": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_arn}]}}},
        container_opts={"secrets": [{"name": "DB_PASSWORD", "valueFrom": f"{secret_arn}:password::"}]},
    )
    reason = (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        "failed: unable to retrieve secret from asm: service call has been retried 1 time(s): "
        f"AccessDeniedException: User: arn:aws:sts::{ACCOUNT}:assumed-role/ecsTaskExecutionRole/{task.id} "
        f"is not authorized to perform: secretsmanager:GetSecretValue on resource: {secret_arn} because no "
        "VPC endpoint policy allows the secretsmanager:GetSecretValue action"
    )
    _stop(lab, task, reason, init_failure_timeline(lab.ago(minutes=3)))
    return {"cluster": stack.cluster, "task_arn": task.arn, "secret_arn": secret_arn,
            "endpoint_id": stack.network.endpoint_ids["secretsmanager"], "statement": "OnlyDeployRole"}


def _shared_repository(lab: Lab, policy: dict) -> str:
    """Account OTHER's repository shared/web with v1 pushed and `policy` set, built as
    that account; returns the image URI."""
    ecr = lab.client_as("ecr", OTHER)
    ecr.create_repository(repositoryName="shared/web")
    manifest = _image_manifest("shared/web:v1:linux/amd64", "linux/amd64")
    ecr.put_image(repositoryName="shared/web", imageManifest=manifest, imageTag="v1",
                  imageManifestMediaType="application/vnd.docker.distribution.manifest.v2+json")
    ecr.set_repository_policy(repositoryName="shared/web", policyText=json.dumps(policy))
    return f"{OTHER}.dkr.ecr.{REGION}.amazonaws.com/shared/web:v1"


def _manifest_403(uri: str) -> str:
    """ECR's 403 on the manifest, worded as a real stop text (aws/aws-cdk#29876)."""
    host = uri.split("/", 1)[0]
    return (f"CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
            f"{uri}: pulling from host {host} failed with status code [manifests v1]: 403 Forbidden")


def _cross_account(lab: Lab, policy: dict) -> dict:
    uri = _shared_repository(lab, policy)
    stack = lab.build_web_stack(network_opts={"public": True}, image_uri=uri)
    task = lab.run_task(stack.cluster, stack.task_definition_arn, stack.network, assign_public_ip=True)
    _stop(lab, task, _manifest_403(uri), pull_failure_timeline(lab.ago(minutes=3)))
    return {"cluster": stack.cluster, "task_arn": task.arn, "image": uri, "owner": OTHER,
            "role_arn": ROLE_ARN}


@scenario("ecr-repository-policy-denied",
          summary="the image is in another account; its repository policy shares reads with this account but not ecr:BatchGetImage")
def ecr_repository_policy_denied(lab: Lab) -> dict:
    return _cross_account(lab, {"Version": "2012-10-17", "Statement": [{
        "Sid": "ReadForProd", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages",
                   "ecr:GetRepositoryPolicy", "ecr:ListImages", "ecr:DescribeRepositories"]}]}) | {
        "missing_action": "ecr:BatchGetImage", "statement": "ReadForProd"}


@scenario("ecr-repository-policy-unreadable",
          summary="the image is in another account whose repository policy shares pulls with its CI role only: ecs-doctor cannot read it")
def ecr_repository_policy_unreadable(lab: Lab) -> dict:
    return _cross_account(lab, {"Version": "2012-10-17", "Statement": [{
        "Sid": "CiPulls", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci-deploy"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]}]})
