"""The speed benchmark: ecs-doctor against the AWS lab with every request
delayed (the fault proxy's `delay_ms`, standing in for the distance to AWS).

For each world it reports wall time, the AWS requests made, the longest chain
of dependent requests (derived from when each request arrived and was
answered), requests repeated with the same parameters, and peak memory.
The same diagnosis done with the AWS CLI, command after command, is the
baseline. Run through scripts/bench.sh, which builds the release binary and
the environments this needs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "tests" / "lab" / "lab.py"

# Ten single-task worlds, one or more of each family.
WORLDS = [
    "app-exit-error",
    "image-not-found",
    "no-public-ip",
    "stopped-by-deployment",
    "app-out-of-memory",
    "execution-role-permissions",
    "secret-not-found",
    "net-nacl-blocked",
    "log-group-missing",
    "efs-mount-failed",
]


class World:
    """One lab scenario behind the fault proxy."""

    def __init__(self, python: str, scenario: str, env: dict | None = None):
        self.proc = subprocess.Popen(
            [python, str(LAB), "serve", scenario, "--fault-proxy"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, text=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"bench: the lab could not build {scenario}")
        self.info = json.loads(line)
        self.endpoint = self.info["endpoint"]

    def steer(self, config: dict) -> None:
        req = urllib.request.Request(f"{self.endpoint}/__faults__", data=json.dumps(config).encode(),
                                     method="POST")
        urllib.request.urlopen(req).read()

    def timeline(self) -> list[dict]:
        return json.loads(urllib.request.urlopen(f"{self.endpoint}/__timeline__").read())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def longest_chain(timeline: list[dict]) -> list[str]:
    """The longest run of requests that had to follow one another (a request
    depends on one that was answered before it arrived), as their actions."""
    spans = sorted(timeline, key=lambda t: t["start"])
    best: list[tuple[int, int]] = []  # (length, previous index)
    for i, t in enumerate(spans):
        before = [(best[j][0], j) for j in range(i) if spans[j]["end"] <= t["start"]]
        length, prev = max(before, default=(0, -1))
        best.append((length + 1, prev))
    if not best:
        return []
    i = max(range(len(best)), key=lambda k: best[k][0])
    chain = []
    while i >= 0:
        chain.append(spans[i]["action"])
        i = best[i][1]
    return chain[::-1]


def measure(cmd: list[str], world: World, delay_ms: int, env: dict) -> dict:
    world.steer({"kind": "off", "delay_ms": delay_ms})
    started = time.monotonic()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True,
                         env={**os.environ, **env})
    wall = time.monotonic() - started
    rss_kb = int(out.stderr.strip().splitlines()[-1]) if out.stderr.strip() else 0
    timeline = world.timeline()
    digests = [t["request"] for t in timeline]
    return {
        "wall": wall,
        "requests": len(timeline),
        "chain": len(longest_chain(timeline)),
        "chain_actions": longest_chain(timeline),
        "repeated": len(digests) - len(set(digests)),
        "rss_mb": rss_kb / 1024,
        "exit": out.returncode,
    }


def aws_cli_steps(world: World) -> list[list[str]]:
    """What a person types to answer the same question, in order."""
    import boto3

    info = world.info
    region = info["region"]
    kw = dict(endpoint_url=info.get("moto_endpoint", world.endpoint), region_name=region,
              aws_access_key_id="testing", aws_secret_access_key="testing")
    ecs = boto3.client("ecs", **kw)
    task = ecs.describe_tasks(cluster=info["cluster"], tasks=[info["task_arn"]])["tasks"][0]
    td = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    c = td["containerDefinitions"][0]
    image = c["image"]
    repo = image.split("/", 1)[1].split(":")[0].split("@")[0] if "/" in image else image
    tag = image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else "latest"
    steps = [
        ["ecs", "describe-tasks", "--cluster", info["cluster"], "--tasks", info["task_arn"]],
        ["ecs", "describe-task-definition", "--task-definition", task["taskDefinitionArn"]],
        ["ecr", "describe-images", "--repository-name", repo, "--image-ids", f"imageTag={tag}"],
    ]
    if task.get("group", "").startswith("service:"):
        steps.append(["ecs", "describe-services", "--cluster", info["cluster"],
                      "--services", task["group"].split(":", 1)[1]])
    opts = (c.get("logConfiguration") or {}).get("options") or {}
    if "awslogs-group" in opts:
        stream = f"{opts.get('awslogs-stream-prefix', 'ecs')}/{c['name']}/{task['taskArn'].rsplit('/', 1)[1]}"
        steps.append(["logs", "get-log-events", "--log-group-name", opts["awslogs-group"],
                      "--log-stream-name", stream, "--limit", "20"])
    if td.get("executionRoleArn"):
        role = td["executionRoleArn"].rsplit("/", 1)[1]
        steps += [
            ["iam", "get-role", "--role-name", role],
            ["iam", "list-attached-role-policies", "--role-name", role],
            ["iam", "list-role-policies", "--role-name", role],
            ["iam", "get-policy-version", "--policy-arn",
             "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", "--version-id", "v1"],
        ]
    subnet = next((d["value"] for a in task.get("attachments", []) for d in a.get("details", [])
                   if d["name"] == "subnetId"), None)
    if subnet:
        steps += [
            ["ec2", "describe-subnets", "--subnet-ids", subnet],
            ["ec2", "describe-route-tables", "--filters", f"Name=association.subnet-id,Values={subnet}"],
            ["ec2", "describe-network-acls", "--filters", f"Name=association.subnet-id,Values={subnet}"],
            ["ec2", "describe-security-groups"],
            ["ec2", "describe-vpc-endpoints"],
            ["ec2", "describe-nat-gateways"],
        ]
    return steps


def aws_cli(world: World, aws: str, delay_ms: int) -> dict:
    steps = aws_cli_steps(world)
    world.steer({"kind": "off", "delay_ms": delay_ms})
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": world.info["region"], "AWS_PAGER": ""}
    started = time.monotonic()
    for step in steps:
        subprocess.run([aws, "--endpoint-url", world.endpoint, "--output", "json", *step],
                       capture_output=True, env=env)
    return {"wall": time.monotonic() - started, "requests": len(world.timeline()), "commands": len(steps)}


def service_of(world: World) -> tuple[str, str] | None:
    """The cluster and service a world's task belongs to, if any."""
    info = world.info
    if info.get("args", [None])[0] == "service":
        args = info["args"]
        return args[args.index("--cluster") + 1], args[1]
    if not info.get("task_arn"):
        return None
    import boto3

    ecs = boto3.client("ecs", endpoint_url=info.get("moto_endpoint", world.endpoint),
                       region_name=info["region"], aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    task = ecs.describe_tasks(cluster=info["cluster"], tasks=[info["task_arn"]])["tasks"][0]
    group = task.get("group", "")
    return (info["cluster"], group.split(":", 1)[1]) if group.startswith("service:") else None


def side_by_side(world: World, bin_path: str, peer: str, delay_ms: int, env: dict) -> dict | None:
    """The same service asked of ecs-doctor (`service`) and of the closest
    peer (`diagnose --service`, its fastest mode: JSON, no metrics)."""
    found = service_of(world)
    if not found:
        return None
    cluster, service = found
    region = world.info["region"]
    ours = [bin_path, "service", service, "--cluster", cluster, "--region", region,
            "--endpoint-url", world.endpoint, "-o", "json"]
    theirs = [peer, "diagnose", "--cluster", cluster, "--service", service, "--region", region,
              "--json", "--no-metrics"]
    peer_env = {**env, "AWS_ENDPOINT_URL": world.endpoint, "AWS_DEFAULT_REGION": region}
    mid = lambda runs: sorted(runs, key=lambda r: r["wall"])[1]  # noqa: E731
    return {
        "service": service,
        "ecs_doctor": mid([measure(ours, world, delay_ms, env) for _ in range(3)]),
        "peer": mid([measure(theirs, world, delay_ms, peer_env) for _ in range(3)]),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--python", required=True, help="the lab's python")
    ap.add_argument("--aws", help="an AWS CLI for the baseline")
    ap.add_argument("--peer", help="the closest peer's command (PyPI ecs-doctor 0.4.2)")
    ap.add_argument("--delay-ms", type=int, default=50)
    ap.add_argument("--worlds", type=int, default=len(WORLDS))
    ap.add_argument("--sweeps", default="1,10,100")
    ap.add_argument("--json", help="write the measurements here")
    args = ap.parse_args()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_EC2_METADATA_DISABLED": "true"}
    delay = args.delay_ms / 1000
    rows, cli_rows, peer_rows = [], [], []
    for name in WORLDS[: args.worlds]:
        world = World(args.python, name)
        try:
            cmd = [args.bin, "task", world.info["task_arn"], "--endpoint-url", world.endpoint, "-o", "json"]
            runs = [measure(cmd, world, args.delay_ms, env) for _ in range(3)]
            run = sorted(runs, key=lambda r: r["wall"])[1]
            rows.append({"world": name, **run})
            if args.aws:
                cli_rows.append({"world": name, **aws_cli(world, args.aws, args.delay_ms)})
            if args.peer:
                pair = side_by_side(world, args.bin, args.peer, args.delay_ms, env)
                if pair:
                    peer_rows.append({"world": name, **pair})
        finally:
            world.close()
        print(f"bench: {name:28} {run['wall']:.2f}s {run['requests']:3} requests, chain {run['chain']}: "
              f"{' → '.join(run['chain_actions'])}", file=sys.stderr)
    sweeps = []
    for n in [int(x) for x in args.sweeps.split(",") if x]:
        world = World(args.python, "service-many-stopped", {"ECS_DOCTOR_LAB_SWEEP_TASKS": str(n)})
        try:
            cmd = [args.bin, *world.info["args"], "--endpoint-url", world.endpoint, "-o", "json"]
            runs = [measure(cmd, world, args.delay_ms, env) for _ in range(3)]
            sweeps.append({"tasks": n, **sorted(runs, key=lambda r: r["wall"])[1]})
            if args.peer:
                pair = side_by_side(world, args.bin, args.peer, args.delay_ms, env)
                if pair:
                    peer_rows.append({"world": f"service-many-stopped ({n})", **pair})
        finally:
            world.close()
        print(f"bench: sweep of {n:3} tasks  {sweeps[-1]['wall']:.2f}s {sweeps[-1]['requests']} requests",
              file=sys.stderr)

    med = lambda xs: statistics.median(xs)  # noqa: E731
    wall = med([r["wall"] for r in rows])
    print(f"## ecs-doctor speed: {args.delay_ms} ms per AWS request, median over {len(rows)} worlds\n")
    print("| world | wall (s) | × delay | requests | dependent chain | repeated | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['world']} | {r['wall']:.2f} | {r['wall'] / delay:.1f} | {r['requests']} | {r['chain']} "
              f"| {r['repeated']} | {r['rss_mb']:.0f} |")
    print(f"| **median** | **{wall:.2f}** | **{wall / delay:.1f}** | {med([r['requests'] for r in rows]):.0f} "
          f"| {med([r['chain'] for r in rows]):.0f} | {med([r['repeated'] for r in rows]):.0f} "
          f"| {med([r['rss_mb'] for r in rows]):.0f} |")
    if cli_rows:
        cli = med([r["wall"] for r in cli_rows])
        print(f"\nAWS CLI, the same reads command after command: median {cli:.2f} s "
              f"({med([r['commands'] for r in cli_rows]):.0f} commands): ecs-doctor is {cli / wall:.1f}× faster.")
    if peer_rows:
        print("\nSide by side with the closest peer, the same service asked of each "
              "(ecs-doctor `service`; the peer's `diagnose --service --json --no-metrics`):\n")
        print("| world | ecs-doctor (s) | requests | peer (s) | requests | ecs-doctor is |")
        print("|---|---|---|---|---|---|")
        for r in peer_rows:
            ours, theirs = r["ecs_doctor"], r["peer"]
            print(f"| {r['world']} | {ours['wall']:.2f} | {ours['requests']} | {theirs['wall']:.2f} "
                  f"| {theirs['requests']} | {theirs['wall'] / ours['wall']:.1f}× faster |")
        ratio = med([r["peer"]["wall"] / r["ecs_doctor"]["wall"] for r in peer_rows])
        print(f"| **median** | | | | | **{ratio:.1f}× faster** |")
    if sweeps:
        print("\n| service sweep | wall (s) | × one task | requests | dependent chain | repeated | peak RSS (MB) |")
        print("|---|---|---|---|---|---|---|")
        for s in sweeps:
            print(f"| {s['tasks']} stopped tasks | {s['wall']:.2f} | {s['wall'] / wall:.1f} | {s['requests']} "
                  f"| {s['chain']} | {s['repeated']} | {s['rss_mb']:.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"delay_ms": args.delay_ms, "worlds": rows, "aws_cli": cli_rows,
                                               "peer": peer_rows, "sweeps": sweeps}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
