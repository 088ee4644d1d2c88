"""Stops before the container starts: the image (missing, wrong platform, refused by
its registry), the execution role (missing, deleted, untrusted, not allowed), the
secrets and the log configuration.

Every scenario runs the usual Fargate web stack in a public subnet with a public IP,
so the network is never the cause; the decisive fact is in the image, IAM, Secrets
Manager or CloudWatch Logs, and the Fargate agent's message says so.

Some scenarios have a twin named `<name>-simulated`: the same account, but the lab
also answers `iam:SimulatePrincipalPolicy` with the answers AWS's policy simulator
gave for that role (recorded below as decision tables). moto does not implement the
simulator, so the plain scenario makes ecs-doctor evaluate the role's policies
itself; the twin makes it use the simulator. Both must reach the same verdict.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any, Callable

from labkit import (
    ACCOUNT,
    Lab,
    Probe,
    Stack,
    TaskRef,
    Timeline,
    app_exit_timeline,
    init_failure_timeline,
    pull_failure_timeline,
    scenario,
)

REGION = "us-east-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
EXECUTION_POLICY = "AmazonECSTaskExecutionRolePolicy"

_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def _assume_failed(role_arn: str) -> str:
    """What ECS reports when it cannot assume the execution role."""
    return (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
        "retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 "
        f"time(s): ECS was unable to assume the role '{role_arn}' that was provided for this task. "
        "Please verify that the role being passed has the proper trust relationship and permissions "
        "and that your IAM user has permissions to pass this role."
    )


def _asm_failure(detail: str) -> str:
    """What the Fargate agent reports when it cannot fetch a Secrets Manager secret."""
    return (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        f"failed: unable to retrieve secret from asm: service call has been retried 1 time(s): {detail}"
    )


def _get_secret_value_denied(task: TaskRef, secret_arn: str) -> str:
    """Secrets Manager's refusal of the execution role's GetSecretValue (the session is the task id)."""
    return (
        f"AccessDeniedException: User: arn:aws:sts::{ACCOUNT}:assumed-role/ecsTaskExecutionRole/{task.id} "
        f"is not authorized to perform: secretsmanager:GetSecretValue on resource: {secret_arn} because no "
        "identity-based policy allows the secretsmanager:GetSecretValue action"
    )


def _log_driver_timeline(lab: Lab) -> Timeline:
    """The image was pulled; the log driver failed before the container started."""
    stopped = lab.ago(minutes=3)
    created = stopped - timedelta(seconds=52)
    return Timeline(
        created=created,
        connectivity=created + timedelta(seconds=4),
        pull_started=created + timedelta(seconds=6),
        pull_stopped=created + timedelta(seconds=19),
        stopping=stopped - timedelta(seconds=12),
        execution_stopped=stopped - timedelta(seconds=12),
        stopped=stopped,
    )


def _stop(lab: Lab, task: TaskRef, reason: str, timeline: Timeline) -> None:
    """The Fargate agent's verdict: the task never started; the reason is on the task
    and on the container."""
    containers = [{"name": "web", "exit_code": None, "reason": reason, "last_status": "STOPPED"}]
    lab.set_outcome(
        task, stop_code="TaskFailedToStart", stopped_reason=reason, timeline=timeline,
        containers=containers,
    )
    lab.verify_stopped_task(task, containers)


def _public_stack(lab: Lab, **kw: Any) -> Stack:
    return lab.build_web_stack(network_opts={"public": True}, **kw)


def _run(lab: Lab, stack: Stack) -> TaskRef:
    return lab.run_task(stack.cluster, stack.task_definition_arn, stack.network, assign_public_ip=True)


def _info(stack: Stack, task: TaskRef, **extra: Any) -> dict:
    return {"cluster": stack.cluster, "task_arn": task.arn, "log_group": stack.log_group, **extra}


def _check_stopped_before_start(p: Probe) -> dict:
    t = p.task()
    p.equal(t.get("stopCode"), "TaskFailedToStart", "stopCode")
    c = p.container(t, "web")
    p.expect("exitCode" not in c, "no exit code: the container never ran")
    p.equal(c.get("reason"), t.get("stoppedReason"), "container reason = stoppedReason")
    p.expect("startedAt" not in t, "nothing started")
    return t


# --------------------------------------------------------------------------------------
# The recorded policy simulator
# --------------------------------------------------------------------------------------

# (action, resource pattern, decision, matched policy or None), as the simulator answered
# for the scenario's execution role. `{secret}` and friends are filled in from the built
# scenario, because resource ARNs carry ids moto generates.
Recorded = list[tuple[str, str, str, "str | None"]]

_ALLOWED_BY_MANAGED: Recorded = [
    ("ecr:GetAuthorizationToken", "*", "allowed", EXECUTION_POLICY),
    ("ecr:BatchCheckLayerAvailability", "arn:aws:ecr:us-east-1:123456789012:repository/{repo}", "allowed", EXECUTION_POLICY),
    ("ecr:GetDownloadUrlForLayer", "arn:aws:ecr:us-east-1:123456789012:repository/{repo}", "allowed", EXECUTION_POLICY),
    ("ecr:BatchGetImage", "arn:aws:ecr:us-east-1:123456789012:repository/{repo}", "allowed", EXECUTION_POLICY),
    ("logs:CreateLogStream", "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*", "allowed", EXECUTION_POLICY),
    ("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*", "allowed", EXECUTION_POLICY),
]


def _install_recorded_simulator(table: Recorded) -> None:
    """Make the lab answer iam:SimulatePrincipalPolicy from `table`, in AWS's response
    shape. A request for a pair the table does not hold is refused (HTTP 400), so a
    scenario that drifts from its recording shows up as the simulator being unavailable."""
    from moto.core.responses import ActionResult
    from moto.iam.exceptions import InvalidInput
    from moto.iam.responses import IamResponse

    def NotRecorded(what: str) -> Exception:  # noqa: N802 - raised like a class
        return InvalidInput(f"no recorded simulator answer for {what}")

    def lookup(action: str, resource: str):
        for a, r, decision, policy in table:
            if a.lower() == action.lower() and r == resource:
                return decision, policy
        return None

    def simulate_principal_policy(self):  # noqa: ANN001 - moto's handler signature
        def listed(name: str) -> list[str]:
            value = self._get_param(name)
            if value is None:
                value = self._get_multi_param(f"{name}.member")
            return [value] if isinstance(value, str) else list(value or [])

        actions = listed("ActionNames")
        resources = listed("ResourceArns") or ["*"]
        results = []
        for action in actions:
            for resource in resources:
                found = lookup(action, resource)
                if found is None:
                    raise NotRecorded(f"{action} on {resource}")
                decision, policy = found
                result: dict[str, Any] = {
                    "EvalActionName": action,
                    "EvalResourceName": resource,
                    "EvalDecision": decision,
                    "MatchedStatements": [],
                    "MissingContextValues": [],
                    "OrganizationsDecisionDetail": {"AllowedByOrganizations": True},
                }
                if policy:
                    result["MatchedStatements"] = [{
                        "SourcePolicyId": policy,
                        "SourcePolicyType": "aws-managed" if policy == EXECUTION_POLICY else "role",
                        "StartPosition": {"Line": 1, "Column": 1},
                        "EndPosition": {"Line": 1, "Column": 1},
                    }]
                results.append(result)
        return ActionResult({"EvaluationResults": results, "IsTruncated": False})

    IamResponse.simulate_principal_policy = simulate_principal_policy


class Twins:
    """A scenario and its `-simulated` twin; `.check` registers a check on both."""

    def __init__(self, *scenarios: Any):
        self.scenarios = scenarios

    def check(self, fn: Callable[[Probe], None]) -> Callable[[Probe], None]:
        for s in self.scenarios:
            s.check(fn)
        return fn


def twin(name: str, summary: str, recorded: Callable[[dict], Recorded]):
    """Register `name` and `name-simulated` (the same build, plus the recorded simulator)."""

    def register(build: Callable[[Lab], dict]) -> Twins:
        plain = scenario(name, summary=summary)(build)

        def simulated(lab: Lab) -> dict:
            info = build(lab)
            _install_recorded_simulator(recorded(info))
            return {**info, "simulator": "recorded"}

        twin_scenario = scenario(f"{name}-simulated", summary=f"{summary}; the policy simulator answers")(simulated)
        return Twins(plain, twin_scenario)

    return register


def _filled(rows: Recorded, **values: str) -> Recorded:
    return [(a, r.format(**values), d, p) for a, r, d, p in rows]


# --------------------------------------------------------------------------------------
# image-repository-not-found (image-not-found with a mistyped repository)
# --------------------------------------------------------------------------------------


# AWS's documented example of a rule that expires untagged images
# (AmazonECR/latest/userguide/lifecycle_policy_examples.html).
_EXPIRE_UNTAGGED = {
    "rules": [{
        "rulePriority": 1,
        "description": "Expire images older than 14 days",
        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                      "countUnit": "days", "countNumber": 14},
        "action": {"type": "expire"},
    }]
}


@scenario("image-digest-expired",
          summary="the task definition pins web:v3@<digest>; v3 moved on and a lifecycle rule expired the digest")
def image_digest_expired(lab: Lab) -> dict:
    """ECS records the digest a tag resolved to. Twenty days later CI pushed a new
    v3 (a multi-arch index), the old image became untagged, and the repository's
    lifecycle rule expired it. moto does not run lifecycle rules: the lab deletes the
    old digest with BatchDeleteImage, as the rule would have."""
    old = lab.build_ecr_image("web", "v3", pushed_at=lab.ago(days=20))
    lab.build_ecr_image("web", "v3", platform=("linux/amd64", "linux/arm64"), pushed_at=lab.ago(days=2))
    ecr = lab.client("ecr")
    ecr.put_lifecycle_policy(repositoryName="web", lifecyclePolicyText=json.dumps(_EXPIRE_UNTAGGED))
    ecr.batch_delete_image(repositoryName="web", imageIds=[{"imageDigest": old.digest}])
    pinned = f"{REGISTRY}/web:v3@{old.digest}"
    stack = _public_stack(lab, tags=(), image_uri=pinned)
    task = _run(lab, stack)
    # The form AWS documents for a missing image (task_cannot_pull_image.html),
    # with the digest reference ECS pulls.
    _stop(lab, task,
          f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
          f"failed to resolve ref {pinned}: {pinned}: not found",
          pull_failure_timeline(stopped=lab.ago(minutes=3)))
    return _info(stack, task, image=pinned, digest=old.digest)


@image_digest_expired.check
def _(p: Probe) -> None:
    ecr = p.client("ecr")
    now = ecr.describe_images(repositoryName="web", imageIds=[{"imageTag": "v3"}])["imageDetails"]
    p.expect(now and now[0]["imageDigest"] != p.info["digest"], "v3 names a newer image")
    gone = ecr.batch_get_image(repositoryName="web", imageIds=[{"imageDigest": p.info["digest"]}])
    p.equal(gone["images"], [], "the pinned digest is gone")
    p.expect("rules" in json.loads(ecr.get_lifecycle_policy(repositoryName="web")["lifecyclePolicyText"]),
             "the repository has a lifecycle policy")


@scenario("image-repository-not-found", summary="the image names repository web-app; ECR has web and web-api")
def image_repository_not_found(lab: Lab) -> dict:
    lab.build_ecr_image("web-api", "v1", pushed_at=lab.ago(days=3))
    stack = _public_stack(lab, tags=("v1",), image_uri=f"{REGISTRY}/web-app:v1")
    task = _run(lab, stack)
    ref = stack.image_uri
    _stop(lab, task,
          f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {ref}: {ref}: not found",
          pull_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, image=ref, missing_repository="web-app", similar=["web", "web-api"])


@image_repository_not_found.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    ecr = p.client("ecr")
    names = sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"])
    p.equal(names, ["web", "web-api"], "repositories")


# --------------------------------------------------------------------------------------
# image-platform-mismatch
# --------------------------------------------------------------------------------------


def _push_arm64_only_index(lab: Lab, repo: str, tag: str) -> str:
    """What `docker buildx build --platform linux/arm64 --push` on an Apple silicon
    laptop pushes: an OCI image index with the arm64 image and a provenance
    attestation (platform unknown/unknown)."""
    lab.ensure_repository(repo)

    def sha(text: str) -> str:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    config = json.dumps({"architecture": "arm64", "os": "linux", "variant": "v8",
                         "config": {"Cmd": ["node", "dist/server.js"]}}, separators=(",", ":"))
    image = json.dumps({
        "schemaVersion": 2, "mediaType": _OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config), "digest": sha(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 3_408_729 + i,
                    "digest": sha(f"{repo}:{tag}:arm64:{i}")} for i in range(4)],
    }, indent=2)
    attestation = json.dumps({
        "schemaVersion": 2, "mediaType": _OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 167, "digest": sha("att-config")},
        "layers": [{"mediaType": "application/vnd.in-toto+json", "size": 1453, "digest": sha(f"{repo}:{tag}:provenance")}],
    }, indent=2)
    ecr = lab.client("ecr")
    children = []
    for body, platform, extra in (
        (image, {"architecture": "arm64", "os": "linux", "variant": "v8"}, {}),
        (attestation, {"architecture": "unknown", "os": "unknown"},
         {"annotations": {"vnd.docker.reference.type": "attestation-manifest"}}),
    ):
        digest = sha(body)
        ecr.put_image(repositoryName=repo, imageManifest=body, imageManifestMediaType=_OCI_MANIFEST, imageDigest=digest)
        children.append({"mediaType": _OCI_MANIFEST, "digest": digest, "size": len(body), "platform": platform, **extra})
    index = json.dumps({"schemaVersion": 2, "mediaType": _OCI_INDEX, "manifests": children}, indent=2)
    ecr.put_image(repositoryName=repo, imageTag=tag, imageManifest=index, imageManifestMediaType=_OCI_INDEX,
                  imageDigest=sha(index))
    return f"{REGISTRY}/{repo}:{tag}"


@scenario("image-platform-mismatch", summary="an arm64-only image index; the task is X86_64")
def image_platform_mismatch(lab: Lab) -> dict:
    stack = _public_stack(lab, tags=(), image_tag="v4")
    image = _push_arm64_only_index(lab, "web", "v4")
    task = _run(lab, stack)
    _stop(lab, task,
          "CannotPullContainerError: pull image manifest has been retried 5 time(s): image Manifest does not "
          "contain descriptor matching platform 'linux/amd64'",
          pull_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, image=image, image_platforms=["linux/arm64"], task_architecture="X86_64")


@image_platform_mismatch.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    got = p.client("ecr").batch_get_image(repositoryName="web", imageIds=[{"imageTag": "v4"}])
    index = json.loads(got["images"][0]["imageManifest"])
    p.equal([m["platform"]["architecture"] for m in index["manifests"]], ["arm64", "unknown"], "index platforms")
    td = p.task_definition(p.task()["taskDefinitionArn"])
    p.equal(td["runtimePlatform"]["cpuArchitecture"], "X86_64", "task architecture")


@scenario("image-exec-format-error",
          summary="a single-platform arm64 image pulls fine on an X86_64 task and dies with exec format error")
def image_exec_format_error(lab: Lab) -> dict:
    stack = _public_stack(lab, tags=("v5",), image_tag="v5", platform="linux/arm64")
    task = _run(lab, stack)
    tl = app_exit_timeline(stopped=lab.ago(minutes=3), ran_for=timedelta(milliseconds=300))
    stream = f"ecs/web/{task.id}"
    lab.write_logs(stack.log_group, stream, [(tl.started + timedelta(milliseconds=120),
                                              "exec /usr/local/bin/docker-entrypoint.sh: exec format error")])
    containers = [{"name": "web", "exit_code": 255}]
    lab.set_outcome(task, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited",
                    timeline=tl, containers=containers)
    lab.verify_stopped_task(task, containers)
    return _info(stack, task, image=stack.image_uri, task_architecture="X86_64")


@image_exec_format_error.check
def _(p: Probe) -> None:
    td = p.task_definition(p.task()["taskDefinitionArn"])
    p.equal(td["runtimePlatform"]["cpuArchitecture"], "X86_64", "task architecture")
    p.equal(p.container(p.task(), "web").get("exitCode"), 255, "exit code")


# --------------------------------------------------------------------------------------
# registry-auth-failed and registry-rate-limited (Docker Hub)
# --------------------------------------------------------------------------------------


@scenario("registry-auth-failed", summary="a private Docker Hub repository pulled without repositoryCredentials")
def registry_auth_failed(lab: Lab) -> dict:
    stack = _public_stack(lab, tags=(), image_uri="acme/billing:4.2")
    task = _run(lab, stack)
    _stop(lab, task,
          "CannotPullContainerError: pull access denied for acme/billing, repository does not exist or may "
          "require 'docker login': denied: requested access to the resource is denied",
          pull_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, image="acme/billing:4.2", registry="docker.io")


@registry_auth_failed.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    td = p.task_definition(p.task()["taskDefinitionArn"])
    p.expect("repositoryCredentials" not in td["containerDefinitions"][0], "no repositoryCredentials")


@scenario("registry-credentials-unreadable",
          summary="repositoryCredentials names a secret the execution role may not read (GHCR image)")
def registry_credentials_unreadable(lab: Lab) -> dict:
    cred = lab.client("secretsmanager").create_secret(
        Name="registry/ghcr", Description="GitHub Container Registry pull token",
        SecretString=json.dumps({"username": "acme-ci", "password": "lab-not-a-token"}),
    )["ARN"]
    image = "ghcr.io/acme/billing:4.2"
    stack = _public_stack(lab, tags=(), image_uri=image,
                          container_opts={"repositoryCredentials": {"credentialsParameter": cred}})
    task = _run(lab, stack)
    reason = _asm_failure(_get_secret_value_denied(task, cred))
    _stop(lab, task, reason, init_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, image=image, credentials_secret=cred)


@registry_credentials_unreadable.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    td = p.task_definition(p.task()["taskDefinitionArn"])
    p.equal(td["containerDefinitions"][0]["repositoryCredentials"]["credentialsParameter"],
            p.info["credentials_secret"], "credentials parameter")


@scenario("registry-rate-limited", summary="anonymous Docker Hub pulls hit the pull rate limit")
def registry_rate_limited(lab: Lab) -> dict:
    stack = _public_stack(lab, tags=(), image_uri="nginx:1.27")
    task = _run(lab, stack)
    _stop(lab, task,
          "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
          "docker.io/library/nginx:1.27: unexpected status from HEAD request to "
          "https://registry-1.docker.io/v2/library/nginx/manifests/1.27: 429 Too Many Requests - Server message: "
          "toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating "
          "and upgrading: https://www.docker.com/increase-rate-limits",
          pull_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, image="nginx:1.27", registry="docker.io")


@registry_rate_limited.check
def _(p: Probe) -> None:
    t = _check_stopped_before_start(p)
    p.expect("toomanyrequests" in t["stoppedReason"], "rate-limit text")


# --------------------------------------------------------------------------------------
# The execution role: missing, not found, untrusted, not allowed
# --------------------------------------------------------------------------------------


@scenario("execution-role-missing", summary="an ECR image on Fargate and no executionRoleArn")
def execution_role_missing(lab: Lab) -> dict:
    stack = _public_stack(lab, tags=("v1",), execution_role=False, log_group=None)
    task = _run(lab, stack)
    _stop(lab, task,
          f"CannotPullContainerError: Error response from daemon: Head \"https://{REGISTRY}/v2/web/manifests/v1\": "
          "no basic auth credentials",
          pull_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, image=stack.image_uri)


@execution_role_missing.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    td = p.task_definition(p.task()["taskDefinitionArn"])
    p.expect("executionRoleArn" not in td, "no executionRoleArn")


MISSING_ROLE = f"arn:aws:iam::{ACCOUNT}:role/web-task-execution"


@scenario("execution-role-not-found", summary="executionRoleArn names a role that was deleted")
def execution_role_not_found(lab: Lab) -> dict:
    stack = _public_stack(lab, tags=("v1",), execution_role=False,
                          task_definition_opts={"executionRoleArn": MISSING_ROLE})
    task = _run(lab, stack)
    _stop(lab, task, _assume_failed(MISSING_ROLE), init_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, role_arn=MISSING_ROLE, role_name="web-task-execution")


@execution_role_not_found.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    iam = p.client("iam")
    try:
        iam.get_role(RoleName="web-task-execution")
        p.expect(False, "the role must not exist")
    except iam.exceptions.NoSuchEntityException:
        pass


@twin("execution-role-untrusted", "the execution role trusts ecs.amazonaws.com, not ecs-tasks",
      lambda info: _filled(_ALLOWED_BY_MANAGED, repo="web"))
def execution_role_untrusted(lab: Lab) -> dict:
    stack = _public_stack(lab, tags=("v1",), execution_role_opts={"trusted_service": "ecs.amazonaws.com"})
    task = _run(lab, stack)
    _stop(lab, task, _assume_failed(stack.execution_role_arn), init_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, role_arn=stack.execution_role_arn, role_name="ecsTaskExecutionRole",
                 trusted_service="ecs.amazonaws.com")


@execution_role_untrusted.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    role = p.client("iam").get_role(RoleName="ecsTaskExecutionRole")["Role"]
    principal = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    p.equal(principal, {"Service": "ecs.amazonaws.com"}, "trusted principal")


def _create_secret(lab: Lab, name: str, value: dict) -> str:
    return lab.client("secretsmanager").create_secret(
        Name=name, SecretString=json.dumps(value), Description="web database credentials",
    )["ARN"]


def _permissions_recording(info: dict) -> Recorded:
    return _filled(_ALLOWED_BY_MANAGED, repo="web") + [
        ("secretsmanager:GetSecretValue", info["secret_arn"], "implicitDeny", None),
    ]


@twin("execution-role-permissions", "the role has only AmazonECSTaskExecutionRolePolicy; the task reads a secret",
      _permissions_recording)
def execution_role_permissions(lab: Lab) -> dict:
    secret_arn = _create_secret(lab, "prod/web/db", {"username": "web_app", "password": "lab-not-a-secret"})
    stack = _public_stack(lab, tags=("v1",), container_opts={
        "secrets": [{"name": "DB_PASSWORD", "valueFrom": f"{secret_arn}:password::"}],
    })
    task = _run(lab, stack)
    reason = _asm_failure(_get_secret_value_denied(task, secret_arn))
    _stop(lab, task, reason, init_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, secret_arn=secret_arn, missing_action="secretsmanager:GetSecretValue",
                 role_name="ecsTaskExecutionRole")


@execution_role_permissions.check
def _(p: Probe) -> None:
    t = _check_stopped_before_start(p)
    p.expect(f"assumed-role/ecsTaskExecutionRole/{p.info['task_id']}" in t["stoppedReason"],
             "the session is the task id")
    iam = p.client("iam")
    attached = iam.list_attached_role_policies(RoleName="ecsTaskExecutionRole")["AttachedPolicies"]
    p.equal([a["PolicyName"] for a in attached], [EXECUTION_POLICY], "only the managed policy")
    p.equal(iam.list_role_policies(RoleName="ecsTaskExecutionRole")["PolicyNames"], [], "no inline policy")


PULL_API_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Auth", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "PullApiImages", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
         "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/api"},
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/*"},
    ],
}


def _pull_recording(info: dict) -> Recorded:
    repo = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/web"
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/web:*"
    return [
        ("ecr:GetAuthorizationToken", "*", "allowed", "ecr-pull"),
        ("ecr:BatchCheckLayerAvailability", repo, "implicitDeny", None),
        ("ecr:GetDownloadUrlForLayer", repo, "implicitDeny", None),
        ("ecr:BatchGetImage", repo, "implicitDeny", None),
        ("logs:CreateLogStream", group, "allowed", "ecr-pull"),
        ("logs:PutLogEvents", group, "allowed", "ecr-pull"),
    ]


@twin("execution-role-permissions-pull",
      "the role's own policy allows pulls from repository api only; the task pulls web", _pull_recording)
def execution_role_permissions_pull(lab: Lab) -> dict:
    stack = _public_stack(lab, tags=("v1",), execution_role_opts={"policies": (), "inline": {"ecr-pull": PULL_API_ONLY}})
    task = _run(lab, stack)
    reason = (
        "CannotPullContainerError: The task can’t pull the image. Check that the role has the permissions to "
        f"pull images from the registry. failed to resolve ref {stack.image_uri}: pulling from host {REGISTRY} "
        f"failed with status code [manifests v1]: 403 Forbidden"
    )
    _stop(lab, task, reason, pull_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, missing_action="ecr:BatchGetImage",
                 repository_arn=f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/web")


@execution_role_permissions_pull.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    iam = p.client("iam")
    p.equal(iam.list_attached_role_policies(RoleName="ecsTaskExecutionRole")["AttachedPolicies"], [],
            "no managed policy")
    p.equal(iam.list_role_policies(RoleName="ecsTaskExecutionRole")["PolicyNames"], ["ecr-pull"], "inline policy")


# --------------------------------------------------------------------------------------
# secret-not-found
# --------------------------------------------------------------------------------------

SECRETS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "WebSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                   "Resource": f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:prod/web/*"}],
}


def _secret_recording(info: dict) -> Recorded:
    return _filled(_ALLOWED_BY_MANAGED, repo="web") + [
        ("secretsmanager:GetSecretValue", info["missing_secret_arn"], "allowed", "web-secrets"),
    ]


@twin("secret-not-found", "valueFrom names the secret's ARN in eu-west-1; it lives in us-east-1",
      _secret_recording)
def secret_not_found(lab: Lab) -> dict:
    real = _create_secret(lab, "prod/web/db", {"username": "web_app", "password": "lab-not-a-secret"})
    wrong_region = real.replace(f":{REGION}:", ":eu-west-1:")
    stack = _public_stack(lab, tags=("v1",), execution_role_opts={"inline": {"web-secrets": SECRETS_POLICY}},
                          container_opts={"secrets": [{"name": "DB_PASSWORD", "valueFrom": f"{wrong_region}:password::"}]})
    task = _run(lab, stack)
    reason = _asm_failure(
        f"failed to fetch secret {wrong_region} from secrets manager: ResourceNotFoundException: Secrets Manager "
        "can't find the specified secret."
    )
    _stop(lab, task, reason, init_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, missing_secret_arn=wrong_region, existing_secret_arn=real, secret_name="DB_PASSWORD")


@secret_not_found.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    sm = p.client("secretsmanager")
    sm.describe_secret(SecretId=p.info["existing_secret_arn"])
    import boto3
    from botocore.config import Config

    eu = boto3.client("secretsmanager", region_name="eu-west-1", endpoint_url=p.info["endpoint"],
                      aws_access_key_id="testing", aws_secret_access_key="testing",
                      config=Config(retries={"max_attempts": 1}))
    try:
        eu.describe_secret(SecretId=p.info["missing_secret_arn"])
        p.expect(False, "the eu-west-1 secret must not exist")
    except eu.exceptions.ResourceNotFoundException:
        pass


# --------------------------------------------------------------------------------------
# secret-key-missing, a missing Parameter Store parameter, a customer-managed KMS key
# --------------------------------------------------------------------------------------


@scenario("secret-key-missing", summary="valueFrom selects JSON key pasword; the secret holds username and password")
def secret_key_missing(lab: Lab) -> dict:
    secret_arn = _create_secret(lab, "prod/web/db", {"username": "web_app", "password": "lab-not-a-secret"})
    stack = _public_stack(lab, tags=("v1",), execution_role_opts={"inline": {"web-secrets": SECRETS_POLICY}},
                          container_opts={"secrets": [{"name": "DB_PASSWORD", "valueFrom": f"{secret_arn}:pasword::"}]})
    task = _run(lab, stack)
    reason = _asm_failure("retrieved secret from Secrets Manager did not contain json key pasword")
    _stop(lab, task, reason, init_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, secret_arn=secret_arn, json_key="pasword")


@secret_key_missing.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    meta = p.client("secretsmanager").describe_secret(SecretId=p.info["secret_arn"])
    stages = [s for v in meta["VersionIdsToStages"].values() for s in v]
    p.expect("AWSCURRENT" in stages, "the secret has a current version")


PARAMETERS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "WebParameters", "Effect": "Allow", "Action": "ssm:GetParameters",
                   "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/prod/web/*"}],
}


@scenario("secret-not-found-ssm", summary="valueFrom names parameter /prod/web/api-key; the parameter is /prod/web/api_key")
def secret_not_found_ssm(lab: Lab) -> dict:
    lab.client("ssm").put_parameter(Name="/prod/web/api_key", Value="lab-not-a-secret", Type="SecureString",
                                    Description="payments API key")
    stack = _public_stack(lab, tags=("v1",), execution_role_opts={"inline": {"web-parameters": PARAMETERS_POLICY}},
                          container_opts={"secrets": [{"name": "API_KEY", "valueFrom": "/prod/web/api-key"}]})
    task = _run(lab, stack)
    reason = (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        "failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm "
        "parameters: /prod/web/api-key"
    )
    _stop(lab, task, reason, init_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, missing_parameter="/prod/web/api-key", existing_parameter="/prod/web/api_key")


@secret_not_found_ssm.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    names = [x["Name"] for x in p.client("ssm").describe_parameters()["Parameters"]]
    p.expect(p.info["existing_parameter"] in names and p.info["missing_parameter"] not in names, "parameters")


@scenario("execution-role-kms", summary="the secret is encrypted with a customer-managed key; the role may not decrypt")
def execution_role_kms(lab: Lab) -> dict:
    key_arn = lab.client("kms").create_key(Description="web secrets", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["Arn"]
    secret_arn = lab.client("secretsmanager").create_secret(
        Name="prod/web/db", KmsKeyId=key_arn, Description="web database credentials",
        SecretString=json.dumps({"username": "web_app", "password": "lab-not-a-secret"}),
    )["ARN"]
    stack = _public_stack(lab, tags=("v1",), execution_role_opts={"inline": {"web-secrets": SECRETS_POLICY}},
                          container_opts={"secrets": [{"name": "DB_PASSWORD", "valueFrom": f"{secret_arn}:password::"}]})
    task = _run(lab, stack)
    reason = _asm_failure("AccessDeniedException: Access to KMS is not allowed")
    _stop(lab, task, reason, init_failure_timeline(lab.ago(minutes=3)))
    return _info(stack, task, secret_arn=secret_arn, key_arn=key_arn)


@execution_role_kms.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    meta = p.client("secretsmanager").describe_secret(SecretId=p.info["secret_arn"])
    p.equal(meta.get("KmsKeyId"), p.info["key_arn"], "the secret's key")


# --------------------------------------------------------------------------------------
# log-group-missing and log-config-invalid
# --------------------------------------------------------------------------------------


@scenario("log-group-missing", summary="awslogs-group /ecs/web was never created; no awslogs-create-group")
def log_group_missing(lab: Lab) -> dict:
    stack = _public_stack(lab, tags=("v1",), create_log_group=False)
    task = _run(lab, stack)
    _stop(lab, task,
          "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
          "failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not "
          "exist. : exit status 1",
          _log_driver_timeline(lab))
    return _info(stack, task, missing_log_group="/ecs/web")


@log_group_missing.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    groups = p.client("logs").describe_log_groups(logGroupNamePrefix="/ecs/web")["logGroups"]
    p.equal(groups, [], "no log group")


@scenario("log-config-invalid", summary="the stream prefix option is misspelt awslogs-streamprefix")
def log_config_invalid(lab: Lab) -> dict:
    options = {"awslogs-group": "/ecs/web", "awslogs-region": REGION, "awslogs-streamprefix": "ecs"}
    stack = _public_stack(lab, tags=("v1",), container_opts={
        "logConfiguration": {"logDriver": "awslogs", "options": options},
    })
    task = _run(lab, stack)
    _stop(lab, task,
          "ResourceInitializationError: failed to initialize logging driver: unknown log opt "
          "'awslogs-streamprefix' for awslogs log driver",
          _log_driver_timeline(lab))
    return _info(stack, task, bad_option="awslogs-streamprefix")


@log_config_invalid.check
def _(p: Probe) -> None:
    _check_stopped_before_start(p)
    td = p.task_definition(p.task()["taskDefinitionArn"])
    opts = td["containerDefinitions"][0]["logConfiguration"]["options"]
    p.expect("awslogs-streamprefix" in opts and "awslogs-stream-prefix" not in opts, "misspelt option")
