"""The four classic stops: the app exited, the image tag is missing, a public subnet
without a public IP, and a benign replacement by a deployment."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from labkit import (
    EXECUTION_ROLE_POLICY_ARN,
    WEB_ENVIRONMENT,
    Lab,
    Probe,
    app_exit_timeline,
    init_failure_timeline,
    pull_failure_timeline,
    running_timeline,
    scenario,
)

REGION = "us-east-1"


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


# --------------------------------------------------------------------------------------
# app-exit-error
# --------------------------------------------------------------------------------------

DB_ERROR = "Error: connect ECONNREFUSED 10.0.3.25:5432"


def node_db_crash_log(start: datetime) -> list[tuple[datetime, str]]:
    """A Node.js service booting, failing to reach Postgres, and dying on the rejection."""
    t = start
    out: list[tuple[datetime, str]] = []

    def app(delay_ms: int, level: str, msg: str) -> None:
        nonlocal t
        t = t + timedelta(milliseconds=delay_ms)
        out.append((t, f"{_iso(t)} {level:<5} {msg}"))

    def raw(msg: str) -> None:
        out.append((t, msg))

    app(0, "INFO", "[boot] web 1.4.2 (commit 9f3c2ab) starting in production mode")
    app(3, "INFO", "[boot] node v20.11.1, pid 1, linux/x64")
    app(9, "INFO", "[config] loaded 9 settings from the environment")
    app(1, "INFO", "[config] PORT=3000 LOG_LEVEL=info PGHOST=10.0.3.25 PGDATABASE=web")
    app(41, "INFO", "[metrics] prometheus metrics exposed at /metrics")
    app(12, "INFO", "[http] registered 14 routes")
    app(2, "INFO", "[cache] connecting to redis at web-cache.x7kq2p.0001.use1.cache.amazonaws.com:6379")
    app(118, "INFO", "[cache] redis ready")
    app(4, "INFO", "[db] creating postgres pool (host=10.0.3.25 port=5432 database=web user=web_app max=10)")
    delays = [250, 500, 1000, 2000]
    app(6, "WARN", "[db] connection attempt 1/5 failed: connect ECONNREFUSED 10.0.3.25:5432 (retrying in 250ms)")
    for i, d in enumerate(delays[1:], start=2):
        app(delays[i - 2] + 3, "WARN",
            f"[db] connection attempt {i}/5 failed: connect ECONNREFUSED 10.0.3.25:5432 (retrying in {d}ms)")
    app(delays[-1] + 3, "ERROR", "[db] connection attempt 5/5 failed: connect ECONNREFUSED 10.0.3.25:5432")
    app(1, "ERROR", "[boot] cannot start without the database, giving up")
    t = t + timedelta(milliseconds=4)
    for line in [
        "/app/node_modules/pg-pool/index.js:45",
        "    Error.captureStackTrace(err)",
        "          ^",
        DB_ERROR,
        "    at /app/node_modules/pg-pool/index.js:45:11",
        "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
        "    at async connectWithRetry (/app/dist/db/pool.js:38:20)",
        "    at async createPool (/app/dist/db/pool.js:61:3)",
        "    at async main (/app/dist/server.js:27:16) {",
        "  errno: -111,",
        "  code: 'ECONNREFUSED',",
        "  syscall: 'connect',",
        "  address: '10.0.3.25',",
        "  port: 5432",
        "}",
        "Node.js v20.11.1",
    ]:
        raw(line)
    return out


@scenario("app-exit-error", summary="essential container exits 1; the logs hold the reason")
def app_exit_error(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": True})
    task = lab.run_task(stack.cluster, stack.task_definition_arn, stack.network, assign_public_ip=True)
    tl = app_exit_timeline(stopped=lab.ago(minutes=4), ran_for=timedelta(seconds=5))
    stream = lab.log_stream_for(stack, task)
    lab.write_logs(stack.log_group, stream, node_db_crash_log(tl.started + timedelta(milliseconds=380)))
    containers = [{"name": "web", "exit_code": 1, "last_status": "STOPPED"}]
    lab.set_outcome(
        task,
        stop_code="EssentialContainerExited",
        stopped_reason="Essential container in task exited",
        timeline=tl,
        containers=containers,
    )
    lab.verify_stopped_task(task, containers)
    return {
        "cluster": stack.cluster,
        "task_arn": task.arn,
        "log_group": stack.log_group,
        "log_stream": stream,
        "decisive_line": DB_ERROR,
        "container": "web",
        "exit_code": 1,
    }


@app_exit_error.check
def _check_app_exit_error(p: Probe) -> None:
    t = p.task()
    p.equal(t.get("stopCode"), "EssentialContainerExited", "stopCode")
    p.equal(t.get("stoppedReason"), "Essential container in task exited", "stoppedReason")
    c = p.container(t, "web")
    p.equal(c.get("exitCode"), 1, "web exitCode")
    p.expect("reason" not in c, "no container reason for a plain exit")
    for k in ("pullStartedAt", "pullStoppedAt", "startedAt", "stoppedAt", "executionStoppedAt"):
        p.expect(k in t, f"task {k}")
    td = p.task_definition(t["taskDefinitionArn"])
    opts = td["containerDefinitions"][0]["logConfiguration"]["options"]
    p.equal(opts, {"awslogs-group": "/ecs/web", "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"},
            "awslogs options")
    logs = p.client("logs")
    streams = logs.describe_log_streams(logGroupName="/ecs/web", logStreamNamePrefix="ecs/web/")["logStreams"]
    p.equal([s["logStreamName"] for s in streams], [p.info["log_stream"]], "one stream ecs/web/<task-id>")
    p.equal(p.info["log_stream"], f"ecs/web/{p.info['task_id']}", "stream name")
    ev = logs.get_log_events(logGroupName="/ecs/web", logStreamName=p.info["log_stream"], startFromHead=True)
    lines = [e["message"] for e in ev["events"]]
    p.expect(25 <= len(lines) <= 40, f"about 30 log lines (got {len(lines)})")
    p.expect(p.info["decisive_line"] in lines, "decisive line in the log")
    p.expect(lines and lines[-1].startswith("Node.js v"), "log ends with node's epilogue")
    # the events sit between the container's start and the task's stop
    first, last = ev["events"][0]["timestamp"], ev["events"][-1]["timestamp"]
    p.expect(t["startedAt"].timestamp() * 1000 <= first <= last <= t["executionStoppedAt"].timestamp() * 1000,
             "log timestamps inside the task's run")
    tail = logs.get_log_events(logGroupName="/ecs/web", logStreamName=p.info["log_stream"], limit=20)
    p.equal(len(tail["events"]), 20, "get_log_events limit returns the newest 20")
    p.expect(tail["events"][-1]["message"] == lines[-1], "newest event last")
    _check_web_basics(p, t, tags=["v1"], public_route=True)


@scenario("app-exit-error-restart-policy",
          summary="a restart policy restarted the app in place once; its second crash came too soon to be")
def app_exit_error_restart_policy(lab: Lab) -> dict:
    """`web` has `restartPolicy` (enabled, `restartAttemptPeriod` 60 s). It ran 11 minutes and
    crashed when its database went away; ECS restarted it in place (same task, same log
    stream); the restarted process could not reach the database either and exited 1 after
    4 s, sooner than the period, so ECS stopped the task. Nothing is set in-process beyond
    the task's outcome (as for every stopped task in the lab)."""
    policy = {"enabled": True, "restartAttemptPeriod": 60}
    stack = lab.build_web_stack(network_opts={"public": True}, container_opts={"restartPolicy": policy})
    task = lab.run_task(stack.cluster, stack.task_definition_arn, stack.network, assign_public_ip=True)
    tl = app_exit_timeline(stopped=lab.ago(minutes=4), ran_for=timedelta(minutes=11, seconds=5))
    stream = lab.log_stream_for(stack, task)
    first_run = node_db_crash_log(tl.started + timedelta(milliseconds=380))
    # The first run got its pool, served for eleven minutes, then lost the database:
    # its boot lines, then the same rejection the restarted run dies of.
    boot = [line for line in first_run if "connection attempt" not in line[1]][:9]
    crashed = tl.started + timedelta(minutes=11)
    stack_lines = [(crashed, line) for _, line in first_run[-16:]]
    restart = node_db_crash_log(crashed + timedelta(seconds=1))
    lab.write_logs(stack.log_group, stream, boot + stack_lines + restart)
    containers = [{"name": "web", "exit_code": 1, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited",
                    timeline=tl, containers=containers)
    lab.verify_stopped_task(task, containers)
    return {"cluster": stack.cluster, "task_arn": task.arn, "log_group": stack.log_group, "log_stream": stream,
            "decisive_line": DB_ERROR, "container": "web", "exit_code": 1, "restart_attempt_period": 60}


@app_exit_error_restart_policy.check
def _check_app_exit_error_restart_policy(p: Probe) -> None:
    t = p.task()
    td = p.task_definition(t["taskDefinitionArn"])
    p.equal(td["containerDefinitions"][0].get("restartPolicy"), {"enabled": True, "restartAttemptPeriod": 60},
            "restartPolicy kept by RegisterTaskDefinition")
    events = p.client("logs").get_log_events(logGroupName="/ecs/web", logStreamName=p.info["log_stream"],
                                             startFromHead=True)["events"]
    p.equal(sum(e["message"] == DB_ERROR for e in events), 2, "both runs' rejections in the one stream")


# --------------------------------------------------------------------------------------
# image-not-found
# --------------------------------------------------------------------------------------


def _missing_tag_stop(lab: Lab, stopped: datetime, pushed_later: bool = False):
    """Tag v3 could not be pulled (ECR holds v1 and v2): the text AWS documents
    for a missing tag (task_cannot_pull_image.html). With `pushed_later`, CI
    pushes v3 now, after the stop."""
    stack = lab.build_web_stack(network_opts={"public": True}, tags=("v1", "v2"), image_tag="v3")
    task = lab.run_task(stack.cluster, stack.task_definition_arn, stack.network, assign_public_ip=True)
    if pushed_later:
        lab.build_ecr_image("web", "v3")
    ref = stack.image_uri
    reason = (
        f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
        f"failed to resolve ref {ref}: {ref}: not found"
    )
    containers = [{"name": "web", "exit_code": None, "reason": reason, "last_status": "STOPPED"}]
    lab.set_outcome(
        task,
        stop_code="TaskFailedToStart",
        stopped_reason=reason,
        timeline=pull_failure_timeline(stopped=stopped),
        containers=containers,
    )
    lab.verify_stopped_task(task, containers)
    return stack, task, ref


@scenario("image-not-found", summary="task definition names tag v3, ECR has only v1 and v2")
def image_not_found(lab: Lab) -> dict:
    stack, task, ref = _missing_tag_stop(lab, lab.ago(minutes=3))
    return {
        "cluster": stack.cluster,
        "task_arn": task.arn,
        "log_group": stack.log_group,
        "repository": "web",
        "image": ref,
        "missing_tag": "v3",
        "existing_tags": ["v1", "v2"],
    }


@scenario("image-pushed-after-stop",
          summary="the pull failed on tag v3, pushed 15 minutes after the task stopped")
def image_pushed_after_stop(lab: Lab) -> dict:
    """The same pull failure as image-not-found, but CI pushed v3 after the task
    stopped: today's DescribeImages finds the tag that the stop text says was
    missing (its imagePushedAt is the push made here, now)."""
    stack, task, ref = _missing_tag_stop(lab, lab.ago(minutes=15), pushed_later=True)
    return {"cluster": stack.cluster, "task_arn": task.arn, "log_group": stack.log_group, "image": ref}


@image_pushed_after_stop.check
def _(p: Probe) -> None:
    t = p.task()
    p.equal(t.get("stopCode"), "TaskFailedToStart", "stopCode")
    images = p.client("ecr").describe_images(repositoryName="web", imageIds=[{"imageTag": "v3"}])
    pushed = images["imageDetails"][0]["imagePushedAt"]
    p.expect(pushed > t["stoppedAt"], "v3 was pushed after the task stopped")


@image_not_found.check
def _check_image_not_found(p: Probe) -> None:
    t = p.task()
    p.equal(t.get("stopCode"), "TaskFailedToStart", "stopCode")
    p.expect(t.get("stoppedReason", "").startswith("CannotPullContainerError: pull image manifest"),
             "stoppedReason is the pull error")
    c = p.container(t, "web")
    p.expect("exitCode" not in c, "no exit code: the container never ran")
    p.equal(c.get("reason"), t.get("stoppedReason"), "container reason = stoppedReason")
    p.expect("pullStartedAt" in t and "pullStoppedAt" not in t and "startedAt" not in t,
             "pull started, never finished, nothing started")
    td = p.task_definition(t["taskDefinitionArn"])
    p.equal(td["containerDefinitions"][0]["image"], "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v3",
            "task definition image")
    ecr = p.client("ecr")
    try:
        ecr.describe_images(repositoryName="web", imageIds=[{"imageTag": "v3"}])
        p.expect(False, "describe_images web:v3 must fail")
    except ecr.exceptions.ImageNotFoundException:
        pass
    logs = p.client("logs")
    p.equal(logs.describe_log_streams(logGroupName="/ecs/web")["logStreams"], [], "no log stream")
    _check_web_basics(p, t, tags=["v1", "v2"], public_route=True)


# --------------------------------------------------------------------------------------
# no-public-ip
# --------------------------------------------------------------------------------------

NO_PUBLIC_IP_REASON = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 "
    "time(s): RequestError: send request failed caused by: Post "
    '"https://api.ecr.us-east-1.amazonaws.com/": dial tcp 52.46.157.21:443: i/o timeout'
)


