"""The network family: could the task reach what it needed to start (ECR API and
registry, S3 layers, CloudWatch Logs), and can a running task be reached?

Each scenario builds the VPC the way a user's IaC would (through the EC2 API), then
breaks exactly one thing: a missing S3 gateway endpoint, a main route table without a
default route, a NAT gateway whose subnet has no internet route, a narrowed security
group, a network ACL without the ephemeral return ports, VPC DNS hostnames off, a
full subnet. Two healthy layouts (a private subnet behind a NAT gateway, and an
endpoints-only VPC) must produce no network candidate at all.
"""

from __future__ import annotations

from datetime import timedelta

from labkit import (
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

REGION = "us-east-1"

# What the Fargate agent reports when the registry-auth call to the ECR API times out.
ECR_API_TIMEOUT = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 "
    "time(s): RequestError: send request failed caused by: Post "
    '"https://api.ecr.us-east-1.amazonaws.com/": dial tcp 52.46.157.21:443: i/o timeout'
)

# The manifest came through the ecr.dkr endpoint; the layer download from S3 timed out.
S3_LAYER_TIMEOUT = (
    "CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy: "
    "httpReadSeeker: failed open: failed to do request: Get "
    '"https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/'
    'e3a1-4bd2/sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08": '
    "dial tcp 52.217.12.190:443: i/o timeout"
)

ENI_TIMEOUT = "Timeout waiting for network interface provisioning to complete."


def _failed_start(
    lab: Lab,
    reason: str,
    *,
    network_opts: dict,
    assign_public_ip: bool,
    pull_started: bool = False,
    tune=None,
) -> tuple[Stack, TaskRef, dict]:
    """The usual web service whose task failed to start with `reason`.

    `tune(lab, stack)` breaks the network after the stack is built and before the
    task is launched (as if someone changed it since the last deployment)."""
    stack = lab.build_web_stack(network_opts=network_opts)
    if tune:
        tune(lab, stack)
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=assign_public_ip, created=lab.ago(minutes=15))
    task = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    stopped = lab.ago(minutes=6)
    timeline = pull_failure_timeline(stopped) if pull_started else init_failure_timeline(stopped)
    containers = [{"name": "web", "exit_code": None, "last_status": "STOPPED",
                   **({"reason": reason} if pull_started else {})}]
    lab.set_outcome(task, stop_code="TaskFailedToStart", stopped_reason=reason,
                    timeline=timeline, containers=containers)
    lab.verify_stopped_task(task, containers)
    subnet = lab.ecs_task(task).attachments[0]["details"][0]["value"]
    info = {
        "cluster": stack.cluster,
        "task_arn": task.arn,
        "service": "web",
        "vpc_id": stack.network.vpc_id,
        "subnet_id": subnet,
        "security_group_id": stack.network.task_security_group_id,
    }
    return stack, task, info


