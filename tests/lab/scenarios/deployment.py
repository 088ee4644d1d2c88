"""Deployments (`ecs-doctor deployment`): one rolled back by the circuit breaker after
its image could not be pulled, one rolled back by a CloudWatch alarm, one that
completed, one still in progress, one that completes while `--wait` follows it, and one
in progress whose older task its app protected from scale-in.

Set in-process, as ECS's scheduler would write them: the service deployments API's
records (`Lab.set_service_deployments`, served by the lab's own model in
`labkit._install_moto_patches`, since moto has none of it), a task's scale-in protection
(`Lab.protect_task`, served by GetTaskProtection from the lab's own model in the same place:
moto has no task protection either), the service's
deployments and events (`set_service_state`), and the tasks' outcomes.

Texts: the scheduler's events and `rolloutStateReason` are the forms AWS publishes
(service event messages in the ECS Developer Guide; a `describe-services` capture
after a circuit-breaker rollback, sevenwestmedia-labs/pulumi-components
`ecs-deployment-check` README). No published capture shows a rollback's
`statusReason`, so none is set."""

from __future__ import annotations

from datetime import datetime, timedelta

from labkit import Lab, Probe, Stack, running_timeline, scenario
from scenarios.notify import _notification_targets
from scenarios.reach import _missing_image_revision, _pull_failure, _replaced

REGION = "us-east-1"

CIRCUIT_BREAKER_FAILED = "(service {service}) (deployment {new}) deployment failed: tasks failed to start."
ROLLING_BACK = "(service {service}) rolling back to deployment {old}."
COMPLETED = "(service {service}) (deployment {dep}) deployment completed."
STEADY = "(service {service}) has reached a steady state."


def _args(cluster: str, *extra: str) -> list[str]:
    return ["deployment", "web", "--cluster", cluster, "--region", REGION, *extra]


def _revision_summary(arn: str, requested: int, running: int, pending: int = 0) -> dict:
    return {"arn": arn, "requestedTaskCount": requested, "runningTaskCount": running,
            "pendingTaskCount": pending}


def _config(alarms: list[str] | None = None) -> dict:
    conf = {"deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200, "minimumHealthyPercent": 100}
    if alarms:
        conf["alarms"] = {"alarmNames": alarms, "enable": True, "rollback": True}
    return conf


def _first_deployment(lab: Lab, rev: str, created: datetime) -> dict:
    """The service's creation: its first deployment, long done."""
    return {
        "createdAt": created, "startedAt": created + timedelta(seconds=2),
        "finishedAt": created + timedelta(minutes=3), "updatedAt": created + timedelta(minutes=3),
        "sourceServiceRevisions": [], "targetServiceRevision": _revision_summary(rev, 2, 2),
        "status": "SUCCESSFUL", "deploymentConfiguration": _config(),
        "deploymentCircuitBreaker": {"status": "MONITORING_COMPLETE", "failureCount": 0, "threshold": 3},
        "alarms": {"status": "DISABLED"},
    }


def _base(lab: Lab, tags=("v1",)) -> tuple[Stack, str, str, list]:
    """web on web:1, created two days ago with desired 2: its first deployment id and
    revision, and its two running tasks."""
    stack = lab.build_web_stack(network_opts={"public": True}, tags=tags, image_tag="v1")
    created = lab.ago(days=2)
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=True, desired_count=2, created=created)
    old = lab.primary_deployment(stack.cluster, "web")["id"]
    rev1 = lab.service_revision(stack.cluster, "web", stack.task_definition_arn, created)
    running = [lab.run_task(stack.cluster, stack.task_definition_arn, service="web", started_by=old)
               for _ in range(2)]
    for task in running:
        lab.set_running(task, running_timeline(started=lab.ago(days=2)))
    return stack, old, rev1, running


def _new_revision(lab: Lab, stack: Stack, tag: str) -> str:
    return _missing_image_revision(lab, stack, tag)


# --------------------------------------------------------------------------------------
# deployment-rolled-back: the circuit breaker, after three pulls of a tag never pushed
# --------------------------------------------------------------------------------------


@scenario("deployment-rolled-back",
          summary="web:2 (tag v3 never pushed) failed 3 pulls; the circuit breaker rolled back to web:1")