@scenario("no-public-ip", summary="service in a public subnet with assignPublicIp DISABLED, no NAT, no endpoints")
def no_public_ip(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": True})
    net = stack.network
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, net, assign_public_ip=False,
                       created=lab.ago(minutes=12))
    task = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    tl = init_failure_timeline(stopped=lab.ago(minutes=9))
    lab.set_outcome(
        task,
        stop_code="TaskFailedToStart",
        stopped_reason=NO_PUBLIC_IP_REASON,
        timeline=tl,
        containers=[{"name": "web", "exit_code": None, "last_status": "STOPPED"}],
    )
    dep = lab.primary_deployment(stack.cluster, "web")
    dep.update(
        {"desiredCount": 1, "pendingCount": 0, "runningCount": 0, "failedTasks": 1,
         "rolloutState": "IN_PROGRESS", "rolloutStateReason": f"ECS deployment {dep['id']} in progress.",
         "updatedAt": tl.stopped}
    )
    lab.set_service_state(
        stack.cluster, "web",
        events=[(tl.created, f"(service {{service}}) has started 1 tasks: (task {task.id}).")],
        running=0, pending=0,
    )
    lab.verify_stopped_task(task, [{"name": "web", "exit_code": None, "last_status": "STOPPED"}])
    subnet = lab.ecs_task(task).attachments[0]["details"][0]["value"]
    return {
        "cluster": stack.cluster,
        "task_arn": task.arn,
        "service": "web",
        "log_group": stack.log_group,
        "vpc_id": net.vpc_id,
        "subnet_id": subnet,
        "route_table_id": net.route_tables[subnet],
        "igw_id": net.igw_id,
        "security_group_id": net.task_security_group_id,
    }