def _app_exit(lab: Lab, network_opts: dict, assign_public_ip: bool) -> tuple[Stack, TaskRef, dict]:
    """The web service's task ran and its app exited 1: the network worked."""
    stack = lab.build_web_stack(network_opts=network_opts)
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=assign_public_ip, created=lab.ago(minutes=30))
    task = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    tl = app_exit_timeline(stopped=lab.ago(minutes=4))
    stream = lab.log_stream_for(stack, task)
    lab.write_logs(stack.log_group, stream, [
        (tl.started + timedelta(milliseconds=200), "[boot] web 1.4.2 starting"),
        (tl.started + timedelta(milliseconds=900), "Error: missing required setting FEATURE_FLAGS_URL"),
    ])
    containers = [{"name": "web", "exit_code": 1, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="EssentialContainerExited",
                    stopped_reason="Essential container in task exited", timeline=tl,
                    containers=containers)
    lab.verify_stopped_task(task, containers)
    subnet = lab.ecs_task(task).attachments[0]["details"][0]["value"]
    return stack, task, {
        "cluster": stack.cluster,
        "task_arn": task.arn,
        "service": "web",
        "vpc_id": stack.network.vpc_id,
        "subnet_id": subnet,
    }


def _task_subnet(p: Probe) -> dict:
    t = p.task()
    subnet = p.eni_details(t).get("subnetId")
    p.equal(subnet, p.info["subnet_id"], "task subnet")
    return p.client("ec2").describe_subnets(SubnetIds=[subnet])["Subnets"][0]


# --------------------------------------------------------------------------------------
# Healthy layouts: no network candidate
# --------------------------------------------------------------------------------------


@scenario("net-private-nat-healthy",
          summary="healthy: private subnet, 0.0.0.0/0 -> NAT gateway in a public subnet -> IGW; the app exited 1")
def private_nat_healthy(lab: Lab) -> dict:
    stack, _, info = _app_exit(lab, {"public": False, "nat": True}, assign_public_ip=False)
    info["nat_gateway_id"] = stack.network.nat_gateway_id
    return info


@private_nat_healthy.check
def _(p: Probe) -> None:
    subnet = _task_subnet(p)
    rtb = p.route_table_for(subnet["SubnetId"], subnet["VpcId"])
    default = [r for r in rtb["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    p.expect(default and default[0].get("NatGatewayId") == p.info["nat_gateway_id"], "0.0.0.0/0 -> NAT")


@scenario("net-endpoints-healthy",
          summary="healthy: no internet path; ecr.api, ecr.dkr, logs endpoints and the S3 gateway; the app exited 1")
def endpoints_healthy(lab: Lab) -> dict:
    stack, _, info = _app_exit(
        lab, {"public": False, "nat": False, "endpoints": ["ecr.api", "ecr.dkr", "logs", "s3"]},
        assign_public_ip=False,
    )
    info["endpoint_ids"] = stack.network.endpoint_ids
    return info


@endpoints_healthy.check
def _(p: Probe) -> None:
    subnet = _task_subnet(p)
    rtb = p.route_table_for(subnet["SubnetId"], subnet["VpcId"])
    p.expect(not any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in rtb["Routes"]), "no default route")
    p.expect(any(r.get("DestinationPrefixListId") and r.get("GatewayId", "").startswith("vpce-")
                 for r in rtb["Routes"]), "S3 gateway endpoint route")
    names = {e["ServiceName"] for e in p.client("ec2").describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [subnet["VpcId"]]}])["VpcEndpoints"]}
    p.equal(names, {f"com.amazonaws.{REGION}.{s}" for s in ("ecr.api", "ecr.dkr", "logs", "s3")}, "endpoints")


# --------------------------------------------------------------------------------------
# vpc-endpoint-missing: everything but the S3 gateway
# --------------------------------------------------------------------------------------


@scenario("net-s3-gateway-missing",
          summary="endpoints-only VPC with ecr.api, ecr.dkr and logs but no S3 gateway: layers time out")
def s3_gateway_missing(lab: Lab) -> dict:
    stack, _, info = _failed_start(
        lab, S3_LAYER_TIMEOUT,
        network_opts={"public": False, "nat": False, "endpoints": ["ecr.api", "ecr.dkr", "logs"]},
        assign_public_ip=False, pull_started=True,
    )
    info["route_table_id"] = stack.network.route_tables[info["subnet_id"]]
    return info


@s3_gateway_missing.check
def _(p: Probe) -> None:
    subnet = _task_subnet(p)
    eps = p.client("ec2").describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [subnet["VpcId"]]}])["VpcEndpoints"]
    p.expect(not any(e["ServiceName"].endswith(".s3") for e in eps), "no S3 endpoint")
    p.equal(len(eps), 3, "three interface endpoints")


# --------------------------------------------------------------------------------------
# no-egress-route
# --------------------------------------------------------------------------------------


@scenario("net-no-egress-route-main-table",
          summary="private subnets on the VPC's main route table (no explicit association), no NAT, no endpoints")
