"""ECS Exec: running tasks of service `web`, each missing one thing
`aws ecs execute-command` needs, and one that has everything.

Built as a user's IaC would: a task role for the app, the service with
`enableExecuteCommand`, a cluster whose exec configuration may name a KMS
key and session logging, and the on-call caller (a role they assume, or a
user in a group). The agent's side -- the task's `enableExecuteCommand` and
the containers' `ExecuteCommandAgent` -- is set in-process, as the Fargate
agent would report it (moto keeps neither). The caller's keys are in the
ready line, so ecs-doctor runs as that caller."""

from __future__ import annotations

from labkit import Lab, TaskRef, running_timeline, scenario

SSM_MESSAGES = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
        "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]}],
}

# What on-call may do: read ECS, EC2 and IAM, and open ECS Exec sessions.
ONCALL = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Resource": "*",
         "Action": ["ecs:Describe*", "ecs:List*", "ec2:Describe*", "iam:Get*", "iam:List*"]},
        {"Sid": "Exec", "Effect": "Allow", "Action": "ecs:ExecuteCommand",
         "Resource": "arn:aws:ecs:us-east-1:123456789012:task/prod/*"},
    ],
}


def _exec_task(
    lab: Lab,
    *,
    network_opts: dict | None = None,
    task_role_policy: dict | None = SSM_MESSAGES,
    exec_configuration: dict | None = None,
    enabled: bool = True,
    agent: dict | None = None,
    container_opts: dict | None = None,
) -> tuple[TaskRef, object]:
    """Service `web` with one running task whose containers report the ECS Exec
    agent `agent` (RUNNING by default)."""
    net = lab.build_vpc(**(network_opts or {"public": False, "nat": True}))
    role = lab.build_role("web-task", inline={"app": task_role_policy} if task_role_policy else None,
                          description="web application")
    stack = lab.build_web_stack(network=net, container_opts=container_opts,
                                task_definition_opts={"task_role_arn": role})
    if exec_configuration is not None:
        lab.client("ecs").update_cluster(cluster=stack.cluster, configuration={
            "executeCommandConfiguration": exec_configuration})
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=False, created=lab.ago(days=1))
    lab.ecs_service(stack.cluster, "web").enable_execute_command = enabled
    task = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    started = lab.ago(minutes=20)
    lab.set_running(task, running_timeline(started))
    moto_task = lab.ecs_task(task)
    moto_task.enable_execute_command = enabled
    if enabled:
        status = {"name": "ExecuteCommandAgent", "lastStatus": "RUNNING", "lastStartedAt": started}
        status.update(agent or {})
        for c in moto_task.containers:
            c.managed_agents = [status]
    return task, stack


