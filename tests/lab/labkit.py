"""Shared machinery of the AWS lab: the moto server, the scenario registry, and the
builders that scenarios are made of.

A scenario builds a user's infrastructure through the real AWS APIs (boto3 against
the moto endpoint), exactly as Terraform or the console would. What only AWS itself
would write -- the Fargate agent's verdict on a task (stopCode, stoppedReason,
container exit codes and reasons, lifecycle timestamps) and the service scheduler's
bookkeeping (deployments, events) -- is set in-process on moto's own backend
objects, because no public API lets a user set it. Everything a scenario sets that
way is read back through boto3 before the lab reports itself ready.

Nothing here imports moto at module level: `lab.py list` stays instant, and the
environment variables moto reads at import time are set first (see `_prepare_env`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import ipaddress
import json
import logging
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

ACCOUNT = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-1"

EXECUTION_ROLE_POLICY_ARN = (
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
)
ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "sts")
GATEWAY_ENDPOINTS = ("s3", "dynamodb")

# --------------------------------------------------------------------------------------
# Scenario registry
# --------------------------------------------------------------------------------------


class LabError(Exception):
    """A scenario could not be built, or did not read back as intended."""


@dataclasses.dataclass
class Scenario:
    name: str
    build: Callable[["Lab"], dict[str, Any]]
    summary: str = ""
    region: str = DEFAULT_REGION
    checks: list[Callable[["Probe"], None]] = dataclasses.field(default_factory=list)

    def check(self, fn: Callable[["Probe"], None]) -> Callable[["Probe"], None]:
        """Decorator: an extra assertion run by `lab.py check` against the served lab."""
        self.checks.append(fn)
        return fn


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, *, summary: str = "", region: str = DEFAULT_REGION):
    """Register a scenario builder under `name`.

    The builder receives a started `Lab`, builds the scenario, and returns at least
    `cluster` and `task_arn` (plus any extras for the ready line). The decorated name
    becomes a `Scenario`, whose `.check` decorator adds assertions for `lab.py check`.
    """

    def register(fn: Callable[[Lab], dict[str, Any]]) -> Scenario:
        if name in SCENARIOS:
            raise LabError(f"scenario {name!r} registered twice")
        first_doc_line = ((fn.__doc__ or "").strip().splitlines() or [""])[0]
        s = Scenario(name=name, build=fn, summary=summary or first_doc_line, region=region)
        SCENARIOS[name] = s
        return s

    return register


# --------------------------------------------------------------------------------------
# Small value types
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Network:
    vpc_id: str
    cidr: str
    task_subnet_ids: list[str]
    public_subnet_ids: list[str]
    private_subnet_ids: list[str]
    # subnet id -> route table explicitly associated with it (absent: the main table)
    route_tables: dict[str, str]
    main_route_table_id: str
    igw_id: str | None
    nat_gateway_id: str | None
    task_security_group_id: str
    endpoint_ids: dict[str, str]
    endpoint_security_group_id: str | None

    def awsvpc(self, assign_public_ip: bool, subnets: Sequence[str] | None = None) -> dict:
        """The networkConfiguration a user would pass to RunTask / CreateService."""
        return {
            "awsvpcConfiguration": {
                "subnets": list(subnets or self.task_subnet_ids),
                "securityGroups": [self.task_security_group_id],
                "assignPublicIp": "ENABLED" if assign_public_ip else "DISABLED",
            }
        }


@dataclasses.dataclass
class Image:
    repository: str
    tag: str | None
    digest: str
    uri: str  # <registry>/<repo>:<tag>


@dataclasses.dataclass
class Timeline:
    """Task lifecycle timestamps as the Fargate agent reports them (None: never reached)."""

    created: datetime
    connectivity: datetime | None = None
    pull_started: datetime | None = None
    pull_stopped: datetime | None = None
    started: datetime | None = None
    stopping: datetime | None = None
    execution_stopped: datetime | None = None
    stopped: datetime | None = None


@dataclasses.dataclass
class Stack:
    """The usual Fargate web service of the scenarios (see Lab.build_web_stack)."""

    network: Network
    cluster: str
    family: str
    task_definition_arn: str
    execution_role_arn: str | None
    images: dict[str, Image]  # tag -> pushed image
    image_uri: str  # what the task definition references
    log_group: str | None
    container: str


@dataclasses.dataclass
class TaskRef:
    cluster: str
    arn: str

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


# --------------------------------------------------------------------------------------
# The lab: one moto server and the clients that talk to it
# --------------------------------------------------------------------------------------


def _prepare_env() -> None:
    """Environment moto and boto3 read; must run before moto is imported."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    # Never read the developer's real config or credentials files.
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    # The lab is loopback only: never send its requests through a proxy.
    for var in ("NO_PROXY", "no_proxy"):
        have = [h for h in os.environ.get(var, "").split(",") if h]
        os.environ[var] = ",".join(have + [h for h in ("127.0.0.1", "localhost") if h not in have])
    # No scenario needs the ~1000 AMIs moto registers per region; skipping them
    # saves startup time.
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    # AWS managed IAM policies: instead of MOTO_IAM_LOAD_MANAGED_POLICIES=true
    # (which builds all ~1600 of them on the first IAM call, ~1-2 s), the lab
    # installs only those a scenario attaches (Lab.ensure_aws_managed_policy), from
    # the same data file moto would load them from.