def no_egress_route_main_table(lab: Lab) -> dict:
    stack, _, info = _failed_start(
        lab, ECR_API_TIMEOUT,
        network_opts={"public": False, "nat": False, "explicit_association": False},
        assign_public_ip=False,
    )
    info["route_table_id"] = stack.network.main_route_table_id
    return info


@no_egress_route_main_table.check
def _(p: Probe) -> None:
    subnet = _task_subnet(p)
    explicit = p.client("ec2").describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet["SubnetId"]]}])["RouteTables"]
    p.equal(explicit, [], "no explicit association")
    rtb = p.route_table_for(subnet["SubnetId"], subnet["VpcId"])
    p.equal(rtb["RouteTableId"], p.info["route_table_id"], "the main table applies")
    p.expect(not any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in rtb["Routes"]), "no default route")


def _drop_public_default_route(lab: Lab, stack: Stack) -> None:
    """Someone removed the public subnets' internet route: the NAT gateway is stranded."""
    net = stack.network
    public_rtb = net.route_tables[net.public_subnet_ids[0]]
    lab.client("ec2").delete_route(RouteTableId=public_rtb, DestinationCidrBlock="0.0.0.0/0")


@scenario("net-nat-subnet-without-igw",
          summary="private subnet -> NAT gateway, but the NAT's public subnet lost its 0.0.0.0/0 -> IGW route")
def nat_subnet_without_igw(lab: Lab) -> dict:
    stack, _, info = _failed_start(
        lab, ECR_API_TIMEOUT, network_opts={"public": False, "nat": True}, assign_public_ip=False,
        tune=_drop_public_default_route,
    )
    net = stack.network
    info["nat_gateway_id"] = net.nat_gateway_id
    info["nat_subnet_id"] = net.public_subnet_ids[0]
    info["nat_route_table_id"] = net.route_tables[net.public_subnet_ids[0]]
    return info


@nat_subnet_without_igw.check
def _(p: Probe) -> None:
    ec2 = p.client("ec2")
    rtb = ec2.describe_route_tables(RouteTableIds=[p.info["nat_route_table_id"]])["RouteTables"][0]
    p.expect(not any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in rtb["Routes"]),
             "NAT subnet has no default route")


# --------------------------------------------------------------------------------------
# security groups
# --------------------------------------------------------------------------------------