def deployment_rolled_back(lab: Lab) -> dict:
    stack, old, rev1, _ = _base(lab)
    td2 = _new_revision(lab, stack, "v3")
    began = lab.ago(minutes=14)
    rev2 = lab.service_revision(stack.cluster, "web", td2, began)
    new = lab.new_deployment_id()
    failed = [lab.run_task(stack.cluster, td2, service="web", started_by=new) for _ in range(3)]
    for task, minutes in zip(failed, (13, 11, 9)):
        _pull_failure(lab, task, f"{lab.registry()}/web:v3", lab.ago(minutes=minutes))
    rollback = lab.ago(minutes=8)
    # After the rollback, DescribeServices shows the old deployment again, COMPLETED.
    primary = dict(lab.primary_deployment(stack.cluster, "web"))
    primary.update({"rolloutState": "COMPLETED", "rolloutStateReason": f"ECS deployment {old} completed.",
                    "updatedAt": lab.ago(minutes=5)})
    lab.set_service_state(
        stack.cluster, "web", deployments=[primary], running=2, pending=0,
        events=[
            (rollback, CIRCUIT_BREAKER_FAILED.replace("{new}", new)),
            (rollback + timedelta(seconds=1), ROLLING_BACK.replace("{old}", old)),
            (lab.ago(minutes=5), COMPLETED.replace("{dep}", old)),
            (lab.ago(minutes=4), STEADY),
        ],
    )
    [arn, _] = lab.set_service_deployments(stack.cluster, "web", [
        {
            "createdAt": began, "startedAt": began + timedelta(seconds=2),
            "finishedAt": lab.ago(minutes=5), "updatedAt": lab.ago(minutes=5),
            "sourceServiceRevisions": [_revision_summary(rev1, 2, 2)],
            "targetServiceRevision": _revision_summary(rev2, 0, 0),
            "status": "ROLLBACK_SUCCESSFUL", "deploymentConfiguration": _config(),
            "rollback": {"startedAt": rollback, "serviceRevisionArn": rev1},
            "deploymentCircuitBreaker": {"status": "TRIGGERED", "failureCount": 3, "threshold": 3},
            "alarms": {"status": "DISABLED"},
        },
        _first_deployment(lab, rev1, lab.ago(days=2)),
    ])
    svc_arn = lab.ecs_service(stack.cluster, "web").arn
    return {
        "cluster": stack.cluster, "service": "web", "task_arn": failed[-1].arn,
        "args": _args(stack.cluster), "essential_calls": ["ecs:DescribeServices"],
        "deployment_arn": arn, "failed_tasks": [t.arn for t in failed],
        "new_deployment_id": new, "old_deployment_id": old,
        # What EventBridge delivers to the Lambda, in the form the ECS Developer Guide
        # shows ("Amazon ECS service deployment state change events"), and where the
        # Lambda's notifications go.
        "deployment_events": [
            _deployment_event(lab, svc_arn, new, rollback, "ERROR", "SERVICE_DEPLOYMENT_FAILED",
                              "ECS deployment circuit breaker: task failed to start."),
            _deployment_event(lab, svc_arn, new, rollback, "INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS",
                              f"ECS deployment circuit breaker: rolling back to deploymentId {old}."),
            _deployment_event(lab, svc_arn, old, lab.ago(minutes=5), "INFO", "SERVICE_DEPLOYMENT_COMPLETED",
                              f"ECS deployment {old} completed."),
        ],
        **_notification_targets(lab),
    }


def _deployment_event(lab: Lab, service_arn: str, deployment: str, at: datetime, kind: str,
                      name: str, reason: str) -> dict:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0", "id": f"ddca6449-b258-46c0-8653-{lab.rng.randint(10**11, 10**12 - 1)}",
        "detail-type": "ECS Deployment State Change", "source": "aws.ecs",
        "account": lab.account, "time": stamp, "region": lab.region, "resources": [service_arn],
        "detail": {"eventType": kind, "eventName": name, "deploymentId": deployment,
                   "updatedAt": stamp, "reason": reason},
    }


@deployment_rolled_back.check
def _check_deployment_rolled_back(p: Probe) -> None:
    ecs = p.client("ecs")
    [brief, first] = ecs.list_service_deployments(cluster="prod", service="web")["serviceDeployments"]
    p.equal(brief["status"], "ROLLBACK_SUCCESSFUL", "the newest deployment rolled back")
    p.equal(first["status"], "SUCCESSFUL", "the service's first deployment completed")
    [d] = ecs.describe_service_deployments(serviceDeploymentArns=[brief["serviceDeploymentArn"]])[
        "serviceDeployments"]
    p.equal(d["deploymentCircuitBreaker"]["status"], "TRIGGERED", "the circuit breaker fired")
    revs = ecs.describe_service_revisions(
        serviceRevisionArns=[d["targetServiceRevision"]["arn"], d["rollback"]["serviceRevisionArn"]])
    p.equal(sorted(r["taskDefinition"].rsplit("/", 1)[-1] for r in revs["serviceRevisions"]),
            ["web:1", "web:2"], "the revisions name web:2 and web:1")
    for arn in p.info["failed_tasks"]:
        p.equal(p.task(arn)["stopCode"], "TaskFailedToStart", "each new task failed to start")