class Lab:
    def __init__(
        self,
        scenario: str,
        region: str = DEFAULT_REGION,
        now: datetime | None = None,
        seed: int | None = None,
    ):
        self.scenario = scenario
        self.region = region
        self.account = ACCOUNT
        self.now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
        if seed is None:
            seed = int(hashlib.sha256(scenario.encode()).hexdigest()[:8], 16)
        self.seed = seed
        # Lab-chosen values (deployment ids, ENI addresses, runtime ids) come from
        # here; moto's own ids from its seeded generator. Same scenario, same ids.
        self.rng = random.Random(seed)
        self._server = None
        self._clients: dict[str, Any] = {}
        self._session = None
        self.endpoint = ""

    # ---- server --------------------------------------------------------------------

    def start(self) -> "Lab":
        _prepare_env()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._session = _import_moto(self.region)
        from moto.moto_api import state_manager
        from moto.moto_api._internal import mock_random
        from moto.server import ThreadedMotoServer

        _install_moto_patches()
        mock_random.seed(self.seed)
        # moto advances a task one lifecycle step (RUNNING -> DEACTIVATING -> ...
        # -> STOPPED) per DescribeTasks call by default. A real task stays where the
        # agent put it, so freeze that.
        state_manager.set_transition(
            model_name="ecs::task",
            transition={"progression": "manual", "times": sys.maxsize},
        )
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def restrict_caller(self, policy_document: str, user: str = "ecs-doctor-reader") -> dict[str, str]:
        """Create an IAM user whose only permissions are `policy_document` (inline), give
        it access keys, then make moto enforce IAM on every later request.

        Call it last: from then on the lab's own `testing` keys are refused too
        (moto knows no such access key), so nothing after it may call the lab's
        clients. moto only authorises a request once `ActionAuthenticatorMixin.
        request_count` has reached `settings.INITIAL_NO_AUTH_ACTION_COUNT` (infinite
        unless the env var is set); both are read per request, so setting the
        threshold to 0 in-process switches enforcement on for this server.
        Returns the user's keys, for the ready line.
        """
        json.loads(policy_document)  # fail here, not on the first refused call
        _shape_refusals_like_aws()
        iam = self.client("iam")
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="caller-policy", PolicyDocument=policy_document)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin

        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0
        return {
            "caller_user": user,
            "caller_access_key_id": key["AccessKeyId"],
            "caller_secret_access_key": key["SecretAccessKey"],
        }

    def client(self, service: str, region: str | None = None):
        key = f"{service}@{region or self.region}"
        if key not in self._clients:
            import boto3
            from botocore.config import Config

            if self._session is None:
                # One session for every client: botocore caches the models and
                # endpoint data it parses per session.
                self._session = boto3.session.Session()
            self._clients[key] = self._session.client(
                service,
                region_name=region or self.region,
                endpoint_url=self.endpoint,
                aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                config=Config(retries={"max_attempts": 1}),
            )
        return self._clients[key]

    def client_as(self, service: str, account: str):
        """A client that acts as another account of the lab (moto's
        `x-moto-account-id` header): for what another team owns, such as a
        shared ECR repository, built through the same APIs."""
        import boto3
        from botocore.config import Config

        if self._session is None:
            self._session = boto3.session.Session()
        c = self._session.client(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint,
            aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"max_attempts": 1}),
        )
        c.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
        return c

    # ---- moto's backends (the in-process side) ------------------------------------

    def backend(self, service: str, region: str | None = None):
        region = region or self.region
        if service == "ecs":
            from moto.ecs.models import ecs_backends as b
        elif service == "ec2":
            from moto.ec2.models import ec2_backends as b
        elif service == "logs":
            from moto.logs.models import logs_backends as b
        elif service == "ecr":
            from moto.ecr.models import ecr_backends as b
        elif service == "iam":
            from moto.iam.models import iam_backends as b

            return b[self.account]["aws"]
        else:
            raise LabError(f"no backend accessor for {service}")
        return b[self.account][region]

    def ecs_task(self, task: TaskRef):
        tasks = self.backend("ecs").tasks.get(task.cluster, {})
        for arn, obj in tasks.items():
            if arn == task.arn:
                return obj
        raise LabError(f"task {task.arn} not in moto's backend")

    def ecs_service(self, cluster: str, name: str):
        return self.backend("ecs").services[f"{cluster}:{name}"]

    # ---- time ----------------------------------------------------------------------

    def ago(self, **kw: float) -> datetime:
        return self.now - timedelta(**kw)

    # ---- EC2: VPC, subnets, routes, gateways, endpoints, security groups -----------

    def build_vpc(
        self,
        name: str = "web",
        cidr: str = "10.0.0.0/16",
        public: bool = True,
        nat: bool = False,
        endpoints: Iterable[str] = (),
        dns_hostnames: bool = True,
        dns_support: bool = True,
        azs: int = 2,
        explicit_association: bool = True,
        app_port: int = 3000,
        endpoint_policies: dict[str, dict] | None = None,
    ) -> Network:
        """A VPC the way a user's IaC would lay it out.

        public=True: tasks go in public subnets whose route table sends 0.0.0.0/0 to
        an attached internet gateway. public=False: tasks go in private subnets; with
        nat=True their route table sends 0.0.0.0/0 to a NAT gateway that sits in a
        public subnet. `endpoints` adds VPC endpoints for the task subnets: interface
        endpoints (private DNS on, own security group allowing 443 from the VPC) for
        names in INTERFACE_ENDPOINTS, gateway endpoints on the task route tables for
        GATEWAY_ENDPOINTS. explicit_association=False puts the task subnets' routes
        in the VPC's main route table instead of an explicitly associated one.
        `endpoint_policies` gives an endpoint (by name) its PolicyDocument at
        CreateVpcEndpoint; the others get AWS's default full-access policy.
        """
        ec2 = self.client("ec2")
        net = ipaddress.ip_network(cidr)
        blocks = list(net.subnets(new_prefix=24))
        zones = [f"{self.region}{c}" for c in "abcdef"[:azs]]

        vpc_id = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=[_tags("vpc", f"{name}-vpc")])[
            "Vpc"
        ]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": dns_support})
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": dns_hostnames})
        main_rtb = ec2.describe_route_tables(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "association.main", "Values": ["true"]},
            ]
        )["RouteTables"][0]["RouteTableId"]
        ec2.create_tags(Resources=[main_rtb], Tags=[{"Key": "Name", "Value": f"{name}-main"}])

        def subnet(i: int, kind: str) -> str:
            zone = zones[i % len(zones)]
            return ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=str(blocks[i]),
                AvailabilityZone=zone,
                TagSpecifications=[_tags("subnet", f"{name}-{kind}-{zone}")],
            )["Subnet"]["SubnetId"]

        need_public = public or nat
        public_subnets = [subnet(i, "public") for i in range(azs)] if need_public else []
        private_subnets = [subnet(azs + i, "private") for i in range(azs)] if not public else []

        igw_id = None
        if need_public:
            igw_id = ec2.create_internet_gateway(
                TagSpecifications=[_tags("internet-gateway", f"{name}-igw")]
            )["InternetGateway"]["InternetGatewayId"]
            ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)

        route_tables: dict[str, str] = {}

        def table(kind: str, subnets: list[str]) -> str:
            if not explicit_association:
                return main_rtb
            rtb = ec2.create_route_table(
                VpcId=vpc_id, TagSpecifications=[_tags("route-table", f"{name}-{kind}")]
            )["RouteTable"]["RouteTableId"]
            for s in subnets:
                ec2.associate_route_table(RouteTableId=rtb, SubnetId=s)
                route_tables[s] = rtb
            return rtb

        if public_subnets:
            rtb = table("public", public_subnets)
            ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)

        nat_id = None
        private_rtb = None
        if private_subnets:
            private_rtb = table("private", private_subnets)
            if nat:
                alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
                nat_id = ec2.create_nat_gateway(
                    SubnetId=public_subnets[0],
                    AllocationId=alloc,
                    TagSpecifications=[_tags("natgateway", f"{name}-nat")],
                )["NatGateway"]["NatGatewayId"]
                ec2.create_route(
                    RouteTableId=private_rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id
                )

        task_subnets = public_subnets if public else private_subnets
        source = "0.0.0.0/0" if public else cidr
        sg = ec2.create_security_group(
            GroupName=f"{name}-tasks",
            Description=f"{name} tasks",
            VpcId=vpc_id,
            TagSpecifications=[_tags("security-group", f"{name}-tasks")],
        )["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=sg,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": app_port,
                    "ToPort": app_port,
                    "IpRanges": [{"CidrIp": source, "Description": "app"}],
                }
            ],
        )

        endpoint_ids: dict[str, str] = {}
        endpoint_sg = None
        endpoints = list(endpoints)
        if any(e in INTERFACE_ENDPOINTS for e in endpoints):
            endpoint_sg = ec2.create_security_group(
                GroupName=f"{name}-endpoints",
                Description="VPC interface endpoints",
                VpcId=vpc_id,
                TagSpecifications=[_tags("security-group", f"{name}-endpoints")],
            )["GroupId"]
            ec2.authorize_security_group_ingress(
                GroupId=endpoint_sg,
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                        "IpRanges": [{"CidrIp": cidr, "Description": "HTTPS from the VPC"}],
                    }
                ],
            )
        task_rtbs = sorted({route_tables.get(s, main_rtb) for s in task_subnets})
        for e in endpoints:
            service_name = f"com.amazonaws.{self.region}.{e}"
            policy = {"PolicyDocument": json.dumps((endpoint_policies or {})[e])} if e in (endpoint_policies or {}) else {}
            if e in INTERFACE_ENDPOINTS:
                vpce = ec2.create_vpc_endpoint(
                    **policy,
                    VpcEndpointType="Interface",
                    VpcId=vpc_id,
                    ServiceName=service_name,
                    SubnetIds=task_subnets,
                    SecurityGroupIds=[endpoint_sg],
                    PrivateDnsEnabled=True,
                    TagSpecifications=[_tags("vpc-endpoint", f"{name}-{e}")],
                )
            elif e in GATEWAY_ENDPOINTS:
                vpce = ec2.create_vpc_endpoint(
                    **policy,
                    VpcEndpointType="Gateway",
                    VpcId=vpc_id,
                    ServiceName=service_name,
                    RouteTableIds=task_rtbs,
                    TagSpecifications=[_tags("vpc-endpoint", f"{name}-{e}")],
                )
            else:
                raise LabError(f"unknown endpoint {e!r}")
            endpoint_ids[e] = vpce["VpcEndpoint"]["VpcEndpointId"]

        return Network(
            vpc_id=vpc_id,
            cidr=cidr,
            task_subnet_ids=task_subnets,
            public_subnet_ids=public_subnets,
            private_subnet_ids=private_subnets,
            route_tables=route_tables,
            main_route_table_id=main_rtb,
            igw_id=igw_id,
            nat_gateway_id=nat_id,
            task_security_group_id=sg,
            endpoint_ids=endpoint_ids,
            endpoint_security_group_id=endpoint_sg,
        )

    # ---- IAM -------------------------------------------------------------------------

    def ensure_aws_managed_policy(self, arn: str) -> None:
        """Make an AWS managed policy exist, with AWS's own document (moto's copy)."""
        iam = self.backend("iam")
        if arn in iam.managed_policies:
            return
        from moto.iam.aws_managed_policies import aws_managed_policies_data
        from moto.iam.models import AWSManagedPolicy

        name = arn.rsplit("/", 1)[-1]
        key = f'"{name}":'
        at = aws_managed_policies_data.find(key)
        if at < 0:
            raise LabError(f"moto has no copy of AWS managed policy {name}")
        # decode just this entry of moto's ~5 MB document
        data, _ = json.JSONDecoder().raw_decode(aws_managed_policies_data, at + len(key))
        policy = AWSManagedPolicy.from_data(name, self.account, iam.region_name, data)
        if policy.arn != arn:
            raise LabError(f"{arn}: moto's copy lives at {policy.arn}")
        iam.managed_policies[policy.arn] = policy

    def build_role(
        self,
        name: str,
        trusted_service: str | Sequence[str] = ECS_TASKS_PRINCIPAL,
        managed: Sequence[str] = (),
        inline: dict[str, dict] | None = None,
        trust_policy: dict | None = None,
        description: str = "",
        path: str = "/",
    ) -> str:
        """An IAM role. `managed` takes policy ARNs (AWS managed ones are installed
        on demand) or {"name": document} customer-managed policies to create first."""
        iam = self.client("iam")
        services = [trusted_service] if isinstance(trusted_service, str) else list(trusted_service)
        trust = trust_policy or {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "",
                    "Effect": "Allow",
                    "Principal": {"Service": services[0] if len(services) == 1 else services},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        arn = iam.create_role(
            RoleName=name,
            Path=path,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description=description,
        )["Role"]["Arn"]
        for policy in managed:
            if isinstance(policy, dict):
                for pname, doc in policy.items():
                    parn = iam.create_policy(PolicyName=pname, PolicyDocument=json.dumps(doc))[
                        "Policy"
                    ]["Arn"]
                    iam.attach_role_policy(RoleName=name, PolicyArn=parn)
                continue
            if policy.startswith("arn:aws:iam::aws:policy/"):
                self.ensure_aws_managed_policy(policy)
            iam.attach_role_policy(RoleName=name, PolicyArn=policy)
        for pname, doc in (inline or {}).items():
            iam.put_role_policy(RoleName=name, PolicyName=pname, PolicyDocument=json.dumps(doc))
        return arn

    def build_execution_role(
        self,
        name: str = "ecsTaskExecutionRole",
        policies: Sequence[str] = (EXECUTION_ROLE_POLICY_ARN,),
        inline: dict[str, dict] | None = None,
        trusted_service: str | Sequence[str] = ECS_TASKS_PRINCIPAL,
    ) -> str:
        return self.build_role(
            name,
            trusted_service=trusted_service,
            managed=policies,
            inline=inline,
            description="Allows ECS tasks to pull images and write logs",
        )

    # ---- ECR -------------------------------------------------------------------------

    def registry(self) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com"

    def ensure_repository(self, repo: str) -> None:
        ecr = self.client("ecr")
        try:
            ecr.describe_repositories(repositoryNames=[repo])
        except ecr.exceptions.RepositoryNotFoundException:
            ecr.create_repository(
                repositoryName=repo,
                imageScanningConfiguration={"scanOnPush": True},
                imageTagMutability="MUTABLE",
            )

    def build_ecr_image(
        self,
        repo: str,
        tag: str | None,
        platform: str | Sequence[str] = "linux/amd64",
        pushed_at: datetime | None = None,
    ) -> Image:
        """Push an image (manifest only; ECR's API never sees the layers) with PutImage.

        One platform pushes a Docker v2 schema 2 manifest. Several platforms push each
        per-platform manifest untagged, then an OCI image index under `tag`, the way
        `docker buildx --platform a,b --push` does.
        """
        self.ensure_repository(repo)
        platforms = [platform] if isinstance(platform, str) else list(platform)
        children: list[dict] = []
        if len(platforms) == 1:
            manifest = _image_manifest(f"{repo}:{tag}:{platforms[0]}", platforms[0])
            digest = self._put_image(repo, tag, manifest, _DOCKER_MANIFEST)
        else:
            for p in platforms:
                m = _image_manifest(f"{repo}:{tag}:{p}", p)
                d = self._put_image(repo, None, m, _OCI_MANIFEST_FROM_DOCKER)
                os_, arch, *variant = p.split("/")
                plat = {"architecture": arch, "os": os_}
                if variant:
                    plat["variant"] = variant[0]
                children.append(
                    {
                        "mediaType": _DOCKER_MANIFEST,
                        "digest": d,
                        "size": len(m.encode()),
                        "platform": plat,
                    }
                )
            index = json.dumps(
                {"schemaVersion": 2, "mediaType": _OCI_INDEX, "manifests": children}, indent=3
            )
            digest = self._put_image(repo, tag, index, _OCI_INDEX)
        if pushed_at is not None:
            # PutImage stamps "now"; a scenario's history needs older pushes.
            mine = {digest} | {c["digest"] for c in children}
            for img in self.backend("ecr").repositories[repo].images:
                if img.image_digest in mine:
                    img.image_pushed_at = int(pushed_at.timestamp())
        ref = f"{self.registry()}/{repo}:{tag}" if tag else f"{self.registry()}/{repo}@{digest}"
        return Image(repository=repo, tag=tag, digest=digest, uri=ref)

    def _put_image(self, repo: str, tag: str | None, manifest: str, media_type: str) -> str:
        digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        kw: dict[str, Any] = dict(
            repositoryName=repo,
            imageManifest=manifest,
            imageManifestMediaType=media_type,
            imageDigest=digest,
        )
        if tag:
            kw["imageTag"] = tag
        self.client("ecr").put_image(**kw)
        return digest

    # ---- CloudWatch Logs ------------------------------------------------------------

    def ensure_log_group(self, group: str, retention_days: int = 30) -> None:
        logs = self.client("logs")
        groups = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        if any(g["logGroupName"] == group for g in groups):
            return
        logs.create_log_group(logGroupName=group)
        logs.put_retention_policy(logGroupName=group, retentionInDays=retention_days)

    def write_logs(
        self,
        group: str,
        stream: str,
        lines: Sequence[str | tuple[datetime, str]],
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[int]:
        """What the awslogs driver does: CreateLogStream + PutLogEvents, one event a line.

        Lines may carry their own timestamp; otherwise they are spread from `start`
        to `end` (default: the last minute). Returns the event timestamps (ms).
        """
        logs = self.client("logs")
        self.ensure_log_group(group)
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        start = start or self.ago(minutes=1)
        end = end or (start + timedelta(seconds=max(1, len(lines))))
        span = (end - start).total_seconds()
        events = []
        for i, line in enumerate(lines):
            if isinstance(line, tuple):
                ts, msg = line
            else:
                frac = i / max(1, len(lines) - 1)
                ts, msg = start + timedelta(seconds=span * frac), line
            if not msg:
                raise LabError("CloudWatch Logs rejects empty events; drop blank lines")
            events.append({"timestamp": _ms(ts), "message": msg})
        events.sort(key=lambda e: e["timestamp"])
        for chunk in range(0, len(events), 1000):
            logs.put_log_events(
                logGroupName=group, logStreamName=stream, logEvents=events[chunk : chunk + 1000]
            )
        return [e["timestamp"] for e in events]

    # ---- ECS: cluster, task definitions, services, tasks ----------------------------

    def create_cluster(self, name: str) -> str:
        return self.client("ecs").create_cluster(
            clusterName=name,
            capacityProviders=["FARGATE", "FARGATE_SPOT"],
            settings=[{"name": "containerInsights", "value": "disabled"}],
        )["cluster"]["clusterArn"]

    def container_def(
        self,
        name: str,
        image: str,
        port: int | None = 3000,
        log_group: str | None = None,
        log_prefix: str = "ecs",
        log_region: str | None = None,
        essential: bool = True,
        environment: dict[str, str] | None = None,
        **extra: Any,
    ) -> dict:
        """A containerDefinitions[] entry as the console / Terraform would write it."""
        d: dict[str, Any] = {"name": name, "image": image, "essential": essential, "cpu": 0}
        if port:
            d["portMappings"] = [
                {
                    "name": f"{name}-{port}-tcp",
                    "containerPort": port,
                    "hostPort": port,
                    "protocol": "tcp",
                    "appProtocol": "http",
                }
            ]
        d["environment"] = [{"name": k, "value": v} for k, v in (environment or {}).items()]
        d["mountPoints"] = []
        d["volumesFrom"] = []
        if log_group:
            d["logConfiguration"] = {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group,
                    "awslogs-region": log_region or self.region,
                    "awslogs-stream-prefix": log_prefix,
                },
            }
        d.update(extra)
        return d

    def register_task_definition(
        self,
        family: str,
        containers: Sequence[dict],
        execution_role_arn: str | None = None,
        task_role_arn: str | None = None,
        cpu: str = "256",
        memory: str = "512",
        cpu_architecture: str = "X86_64",
        **extra: Any,
    ) -> str:
        kw: dict[str, Any] = dict(
            family=family,
            containerDefinitions=list(containers),
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu=cpu,
            memory=memory,
            runtimePlatform={"cpuArchitecture": cpu_architecture, "operatingSystemFamily": "LINUX"},
        )
        if execution_role_arn:
            kw["executionRoleArn"] = execution_role_arn
        if task_role_arn:
            kw["taskRoleArn"] = task_role_arn
        kw.update(extra)
        return self.client("ecs").register_task_definition(**kw)["taskDefinition"][
            "taskDefinitionArn"
        ]

    def new_deployment_id(self) -> str:
        return f"ecs-svc/{self.rng.randint(10**18, 10**19 - 1)}"

    def create_service(
        self,
        cluster: str,
        name: str,
        task_definition: str,
        network: Network,
        assign_public_ip: bool,
        desired_count: int = 1,
        created: datetime | None = None,
    ) -> str:
        """CreateService through the API; then the scheduler's side in-process: a
        realistic deployment id and timestamps (moto does not launch tasks for a
        service -- run_task(service=...) does what the scheduler would)."""
        arn = self.client("ecs").create_service(
            cluster=cluster,
            serviceName=name,
            taskDefinition=task_definition,
            desiredCount=desired_count,
            launchType="FARGATE",
            platformVersion="LATEST",
            networkConfiguration=network.awsvpc(assign_public_ip),
            deploymentConfiguration={
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
                "deploymentCircuitBreaker": {"enable": False, "rollback": False},
            },
            schedulingStrategy="REPLICA",
            propagateTags="NONE",
            enableECSManagedTags=True,
        )["service"]["serviceArn"]
        svc = self.ecs_service(cluster, name)
        # moto drops these on the floor; AWS echoes them back
        svc.deployment_configuration = {
            "deploymentCircuitBreaker": {"enable": False, "rollback": False},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        }
        svc.enable_ecs_managed_tags = True
        svc.enable_execute_command = False
        svc.health_check_grace_period_seconds = None
        created = created or self.ago(minutes=30)
        svc.created_at = created
        svc.created_by = f"arn:aws:iam::{self.account}:role/deploy"
        dep = svc.deployments[0]
        dep["id"] = self.new_deployment_id()
        dep["createdAt"] = dep["updatedAt"] = created
        dep["launchType"] = "FARGATE"
        dep["platformVersion"] = "1.4.0"
        dep["platformFamily"] = "Linux"
        svc.events = []
        return arn

    def service_revision(self, cluster: str, service: str, task_definition: str,
                         created: datetime) -> str:
        """A service revision of `service` running `task_definition` (what ECS records
        when a deployment starts); its ARN."""
        rev_id = str(self.rng.randint(10**18, 10**19 - 1))
        arn = f"arn:aws:ecs:{self.region}:{self.account}:service-revision/{cluster}/{service}/{rev_id}"
        svc = self.ecs_service(cluster, service)
        SERVICE_REVISIONS[(self.account, self.region, arn)] = {
            "serviceRevisionArn": arn, "serviceArn": svc.arn,
            "clusterArn": f"arn:aws:ecs:{self.region}:{self.account}:cluster/{cluster}",
            "taskDefinition": task_definition, "launchType": "FARGATE", "platformVersion": "1.4.0",
            "platformFamily": "Linux", "networkConfiguration": svc.network_configuration,
            "createdAt": created,
        }
        return arn

    def set_service_deployments(self, cluster: str, service: str, deployments: Sequence[dict],
                                service_timeline: Sequence[tuple[float, dict]] = ()) -> list[str]:
        """The service's deployments as ECS's service deployments API shows them (the
        lab's own model, served by the moto patches), newest first. Each is a
        ServiceDeployment in the API's shape without its ARNs, which are made here;
        `timeline` may hold (seconds after the service's first read, fields) steps,
        and `service_timeline` what DescribeServices shows on the same clock
        ({"deployments", "running", "pending"}). Their ARNs."""
        key = (self.account, self.region, cluster, service)
        if service_timeline:
            SERVICE_TIMELINES[key] = list(service_timeline)
        svc = self.ecs_service(cluster, service)
        arns = []
        for d in deployments:
            dep_id = "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                             for _ in range(21))
            arn = f"arn:aws:ecs:{self.region}:{self.account}:service-deployment/{cluster}/{service}/{dep_id}"
            d.update({"_key": key, "serviceDeploymentArn": arn, "serviceArn": svc.arn,
                      "clusterArn": f"arn:aws:ecs:{self.region}:{self.account}:cluster/{cluster}"})
            arns.append(arn)
        SERVICE_DEPLOYMENTS[(self.account, self.region, cluster, service)] = list(deployments)
        return arns

    def protect_task(self, cluster: str, task_arn: str, expires: datetime) -> None:
        """Protect a task from scale-in until `expires`, as its app would through the
        ECS agent's task protection endpoint (served by GetTaskProtection from the lab's
        own model, `TASK_PROTECTION`)."""
        task = self.ecs_task(TaskRef(cluster=cluster, arn=task_arn))
        TASK_PROTECTION[(self.account, self.region, task.task_arn)] = {"expirationDate": expires}

    def primary_deployment(self, cluster: str, service: str) -> dict:
        svc = self.ecs_service(cluster, service)
        return next(d for d in svc.deployments if d["status"] == "PRIMARY")

    def set_service_state(
        self,
        cluster: str,
        service: str,
        deployments: Sequence[dict] | None = None,
        events: Sequence[tuple[datetime, str]] = (),
        running: int | None = None,
        pending: int | None = None,
    ) -> None:
        """The scheduler's bookkeeping: deployments and the events list (newest first).

        Event messages may use {service} and are stored as AWS shows them."""
        svc = self.ecs_service(cluster, service)
        if deployments is not None:
            svc.deployments = list(deployments)
        if events:
            new = [
                {
                    "id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                    "createdAt": ts,
                    "message": msg.format(service=service),
                }
                for ts, msg in events
            ]
            svc.events = sorted(new + list(svc.events), key=lambda e: e["createdAt"], reverse=True)
        if running is not None:
            svc.running_count = running
        if pending is not None:
            svc.pending_count = pending

    def run_task(
        self,
        cluster: str,
        task_definition: str,
        network: Network | None = None,
        assign_public_ip: bool = False,
        service: str | None = None,
        started_by: str | None = None,
        subnet: str | None = None,
    ) -> TaskRef:
        """RunTask through the API.

        With `service`, the task is launched the way the service scheduler would:
        the service's networkConfiguration, group `service:<name>`, startedBy the
        primary deployment id (moto has no scheduler; these are plain RunTask
        parameters). Afterwards the agent-side placement details are made
        realistic in-process (see _place_task).
        """
        ecs = self.client("ecs")
        kw: dict[str, Any] = dict(
            cluster=cluster,
            taskDefinition=task_definition,
            launchType="FARGATE",
            platformVersion="LATEST",
            count=1,
        )
        if service:
            svc = self.client("ecs").describe_services(cluster=cluster, services=[service])[
                "services"
            ][0]
            kw["networkConfiguration"] = svc["networkConfiguration"]
            kw["group"] = f"service:{service}"
            kw["startedBy"] = started_by or self.primary_deployment(cluster, service)["id"]
            kw["enableECSManagedTags"] = True
        else:
            if network is None:
                raise LabError("run_task needs a network or a service")
            kw["networkConfiguration"] = network.awsvpc(
                assign_public_ip, [subnet] if subnet else None
            )
            if started_by:
                kw["startedBy"] = started_by
        vpc_id = self._vpc_of_subnet(kw["networkConfiguration"]["awsvpcConfiguration"]["subnets"][0])
        with self._dns_hostnames_for_moto(vpc_id):
            resp = ecs.run_task(**kw)
        if resp.get("failures"):
            raise LabError(f"RunTask failures: {resp['failures']}")
        ref = TaskRef(cluster=cluster, arn=resp["tasks"][0]["taskArn"])
        self._place_task(ref, kw["networkConfiguration"]["awsvpcConfiguration"])
        return ref

    def _vpc_of_subnet(self, subnet_id: str) -> str:
        return self.backend("ec2").get_subnet(subnet_id).vpc_id

    @contextlib.contextmanager
    def _dns_hostnames_for_moto(self, vpc_id: str):
        """moto crashes creating a task ENI in a VPC without DNS hostnames (it reads
        the ENI's private DNS name, which it only sets when they are on). AWS has no
        such limit, so a scenario about DNS attributes keeps its VPC as the user set
        it: the flag is switched on in-process only around RunTask."""
        vpc = self.backend("ec2").get_vpc(vpc_id)
        was = vpc.enable_dns_hostnames
        vpc.enable_dns_hostnames = True
        try:
            yield
        finally:
            vpc.enable_dns_hostnames = was

    def _place_task(self, ref: TaskRef, awsvpc: dict) -> None:
        """What Fargate reports about placement, which moto gets wrong or omits:
        the ENI's IP is taken from the subnet's CIDR (moto draws any 10.x.y.z), the
        DNS name follows it, the AZ is the subnet's, the platform version is resolved
        (LATEST -> 1.4.0), and the container records point at the task."""
        task = self.ecs_task(ref)
        ec2 = self.backend("ec2")
        subnet = ec2.get_subnet(awsvpc["subnets"][0])
        eni_id = _detail(task.attachments[0], "networkInterfaceId")
        eni = ec2.get_network_interface(eni_id)
        net = ipaddress.ip_network(subnet.cidr_block)
        ip = str(net.network_address + self.rng.randint(4, net.num_addresses - 2))
        dns = f"ip-{ip.replace('.', '-')}.ec2.internal" if self.region == "us-east-1" else (
            f"ip-{ip.replace('.', '-')}.{self.region}.compute.internal"
        )
        eni.private_ip_address = ip
        eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": ip, "PrivateDnsName": dns}]
        eni.private_dns_name = dns
        eni.description = f"arn:aws:ecs:{self.region}:{self.account}:attachment/{task.attachments[0]['id']}"
        eni.requester_managed = True
        eni.requester_id = "578734482556"  # the ECS service principal's account
        eni.interface_type = "interface"
        for d in task.attachments[0]["details"]:
            if d["name"] == "privateIPv4Address":
                d["value"] = ip
            if d["name"] == "privateDnsName":
                d["value"] = dns
        task.availability_zone = subnet.availability_zone
        task.platform_version = "1.4.0"
        task.platform_family = "Linux"
        task.launch_type = "FARGATE"
        td = self.backend("ecs").describe_task_definition(task.task_definition_arn)
        task.cpu = td.cpu
        task.memory = td.memory
        task.ephemeral_storage = {"sizeInGiB": 20}
        task.enable_execute_command = False
        task.connectivity = "CONNECTED"
        task.health_status = "UNKNOWN"
        task.version = 1
        task.attributes = [
            {"name": "ecs.cpu-architecture", "value": "x86_64"
             if (td.runtime_platform or {}).get("cpuArchitecture", "X86_64") == "X86_64" else "arm64"}
        ]
        task.overrides = {
            "containerOverrides": [{"name": c["name"]} for c in td.container_definitions],
            "inferenceAcceleratorOverrides": [],
        }
        # moto gives a task only the first container of its definition; add the rest.
        names = {c.name for c in task.containers}
        for cdef in td.container_definitions:
            if cdef["name"] not in names:
                task.containers.append(_new_container(td, cdef))
        if not task.started_by:
            task.started_by = None  # moto says "", AWS leaves it out
        for c in task.containers:
            # moto names containers after the task definition, AWS after the task
            c.container_arn = (
                f"arn:aws:ecs:{self.region}:{self.account}:container/{ref.cluster}/{ref.id}/"
                f"{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"
            )
            c.task_arn = task.task_arn  # moto stores the task definition's ARN here
            c.network_interfaces = [
                {"attachmentId": task.attachments[0]["id"], "privateIpv4Address": ip}
            ]
            c.health_status = "UNKNOWN"
            c.cpu = str(next((d.get("cpu", 0) for d in td.container_definitions if d["name"] == c.name), 0))
            c.runtime_id = None
            c.image_digest = None
            c.managed_agents = None

    def build_web_stack(
        self,
        *,
        cluster: str = "prod",
        family: str = "web",
        container: str = "web",
        repo: str = "web",
        tags: Sequence[str] = ("v1",),
        image_tag: str = "v1",
        image_uri: str | None = None,
        platform: str | Sequence[str] = "linux/amd64",
        network: Network | None = None,
        network_opts: dict[str, Any] | None = None,
        execution_role: bool = True,
        execution_role_opts: dict[str, Any] | None = None,
        log_group: str | None = "/ecs/web",
        create_log_group: bool = True,
        environment: dict[str, str] | None = None,
        extra_containers: Sequence[dict] = (),
        container_opts: dict[str, Any] | None = None,
        task_definition_opts: dict[str, Any] | None = None,
    ) -> Stack:
        """The infrastructure most scenarios share, each part overridable: a VPC
        (build_vpc(**network_opts)), the execution role, ECR repository `repo` with
        `tags` pushed, log group, cluster, and task definition `family` whose
        essential container `container` runs `<registry>/<repo>:<image_tag>` (or
        `image_uri`) and logs with awslogs to `log_group`, prefix `ecs`."""
        net = network or self.build_vpc(**(network_opts or {}))
        role = self.build_execution_role(**(execution_role_opts or {})) if execution_role else None
        # pushed a day apart, the last one a day ago
        images = {
            t: self.build_ecr_image(repo, t, platform=platform, pushed_at=self.ago(days=len(tags) - i))
            for i, t in enumerate(tags)
        }
        if log_group and create_log_group:
            self.ensure_log_group(log_group)
        self.create_cluster(cluster)
        uri = image_uri or f"{self.registry()}/{repo}:{image_tag}"
        env = WEB_ENVIRONMENT if environment is None else environment
        containers = [
            self.container_def(container, uri, log_group=log_group, environment=env, **(container_opts or {}))
        ] + list(extra_containers)
        td = self.register_task_definition(
            family, containers, execution_role_arn=role, **(task_definition_opts or {})
        )
        return Stack(
            network=net,
            cluster=cluster,
            family=family,
            task_definition_arn=td,
            execution_role_arn=role,
            images=images,
            image_uri=uri,
            log_group=log_group,
            container=container,
        )

    def log_stream_for(self, stack: Stack, ref: TaskRef, container: str | None = None) -> str:
        """awslogs stream name: <prefix>/<container>/<task-id>."""
        return f"ecs/{container or stack.container}/{ref.id}"

    # ---- the agent's verdict ---------------------------------------------------------

    def set_running(self, ref: TaskRef, timeline: Timeline, containers: Sequence[dict] = ()) -> None:
        """A task the agent reports as RUNNING (all containers up)."""
        task = self.ecs_task(ref)
        _apply_timeline(task, timeline)
        task.last_status = "RUNNING"
        task.desired_status = "RUNNING"
        task.stop_code = None
        task.stopped_reason = None
        task.version = 3
        overrides = {c["name"]: c for c in containers}
        for c in task.containers:
            o = overrides.get(c.name, {})
            c.last_status = o.get("last_status", "RUNNING")
            c.exitCode = None
            c.reason = None
            c.runtime_id = _runtime_id(self.rng, ref.id)
            c.image_digest = o.get("image_digest") or self._image_digest_for(c.image)

    def set_outcome(
        self,
        ref: TaskRef,
        stop_code: str,
        stopped_reason: str,
        timeline: Timeline,
        containers: Sequence[dict] = (),
        delete_eni: bool = True,
    ) -> None:
        """Stop a task the way the Fargate agent reports it.

        containers: [{name, exit_code (None: never ran), reason, last_status,
        image_digest, health_status}]; containers not listed stop with no exit code.
        The task ENI is deleted from EC2 and the attachment marked DELETED, as AWS
        does once the task is deprovisioned.
        """
        task = self.ecs_task(ref)
        _apply_timeline(task, timeline)
        task.last_status = "STOPPED"
        task.desired_status = "STOPPED"
        task.stop_code = stop_code
        task.stopped_reason = stopped_reason
        task.version = 5
        task.connectivity = "CONNECTED"
        by_name = {c["name"]: c for c in containers}
        unknown = set(by_name) - {c.name for c in task.containers}
        if unknown:
            raise LabError(f"no such containers in the task: {sorted(unknown)}")
        for c in task.containers:
            o = by_name.get(c.name, {})
            c.last_status = o.get("last_status", "STOPPED")
            c.exitCode = o.get("exit_code")
            c.reason = o.get("reason")
            if "health_status" in o:
                c.health_status = o["health_status"]
            ran = timeline.started is not None
            c.runtime_id = _runtime_id(self.rng, ref.id) if ran else None
            c.image_digest = o.get("image_digest") or (self._image_digest_for(c.image) if ran else None)
        att = task.attachments[0]
        if delete_eni and att.get("status") != "DELETED":
            _delete_task_eni(self.account, self.region, att)
        att["status"] = "DELETED"

    def set_ebs_attachment(
        self,
        ref: TaskRef,
        volume_name: str,
        status: str,
        role_arn: str,
        volume_id: str | None = None,
        status_reason: str | None = None,
        delete_on_termination: bool = True,
    ) -> None:
        """The task's `AmazonElasticBlockStorage` attachment, as ECS writes it (moto
        models no EBS attachment): its status and the details the ECS API reference
        lists (roleArn, deleteOnTermination, volumeName, volumeId, and statusReason
        only when the attachment failed to create or attach)."""
        task = self.ecs_task(ref)
        details = [
            {"name": "roleArn", "value": role_arn},
            {"name": "deleteOnTermination", "value": "true" if delete_on_termination else "false"},
            {"name": "volumeName", "value": volume_name},
        ]
        if volume_id:
            details.append({"name": "volumeId", "value": volume_id})
        if status_reason:
            details.append({"name": "statusReason", "value": status_reason})
        task.attachments = [a for a in task.attachments if a.get("type") != "AmazonElasticBlockStorage"]
        task.attachments.append({
            "id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "type": "AmazonElasticBlockStorage",
            "status": status,
            "details": details,
        })

    def set_service_volume_configurations(self, cluster: str, service: str, configurations: Sequence[dict]) -> None:
        """`volumeConfigurations` of the service's deployments, as CreateService was
        given them (moto keeps none)."""
        for dep in self.ecs_service(cluster, service).deployments:
            dep["volumeConfigurations"] = [dict(c) for c in configurations]

    def _image_digest_for(self, image: str) -> str | None:
        """The digest ECR holds for an image reference, if any."""
        prefix = self.registry() + "/"
        if not image.startswith(prefix):
            return None
        rest = image[len(prefix):]
        if "@" in rest:
            return rest.split("@", 1)[1]
        repo, _, tag = rest.partition(":")
        try:
            r = self.client("ecr").describe_images(
                repositoryName=repo, imageIds=[{"imageTag": tag or "latest"}]
            )
        except Exception:
            return None
        return r["imageDetails"][0]["imageDigest"]

    # ---- read-back ---------------------------------------------------------------------

    def verify_stopped_task(self, ref: TaskRef, expect_containers: Sequence[dict] = ()) -> dict:
        """Read the task back through DescribeTasks and insist it looks like AWS's."""
        resp = self.client("ecs").describe_tasks(cluster=ref.cluster, tasks=[ref.arn])
        problems = []
        if resp.get("failures") or len(resp.get("tasks", [])) != 1:
            raise LabError(f"DescribeTasks: {resp.get('failures')}")
        t = resp["tasks"][0]
        task = self.ecs_task(ref)
        for key, want in [
            ("lastStatus", "STOPPED"),
            ("desiredStatus", "STOPPED"),
            ("stopCode", task.stop_code),
            ("stoppedReason", task.stopped_reason),
            ("launchType", "FARGATE"),
            ("platformVersion", "1.4.0"),
        ]:
            if t.get(key) != want:
                problems.append(f"{key}: {t.get(key)!r} != {want!r}")
        for key in ("createdAt", "stoppingAt", "stoppedAt", "executionStoppedAt", "availabilityZone"):
            if key not in t:
                problems.append(f"missing {key}")
        atts = [a for a in t.get("attachments", []) if a.get("type") == "ElasticNetworkInterface"]
        if not atts:
            problems.append("no ElasticNetworkInterface attachment")
        else:
            details = {d["name"]: d["value"] for d in atts[0].get("details", [])}
            for k in ("subnetId", "networkInterfaceId", "privateIPv4Address", "macAddress"):
                if not details.get(k):
                    problems.append(f"attachment detail {k} missing")
        got = {c["name"]: c for c in t.get("containers", [])}
        for want in expect_containers:
            c = got.get(want["name"])
            if c is None:
                problems.append(f"container {want['name']} missing")
                continue
            if c.get("lastStatus") != want.get("last_status", "STOPPED"):
                problems.append(f"{want['name']}.lastStatus {c.get('lastStatus')!r}")
            if c.get("exitCode") != want.get("exit_code"):
                problems.append(f"{want['name']}.exitCode {c.get('exitCode')!r} != {want.get('exit_code')!r}")
            if c.get("reason") != want.get("reason"):
                problems.append(f"{want['name']}.reason {c.get('reason')!r}")
            if c.get("taskArn") != ref.arn:
                problems.append(f"{want['name']}.taskArn {c.get('taskArn')!r}")
        if problems:
            raise LabError("task does not read back as built: " + "; ".join(problems))
        return t


# --------------------------------------------------------------------------------------
# Timelines
# --------------------------------------------------------------------------------------


def app_exit_timeline(stopped: datetime, ran_for: timedelta = timedelta(seconds=6)) -> Timeline:
    """Pulled, started, ran `ran_for`, the essential container exited, task stopped."""
    exited = stopped - timedelta(seconds=31)
    started = exited - ran_for
    created = started - timedelta(seconds=24)
    return Timeline(
        created=created,
        connectivity=created + timedelta(seconds=4),
        pull_started=created + timedelta(seconds=6),
        pull_stopped=started - timedelta(seconds=2),
        started=started,
        stopping=exited + timedelta(seconds=1),
        execution_stopped=exited + timedelta(seconds=1),
        stopped=stopped,
    )


def pull_failure_timeline(stopped: datetime) -> Timeline:
    """The pull began and never finished; nothing started."""
    created = stopped - timedelta(seconds=58)
    return Timeline(
        created=created,
        connectivity=created + timedelta(seconds=4),
        pull_started=created + timedelta(seconds=6),
        stopping=stopped - timedelta(seconds=12),
        execution_stopped=stopped - timedelta(seconds=12),
        stopped=stopped,
    )


def init_failure_timeline(stopped: datetime) -> Timeline:
    """Failed while fetching execution resources (registry auth, secrets): no pull."""
    created = stopped - timedelta(seconds=75)
    return Timeline(
        created=created,
        connectivity=created + timedelta(seconds=5),
        stopping=stopped - timedelta(seconds=11),
        execution_stopped=stopped - timedelta(seconds=11),
        stopped=stopped,
    )


def running_timeline(started: datetime) -> Timeline:
    created = started - timedelta(seconds=27)
    return Timeline(
        created=created,
        connectivity=created + timedelta(seconds=4),
        pull_started=created + timedelta(seconds=6),
        pull_stopped=started - timedelta(seconds=2),
        started=started,
    )


def _apply_timeline(task, tl: Timeline) -> None:
    task.created_at = tl.created
    task.connectivity_at = tl.connectivity
    task.pull_started_at = tl.pull_started
    task.pull_stopped_at = tl.pull_stopped
    task.started_at = tl.started
    task.stopping_at = tl.stopping
    task.execution_stopped_at = tl.execution_stopped
    task.stopped_at = tl.stopped


# --------------------------------------------------------------------------------------
# The probe used by `lab.py check`
# --------------------------------------------------------------------------------------


class Probe:
    """boto3 against a served lab, plus assertion helpers that collect failures."""

    def __init__(self, info: dict[str, Any]):
        import boto3
        from botocore.config import Config

        self.info = info
        self.failures: list[str] = []
        self._session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=info["region"]
        )
        self._config = Config(retries={"max_attempts": 1})
        self._clients: dict[str, Any] = {}

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self._session.client(
                service, endpoint_url=self.info["endpoint"], config=self._config
            )
        return self._clients[service]

    def expect(self, cond: Any, what: str) -> bool:
        if not cond:
            self.failures.append(what)
        return bool(cond)

    def equal(self, got: Any, want: Any, what: str) -> bool:
        return self.expect(got == want, f"{what}: got {got!r}, want {want!r}")

    def task(self, arn: str | None = None) -> dict:
        r = self.client("ecs").describe_tasks(
            cluster=self.info["cluster"], tasks=[arn or self.info["task_arn"]]
        )
        self.equal(len(r["tasks"]), 1, "DescribeTasks returns the task")
        return r["tasks"][0] if r["tasks"] else {}

    def task_definition(self, arn: str) -> dict:
        return self.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]

    def container(self, task: dict, name: str) -> dict:
        c = next((c for c in task.get("containers", []) if c["name"] == name), None)
        self.expect(c is not None, f"container {name} in the task")
        return c or {}

    def eni_details(self, task: dict) -> dict:
        att = next(
            (a for a in task.get("attachments", []) if a.get("type") == "ElasticNetworkInterface"),
            None,
        )
        self.expect(att is not None, "ElasticNetworkInterface attachment")
        return {d["name"]: d["value"] for d in (att or {}).get("details", [])}

    def route_table_for(self, subnet_id: str, vpc_id: str) -> dict:
        """The subnet's effective route table: explicit association, else the main one."""
        ec2 = self.client("ec2")
        tables = ec2.describe_route_tables(
            Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
        )["RouteTables"]
        if not tables:
            tables = ec2.describe_route_tables(
                Filters=[
                    {"Name": "vpc-id", "Values": [vpc_id]},
                    {"Name": "association.main", "Values": ["true"]},
                ]
            )["RouteTables"]
        self.equal(len(tables), 1, f"one effective route table for {subnet_id}")
        return tables[0] if tables else {}


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------