def _egress_http_only(lab: Lab, stack: Stack) -> None:
    """A hardening change: the task group may only talk HTTP out."""
    ec2 = lab.client("ec2")
    sg = stack.network.task_security_group_id
    ec2.revoke_security_group_egress(
        GroupId=sg, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.authorize_security_group_egress(
        GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


@scenario("net-sg-egress-blocked",
          summary="public subnet with a public IP, but the task's security group allows only tcp/80 out")
def sg_egress_blocked(lab: Lab) -> dict:
    _, _, info = _failed_start(lab, ECR_API_TIMEOUT, network_opts={"public": True},
                               assign_public_ip=True, tune=_egress_http_only)
    return info


@sg_egress_blocked.check
def _(p: Probe) -> None:
    sg = p.client("ec2").describe_security_groups(GroupIds=[p.info["security_group_id"]])["SecurityGroups"][0]
    p.equal([(r["IpProtocol"], r.get("FromPort")) for r in sg["IpPermissionsEgress"]], [("tcp", 80)],
            "egress tcp/80 only")


def _public_ip_for(lab: Lab, task: TaskRef, ip: str) -> None:
    """Fargate gives a task with assignPublicIp=ENABLED a public address on its ENI
    (moto does not)."""
    eni_id = next(d["value"] for d in lab.ecs_task(task).attachments[0]["details"]
                  if d["name"] == "networkInterfaceId")
    lab.backend("ec2").get_network_interface(eni_id).public_ip = ip


@scenario("net-sg-ingress-closed",
          summary="RUNNING task with a public IP in a public subnet; its security group admits tcp/80, the app listens on 3000")
def sg_ingress_closed(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": True})
    ec2 = lab.client("ec2")
    sg = stack.network.task_security_group_id
    ec2.revoke_security_group_ingress(
        GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 3000, "ToPort": 3000,
                                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.authorize_security_group_ingress(
        GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=True, created=lab.ago(hours=2))
    task = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    public_ip = "54.80.17.42"
    _public_ip_for(lab, task, public_ip)
    started = lab.ago(minutes=50)
    lab.set_running(task, running_timeline(started))
    lab.write_logs(stack.log_group, lab.log_stream_for(stack, task), [
        (started + timedelta(milliseconds=300), "[boot] web 1.4.2 starting in production mode"),
        (started + timedelta(milliseconds=700), "[http] listening on 0.0.0.0:3000"),
    ])
    subnet = lab.ecs_task(task).attachments[0]["details"][0]["value"]
    return {
        "cluster": stack.cluster,
        "task_arn": task.arn,
        "service": "web",
        "vpc_id": stack.network.vpc_id,
        "subnet_id": subnet,
        "security_group_id": sg,
        "public_ip": public_ip,
        "container_port": 3000,
        "expect_status": "RUNNING",
    }


@sg_ingress_closed.check
def _(p: Probe) -> None:
    t = p.task()
    p.equal(t.get("lastStatus"), "RUNNING", "RUNNING")
    eni_id = p.eni_details(t)["networkInterfaceId"]
    eni = p.client("ec2").describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    p.equal(eni.get("Association", {}).get("PublicIp"), p.info["public_ip"], "ENI public IP")
    p.equal([g["GroupId"] for g in eni["Groups"]], [p.info["security_group_id"]], "ENI security group")


@scenario("net-running-no-public-ip",
          summary="RUNNING task in a private subnet behind a NAT gateway: nothing on the internet can reach it")
def running_no_public_ip(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": False, "nat": True})
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=False, created=lab.ago(hours=2))
    task = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    lab.set_running(task, running_timeline(lab.ago(minutes=50)))
    subnet = lab.ecs_task(task).attachments[0]["details"][0]["value"]
    return {
        "cluster": stack.cluster,
        "task_arn": task.arn,
        "service": "web",
        "vpc_id": stack.network.vpc_id,
        "subnet_id": subnet,
        "vpc_cidr": stack.network.cidr,
        "expect_status": "RUNNING",
    }


@running_no_public_ip.check
def _(p: Probe) -> None:
    t = p.task()
    p.equal(t.get("lastStatus"), "RUNNING", "RUNNING")
    eni_id = p.eni_details(t)["networkInterfaceId"]
    eni = p.client("ec2").describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    p.expect("Association" not in eni, "no public IP")


# --------------------------------------------------------------------------------------
# A private task behind its load balancer: inbound starts from the load balancer
# --------------------------------------------------------------------------------------


# Spring Boot's line once Tomcat listens (TomcatWebServer.start, Spring Boot 3).
TOMCAT_3000 = "INFO 1 --- [main] o.s.b.w.embedded.tomcat.TomcatWebServer : Tomcat started on port 3000 (http) with context path '/'"


def _private_behind_alb(lab: Lab, admit_lb: bool) -> dict:
    """Service `web` in private subnets (0.0.0.0/0 -> NAT, no public IP) behind an
    internet-facing ALB in the public subnets, sending to container `web` on 3000.
    The task's security group admits tcp/3000 from the ALB's security group
    (`admit_lb`), or only from a bastion's group."""
    from scenarios.app import _alb, _task_ip

    stack = lab.build_web_stack(network_opts={"public": False, "nat": True})
    ec2 = lab.client("ec2")
    net = stack.network
    sg = net.task_security_group_id
    alb = _alb(lab, stack, port=3000, path="/health")
    # The stack's own rule admits the whole VPC; replace it with the intended source.
    ec2.revoke_security_group_ingress(
        GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 3000, "ToPort": 3000,
                                    "IpRanges": [{"CidrIp": net.cidr}]}])
    source = alb.lb_sg
    if not admit_lb:
        source = ec2.create_security_group(GroupName="web-bastion", Description="bastion",
                                           VpcId=net.vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 3000, "ToPort": 3000,
                                    "UserIdGroupPairs": [{"GroupId": source}]}])
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, net,
                       assign_public_ip=False, created=lab.ago(days=2))
    svc = lab.ecs_service(stack.cluster, "web")
    # CreateService's loadBalancers and grace period (moto keeps loadBalancers, not the grace period)
    svc.load_balancers = [{"targetGroupArn": alb.tg_arn, "containerName": stack.container, "containerPort": 3000}]
    svc.health_check_grace_period_seconds = 60
    task = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    started = lab.ago(minutes=50)
    lab.set_running(task, running_timeline(started))
    lab.write_logs(stack.log_group, lab.log_stream_for(stack, task), [
        (started + timedelta(milliseconds=400), "INFO 1 --- [main] c.e.web.WebApplication : Starting WebApplication v1.4.2 using Java 21.0.5"),
        (started + timedelta(seconds=9), TOMCAT_3000),
    ])
    ip = _task_ip(lab, task)
    lab.client("elbv2").register_targets(TargetGroupArn=alb.tg_arn, Targets=[{"Id": ip, "Port": 3000}])
    if not admit_lb:
        from scenarios.app import _target_health

        # ELB's reason code and description for a probe that got no answer.
        _target_health(lab, alb.tg_arn, {ip: ("unhealthy", "Target.Timeout", "Request timed out")})
    subnet = lab.ecs_task(task).attachments[0]["details"][0]["value"]
    return {
        "cluster": stack.cluster,
        "task_arn": task.arn,
        "service": "web",
        "vpc_id": net.vpc_id,
        "vpc_cidr": net.cidr,
        "subnet_id": subnet,
        "security_group_id": sg,
        "lb_security_group": alb.lb_sg,
        "target_group_arn": alb.tg_arn,
        "task_ip": ip,
        "container_port": 3000,
        "expect_status": "RUNNING",
    }