def _assumed_oncall(lab: Lab, policy: dict = ONCALL) -> dict:
    """The on-call role, assumed the way an SSO or role-based login would."""
    account = lab.account
    role = lab.build_role("oncall", trust_policy={"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}]},
        inline={"oncall": policy})
    creds = lab.client("sts").assume_role(RoleArn=role, RoleSessionName="alice")["Credentials"]
    return {"caller_access_key_id": creds["AccessKeyId"], "caller_secret_access_key": creds["SecretAccessKey"],
            "caller_session_token": creds["SessionToken"]}


def _oncall_user(lab: Lab, group_policy: dict) -> dict:
    """User `bob` in group `oncall`, whose permissions come from the group."""
    iam = lab.client("iam")
    iam.create_group(GroupName="oncall")
    iam.put_group_policy(GroupName="oncall", PolicyName="oncall", PolicyDocument=__import__("json").dumps(group_policy))
    iam.create_user(UserName="bob")
    iam.add_user_to_group(GroupName="oncall", UserName="bob")
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    return {"caller_access_key_id": key["AccessKeyId"], "caller_secret_access_key": key["SecretAccessKey"]}


def _ready_line(task: TaskRef, stack, caller: dict) -> dict:
    return {"cluster": stack.cluster, "task_arn": task.arn, "service": "web", "args": ["exec", task.arn],
            "expect_status": "RUNNING", **caller}


@scenario("exec-ready", summary="ECS Exec can work: enabled, agent running, task role and NAT path, caller allowed")
def exec_ready(lab: Lab) -> dict:
    task, stack = _exec_task(lab)
    return _ready_line(task, stack, _assumed_oncall(lab))


@scenario("exec-not-enabled", summary="the task was started without enableExecuteCommand")
def exec_not_enabled(lab: Lab) -> dict:
    task, stack = _exec_task(lab, enabled=False)
    return _ready_line(task, stack, _assumed_oncall(lab))


@scenario("exec-agent-not-running", summary="the exec agent stopped: the container's root file system is read-only")
def exec_agent_not_running(lab: Lab) -> dict:
    task, stack = _exec_task(
        lab,
        container_opts={"readonlyRootFilesystem": True},
        agent={"lastStatus": "STOPPED",
               "reason": "ExecuteCommandAgent failed to start: mkdir /var/lib/amazon: read-only file system"},
    )
    return _ready_line(task, stack, _assumed_oncall(lab))


@scenario("exec-task-role-permissions",
          summary="the task role reads S3 only, and the cluster encrypts exec sessions with its own KMS key")
def exec_task_role_permissions(lab: Lab) -> dict:
    key = lab.client("kms").create_key(Description="ecs exec sessions")["KeyMetadata"]["KeyId"]
    task, stack = _exec_task(
        lab,
        task_role_policy={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::web-assets/*"}]},
        exec_configuration={"kmsKeyId": key, "logging": "DEFAULT"},
    )
    return {**_ready_line(task, stack, _assumed_oncall(lab)), "kms_key_id": key}


@scenario("exec-no-ssm-path", summary="private subnets with ECR, Logs and S3 endpoints, but none for ssmmessages")
def exec_no_ssm_path(lab: Lab) -> dict:
    task, stack = _exec_task(
        lab, network_opts={"public": False, "nat": False, "endpoints": ["ecr.api", "ecr.dkr", "logs", "s3"]})
    return _ready_line(task, stack, _assumed_oncall(lab))


@scenario("exec-caller-not-allowed", summary="on-call's group may read ECS but not call ecs:ExecuteCommand")
def exec_caller_not_allowed(lab: Lab) -> dict:
    task, stack = _exec_task(lab)
    read_only = {"Version": "2012-10-17", "Statement": [ONCALL["Statement"][0]]}
    return _ready_line(task, stack, _oncall_user(lab, read_only))


def _reads_back_the_agent(p) -> None:
    """DescribeTasks shows what the Fargate agent would: the task's flag and
    each container's ExecuteCommandAgent."""
    t = p.task()
    enabled = p.info["scenario"] != "exec-not-enabled"
    p.equal(t.get("enableExecuteCommand", False), enabled, "enableExecuteCommand")
    for c in t.get("containers", []):
        agents = [a for a in c.get("managedAgents", []) if a.get("name") == "ExecuteCommandAgent"]
        p.expect(bool(agents) == enabled, f"{c.get('name')} reports the ExecuteCommandAgent: {agents}")
    import boto3
    sts = boto3.client("sts", endpoint_url=p.info["endpoint"], region_name=p.info["region"],
                       aws_access_key_id=p.info["caller_access_key_id"],
                       aws_secret_access_key=p.info["caller_secret_access_key"],
                       aws_session_token=p.info.get("caller_session_token"))
    who = sts.get_caller_identity()["Arn"]
    p.expect(who.endswith(("assumed-role/oncall/alice", "user/bob")), f"the caller is on-call, not {who}")


from labkit import SCENARIOS  # noqa: E402

for _name in ("exec-ready", "exec-not-enabled", "exec-agent-not-running", "exec-task-role-permissions",
              "exec-no-ssm-path", "exec-caller-not-allowed"):
    SCENARIOS[_name].check(_reads_back_the_agent)