# The web app's environment as a team would set it (PGPASSWORD is the classic
# credential-in-plain-env that reports must redact).
WEB_ENVIRONMENT = {
    "NODE_ENV": "production",
    "PORT": "3000",
    "LOG_LEVEL": "info",
    "PGHOST": "10.0.3.25",
    "PGPORT": "5432",
    "PGDATABASE": "web",
    "PGUSER": "web_app",
    "PGPASSWORD": "lab-only-not-a-secret-5f2c",
    "REDIS_URL": "redis://web-cache.x7kq2p.0001.use1.cache.amazonaws.com:6379",
}

_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_OCI_MANIFEST_FROM_DOCKER = _DOCKER_MANIFEST  # buildx children keep the docker type


def _tags(resource: str, name: str) -> dict:
    return {"ResourceType": resource, "Tags": [{"Key": "Name", "Value": name}]}


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def _detail(attachment: dict, name: str) -> str:
    return next(d["value"] for d in attachment["details"] if d["name"] == name)


def _delete_task_eni(account: str, region: str, attachment: dict) -> None:
    """Fargate deletes the task ENI once the task is deprovisioned; moto never does."""
    from moto.ec2.models import ec2_backends

    eni_id = _detail(attachment, "networkInterfaceId")
    backend = ec2_backends[account][region]
    if eni_id in backend.enis:
        backend.delete_network_interface(eni_id)