@no_public_ip.check
def _check_no_public_ip(p: Probe) -> None:
    t = p.task()
    p.equal(t.get("stopCode"), "TaskFailedToStart", "stopCode")
    p.expect(t.get("stoppedReason", "").startswith("ResourceInitializationError: unable to pull secrets"),
             "stoppedReason")
    p.equal(t.get("group"), "service:web", "task group")
    c = p.container(t, "web")
    p.expect("exitCode" not in c and "reason" not in c, "container never ran, no reason")
    p.expect("pullStartedAt" not in t, "no pull attempted")
    eni = p.eni_details(t)
    p.equal(eni.get("subnetId"), p.info["subnet_id"], "ENI subnet")
    ecs = p.client("ecs")
    svc = ecs.describe_services(cluster=p.info["cluster"], services=["web"])["services"][0]
    awsvpc = svc["networkConfiguration"]["awsvpcConfiguration"]
    p.equal(awsvpc["assignPublicIp"], "DISABLED", "service assignPublicIp")
    p.expect(p.info["subnet_id"] in awsvpc["subnets"], "task subnet is one of the service's")
    p.equal(awsvpc["securityGroups"], [p.info["security_group_id"]], "service security groups")
    dep = svc["deployments"][0]
    p.equal(t.get("startedBy"), dep["id"], "task startedBy = the deployment id")
    p.equal(dep.get("failedTasks"), 1, "deployment failedTasks")
    p.expect(any(p.info["task_id"] in e["message"] for e in svc["events"]), "service event names the task")
    ec2 = p.client("ec2")
    vpc = p.info["vpc_id"]
    p.equal(ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NatGateways"], [],
            "no NAT gateway")
    p.equal(ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"], [],
            "no VPC endpoints")
    # the ENI was deleted with the task
    try:
        ec2.describe_network_interfaces(NetworkInterfaceIds=[eni.get("networkInterfaceId", "eni-0")])
        p.expect(False, "the task ENI is gone after the stop")
    except ec2.exceptions.ClientError as e:
        p.equal(e.response["Error"]["Code"], "InvalidNetworkInterfaceID.NotFound", "deleted ENI error code")
    _check_web_basics(p, t, tags=["v1"], public_route=True)


