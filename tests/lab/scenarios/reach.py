"""Beyond one task: a service whose stopped tasks have different causes, a service
that never placed a task, a cluster of three services, and EventBridge events for
tasks the lab (like AWS after an hour) no longer returns."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

from labkit import (
    WEB_ENVIRONMENT,
    Lab,
    Probe,
    Stack,
    TaskRef,
    app_exit_timeline,
    init_failure_timeline,
    pull_failure_timeline,
    running_timeline,
    scenario,
)
from scenarios.core import node_db_crash_log

REGION = "us-east-1"


def _missing_image_revision(lab: Lab, stack: Stack, tag: str) -> str:
    """A new revision whose image tag was never pushed (the classic bad deploy)."""
    return lab.register_task_definition(
        stack.family,
        [lab.container_def("web", f"{lab.registry()}/web:{tag}", log_group=stack.log_group,
                           environment=WEB_ENVIRONMENT)],
        execution_role_arn=stack.execution_role_arn,
    )


def _pull_failure(lab: Lab, task: TaskRef, image: str, stopped: datetime) -> None:
    reason = (
        f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
        f"failed to resolve ref {image}: {image}: not found"
    )
    containers = [{"name": "web", "exit_code": None, "reason": reason, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="TaskFailedToStart", stopped_reason=reason,
                    timeline=pull_failure_timeline(stopped=stopped), containers=containers)
    lab.verify_stopped_task(task, containers)


def _app_exit(lab: Lab, stack: Stack, task: TaskRef, stopped: datetime) -> None:
    tl = app_exit_timeline(stopped=stopped, ran_for=timedelta(seconds=5))
    lab.write_logs(stack.log_group, lab.log_stream_for(stack, task),
                   node_db_crash_log(tl.started + timedelta(milliseconds=380)))
    containers = [{"name": "web", "exit_code": 1, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="EssentialContainerExited",
                    stopped_reason="Essential container in task exited", timeline=tl, containers=containers)
    lab.verify_stopped_task(task, containers)


def _replaced(lab: Lab, task: TaskRef, deployment: str, stopped: datetime,
              ran_for: timedelta = timedelta(minutes=50)) -> None:
    """A task the service scheduler replaced: stopped by `deployment`, exit code 0."""
    tl = app_exit_timeline(stopped=stopped, ran_for=ran_for)
    containers = [{"name": "web", "exit_code": 0, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="ServiceSchedulerInitiated",
                    stopped_reason=f"Scaling activity initiated by (deployment {deployment})",
                    timeline=tl, containers=containers)
    lab.verify_stopped_task(task, containers)


def _deploy(lab: Lab, cluster: str, service: str, td: str, created: datetime, **state) -> tuple[dict, dict]:
    """UpdateService to `td`; the scheduler's records: a new PRIMARY deployment, the old one ACTIVE."""
    old = dict(lab.primary_deployment(cluster, service))
    lab.client("ecs").update_service(cluster=cluster, service=service, taskDefinition=td)
    new = {**old, "id": lab.new_deployment_id(), "taskDefinition": td, "createdAt": created,
           "updatedAt": created, "status": "PRIMARY", **state}
    old.update({"status": "ACTIVE", "rolloutState": "COMPLETED",
                "rolloutStateReason": f"ECS deployment {old['id']} completed."})
    svc = lab.ecs_service(cluster, service)
    svc.deployments = [new, old]
    svc.task_definition = td
    return new, old


# --------------------------------------------------------------------------------------
# service-mixed-causes
# --------------------------------------------------------------------------------------


@scenario("service-mixed-causes",
          summary="service web: 3 tasks of a bad deploy (tag never pushed), 2 app crashes, 2 replacements")