@scenario("net-lb-private-healthy",
          summary="healthy: RUNNING task in a private subnet behind an internet-facing ALB; its group admits the ALB's group on 3000")
def lb_private_healthy(lab: Lab) -> dict:
    return _private_behind_alb(lab, admit_lb=True)


@scenario("net-lb-ingress-closed",
          summary="RUNNING private task behind an ALB; its group admits 3000 only from a bastion's group, so the ALB's probes time out")
def lb_ingress_closed(lab: Lab) -> dict:
    return _private_behind_alb(lab, admit_lb=False)


def _check_behind_alb(p: Probe, healthy: bool) -> None:
    t = p.task()
    p.equal(t.get("lastStatus"), "RUNNING", "RUNNING")
    eni_id = p.eni_details(t)["networkInterfaceId"]
    eni = p.client("ec2").describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    p.expect("Association" not in eni, "no public IP")
    elb = p.client("elbv2")
    tg = elb.describe_target_groups(TargetGroupArns=[p.info["target_group_arn"]])["TargetGroups"][0]
    lbs = elb.describe_load_balancers(LoadBalancerArns=tg["LoadBalancerArns"])["LoadBalancers"]
    p.equal([g for lb in lbs for g in lb["SecurityGroups"]], [p.info["lb_security_group"]], "ALB security group")
    p.expect(all(z.get("SubnetId") for lb in lbs for z in lb["AvailabilityZones"]), "ALB subnets")
    sg = p.client("ec2").describe_security_groups(GroupIds=[p.info["security_group_id"]])["SecurityGroups"][0]
    sources = [g["GroupId"] for r in sg["IpPermissions"] for g in r.get("UserIdGroupPairs", [])]
    p.equal(p.info["lb_security_group"] in sources, healthy, "task group admits the ALB's group")
    health = elb.describe_target_health(TargetGroupArn=p.info["target_group_arn"])["TargetHealthDescriptions"]
    states = {h["Target"]["Id"]: h["TargetHealth"]["State"] for h in health}
    p.equal(states.get(p.info["task_ip"]), "healthy" if healthy else "unhealthy", "target health")