# --------------------------------------------------------------------------------------
# stopped-by-deployment
# --------------------------------------------------------------------------------------


def node_service_log(start: datetime, stop: datetime) -> list[tuple[datetime, str]]:
    """A healthy service: boot, a few requests, a graceful SIGTERM shutdown at `stop`."""
    out: list[tuple[datetime, str]] = []
    t = start

    def at(ts: datetime, level: str, msg: str) -> None:
        out.append((ts, f"{_iso(ts)} {level:<5} {msg}"))

    for ms, msg in [
        (0, "[boot] web 1.4.1 (commit 2b7e0d4) starting in production mode"),
        (3, "[boot] node v20.11.1, pid 1, linux/x64"),
        (9, "[config] loaded 9 settings from the environment"),
        (55, "[http] registered 14 routes"),
        (131, "[cache] redis ready"),
        (212, "[db] postgres pool ready (host=10.0.3.25 database=web max=10)"),
        (4, "[http] listening on 0.0.0.0:3000"),
    ]:
        t = t + timedelta(milliseconds=ms)
        at(t, "INFO", msg)
    for i, path in enumerate(["/healthz", "/api/orders?page=1", "/healthz", "/api/orders/8812", "/healthz"]):
        ts = start + (stop - start) * (i + 1) / 7
        at(ts, "INFO", f'[http] GET {path} 200 {3 + 7 * (i % 3)}ms')
    s = stop + timedelta(milliseconds=40)
    at(s, "INFO", "[boot] SIGTERM received, shutting down gracefully")
    at(s + timedelta(milliseconds=6), "INFO", "[http] stopped accepting connections")
    at(s + timedelta(milliseconds=511), "INFO", "[http] 0 requests in flight, server closed")
    at(s + timedelta(milliseconds=530), "INFO", "[db] postgres pool closed")
    at(s + timedelta(milliseconds=533), "INFO", "[boot] bye")
    return out