# --------------------------------------------------------------------------------------
# deployment-alarm-rolled-back: the tasks ran, a CloudWatch alarm fired
# --------------------------------------------------------------------------------------


@scenario("deployment-alarm-rolled-back",
          summary="web:2 ran, alarm web-5xx went into ALARM; ECS rolled back to web:1")
def deployment_alarm_rolled_back(lab: Lab) -> dict:
    stack, old, rev1, _ = _base(lab, tags=("v1", "v2"))
    cw = lab.client("cloudwatch")
    for name, metric in (("web-5xx", "HTTPCode_Target_5XX_Count"), ("web-p99-latency", "TargetResponseTime")):
        cw.put_metric_alarm(AlarmName=name, Namespace="AWS/ApplicationELB", MetricName=metric,
                            Statistic="Sum", Period=60, EvaluationPeriods=2, Threshold=10,
                            ComparisonOperator="GreaterThanThreshold")
    td2 = _new_revision(lab, stack, "v2")
    began = lab.ago(minutes=20)
    rev2 = lab.service_revision(stack.cluster, "web", td2, began)
    new = lab.new_deployment_id()
    # web:2's tasks started, served errors, and were replaced by the rollback.
    ran = [lab.run_task(stack.cluster, td2, service="web", started_by=new) for _ in range(2)]
    for task, minutes in zip(ran, (7, 6)):
        _replaced(lab, task, old, lab.ago(minutes=minutes), ran_for=timedelta(minutes=10))
    rollback = lab.ago(minutes=8)
    primary = dict(lab.primary_deployment(stack.cluster, "web"))
    primary.update({"rolloutState": "COMPLETED", "rolloutStateReason": f"ECS deployment {old} completed.",
                    "updatedAt": lab.ago(minutes=4)})
    lab.set_service_state(stack.cluster, "web", deployments=[primary], running=2, pending=0,
                          events=[(lab.ago(minutes=4), COMPLETED.replace("{dep}", old)),
                                  (lab.ago(minutes=3), STEADY)])
    [arn, _] = lab.set_service_deployments(stack.cluster, "web", [
        {
            "createdAt": began, "startedAt": began + timedelta(seconds=2),
            "finishedAt": lab.ago(minutes=4), "updatedAt": lab.ago(minutes=4),
            "sourceServiceRevisions": [_revision_summary(rev1, 2, 2)],
            "targetServiceRevision": _revision_summary(rev2, 0, 0),
            "status": "ROLLBACK_SUCCESSFUL",
            "deploymentConfiguration": _config(alarms=["web-5xx", "web-p99-latency"]),
            "rollback": {"startedAt": rollback, "serviceRevisionArn": rev1},
            "deploymentCircuitBreaker": {"status": "MONITORING_COMPLETE", "failureCount": 0, "threshold": 3},
            "alarms": {"status": "TRIGGERED", "alarmNames": ["web-5xx", "web-p99-latency"],
                       "triggeredAlarmNames": ["web-5xx"]},
        },
        _first_deployment(lab, rev1, lab.ago(days=2)),
    ])
    return {
        "cluster": stack.cluster, "service": "web", "task_arn": ran[0].arn,
        "args": _args(stack.cluster), "essential_calls": ["ecs:DescribeServices"],
        "deployment_arn": arn, "alarm": "web-5xx",
    }


@deployment_alarm_rolled_back.check
def _check_deployment_alarm_rolled_back(p: Probe) -> None:
    ecs = p.client("ecs")
    [brief, _] = ecs.list_service_deployments(cluster="prod", service="web")["serviceDeployments"]
    [d] = ecs.describe_service_deployments(serviceDeploymentArns=[brief["serviceDeploymentArn"]])[
        "serviceDeployments"]
    p.equal(d["alarms"]["triggeredAlarmNames"], ["web-5xx"], "web-5xx fired")
    alarms = p.client("cloudwatch").describe_alarms(AlarmNames=["web-5xx"])["MetricAlarms"]
    p.equal(len(alarms), 1, "the alarm exists")


# --------------------------------------------------------------------------------------
# deployment-completed
# --------------------------------------------------------------------------------------