def _runtime_id(rng: random.Random, task_id: str) -> str:
    return f"{task_id}-{rng.randint(10**9, 10**10 - 1)}"


def _sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# The platform of each image config the lab built, by its digest: what ECR
# reads from the config blob when it converts a manifest to schema 1.
_CONFIG_PLATFORMS: dict[str, tuple[str, str]] = {}
_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"


def _image_manifest(seed: str, platform: str) -> str:
    """A Docker v2 schema 2 manifest shaped like a node:20-alpine based app image."""
    os_, arch, *variant = platform.split("/")
    config = {
        "architecture": arch,
        "os": os_,
        **({"variant": variant[0]} if variant else {}),
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "NODE_VERSION=20.11.1", "YARN_VERSION=1.22.19"],
            "Cmd": ["node", "dist/server.js"],
            "WorkingDir": "/app",
            "ExposedPorts": {"3000/tcp": {}},
        },
        "rootfs": {"type": "layers", "diff_ids": [_sha(f"{seed}:diff:{i}") for i in range(5)]},
    }
    config_text = json.dumps(config, separators=(",", ":"))
    _CONFIG_PLATFORMS[_sha(config_text)] = (os_, arch)
    sizes = [3_408_729, 42_137_901, 1_386_212, 447, 18_904_113]
    manifest = {
        "schemaVersion": 2,
        "mediaType": _DOCKER_MANIFEST,
        "config": {"mediaType": _DOCKER_CONFIG, "size": len(config_text), "digest": _sha(config_text)},
        "layers": [
            {"mediaType": _DOCKER_LAYER, "size": s, "digest": _sha(f"{seed}:layer:{i}")}
            for i, s in enumerate(sizes)
        ],
    }
    return json.dumps(manifest, indent=3)