@scenario("stopped-by-deployment", summary="benign: the service replaced the task during a deployment")
def stopped_by_deployment(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": True}, tags=("v1", "v2"), image_tag="v1")
    net = stack.network
    ecs = lab.client("ecs")
    svc_created = lab.ago(days=3, hours=2)
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, net, assign_public_ip=True,
                       created=svc_created)
    old_dep = dict(lab.primary_deployment(stack.cluster, "web"))
    old = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    old_tl = running_timeline(started=svc_created + timedelta(seconds=41))
    lab.set_running(old, old_tl)

    # The deployment: a new revision with image v2, then UpdateService.
    td2 = lab.register_task_definition(
        stack.family,
        [lab.container_def("web", stack.images["v2"].uri, log_group=stack.log_group,
                           environment=WEB_ENVIRONMENT)],
        execution_role_arn=stack.execution_role_arn,
    )
    ecs.update_service(cluster=stack.cluster, service="web", taskDefinition=td2)
    dep_created = lab.ago(minutes=7)
    new_dep = {
        **old_dep,
        "id": lab.new_deployment_id(),
        "taskDefinition": td2,
        "createdAt": dep_created,
        "status": "PRIMARY",
    }
    svc = lab.ecs_service(stack.cluster, "web")
    svc.deployments = [new_dep]
    new = lab.run_task(stack.cluster, td2, service="web")
    new_started = dep_created + timedelta(seconds=48)
    lab.set_running(new, running_timeline(started=new_started))
    lab.write_logs(stack.log_group, lab.log_stream_for(stack, new),
                   node_service_log(new_started + timedelta(milliseconds=300), lab.now)[:7])

    # Once the new task was healthy, the scheduler scaled the old deployment to 0.
    stopping = new_started + timedelta(seconds=35)
    exited = stopping + timedelta(seconds=1)
    stopped = exited + timedelta(seconds=30)
    old_stream = lab.log_stream_for(stack, old)
    lab.write_logs(stack.log_group, old_stream,
                   node_service_log(old_tl.started + timedelta(milliseconds=350), stopping))
    reason = f"Scaling activity initiated by (deployment {old_dep['id']})"
    lab.set_outcome(
        old,
        stop_code="ServiceSchedulerInitiated",
        stopped_reason=reason,
        timeline=dataclasses.replace(old_tl, stopping=stopping, execution_stopped=exited, stopped=stopped),
        containers=[{"name": "web", "exit_code": 0, "last_status": "STOPPED"}],
    )
    completed = stopped + timedelta(seconds=14)
    new_dep.update(
        {"desiredCount": 1, "pendingCount": 0, "runningCount": 1, "failedTasks": 0,
         "rolloutState": "COMPLETED", "rolloutStateReason": f"ECS deployment {new_dep['id']} completed.",
         "updatedAt": completed}
    )
    svc.task_definition = td2
    lab.set_service_state(
        stack.cluster, "web",
        events=[
            (old_tl.created, f"(service {{service}}) has started 1 tasks: (task {old.id})."),
            (old_tl.started + timedelta(minutes=1, seconds=10), "(service {service}) has reached a steady state."),
            (new_started - timedelta(seconds=48), f"(service {{service}}) has started 1 tasks: (task {new.id})."),
            (stopping, f"(service {{service}}) has stopped 1 running tasks: (task {old.id})."),
            (completed, f"(service {{service}}) (deployment {new_dep['id']}) deployment completed."),
            (completed + timedelta(seconds=2), "(service {service}) has reached a steady state."),
        ],
        running=1, pending=0,
    )
    lab.verify_stopped_task(old, [{"name": "web", "exit_code": 0, "last_status": "STOPPED"}])
    return {
        "cluster": stack.cluster,
        "task_arn": old.arn,
        "service": "web",
        "log_group": stack.log_group,
        "log_stream": old_stream,
        "old_deployment_id": old_dep["id"],
        "new_deployment_id": new_dep["id"],
        "replacement_task_arn": new.arn,
    }