def service_mixed_causes(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": True}, tags=("v1",), image_tag="v1")
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=True, desired_count=2, created=lab.ago(days=2))
    first = lab.primary_deployment(stack.cluster, "web")["id"]
    # Before the bad deploy: two tasks crash on the database, two are replaced.
    crashed = [lab.run_task(stack.cluster, stack.task_definition_arn, service="web") for _ in range(2)]
    for task, minutes in zip(crashed, (48, 44)):
        _app_exit(lab, stack, task, lab.ago(minutes=minutes))
    replaced = [lab.run_task(stack.cluster, stack.task_definition_arn, service="web") for _ in range(2)]
    # Long before the window: not part of the sweep.
    old = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    _app_exit(lab, stack, old, lab.ago(hours=3))

    td2 = _missing_image_revision(lab, stack, "v2")
    deployed = lab.ago(minutes=30)
    new, _ = _deploy(lab, stack.cluster, "web", td2, deployed, desiredCount=2, runningCount=0,
                     pendingCount=0, failedTasks=3, rolloutState="IN_PROGRESS",
                     rolloutStateReason="ECS deployment in progress.")
    for task, minutes in zip(replaced, (29, 28)):
        _replaced(lab, task, first, lab.ago(minutes=minutes))
    image = f"{lab.registry()}/web:v2"
    pulls = [lab.run_task(stack.cluster, td2, service="web", started_by=new["id"]) for _ in range(3)]
    for task, minutes in zip(pulls, (26, 17, 6)):
        _pull_failure(lab, task, image, lab.ago(minutes=minutes))
    lab.set_service_state(
        stack.cluster, "web",
        events=[
            (deployed + timedelta(seconds=5), f"(service {{service}}) has started 1 tasks: (task {pulls[0].id})."),
            (lab.ago(minutes=5), "(service {service}) is unable to consistently start tasks successfully. "
                                 "For more information, see the Troubleshooting section of the Amazon ECS "
                                 "Developer Guide."),
        ],
        running=0, pending=0,
    )
    return {
        "cluster": stack.cluster,
        "task_arn": pulls[-1].arn,
        "service": "web",
        "args": ["service", "web", "--cluster", stack.cluster, "--region", REGION],
        "essential_calls": ["ecs:DescribeServices"],
        "deployment_id": new["id"],
        "first_deployment_id": first,
        "image": image,
        "expect_groups": {"image-not-found": 3, "app-exit-error": 2, "stopped-by-deployment": 2},
        "outside_window_task_arn": old.arn,
    }


@service_mixed_causes.check
def _check_service_mixed_causes(p: Probe) -> None:
    ecs = p.client("ecs")
    arns = ecs.list_tasks(cluster="prod", desiredStatus="STOPPED")["taskArns"]
    p.equal(len(arns), 8, "eight stopped tasks, one of them three hours old")
    svc = ecs.describe_services(cluster="prod", services=["web"])["services"][0]
    p.equal([d["status"] for d in svc["deployments"]], ["PRIMARY", "ACTIVE"], "deployments")
    p.equal(svc["deployments"][0]["id"], p.info["deployment_id"], "the bad deploy is PRIMARY")
    tasks = ecs.describe_tasks(cluster="prod", tasks=arns)["tasks"]
    by_dep = sorted(t["startedBy"] for t in tasks if t.get("startedBy") == p.info["deployment_id"])
    p.equal(len(by_dep), 3, "three tasks of the bad deploy")
    p.expect(all(t.get("group") == "service:web" for t in tasks), "every task is the service's")


# --------------------------------------------------------------------------------------
# service-never-placed
# --------------------------------------------------------------------------------------

PLACEMENT_FAILURE = (
    "(service {service}) was unable to place a task. Reason: Capacity is unavailable at this time. "
    "Please try again later or in a different availability zone. For more information, see the "
    "Troubleshooting section of the Amazon ECS Developer Guide."
)


@scenario("service-never-placed", summary="service web wants 2 tasks; Fargate had no capacity, no task ever ran")
def service_never_placed(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": True}, tags=("v1",), image_tag="v1")
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=True, desired_count=2, created=lab.ago(minutes=40))
    lab.set_service_state(
        stack.cluster, "web",
        events=[(lab.ago(minutes=m), PLACEMENT_FAILURE) for m in (38, 27, 16, 4)],
        running=0, pending=0,
    )
    return {
        "cluster": stack.cluster,
        "task_arn": None,
        "no_task": True,
        "service": "web",
        "args": ["service", "web", "--cluster", stack.cluster, "--region", REGION],
        "essential_calls": ["ecs:DescribeServices"],
        "events": 4,
    }


