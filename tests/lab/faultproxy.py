"""A fault-injecting HTTP proxy between ecs-doctor and the lab's moto server.

It forwards every AWS request to moto, and can instead fail it the way AWS
fails a request: refused (AccessDenied in the service's own protocol: JSON for
ECS, Logs, ECR, Secrets Manager and SSM; query XML for EC2, IAM and ELB),
throttled (the service's real throttling error), an HTTP 500 or 503, a reset
connection, or no answer at all. Faults apply to one AWS action, or to a
share of all requests chosen by a seeded hash of each request (the same
requests fail on every run, whatever order concurrent requests arrive in).

It is steered over HTTP on the same port, with paths no AWS call uses:

    POST /__faults__   {"kind": "deny", "action": "ec2:DescribeRouteTables"}
                       {"kind": "throttle", "rate": 0.2, "seed": 7}
                       {"kind": "off"}
                       {"kind": "off", "delay_ms": 50}   every request answered 50 ms later
    GET  /__calls__    the actions forwarded or failed since the last POST, in order
    GET  /__timeline__ the same requests with their arrival and answer times (seconds)
                       and a digest of the request, for the benchmark

`delay_ms` stands in for the distance to AWS: each request is held that long
before it is forwarded, as a round trip to a Region would cost.

Only loopback is served and only the lab's moto is forwarded to.
"""

from __future__ import annotations

import hashlib
import http.client
import http.server
import json
import re
import socket
import threading
import time
import urllib.parse

# The IAM prefix of each SigV4 signing name.
SERVICES = {"ecs": "ecs", "logs": "logs", "ecr": "ecr", "secretsmanager": "secretsmanager",
            "ssm": "ssm", "ec2": "ec2", "iam": "iam", "elasticloadbalancing": "elasticloadbalancing",
            "sts": "sts", "elasticfilesystem": "elasticfilesystem", "s3": "s3"}
# Services that answer errors in JSON: the awsJson ones, and EFS (restJson).
JSON_SERVICES = {"ecs", "logs", "ecr", "secretsmanager", "ssm", "elasticfilesystem"}
KINDS = {"deny", "throttle", "500", "503", "reset", "hang", "off"}
# How long an unanswered request is held: longer than any client waits.
HANG_SECONDS = 20.0


# The REST services name an action by its method and path, not in the body.
# EFS's reads, longest path first: `/2015-02-01/mount-targets/fsmt-…/security-groups`.
REST_ACTIONS = {
    "elasticfilesystem": [
        (r"/mount-targets/[^/]+/security-groups$", "DescribeMountTargetSecurityGroups"),
        (r"/file-systems/[^/]+/policy$", "DescribeFileSystemPolicy"),
        (r"/file-systems(/[^/]+)?$", "DescribeFileSystems"),
        (r"/mount-targets$", "DescribeMountTargets"),
        (r"/access-points(/[^/]+)?$", "DescribeAccessPoints"),
    ],
    # S3's reads of a bucket (path-style), by their query: the IAM action,
    # not the operation (ListObjectsV2 is s3:ListBucket).
    "s3": [
        (r"^/[^/]+/?\?(.*&)?location(=|&|$)", "GetBucketLocation"),
        (r"^/[^/]+/?\?(.*&)?list-type=2", "ListBucket"),
        (r"^/[^/]+/?\?(.*&)?policy(=|&|$)", "GetBucketPolicy"),
    ],
}


def _rest_action(service: str, method: str, path: str) -> str | None:
    if method != "GET":
        return None
    parts = urllib.parse.urlsplit(path)
    # S3 names its reads in the query; the others, in the path.
    route = f"{parts.path}?{parts.query}" if service == "s3" else parts.path
    for pattern, name in REST_ACTIONS.get(service, []):
        if re.search(pattern, route):
            return name
    return None


def _action(headers, body: bytes, method: str, path: str) -> str:
    """`service:Action` of a signed AWS request."""
    auth = headers.get("Authorization", "")
    m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request", auth)
    service = SERVICES.get(m.group(1), m.group(1)) if m else "unknown"
    target = headers.get("X-Amz-Target")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    rest = _rest_action(service, method, path)
    if rest:
        return f"{service}:{rest}"
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return f"{service}:{form.get('Action', ['Unknown'])[0]}"