@stopped_by_deployment.check
def _check_stopped_by_deployment(p: Probe) -> None:
    t = p.task()
    p.equal(t.get("stopCode"), "ServiceSchedulerInitiated", "stopCode")
    p.equal(t.get("stoppedReason"), f"Scaling activity initiated by (deployment {p.info['old_deployment_id']})",
            "stoppedReason")
    p.equal(t.get("startedBy"), p.info["old_deployment_id"], "old task startedBy = old deployment")
    p.equal(p.container(t, "web").get("exitCode"), 0, "web exitCode")
    p.expect(t["taskDefinitionArn"].endswith(":1"), "old task ran revision 1")
    new = p.task(p.info["replacement_task_arn"])
    p.equal(new.get("lastStatus"), "RUNNING", "replacement RUNNING")
    p.equal(p.task(p.info["replacement_task_arn"]).get("lastStatus"), "RUNNING", "stays RUNNING when re-read")
    p.expect(new["taskDefinitionArn"].endswith(":2"), "replacement runs revision 2")
    ecs = p.client("ecs")
    svc = ecs.describe_services(cluster=p.info["cluster"], services=["web"])["services"][0]
    p.equal([d["id"] for d in svc["deployments"]], [p.info["new_deployment_id"]], "only the new deployment")
    p.equal(svc["deployments"][0]["rolloutState"], "COMPLETED", "rollout completed")
    p.expect(svc["taskDefinition"].endswith(":2"), "service on revision 2")
    msgs = [e["message"] for e in svc["events"]]
    p.expect(msgs and msgs[0] == "(service web) has reached a steady state.", "newest event first")
    p.expect(f"(service web) has stopped 1 running tasks: (task {p.info['task_id']})." in msgs,
             "stop event names the old task")
    stopped = ecs.list_tasks(cluster=p.info["cluster"], desiredStatus="STOPPED")["taskArns"]
    p.equal(stopped, [p.info["task_arn"]], "ListTasks STOPPED")
    running = ecs.list_tasks(cluster=p.info["cluster"], desiredStatus="RUNNING")["taskArns"]
    p.equal(running, [p.info["replacement_task_arn"]], "ListTasks RUNNING")
    logs = p.client("logs")
    ev = logs.get_log_events(logGroupName="/ecs/web", logStreamName=p.info["log_stream"], startFromHead=True)
    p.expect(any("SIGTERM" in e["message"] for e in ev["events"]), "graceful shutdown logged")
    _check_web_basics(p, t, tags=["v1", "v2"], public_route=True)


