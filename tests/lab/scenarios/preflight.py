"""Preflight: service `web` behind an ALB in public subnets, running
revision 1 (image `web:v1`, pushed), with revision 2 registered for the next
deployment but naming tag `v3`, which CI never pushed. A preflight of the
service passes; one of revision 2 finds the missing image; task definition
files checked against the service's network and load balancer find their
own mistakes."""

from __future__ import annotations

from labkit import Lab, running_timeline, scenario
from scenarios.app import _alb, _lb_service


@scenario("preflight-ready", summary="a healthy service behind an ALB; revision 2 names an image tag never pushed")
def preflight_ready(lab: Lab) -> dict:
    stack = lab.build_web_stack(tags=("v1",), image_tag="v1")
    alb = _alb(lab, stack, 3000, "/health")
    _lb_service(lab, stack, alb, 3000, grace=60)
    task = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    lab.set_running(task, running_timeline(lab.ago(hours=3)))
    next_revision = lab.register_task_definition(
        stack.family,
        [lab.container_def(stack.container, f"{lab.registry()}/web:v3", log_group=stack.log_group)],
        execution_role_arn=stack.execution_role_arn,
    )
    return {
        "cluster": stack.cluster,
        "task_arn": task.arn,
        "service": "web",
        "expect_status": "RUNNING",
        "next_revision": next_revision,
        "subnet_id": stack.network.task_subnet_ids[0],
        "security_group": stack.network.task_security_group_id,
        "image": stack.image_uri,
        "execution_role_arn": stack.execution_role_arn,
        "args": ["preflight", "--service", "web", "--cluster", stack.cluster, "--region", lab.region],
        # Without these there is nothing to judge: the run ends in one line (exit 3).
        "essential_calls": ["ecs:DescribeServices", "ecs:DescribeTaskDefinition"],
    }