def _new_container(td, cdef: dict):
    """A moto Container for a container definition other than the first."""
    from moto.ecs.models import Container

    c = Container(td)
    c.name = cdef.get("name")
    c.image = cdef.get("image")
    c.cpu = cdef.get("cpu", 0)
    c.memory = cdef.get("memory")
    c.environment = cdef.get("environment")
    c.command = cdef.get("command")
    return c


def _import_moto(region: str):
    """Import the moto modules the lab uses, sharing one boto3 session with them.

    moto calls `boto3.Session()` at import time (three times, for EC2's region
    list) and once more for its backends; each new session re-reads botocore's
    endpoint data. Handing moto the lab's own session while it imports saves about
    a second of startup, and the lab's clients then reuse the same parsed data.
    Returns that session.
    """
    import boto3

    shared = boto3.session.Session(region_name=region)
    real = boto3.Session
    boto3.Session = lambda *a, **k: shared if not (a or k) else real(*a, **k)  # type: ignore[misc]
    try:
        import moto.server  # noqa: F401
        import moto.ec2.models  # noqa: F401
        import moto.ecs.models  # noqa: F401
    finally:
        boto3.Session = real  # type: ignore[misc]
    return shared


_REFUSALS_SHAPED = False

# moto's refusal codes -> what the service says instead, per protocol family.
_JSON_REFUSAL_CODES = {
    "AccessDenied": "AccessDeniedException",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
}


