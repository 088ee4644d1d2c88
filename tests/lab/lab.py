#!/usr/bin/env python3
"""The AWS lab: moto in server mode on loopback, holding one scenario.

    lab.py list                      scenario names, one a line
    lab.py serve SCENARIO            build it, print one JSON line, serve until stdin closes
    lab.py serve SCENARIO --caller-policy FILE
                                     ... then enforce IAM, with FILE the caller's only policy
    lab.py check [SCENARIO ...]      serve each scenario and read it back with boto3

`serve` prints exactly one line on stdout, once the scenario is built and read back:

    {"endpoint": "http://127.0.0.1:PORT", "region": "us-east-1", "account": "123456789012",
     "cluster": "...", "task_arn": "...", "task_id": "...", "scenario": "...", ...extras}

then blocks until stdin reaches EOF (or SIGTERM / SIGINT) and shuts the server down.
Diagnostics go to stderr. Use --until-signal to ignore stdin (e.g. when backgrounded).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import faultproxy  # noqa: E402
import labkit  # noqa: E402
import scenarios  # noqa: E402

REQUIRED_KEYS = ("endpoint", "region", "account", "cluster", "task_arn", "task_id", "scenario")
STOP_CODES = {
    "TaskFailedToStart", "EssentialContainerExited", "UserInitiated", "ServiceSchedulerInitiated",
    "SpotInterruption", "TerminationNotice", "InfrastructureHealth",
}


def _err(*a: object) -> None:
    print(*a, file=sys.stderr, flush=True)


def cmd_list(args: argparse.Namespace) -> int:
    scenarios.load_all()
    for name in sorted(labkit.SCENARIOS):
        print(f"{name}\t{labkit.SCENARIOS[name].summary}" if args.verbose else name)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    # Only the ready line may reach stdout; anything moto or a builder prints goes to stderr.
    out = sys.stdout
    sys.stdout = sys.stderr
    scenarios.load_all()
    sc = labkit.SCENARIOS.get(args.scenario)
    if sc is None:
        _err(f"unknown scenario {args.scenario!r}; known: {', '.join(sorted(labkit.SCENARIOS))}")
        return 2
    now = None
    if args.now:
        now = datetime.fromisoformat(args.now.replace("Z", "+00:00"))
        now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    lab = labkit.Lab(sc.name, region=sc.region, now=now, seed=args.seed)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        lab.start()
        info = sc.build(lab)
        missing = [k for k in ("cluster", "task_arn") if k not in info]
        if missing or (info["task_arn"] is None and not info.get("no_task")):
            raise labkit.LabError(f"scenario returned no {missing or ['task_arn']}")
        ready = {
            "endpoint": lab.endpoint,
            "region": lab.region,
            "account": lab.account,
            "cluster": info["cluster"],
            "task_arn": info["task_arn"],
            # A scenario about what happens before any task exists says `no_task`.
            "task_id": info["task_arn"].rsplit("/", 1)[-1] if info["task_arn"] else None,
            "scenario": sc.name,
        }
        ready.update({k: v for k, v in info.items() if k not in ready})
        if args.caller_policy:
            with open(args.caller_policy, encoding="utf-8") as f:
                ready.update(lab.restrict_caller(f.read()))
        if args.fault_proxy:
            port = int(lab.endpoint.rsplit(":", 1)[1])
            proxy = faultproxy.FaultProxy(port).start()
            ready["moto_endpoint"] = lab.endpoint
            ready["endpoint"] = proxy.endpoint
    except Exception:
        traceback.print_exc()
        lab.stop()
        return 1
    out.write(json.dumps(ready) + "\n")
    out.flush()
    _err(f"lab: {sc.name} ready at {lab.endpoint} in {time.monotonic() - t0:.2f}s")

    if not args.until_signal:
        def wait_for_eof() -> None:
            try:
                while sys.stdin.buffer.read(65536):
                    pass
            except (OSError, ValueError):
                pass
            stop.set()

        threading.Thread(target=wait_for_eof, daemon=True).start()
    while not stop.wait(0.5):
        pass
    lab.stop()
    _err(f"lab: {sc.name} stopped")
    # Skip tearing down moto's large module graph at exit (about a second).
    sys.stderr.flush()
    os._exit(0)


# --------------------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------------------


def _generic_checks(p: labkit.Probe, now: datetime) -> None:
    info = p.info
    for k in REQUIRED_KEYS:
        p.expect(k in info, f"ready line has {k}")
    p.expect(info["endpoint"].startswith("http://127.0.0.1:"), "endpoint on loopback")
    p.equal(info["account"], labkit.ACCOUNT, "account")
    if info.get("no_task"):
        return
    arn = info["task_arn"]
    p.equal(arn, f"arn:aws:ecs:{info['region']}:{info['account']}:task/{info['cluster']}/{info['task_id']}",
            "task ARN shape")
    t = p.task()
    # A scenario about a running task (inbound reachability) says so in its ready line.
    status = info.get("expect_status", "STOPPED")
    p.equal(t.get("lastStatus"), status, "lastStatus")
    p.equal(t.get("desiredStatus"), status, "desiredStatus")
    if status == "STOPPED":
        # A scenario about a stop code newer than ecs-doctor names it in its ready line.
        known = STOP_CODES | {info["future_stop_code"]} if info.get("future_stop_code") else STOP_CODES
        p.expect(t.get("stopCode") in known, f"stopCode {t.get('stopCode')!r} is a TaskStopCode")
        p.expect(t.get("stoppedReason"), "stoppedReason")
    else:
        p.expect("stopCode" not in t and "stoppedReason" not in t, "no stop code or reason")
    # A scenario about a task on EC2 capacity names its launch type in its ready line.
    launch_type = info.get("launch_type", "FARGATE")
    p.equal(t.get("launchType"), launch_type, "launchType")
    if launch_type == "FARGATE":
        p.equal(t.get("platformVersion"), "1.4.0", "platformVersion")
    p.equal(t.get("clusterArn"), f"arn:aws:ecs:{info['region']}:{info['account']}:cluster/{info['cluster']}",
            "clusterArn")
    for c in t.get("containers", []):
        p.equal(c.get("lastStatus"), status, f"{c.get('name')} lastStatus")
        p.equal(c.get("taskArn"), arn, f"{c.get('name')} taskArn")
    p.expect(t.get("containers"), "containers")
    eni = p.eni_details(t)
    for k in ("subnetId", "networkInterfaceId", "privateIPv4Address"):
        p.expect(eni.get(k), f"ENI detail {k}")
    td = p.task_definition(t.get("taskDefinitionArn", "missing"))
    p.expect(td.get("containerDefinitions"), "task definition readable")
    listed = p.client("ecs").list_tasks(cluster=info["cluster"], desiredStatus=status)["taskArns"]
    p.expect(arn in listed, f"ListTasks desiredStatus={status} lists the task")
    if status == "STOPPED":
        times = [t.get(k) for k in ("createdAt", "stoppingAt", "stoppedAt")]
        p.expect(all(times) and times == sorted(times), "createdAt <= stoppingAt <= stoppedAt")
        if all(times):
            age = now - times[2]
            p.expect(timedelta(0) <= age <= timedelta(hours=1), f"stopped within the last hour ({age})")
    else:
        times = [t.get(k) for k in ("createdAt", "startedAt")]
        p.expect(all(times) and times == sorted(times) and times[1] <= now, "createdAt <= startedAt <= now")
    gone = p.client("ecs").describe_tasks(cluster=info["cluster"], tasks=["0" * 32])
    p.equal([f["reason"] for f in gone["failures"]], ["MISSING"], "unknown task -> failures MISSING")


def _now() -> datetime:
    pinned = os.environ.get("ECS_DOCTOR_LAB_NOW")
    if not pinned:
        return datetime.now(timezone.utc)
    now = datetime.fromisoformat(pinned.replace("Z", "+00:00"))
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


def _check_one(name: str, timeout: float) -> tuple[str, float, list[str]]:
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "lab.py"), "serve", name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    failures: list[str] = []
    line_box: list[bytes] = []
    reader = threading.Thread(target=lambda: line_box.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    elapsed = time.monotonic() - started
    if not line_box or not line_box[0]:
        proc.kill()
        _, err = proc.communicate()
        return name, elapsed, [f"no ready line within {timeout}s; stderr:\n{err.decode(errors='replace')[-3000:]}"]
    try:
        info = json.loads(line_box[0])
        p = labkit.Probe(info)
        p.equal(info.get("scenario"), name, "scenario")
        _generic_checks(p, _now())
        for check in labkit.SCENARIOS[name].checks:
            check(p)
        failures += p.failures
    except Exception:
        failures.append(traceback.format_exc())
    # closing stdin must stop the lab, cleanly, with nothing more on stdout
    try:
        rest, err = proc.communicate(input=b"", timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        rest, err = proc.communicate()
        failures.append("did not exit after stdin EOF")
    if proc.returncode != 0:
        failures.append(f"exit code {proc.returncode}; stderr:\n{err.decode(errors='replace')[-3000:]}")
    if rest.strip():
        failures.append(f"extra stdout after the ready line: {rest[:200]!r}")
    return name, elapsed, failures


def cmd_check(args: argparse.Namespace) -> int:
    labkit._prepare_env()
    scenarios.load_all()
    names = args.scenarios or sorted(labkit.SCENARIOS)
    unknown = [n for n in names if n not in labkit.SCENARIOS]
    if unknown:
        _err(f"unknown scenarios: {unknown}")
        return 2
    bad = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for name, elapsed, failures in pool.map(lambda n: _check_one(n, args.timeout), names):
            status = "ok" if not failures else "FAIL"
            print(f"{status:4} {name:28} ready in {elapsed:5.2f}s", flush=True)
            for f in failures:
                print("     - " + f.replace("\n", "\n       "), flush=True)
            bad += bool(failures)
    print(f"{len(names) - bad}/{len(names)} scenarios pass", flush=True)
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="lab.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list", help="scenario names, one a line")
    ls.add_argument("-v", "--verbose", action="store_true", help="add a tab and a summary")
    ls.set_defaults(fn=cmd_list)
    s = sub.add_parser("serve", help="serve one scenario")
    s.add_argument("scenario")
    s.add_argument("--until-signal", action="store_true",
                   help="ignore stdin; run until SIGTERM/SIGINT")
    s.add_argument("--seed", type=int, default=None,
                   help="seed for moto's ids (default: derived from the scenario name)")
    s.add_argument("--now", default=os.environ.get("ECS_DOCTOR_LAB_NOW"),
                   help="pretend the current time is this ISO-8601 instant (env ECS_DOCTOR_LAB_NOW)")
    s.add_argument("--caller-policy", metavar="FILE", default=None,
                   help="after building, create the IAM user ecs-doctor-reader with FILE as its only "
                        "(inline) policy, enforce IAM on every later request, and add the user's keys "
                        "to the ready line (caller_access_key_id, caller_secret_access_key)")
    s.add_argument("--fault-proxy", action="store_true",
                   help="put the fault-injecting proxy (faultproxy.py) in front of moto: the ready line's "
                        "endpoint is the proxy's, moto_endpoint is moto's")
    s.set_defaults(fn=cmd_serve)
    c = sub.add_parser("check", help="serve scenarios and read them back")
    c.add_argument("scenarios", nargs="*")
    c.add_argument("--jobs", type=int, default=4, help="scenarios served in parallel")
    c.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a ready line")
    c.set_defaults(fn=cmd_check)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