@service_never_placed.check
def _check_service_never_placed(p: Probe) -> None:
    ecs = p.client("ecs")
    svc = ecs.describe_services(cluster="prod", services=["web"])["services"][0]
    p.equal((svc["desiredCount"], svc["runningCount"]), (2, 0), "2 wanted, none running")
    p.equal(len(svc["events"]), 4, "four placement failures")
    p.equal(ecs.list_tasks(cluster="prod")["taskArns"], [], "no task at all")


# --------------------------------------------------------------------------------------
# place-ec2-short-of-memory
# --------------------------------------------------------------------------------------

# api_failures_messages.html: the stopped reason of a task whose capacity provider's
# instances are too small for it.
SHORT_OF_MEMORY = "TaskFailedToStart: RESOURCE:MEMORY"


@scenario("place-ec2-short-of-memory",
          summary="a task of an EC2 capacity provider stopped: no container instance had its memory")
def place_ec2_short_of_memory(lab: Lab) -> dict:
    """The web service's task on capacity provider `web-asg`, stopped with
    `TaskFailedToStart: RESOURCE:MEMORY` before any container ran.

    Set in-process: moto launches every task as Fargate and has no placement, so
    the task's launch type (EC2) and capacity provider are set on moto's own task
    (as the scheduler would have recorded them), and the stop as for every lab
    outcome (stop code, reason, no container ran)."""
    stack = lab.build_web_stack(network_opts={"public": True})
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=True, created=lab.ago(minutes=30))
    task = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    moto_task = lab.ecs_task(task)
    moto_task.launch_type = "EC2"
    moto_task.capacity_provider_name = "web-asg"
    moto_task.platform_version = None
    containers = [{"name": "web", "exit_code": None, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="TaskFailedToStart", stopped_reason=SHORT_OF_MEMORY,
                    timeline=init_failure_timeline(lab.ago(minutes=4)), containers=containers)
    return {
        "cluster": stack.cluster,
        "task_arn": task.arn,
        "service": "web",
        "launch_type": "EC2",
    }


@place_ec2_short_of_memory.check
def _check_place_ec2_short_of_memory(p: Probe) -> None:
    t = p.task()
    p.equal(t.get("stoppedReason"), SHORT_OF_MEMORY, "stoppedReason")
    p.equal(t.get("launchType"), "EC2", "launch type")
    p.equal(t.get("capacityProviderName"), "web-asg", "capacity provider")
    p.equal(t.get("stopCode"), "TaskFailedToStart", "stopCode")
    p.equal([c.get("exitCode") for c in t["containers"]], [None], "no container ran")


# --------------------------------------------------------------------------------------
# cluster-three-services
# --------------------------------------------------------------------------------------


@scenario("cluster-three-services",
          summary="cluster prod: web (bad deploy), api (crash + replacement), worker (steady), a one-off task")
def cluster_three_services(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": True}, tags=("v1",), image_tag="v1")
    td1 = stack.task_definition_arn
    td2 = _missing_image_revision(lab, stack, "v9")
    for name in ("web", "api", "worker"):
        lab.create_service(stack.cluster, name, td1, stack.network, assign_public_ip=True,
                           desired_count=1, created=lab.ago(days=1))
    new, _ = _deploy(lab, stack.cluster, "web", td2, lab.ago(minutes=20), failedTasks=2,
                     rolloutState="IN_PROGRESS", desiredCount=1, runningCount=0, pendingCount=0)
    web = [lab.run_task(stack.cluster, td2, service="web", started_by=new["id"]) for _ in range(2)]
    for task, minutes in zip(web, (15, 5)):
        _pull_failure(lab, task, f"{lab.registry()}/web:v9", lab.ago(minutes=minutes))
    api_first = lab.primary_deployment(stack.cluster, "api")["id"]
    crashed = lab.run_task(stack.cluster, td1, service="api")
    _app_exit(lab, stack, crashed, lab.ago(minutes=12))
    replaced = lab.run_task(stack.cluster, td1, service="api")
    _replaced(lab, replaced, api_first, lab.ago(minutes=30))
    worker = lab.run_task(stack.cluster, td1, service="worker")
    lab.set_running(worker, running_timeline(started=lab.ago(hours=5)))
    lab.set_service_state(stack.cluster, "worker",
                          events=[(lab.ago(hours=4), "(service {service}) has reached a steady state.")],
                          running=1, pending=0)
    lab.set_service_state(stack.cluster, "web", running=0, pending=0)
    lab.set_service_state(stack.cluster, "api", running=1, pending=0)
    one_off = lab.run_task(stack.cluster, td1, stack.network, assign_public_ip=True)
    _app_exit(lab, stack, one_off, lab.ago(minutes=9))
    return {
        "cluster": stack.cluster,
        "task_arn": web[-1].arn,
        "args": ["cluster", stack.cluster, "--region", REGION],
        "essential_calls": ["ecs:ListServices", "ecs:DescribeServices"],
        "one_off_task_arn": one_off.arn,
    }


@cluster_three_services.check
def _check_cluster_three_services(p: Probe) -> None:
    ecs = p.client("ecs")
    p.equal(len(ecs.list_services(cluster="prod")["serviceArns"]), 3, "three services")
    stopped = ecs.list_tasks(cluster="prod", desiredStatus="STOPPED")["taskArns"]
    p.equal(len(stopped), 5, "five stopped tasks")
    tasks = ecs.describe_tasks(cluster="prod", tasks=stopped)["tasks"]
    groups = sorted(t.get("group") for t in tasks)
    p.equal(groups, ["family:web", "service:api", "service:api", "service:web", "service:web"], "groups")


# --------------------------------------------------------------------------------------
# event-stopped-tasks
# --------------------------------------------------------------------------------------


def _event(lab: Lab, task: dict, when: datetime) -> dict:
    """The EventBridge event ECS emits for a task state change: `detail` is the task
    as DescribeTasks shows it, timestamps as RFC 3339 text."""

    def text(value):
        if isinstance(value, datetime):
            return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
        if isinstance(value, dict):
            return {k: text(v) for k, v in value.items()}
        if isinstance(value, list):
            return [text(v) for v in value]
        return value

    detail = text(task)
    detail.setdefault("updatedAt", detail.get("stoppedAt") or detail.get("createdAt"))
    return {
        "version": "0",
        "id": f"{lab.rng.getrandbits(32):08x}-{lab.rng.getrandbits(16):04x}-4{lab.rng.getrandbits(12):03x}-"
              f"a{lab.rng.getrandbits(12):03x}-{lab.rng.getrandbits(48):012x}",
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": lab.account,
        "time": text(when),
        "region": lab.region,
        "resources": [task["taskArn"]],
        "detail": detail,
    }


@scenario("event-stopped-tasks",
          summary="EventBridge events: one task AWS has forgotten (bad tag), one it still holds (crash)")
def event_stopped_tasks(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": True}, tags=("v1",), image_tag="v1")
    td2 = _missing_image_revision(lab, stack, "v4")
    ecs = lab.client("ecs")

    forgotten = lab.run_task(stack.cluster, td2, stack.network, assign_public_ip=True)
    image = f"{lab.registry()}/web:v4"
    _pull_failure(lab, forgotten, image, lab.ago(hours=2))
    forgotten_event = _event(lab, ecs.describe_tasks(cluster=stack.cluster, tasks=[forgotten.arn])["tasks"][0],
                             lab.ago(hours=2))
    # An hour after it stopped, ECS no longer returns the task.
    del lab.backend("ecs").tasks[stack.cluster][forgotten.arn]

    held = lab.run_task(stack.cluster, stack.task_definition_arn, stack.network, assign_public_ip=True)
    pending = ecs.describe_tasks(cluster=stack.cluster, tasks=[held.arn])["tasks"][0]
    pending_event = _event(lab, {**pending, "lastStatus": "PENDING", "desiredStatus": "RUNNING", "version": 1},
                           lab.ago(minutes=4))
    _app_exit(lab, stack, held, lab.ago(minutes=3))
    held_event = _event(lab, ecs.describe_tasks(cluster=stack.cluster, tasks=[held.arn])["tasks"][0],
                        lab.ago(minutes=3))
    held_event["detail"]["version"] = 5
    return {
        "cluster": stack.cluster,
        "task_arn": held.arn,
        "forgotten_task_arn": forgotten.arn,
        "held_task_arn": held.arn,
        "image": image,
        "events": [forgotten_event, pending_event, held_event],
    }


@event_stopped_tasks.check
def _check_event_stopped_tasks(p: Probe) -> None:
    ecs = p.client("ecs")
    got = ecs.describe_tasks(cluster="prod", tasks=[p.info["forgotten_task_arn"]])["tasks"]
    p.equal(got, [], "the forgotten task is gone")
    events = p.info["events"]
    p.equal([e["detail"]["lastStatus"] for e in events], ["STOPPED", "PENDING", "STOPPED"], "event statuses")
    p.equal(events[0]["detail"]["stopCode"], "TaskFailedToStart", "forgotten task's stop code")
    p.expect(json.dumps(events[2]).find('"exitCode": 1') > 0, "the crash's exit code is in its event")


# --------------------------------------------------------------------------------------
# service-many-stopped
# --------------------------------------------------------------------------------------

SWEEP_TASKS_ENV = "ECS_DOCTOR_LAB_SWEEP_TASKS"


@scenario("service-many-stopped",
          summary=f"service web with N stopped tasks (${SWEEP_TASKS_ENV}, default 10): crashes and bad pulls")
def service_many_stopped(lab: Lab) -> dict:
    count = int(os.environ.get(SWEEP_TASKS_ENV, "10"))
    stack = lab.build_web_stack(network_opts={"public": True}, tags=("v1",), image_tag="v1")
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=True, desired_count=2, created=lab.ago(days=2))
    td2 = _missing_image_revision(lab, stack, "v2")
    crashes = count // 2
    tasks = [lab.run_task(stack.cluster, stack.task_definition_arn, service="web") for _ in range(crashes)]
    # Spread over the last 50 minutes, newest last.
    for i, task in enumerate(tasks):
        _app_exit(lab, stack, task, lab.ago(seconds=3000 - i * 3000 // max(count, 1)))
    new, _ = _deploy(lab, stack.cluster, "web", td2, lab.ago(minutes=25), failedTasks=count - crashes,
                     rolloutState="IN_PROGRESS", desiredCount=2, runningCount=0, pendingCount=0)
    image = f"{lab.registry()}/web:v2"
    pulls = [lab.run_task(stack.cluster, td2, service="web", started_by=new["id"])
             for _ in range(count - crashes)]
    for i, task in enumerate(pulls):
        _pull_failure(lab, task, image, lab.ago(seconds=1400 - i * 1400 // max(count, 1)))
    newest = (pulls or tasks)[-1]
    return {
        "cluster": stack.cluster,
        "task_arn": newest.arn,
        "service": "web",
        "args": ["service", "web", "--cluster", stack.cluster, "--region", REGION],
        "essential_calls": ["ecs:DescribeServices"],
        "stopped_tasks": count,
        "expect_groups": {"image-not-found": count - crashes, "app-exit-error": crashes},
    }


@service_many_stopped.check
def _check_service_many_stopped(p: Probe) -> None:
    ecs = p.client("ecs")
    arns = ecs.list_tasks(cluster="prod", desiredStatus="STOPPED")["taskArns"]
    p.equal(len(arns), p.info["stopped_tasks"], "every task stopped")