# Services whose REST protocol answers errors with a JSON body, by signing name.
_REST_JSON_SERVICES = ("elasticfilesystem",)


def _shape_refusals_like_aws() -> None:
    """Make moto's IAM refusals look like the service's own.

    moto answers every refused call with one XML body,
    `<ErrorResponse><Errors><Error><Code>AccessDenied</Code>...`, whatever the
    service's protocol. AWS does not: the JSON services (ECS, CloudWatch Logs, ECR,
    Secrets Manager, SSM) answer `{"__type": "AccessDeniedException", "message": ...}`,
    the query services (IAM, ELBv2, STS) `<ErrorResponse><Error><Code>AccessDenied`
    (no `Errors` level), and EC2 `<Response><Errors><Error><Code>UnauthorizedOperation`.
    An SDK cannot parse moto's body for a JSON service at all (it reports a
    malformed response, not a refusal) and finds no code in it for a query service.
    """
    global _REFUSALS_SHAPED
    if _REFUSALS_SHAPED:
        return
    from xml.sax.saxutils import escape

    from moto.core.authorization import ActionAuthenticatorMixin
    from werkzeug.exceptions import HTTPException

    class Refusal(HTTPException):
        def __init__(self, status: int, body: str):
            super().__init__()
            self.code = status
            self.description = body

    original = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action

    def authorize(self, resource: str = "*") -> None:
        try:
            original(self, resource)
        except HTTPException as e:
            code, message = getattr(e, "error_type", None), getattr(e, "message", None)
            if not code or message is None:
                raise
            scope = self.headers.get("Authorization", "").partition("Credential=")[2].split("/")
            service = scope[3] if len(scope) > 3 else ""
            # JSON services: the awsJson ones by their target header, the
            # restJson ones (EFS) by their signing name.
            if self.headers.get("X-Amz-Target") or service in _REST_JSON_SERVICES:
                body = json.dumps({"__type": _JSON_REFUSAL_CODES.get(code, code), "message": message})
                raise Refusal(400, body) from None
            error = f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            if service == "ec2":
                if code == "AccessDenied":
                    error = ("<Code>UnauthorizedOperation</Code><Message>You are not authorized to "
                             f"perform this operation. {escape(message)}</Message>")
                body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>{error}'
                        "</Error></Errors><RequestID>lab</RequestID></Response>")
            else:
                body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type>'
                        f"{error}</Error><RequestId>lab</RequestId></ErrorResponse>")
            raise Refusal(e.code or 403, body) from None

    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = authorize  # type: ignore[method-assign]
    _sign_rest_gets_like_aws()
    _REFUSALS_SHAPED = True