@lb_private_healthy.check
def _(p: Probe) -> None:
    _check_behind_alb(p, healthy=True)


@lb_ingress_closed.check
def _(p: Probe) -> None:
    _check_behind_alb(p, healthy=False)


# --------------------------------------------------------------------------------------
# nacl-blocked
# --------------------------------------------------------------------------------------


_CREATED_ACLS: dict[str, str] = {}


def _nacl_without_return_ports(lab: Lab, stack: Stack) -> None:
    """A custom ACL on the task subnets: everything out, but inbound only 443 -- the
    replies to the task's own connections (ephemeral ports) fall to the * rule."""
    ec2 = lab.client("ec2")
    net = stack.network
    acl = ec2.create_network_acl(VpcId=net.vpc_id, TagSpecifications=[
        {"ResourceType": "network-acl", "Tags": [{"Key": "Name", "Value": "web-public"}]}])["NetworkAcl"]
    acl_id = acl["NetworkAclId"]
    ec2.create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=100, Protocol="-1", RuleAction="allow",
                                 Egress=True, CidrBlock="0.0.0.0/0")
    ec2.create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=100, Protocol="6", RuleAction="allow",
                                 Egress=False, CidrBlock="0.0.0.0/0", PortRange={"From": 443, "To": 443})
    ec2.create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=110, Protocol="6", RuleAction="allow",
                                 Egress=False, CidrBlock="0.0.0.0/0", PortRange={"From": 3000, "To": 3000})
    for subnet in net.task_subnet_ids:
        current = ec2.describe_network_acls(
            Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"][0]
        assoc = next(a for a in current["Associations"] if a["SubnetId"] == subnet)
        ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                            NetworkAclId=acl_id)
    _CREATED_ACLS[stack.network.vpc_id] = acl_id


@scenario("net-nacl-blocked",
          summary="public subnet with a public IP; its network ACL admits inbound 443 and 3000 but not the ephemeral return ports")
def nacl_blocked(lab: Lab) -> dict:
    _, _, info = _failed_start(lab, ECR_API_TIMEOUT, network_opts={"public": True},
                               assign_public_ip=True, tune=_nacl_without_return_ports)
    info["network_acl_id"] = _CREATED_ACLS[info["vpc_id"]]
    return info


@nacl_blocked.check
def _(p: Probe) -> None:
    acls = p.client("ec2").describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [p.info["subnet_id"]]}])["NetworkAcls"]
    p.equal([a["NetworkAclId"] for a in acls], [p.info["network_acl_id"]], "the subnet's ACL")
    # AWS also lists the default rule 32767 (*) deny; moto leaves it out of custom ACLs.
    inbound = sorted((e["RuleNumber"], e["RuleAction"]) for e in acls[0]["Entries"]
                     if not e["Egress"] and e["RuleNumber"] < 32767)
    p.equal(inbound, [(100, "allow"), (110, "allow")], "inbound rules")


# --------------------------------------------------------------------------------------
# vpc-dns-disabled
# --------------------------------------------------------------------------------------


@scenario("net-vpc-dns-disabled",
          summary="endpoints-only VPC (private DNS) whose enableDnsHostnames was switched off")
def vpc_dns_disabled(lab: Lab) -> dict:
    def hostnames_off(lab: Lab, stack: Stack) -> None:
        lab.client("ec2").modify_vpc_attribute(VpcId=stack.network.vpc_id,
                                               EnableDnsHostnames={"Value": False})

    _, _, info = _failed_start(
        lab, ECR_API_TIMEOUT,
        network_opts={"public": False, "nat": False, "endpoints": ["ecr.api", "ecr.dkr", "logs", "s3"]},
        assign_public_ip=False, tune=hostnames_off,
    )
    return info


@vpc_dns_disabled.check
def _(p: Probe) -> None:
    v = p.client("ec2").describe_vpc_attribute(VpcId=p.info["vpc_id"], Attribute="enableDnsHostnames")
    p.equal(v["EnableDnsHostnames"]["Value"], False, "DNS hostnames off")