@scenario("deployment-completed", summary="web:2 deployed: 2 of 2 running, web:1's tasks replaced")
def deployment_completed(lab: Lab) -> dict:
    stack, old, rev1, running = _base(lab, tags=("v1", "v2"))
    td2 = _new_revision(lab, stack, "v2")
    began = lab.ago(minutes=12)
    rev2 = lab.service_revision(stack.cluster, "web", td2, began)
    new = lab.new_deployment_id()
    # web:1's two tasks were replaced: stopped by this deployment, but not its own tasks.
    for task in running:
        _replaced(lab, task, new, lab.ago(minutes=8))
    for _ in range(2):
        lab.set_running(lab.run_task(stack.cluster, td2, service="web", started_by=new),
                        running_timeline(started=lab.ago(minutes=10)))
    primary = {**lab.primary_deployment(stack.cluster, "web"), "id": new, "taskDefinition": td2,
               "createdAt": began, "updatedAt": lab.ago(minutes=7), "rolloutState": "COMPLETED",
               "rolloutStateReason": f"ECS deployment {new} completed.", "runningCount": 2}
    lab.set_service_state(stack.cluster, "web", deployments=[primary], running=2, pending=0,
                          events=[(lab.ago(minutes=7), COMPLETED.replace("{dep}", new)),
                                  (lab.ago(minutes=6), STEADY)])
    lab.ecs_service(stack.cluster, "web").task_definition = td2
    [arn, _] = lab.set_service_deployments(stack.cluster, "web", [
        {
            "createdAt": began, "startedAt": began + timedelta(seconds=2),
            "finishedAt": lab.ago(minutes=7), "updatedAt": lab.ago(minutes=7),
            "sourceServiceRevisions": [_revision_summary(rev1, 0, 0)],
            "targetServiceRevision": _revision_summary(rev2, 2, 2),
            "status": "SUCCESSFUL", "deploymentConfiguration": _config(),
            "deploymentCircuitBreaker": {"status": "MONITORING_COMPLETE", "failureCount": 0, "threshold": 3},
            "alarms": {"status": "DISABLED"},
        },
        _first_deployment(lab, rev1, lab.ago(days=2)),
    ])
    return {
        "cluster": stack.cluster, "service": "web", "task_arn": None, "no_task": True,
        "args": _args(stack.cluster), "essential_calls": ["ecs:DescribeServices"],
        "deployment_arn": arn,
    }


@deployment_completed.check
def _check_deployment_completed(p: Probe) -> None:
    ecs = p.client("ecs")
    [brief, _] = ecs.list_service_deployments(cluster="prod", service="web")["serviceDeployments"]
    p.equal(brief["status"], "SUCCESSFUL", "the newest deployment completed")
    svc = ecs.describe_services(cluster="prod", services=["web"])["services"][0]
    p.equal(svc["taskDefinition"].rsplit("/", 1)[-1], "web:2", "the service runs web:2")


# --------------------------------------------------------------------------------------
# deployment-in-progress, deployment-settles-while-waiting
# --------------------------------------------------------------------------------------


def _in_progress(lab: Lab, settles_after: float | None = None) -> tuple[Stack, str]:
    stack, old, rev1, _ = _base(lab, tags=("v1", "v2"))
    td2 = _new_revision(lab, stack, "v2")
    began = lab.ago(minutes=2)
    rev2 = lab.service_revision(stack.cluster, "web", td2, began)
    new = lab.new_deployment_id()
    lab.set_running(lab.run_task(stack.cluster, td2, service="web", started_by=new),
                    running_timeline(started=lab.ago(minutes=1)))
    current = {
        "createdAt": began, "startedAt": began + timedelta(seconds=2), "updatedAt": lab.ago(minutes=1),
        "sourceServiceRevisions": [_revision_summary(rev1, 2, 2)],
        "targetServiceRevision": _revision_summary(rev2, 2, 1, 1),
        "status": "IN_PROGRESS", "deploymentConfiguration": _config(),
        "deploymentCircuitBreaker": {"status": "MONITORING", "failureCount": 0, "threshold": 3},
        "alarms": {"status": "DISABLED"},
    }
    if settles_after is not None:
        done = lab.ago(seconds=0)
        current["timeline"] = [(settles_after, {
            "status": "SUCCESSFUL", "finishedAt": done, "updatedAt": done,
            "targetServiceRevision": _revision_summary(rev2, 2, 2),
            "deploymentCircuitBreaker": {"status": "MONITORING_COMPLETE", "failureCount": 0, "threshold": 3},
        })]
    primary = {**lab.primary_deployment(stack.cluster, "web"), "id": new, "taskDefinition": td2,
               "createdAt": began, "updatedAt": lab.ago(minutes=1), "rolloutState": "IN_PROGRESS",
               "rolloutStateReason": f"ECS deployment {new} in progress.", "runningCount": 1}
    lab.set_service_state(stack.cluster, "web", deployments=[primary], running=3, pending=1)
    service_timeline = ()
    if settles_after is not None:
        done = {**primary, "rolloutState": "COMPLETED", "rolloutStateReason": f"ECS deployment {new} completed.",
                "runningCount": 2, "updatedAt": lab.ago(seconds=0)}
        service_timeline = [(settles_after, {"deployments": [done], "running": 2, "pending": 0})]
    [arn, _] = lab.set_service_deployments(stack.cluster, "web",
                                           [current, _first_deployment(lab, rev1, lab.ago(days=2))],
                                           service_timeline=service_timeline)
    return stack, arn