def _error(kind: str, action: str) -> tuple[int, dict, bytes]:
    """The response AWS would give: status, headers, body."""
    service, name = action.split(":", 1)
    if kind == "deny":
        message = f"User: arn:aws:iam::123456789012:user/ecs-doctor-reader is not authorized to perform: {action}"
        if service in JSON_SERVICES:
            code = "AccessDeniedException"
            return 400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}, \
                json.dumps({"__type": code, "message": message}).encode()
        if service == "s3":
            return 403, {"Content-Type": "application/xml"}, (
                "<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
                "<RequestId>fault</RequestId></Error>").encode()
        if service == "ec2":
            return 403, {"Content-Type": "text/xml"}, (
                "<Response><Errors><Error><Code>UnauthorizedOperation</Code>"
                f"<Message>You are not authorized to perform this operation. {message}</Message>"
                "</Error></Errors><RequestID>fault</RequestID></Response>").encode()
        return 403, {"Content-Type": "text/xml"}, (
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
            f"<Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>").encode()
    if kind == "throttle":
        if service in JSON_SERVICES:
            code = "ThrottlingException"
            return 400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}, \
                json.dumps({"__type": code, "message": "Rate exceeded"}).encode()
        if service == "s3":
            return 503, {"Content-Type": "application/xml"}, (
                "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
                "<RequestId>fault</RequestId></Error>").encode()
        if service == "ec2":
            return 503, {"Content-Type": "text/xml"}, (
                "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded."
                "</Message></Error></Errors><RequestID>fault</RequestID></Response>").encode()
        return 400, {"Content-Type": "text/xml"}, (
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
            "</Error><RequestId>fault</RequestId></ErrorResponse>").encode()
    status = int(kind)
    return status, {"Content-Type": "text/plain"}, b"Service Unavailable" if status == 503 else b"Internal Failure"


class FaultProxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.config: dict = {"kind": "off"}
        self.calls: list[str] = []
        self.timeline: list[dict] = []
        # How often each identical request was seen, for the random faults.
        self.seen: dict[bytes, int] = {}
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):  # quiet
                pass

            def setup(self):
                super().setup()
                # Headers and body go out as separate writes: without this, Nagle's
                # algorithm holds the body until the client's delayed ACK (~40 ms).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _send(self, status: int, headers: dict, body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                if self.path == "/__calls__":
                    with proxy.lock:
                        body = json.dumps(proxy.calls).encode()
                    return self._send(200, {"Content-Type": "application/json"}, body)
                if self.path == "/__timeline__":
                    with proxy.lock:
                        body = json.dumps(proxy.timeline).encode()
                    return self._send(200, {"Content-Type": "application/json"}, body)
                return self._forward(b"")

            def do_POST(self):  # noqa: N802
                body = self._body()
                if self.path == "/__faults__":
                    config = json.loads(body or b"{}")
                    if config.get("kind", "off") not in KINDS:
                        return self._send(400, {}, b"unknown fault kind")
                    with proxy.lock:
                        proxy.config = config
                        proxy.calls = []
                        proxy.timeline = []
                        proxy.seen = {}
                    return self._send(200, {}, b"ok")
                return self._forward(body)

            def _forward(self, body: bytes) -> None:
                arrived = time.monotonic()
                action = _action(self.headers, body, self.command, self.path)
                with proxy.lock:
                    proxy.calls.append(action)
                    config = proxy.config
                delay = float(config.get("delay_ms", 0)) / 1000.0
                if delay:
                    time.sleep(delay)
                self._forward_as(action, body, config)
                digest = hashlib.sha256(action.encode() + b"\0" + self.path.encode() + b"\0" + body).hexdigest()
                with proxy.lock:
                    proxy.timeline.append({"action": action, "start": arrived, "end": time.monotonic(),
                                           "request": digest[:16]})

            def _forward_as(self, action: str, body: bytes, config: dict) -> None:
                with proxy.lock:
                    kind = config.get("kind", "off")
                    if kind != "off":
                        if "action" in config:
                            hit = config["action"].lower() == action.lower()
                        else:
                            hit = proxy.draw(config, action, body) < float(config.get("rate", 0.0))
                        if not hit:
                            kind = "off"
                if kind == "reset":
                    # An abortive close: the client sees a connection reset.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.close_connection = True
                    self.connection.close()
                    return
                if kind == "hang":
                    time.sleep(HANG_SECONDS)
                    self.close_connection = True
                    return
                if kind != "off":
                    return self._send(*_error(kind, action))
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                out = {k: v for k, v in resp.getheaders()
                       if k.lower() not in ("transfer-encoding", "connection", "content-length", "keep-alive")}
                conn.close()
                self._send(resp.status, out, data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def draw(self, config: dict, action: str, body: bytes) -> float:
        """A number in [0, 1) for this request: the same for the same seed,
        request and occurrence, whatever order concurrent requests arrive in
        (call with the lock held)."""
        key = action.encode() + b"\0" + body
        n = self.seen.get(key, 0)
        self.seen[key] = n + 1
        digest = hashlib.sha256(f"{config.get('seed', 0)}:{n}:".encode() + key).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FaultProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