# --------------------------------------------------------------------------------------
# subnet-ip-exhausted and eni-provisioning-timeout
# --------------------------------------------------------------------------------------


@scenario("net-subnet-ip-exhausted",
          summary="the service's /28 subnet has no free address: EC2 could not create the task's ENI")
def subnet_ip_exhausted(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": True})
    net = stack.network
    ec2 = lab.client("ec2")
    small = ec2.create_subnet(VpcId=net.vpc_id, CidrBlock="10.0.200.0/28",
                              AvailabilityZone=f"{REGION}a",
                              TagSpecifications=[{"ResourceType": "subnet",
                                                  "Tags": [{"Key": "Name", "Value": "web-small"}]}])["Subnet"]
    ec2.associate_route_table(RouteTableId=net.route_tables[net.public_subnet_ids[0]],
                              SubnetId=small["SubnetId"])
    net.task_subnet_ids = [small["SubnetId"]]
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, net,
                       assign_public_ip=True, created=lab.ago(minutes=20))
    task = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    reason = ("Unexpected EC2 error while attempting to Create Network Interface with public IP "
              f"assignment enabled in subnet '{small['SubnetId']}': InsufficientFreeAddressesInSubnet")
    containers = [{"name": "web", "exit_code": None, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="TaskFailedToStart", stopped_reason=reason,
                    timeline=init_failure_timeline(lab.ago(minutes=5)), containers=containers)
    # Other workloads hold every remaining address.
    while ec2.describe_subnets(SubnetIds=[small["SubnetId"]])["Subnets"][0]["AvailableIpAddressCount"] > 0:
        ec2.create_network_interface(SubnetId=small["SubnetId"], Description="batch worker")
    lab.verify_stopped_task(task, containers)
    return {
        "cluster": stack.cluster,
        "task_arn": task.arn,
        "service": "web",
        "vpc_id": net.vpc_id,
        "subnet_id": small["SubnetId"],
    }


@subnet_ip_exhausted.check
def _(p: Probe) -> None:
    s = _task_subnet(p)
    p.equal(s["AvailableIpAddressCount"], 0, "no free address")


@scenario("net-eni-provisioning-timeout",
          summary="a healthy public subnet; the task's ENI was not provisioned in time (transient)")
def eni_provisioning_timeout(lab: Lab) -> dict:
    _, _, info = _failed_start(lab, ENI_TIMEOUT, network_opts={"public": True}, assign_public_ip=True)
    return info


@eni_provisioning_timeout.check
def _(p: Probe) -> None:
    p.equal(p.task().get("stoppedReason"), ENI_TIMEOUT, "stoppedReason")


# --------------------------------------------------------------------------------------
# A standalone task: AWS no longer holds its security groups or assignPublicIp
# --------------------------------------------------------------------------------------


@scenario("net-standalone-no-public-ip",
          summary="RunTask (no service) in a public subnet without a public IP; the ENI is gone, so only flags can tell")
def standalone_no_public_ip(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": True})
    net = stack.network
    task = lab.run_task(stack.cluster, stack.task_definition_arn, net, assign_public_ip=False,
                        started_by="nightly-report")
    containers = [{"name": "web", "exit_code": None, "last_status": "STOPPED"}]
    lab.set_outcome(task, stop_code="TaskFailedToStart", stopped_reason=ECR_API_TIMEOUT,
                    timeline=init_failure_timeline(lab.ago(minutes=8)), containers=containers)
    lab.verify_stopped_task(task, containers)
    subnet = lab.ecs_task(task).attachments[0]["details"][0]["value"]
    return {
        "cluster": stack.cluster,
        "task_arn": task.arn,
        "vpc_id": net.vpc_id,
        "subnet_id": subnet,
        "route_table_id": net.route_tables[subnet],
        "igw_id": net.igw_id,
        "security_group_id": net.task_security_group_id,
    }


@standalone_no_public_ip.check
def _(p: Probe) -> None:
    t = p.task()
    p.expect("group" not in t or not t["group"].startswith("service:"), "not a service task")