@scenario("deployment-in-progress", summary="web:2 is deploying: 1 of 2 new tasks running, nothing failed")
def deployment_in_progress(lab: Lab) -> dict:
    stack, arn = _in_progress(lab)
    return {
        "cluster": stack.cluster, "service": "web", "task_arn": None, "no_task": True,
        "args": _args(stack.cluster), "essential_calls": ["ecs:DescribeServices"],
        "deployment_arn": arn,
    }


@scenario("deployment-settles-while-waiting",
          summary="web:2 is deploying and completes 3 s after it is first read (for --wait)")
def deployment_settles_while_waiting(lab: Lab) -> dict:
    stack, arn = _in_progress(lab, settles_after=3)
    return {
        "cluster": stack.cluster, "service": "web", "task_arn": None, "no_task": True,
        "args": _args(stack.cluster, "--wait", "--wait-timeout", "60s"),
        "essential_calls": ["ecs:DescribeServices"], "deployment_arn": arn,
    }


@deployment_in_progress.check
def _check_deployment_in_progress(p: Probe) -> None:
    [brief, _] = p.client("ecs").list_service_deployments(cluster="prod", service="web")["serviceDeployments"]
    p.equal(brief["status"], "IN_PROGRESS", "the newest deployment is under way")


# --------------------------------------------------------------------------------------
# deployment-stuck-on-protected-task: an old task the app protected from scale-in
# --------------------------------------------------------------------------------------


@scenario("deployment-stuck-on-protected-task",
          summary="web:2 is deploying; one web:1 task is protected from scale-in for another 50 minutes")
def deployment_stuck_on_protected_task(lab: Lab) -> dict:
    """The in-progress deployment above, and one of web:1's two running tasks
    protected from scale-in (as its app would set it through the ECS agent's task
    protection endpoint): `Lab.protect_task`, served by `GetTaskProtection` from the
    lab's own model (`labkit._install_moto_patches`; moto has no task protection)."""
    stack, arn = _in_progress(lab)
    old_tasks = [t for t in lab.client("ecs").describe_tasks(
        cluster=stack.cluster,
        tasks=lab.client("ecs").list_tasks(cluster=stack.cluster, desiredStatus="RUNNING")["taskArns"],
    )["tasks"] if t["taskDefinitionArn"] == stack.task_definition_arn]
    protected = sorted(t["taskArn"] for t in old_tasks)[0]
    lab.protect_task(stack.cluster, protected, expires=lab.now + timedelta(minutes=50))
    return {
        "cluster": stack.cluster, "service": "web", "task_arn": None, "no_task": True,
        "args": _args(stack.cluster), "essential_calls": ["ecs:DescribeServices"],
        "deployment_arn": arn, "protected_task_arn": protected,
    }


@deployment_stuck_on_protected_task.check
def _check_deployment_stuck_on_protected_task(p: Probe) -> None:
    ecs = p.client("ecs")
    running = ecs.list_tasks(cluster="prod", desiredStatus="RUNNING")["taskArns"]
    p.equal(len(running), 3, "two web:1 tasks and one web:2 task run")
    got = ecs.get_task_protection(cluster="prod", tasks=running)
    protected = [t["taskArn"] for t in got["protectedTasks"] if t["protectionEnabled"]]
    p.equal(protected, [p.info["protected_task_arn"]], "one old task is protected")
    [t] = [t for t in got["protectedTasks"] if t["protectionEnabled"]]
    p.expect(t.get("expirationDate"), "the protection expires")