def _sign_rest_gets_like_aws() -> None:
    """moto re-signs a request to check its signature with the parsed query
    parameters as the body; a REST service's GET (EFS's Describe* calls) has
    none, so every signed GET with parameters fails with SignatureDoesNotMatch.
    The signature is checked over the empty body the client signed."""
    from moto.iam.access_control import IAMRequestBase

    original = IAMRequestBase._create_aws_request

    def create_aws_request(self):
        if self._method in ("GET", "HEAD", "DELETE") and not self._body:
            saved = self._data
            self._data = {}
            try:
                return original(self)
            finally:
                self._data = saved
        return original(self)

    IAMRequestBase._create_aws_request = create_aws_request  # type: ignore[method-assign]


_PATCHED = False


def _install_moto_patches() -> None:
    """In-process corrections to moto that stand in for ECS itself.

    StopTask: AWS records stopCode UserInitiated, the stopping/stopped times and a
    DELETED ENI attachment; moto only sets lastStatus/desiredStatus/stoppedReason.
    """
    global _PATCHED
    if _PATCHED:
        return
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend.stop_task

    def stop_task(self, cluster_str: str, task_str: str, reason: str):
        task = original(self, cluster_str, task_str, reason)
        now = datetime.now(timezone.utc)
        if not getattr(task, "stop_code", None):
            task.stop_code = "UserInitiated"
        task.stopped_reason = reason or "Task stopped by user"
        task.stopping_at = getattr(task, "stopping_at", None) or now
        task.execution_stopped_at = getattr(task, "execution_stopped_at", None) or now
        task.stopped_at = getattr(task, "stopped_at", None) or now
        for c in task.containers:
            c.last_status = "STOPPED"
        for att in task.attachments:
            if att.get("status") != "DELETED":
                att["status"] = "DELETED"
                _delete_task_eni(self.account_id, self.region_name, att)
        return task

    EC2ContainerServiceBackend.stop_task = stop_task

    # RunTask: moto sums container-level memory to place a task and crashes (HTTP
    # 500, TypeError) when a container has neither `memory` nor
    # `memoryReservation` -- valid, and usual, on Fargate where the task-level
    # memory is the limit. Count such containers as 0.
    original_req = EC2ContainerServiceBackend._calculate_task_resource_requirements

    def requirements(task_definition):
        saved = task_definition.container_definitions
        task_definition.container_definitions = [
            c if any(k in c for k in ("memory", "memoryReservation", "Memory", "MemoryReservation"))
            else {**c, "memoryReservation": 0}
            for c in saved
        ]
        try:
            return original_req(task_definition)
        finally:
            task_definition.container_definitions = saved

    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(requirements)

    # ECR imageSizeInBytes: moto reports the size of the image *config* blob; AWS
    # reports the sum of the compressed layers (schema 2 manifests).
    from moto.ecr.models import Image as EcrImage

    def image_size(self):
        m = json.loads(self.image_manifest)
        if "layers" not in m:
            return None
        return sum(layer.get("size", 0) for layer in m["layers"])

    EcrImage.get_image_size_in_bytes = image_size

    # DescribeTasks: moto searches every cluster, matches ids by substring and never
    # reports failures. AWS looks in the named cluster only and answers an unknown
    # (or expired) task with failures[].reason = "MISSING" -- the path a collector
    # takes for "task not found", so the lab behaves like AWS here.
    from moto.core.responses import ActionResult
    from moto.ecs.exceptions import InvalidParameterException
    from moto.ecs.responses import DESCRIBE_TASKS_TAGS, EC2ContainerServiceResponse

    def describe_tasks(self):
        backend = self.ecs_backend
        cluster = backend._get_cluster(self._get_param("cluster", "default"))
        refs = self._get_param("tasks", [])
        if not refs:
            raise InvalidParameterException("Tasks cannot be empty.")
        mine = backend.tasks.get(cluster.name, {})
        found, failures = [], []
        for ref in refs:
            task_id = ref.rsplit("/", 1)[-1]
            task = next((t for arn, t in mine.items() if arn == ref or t.id == task_id), None)
            if task is not None:
                found.append(task)
            else:
                arn = ref if ref.startswith("arn:") else (
                    f"arn:aws:ecs:{backend.region_name}:{backend.account_id}:task/{cluster.name}/{ref}"
                )
                failures.append({"arn": arn, "reason": "MISSING"})
        if "TAGS" in (self._get_param("include", []) or []):
            self._include_in_response(DESCRIBE_TASKS_TAGS)
        else:
            self._exclude_from_response(DESCRIBE_TASKS_TAGS)
        return ActionResult({"tasks": found, "failures": failures})

    EC2ContainerServiceResponse.describe_tasks = describe_tasks

    # BatchGetImage with acceptedMediaTypes: moto ignores the parameter. ECR
    # converts a Docker schema 2 manifest requested by tag to schema 1 (which
    # names its architecture) when only schema 1 is accepted; the lab does the
    # same from the config it built.
    from moto.ecr.responses import ECRResponse

    original_batch_get_image = ECRResponse.batch_get_image

    def batch_get_image(self):
        accepted = self._get_param("acceptedMediaTypes") or []
        result = original_batch_get_image(self)
        if not accepted or not all(a.startswith("application/vnd.docker.distribution.manifest.v1+") for a in accepted):
            return result
        by_tag = {i.get("imageTag") for i in self._get_param("imageIds") or [] if i.get("imageTag")}
        images = []
        for image in result.result.get("images", []):
            manifest = json.loads(image.image_manifest)
            platform = _CONFIG_PLATFORMS.get(manifest.get("config", {}).get("digest", ""))
            tag = next((t for t in image.image_tags if t in by_tag), None)
            if manifest.get("mediaType") != _DOCKER_MANIFEST or platform is None or tag is None:
                continue
            os_, arch = platform
            v1 = {
                "schemaVersion": 1, "name": image.repository_name, "tag": tag, "architecture": arch,
                "fsLayers": [{"blobSum": layer["digest"]} for layer in reversed(manifest["layers"])],
                "history": [{"v1Compatibility": json.dumps({"os": os_, "architecture": arch})}],
            }
            images.append({
                "registryId": image.registry_id, "repositoryName": image.repository_name,
                "imageId": {"imageDigest": image.get_image_digest(), "imageTag": tag},
                "imageManifest": json.dumps(v1, indent=3), "imageManifestMediaType": _SCHEMA1,
            })
        return ActionResult({"images": images, "failures": result.result.get("failures", [])})

    ECRResponse.batch_get_image = batch_get_image

    # The service deployments API (ListServiceDeployments,
    # DescribeServiceDeployments, DescribeServiceRevisions): moto has none of
    # it. The lab serves it from its own model, `SERVICE_DEPLOYMENTS` and
    # `SERVICE_REVISIONS`, which scenarios fill through
    # `Lab.set_service_deployments` (as ECS's scheduler would). A deployment's
    # `timeline` steps (seconds after it was first read, fields) let a
    # scenario's deployment move on while `--wait` follows it. IAM
    # enforcement and the fault proxy see these actions as any other.
    from moto.ecs.exceptions import ServiceNotFoundException

    def since_first_read(key: tuple) -> float:
        return time.monotonic() - TIMELINE_STARTS.setdefault(key, time.monotonic())

    def deployment_now(d: dict) -> dict:
        elapsed = since_first_read(d["_key"])
        view = {k: v for k, v in d.items() if not k.startswith("_") and k != "timeline"}
        for after, fields in d.get("timeline", ()):
            if elapsed >= after:
                view.update(fields)
        return view

    # DescribeServices follows the same clock: the service's side of a step
    # (its deployments and counts) applies once the step is due.
    original_describe_services = EC2ContainerServiceResponse.describe_services

    def describe_services(self):
        backend = self.ecs_backend
        cluster = self._get_param("cluster", "default").rsplit("/", 1)[-1]
        for name in self._get_param("services", []):
            key = (backend.account_id, backend.region_name, cluster, name.rsplit("/", 1)[-1])
            steps = SERVICE_TIMELINES.get(key)
            if not steps:
                continue
            elapsed = since_first_read(key)
            svc = backend.services.get(f"{cluster}:{key[3]}")
            while steps and svc is not None and elapsed >= steps[0][0]:
                _, state = steps.pop(0)
                svc.deployments = state["deployments"]
                svc.running_count = state.get("running", svc.running_count)
                svc.pending_count = state.get("pending", svc.pending_count)
        return original_describe_services(self)

    EC2ContainerServiceResponse.describe_services = describe_services

    def list_service_deployments(self):
        backend = self.ecs_backend
        cluster = backend._get_cluster(self._get_param("cluster", "default"))
        name = self._get_param("service").rsplit("/", 1)[-1]
        if f"{cluster.name}:{name}" not in backend.services:
            raise ServiceNotFoundException()
        window = self._get_param("createdAt") or {}
        after, before = window.get("after"), window.get("before")
        briefs = []
        for d in SERVICE_DEPLOYMENTS.get((backend.account_id, backend.region_name, cluster.name, name), []):
            view = deployment_now(d)
            created = view["createdAt"].timestamp()
            if after is not None and created < (after.timestamp() if hasattr(after, "timestamp") else float(after)):
                continue
            if before is not None and created > (before.timestamp() if hasattr(before, "timestamp") else float(before)):
                continue
            briefs.append({k: view[k] for k in (
                "serviceDeploymentArn", "serviceArn", "clusterArn", "startedAt", "createdAt",
                "finishedAt", "status", "statusReason") if k in view}
                | {"targetServiceRevisionArn": view["targetServiceRevision"]["arn"]})
        briefs.sort(key=lambda b: b["createdAt"], reverse=True)
        return ActionResult({"serviceDeployments": briefs})

    def describe_service_deployments(self):
        backend = self.ecs_backend
        wanted = self._get_param("serviceDeploymentArns") or []
        found, failures = [], []
        every = [d for (acct, region, _, _), ds in SERVICE_DEPLOYMENTS.items()
                 if (acct, region) == (backend.account_id, backend.region_name) for d in ds]
        for arn in wanted:
            d = next((d for d in every if d["serviceDeploymentArn"] == arn), None)
            if d is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(deployment_now(d))
        return ActionResult({"serviceDeployments": found, "failures": failures})

    def describe_service_revisions(self):
        backend = self.ecs_backend
        found, failures = [], []
        for arn in self._get_param("serviceRevisionArns") or []:
            r = SERVICE_REVISIONS.get((backend.account_id, backend.region_name, arn))
            if r is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(r)
        return ActionResult({"serviceRevisions": found, "failures": failures})

    EC2ContainerServiceResponse.list_service_deployments = list_service_deployments
    EC2ContainerServiceResponse.describe_service_deployments = describe_service_deployments
    EC2ContainerServiceResponse.describe_service_revisions = describe_service_revisions

    # Task scale-in protection (GetTaskProtection, UpdateTaskProtection): moto has
    # neither. The lab serves them from its own model, `TASK_PROTECTION`, which
    # scenarios fill through `Lab.protect_task` (as an app would through the ECS
    # agent's task protection endpoint). A task with no entry is unprotected, as
    # in AWS; an unknown task is a failure with reason MISSING.
    def task_protection_of(backend, cluster, ref: str):
        task_id = ref.rsplit("/", 1)[-1]
        mine = backend.tasks.get(cluster.name, {})
        return next((t for arn, t in mine.items() if arn == ref or t.id == task_id), None)

    def get_task_protection(self):
        backend = self.ecs_backend
        cluster = backend._get_cluster(self._get_param("cluster", "default"))
        found, failures = [], []
        for ref in self._get_param("tasks") or []:
            task = task_protection_of(backend, cluster, ref)
            if task is None:
                failures.append({"arn": ref, "reason": "MISSING"})
                continue
            p = TASK_PROTECTION.get((backend.account_id, backend.region_name, task.task_arn))
            entry = {"taskArn": task.task_arn, "protectionEnabled": bool(p)}
            if p:
                entry["expirationDate"] = p["expirationDate"]
            found.append(entry)
        return ActionResult({"protectedTasks": found, "failures": failures})

    def update_task_protection(self):
        backend = self.ecs_backend
        cluster = backend._get_cluster(self._get_param("cluster", "default"))
        enabled = bool(self._get_param("protectionEnabled"))
        minutes = self._get_param("expiresInMinutes") or 120
        found, failures = [], []
        for ref in self._get_param("tasks") or []:
            task = task_protection_of(backend, cluster, ref)
            if task is None:
                failures.append({"arn": ref, "reason": "MISSING"})
                continue
            key = (backend.account_id, backend.region_name, task.task_arn)
            if enabled:
                TASK_PROTECTION[key] = {
                    "expirationDate": datetime.now(timezone.utc) + timedelta(minutes=minutes)}
            else:
                TASK_PROTECTION.pop(key, None)
            entry = {"taskArn": task.task_arn, "protectionEnabled": enabled}
            if enabled:
                entry["expirationDate"] = TASK_PROTECTION[key]["expirationDate"]
            found.append(entry)
        return ActionResult({"protectedTasks": found, "failures": failures})

    EC2ContainerServiceResponse.get_task_protection = get_task_protection
    EC2ContainerServiceResponse.update_task_protection = update_task_protection
    _serve_other_accounts_ecr_like_aws()
    _PATCHED = True