# --------------------------------------------------------------------------------------
# shared read-back of the web stack
# --------------------------------------------------------------------------------------


def _check_web_basics(p: Probe, t: dict, tags: list[str], public_route: bool) -> None:
    """What every web-stack scenario offers a collector: role, image, network."""
    td = p.task_definition(t["taskDefinitionArn"])
    p.equal(td.get("networkMode"), "awsvpc", "networkMode")
    p.equal((td.get("cpu"), td.get("memory")), ("256", "512"), "task size")
    p.equal(td.get("requiresCompatibilities"), ["FARGATE"], "requiresCompatibilities")
    iam = p.client("iam")
    role_name = td["executionRoleArn"].rsplit("/", 1)[-1]
    role = iam.get_role(RoleName=role_name)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):  # botocore url-decodes and parses it; keep both shapes
        import json
        trust = json.loads(trust)
    p.equal(trust["Statement"][0]["Principal"], {"Service": "ecs-tasks.amazonaws.com"}, "role trust")
    attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    p.equal([a["PolicyArn"] for a in attached], [EXECUTION_ROLE_POLICY_ARN], "attached policies")
    pol = iam.get_policy(PolicyArn=EXECUTION_ROLE_POLICY_ARN)["Policy"]
    doc = iam.get_policy_version(PolicyArn=EXECUTION_ROLE_POLICY_ARN, VersionId=pol["DefaultVersionId"])[
        "PolicyVersion"]["Document"]
    actions = doc["Statement"][0]["Action"]
    p.expect("ecr:GetAuthorizationToken" in actions and "logs:PutLogEvents" in actions,
             "execution policy document")
    p.equal(iam.list_role_policies(RoleName=role_name)["PolicyNames"], [], "no inline policies")
    ecr = p.client("ecr")
    imgs = ecr.describe_images(repositoryName="web")["imageDetails"]
    p.equal(sorted(tag for i in imgs for tag in i.get("imageTags", [])), sorted(tags), "ECR tags")
    got = ecr.batch_get_image(repositoryName="web", imageIds=[{"imageTag": tags[0]}])
    p.expect(got["images"] and '"schemaVersion": 2' in got["images"][0]["imageManifest"], "batch_get_image manifest")
    eni = p.eni_details(t)
    ec2 = p.client("ec2")
    subnet = ec2.describe_subnets(SubnetIds=[eni["subnetId"]])["Subnets"][0]
    p.expect(subnet["AvailabilityZone"] == t.get("availabilityZone"), "task AZ = subnet AZ")
    import ipaddress
    p.expect(ipaddress.ip_address(eni["privateIPv4Address"]) in ipaddress.ip_network(subnet["CidrBlock"]),
             "ENI IP inside the subnet")
    vpc = subnet["VpcId"]
    rtb = p.route_table_for(eni["subnetId"], vpc)
    explicit = [a for a in rtb.get("Associations", []) if a.get("SubnetId") == eni["subnetId"]]
    p.equal(len(explicit), 1, "explicit route table association")
    default = [r for r in rtb.get("Routes", []) if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    if public_route:
        p.expect(default and default[0].get("GatewayId", "").startswith("igw-"), "0.0.0.0/0 -> igw")
        igw = ec2.describe_internet_gateways(InternetGatewayIds=[default[0]["GatewayId"]])["InternetGateways"][0]
        p.equal([a["VpcId"] for a in igw["Attachments"]], [vpc], "IGW attached to the VPC")
        if "igw_id" in p.info:
            p.equal(default[0]["GatewayId"], p.info["igw_id"], "route to the reported IGW")
    for attr, key in (("enableDnsHostnames", "EnableDnsHostnames"), ("enableDnsSupport", "EnableDnsSupport")):
        v = ec2.describe_vpc_attribute(VpcId=vpc, Attribute=attr)[key]["Value"]
        p.equal(v, True, f"VPC {attr}")
    acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [eni["subnetId"]]}])
    p.equal(len(acls["NetworkAcls"]), 1, "the subnet's network ACL")
    p.expect(acls["NetworkAcls"] and acls["NetworkAcls"][0]["IsDefault"], "default NACL")