# The lab's model of ECS's service deployments API (see _install_moto_patches):
# (account, region, cluster, service) -> deployments, newest first; and
# (account, region, revision ARN) -> service revision.
SERVICE_DEPLOYMENTS: dict[tuple[str, str, str, str], list[dict]] = {}
SERVICE_REVISIONS: dict[tuple[str, str, str], dict] = {}
# The lab's model of task scale-in protection (see _install_moto_patches):
# (account, region, task ARN) -> {"expirationDate"}; a task with no entry is unprotected.
TASK_PROTECTION: dict[tuple[str, str, str], dict] = {}
# (account, region, cluster, service) -> steps (seconds after the first read,
# the service's {"deployments", "running", "pending"}) DescribeServices shows,
# on the clock of the service's first read (TIMELINE_STARTS).
SERVICE_TIMELINES: dict[tuple[str, str, str, str], list[tuple[float, dict]]] = {}
TIMELINE_STARTS: dict[tuple[str, str, str, str], float] = {}

# ECR reads that name another account's registry, and the action each is authorised as.
_ECR_CROSS_ACCOUNT_READS = {
    "describe_images": "ecr:DescribeImages",
    "batch_get_image": "ecr:BatchGetImage",
    "get_repository_policy": "ecr:GetRepositoryPolicy",
    "list_images": "ecr:ListImages",
    "describe_repositories": "ecr:DescribeRepositories",
    "get_lifecycle_policy": "ecr:GetLifecyclePolicy",
}


def _repository_policy_allows(policy_text: str | None, account: str, action: str) -> bool:
    """Does a repository policy let (any principal of) `account` call `action`?
    An explicit Deny wins; no policy shares nothing."""
    import fnmatch

    if not policy_text:
        return False
    statements = json.loads(policy_text).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]

    def listed(v):
        return [v] if isinstance(v, str) else list(v or [])

    def principal_matches(p) -> bool:
        if p == "*":
            return True
        names = listed(p.get("AWS") if isinstance(p, dict) else None)
        return any(n in ("*", account, f"arn:aws:iam::{account}:root") for n in names)

    def action_matches(st) -> bool:
        return any(fnmatch.fnmatch(action.lower(), a.lower()) for a in listed(st.get("Action")))

    applies = [st for st in statements if principal_matches(st.get("Principal", {})) and action_matches(st)]
    if any(st.get("Effect") == "Deny" for st in applies):
        return False
    return any(st.get("Effect") == "Allow" for st in applies)


def _serve_other_accounts_ecr_like_aws() -> None:
    """ECR reads of another account's repository, as ECR answers them.

    moto keeps each account's repositories apart and answers a read that names
    another account's registry (`registryId`) as "repository not found". ECR
    serves it from the owning account when the repository policy shares the
    action with the caller's account, and otherwise refuses it with
    AccessDeniedException ("… because no resource-based policy allows …").
    """
    from moto.core.exceptions import JsonRESTError
    from moto.ecr.models import ecr_backends
    from moto.ecr.responses import ECRResponse

    plain_backend = ECRResponse.ecr_backend

    def ecr_backend(self):
        owner = getattr(self, "_lab_registry_owner", None)
        return ecr_backends[owner][self.region] if owner else plain_backend.fget(self)

    ECRResponse.ecr_backend = property(ecr_backend)  # type: ignore[assignment]

    def across(name: str, action: str):
        plain = getattr(ECRResponse, name)

        def handler(self):
            registry = self._get_param("registryId")
            caller = self.current_account
            if not registry or registry == caller:
                return plain(self)
            repo_name = self._get_param("repositoryName") or (self._get_param("repositoryNames") or [""])[0]
            repo = ecr_backends[registry][self.region].repositories.get(repo_name)
            if repo is None or not _repository_policy_allows(repo.policy, caller, action):
                arn = f"arn:aws:ecr:{self.region}:{registry}:repository/{repo_name}"
                raise JsonRESTError(
                    "AccessDeniedException",
                    f"User: arn:aws:sts::{caller}:user/moto is not authorized to perform: {action} on "
                    f"resource: {arn} because no resource-based policy allows the {action} action",
                )
            self._lab_registry_owner = registry
            try:
                return plain(self)
            finally:
                self._lab_registry_owner = None

        setattr(ECRResponse, name, handler)

    for name, action in _ECR_CROSS_ACCOUNT_READS.items():
        across(name, action)
