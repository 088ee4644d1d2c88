"""A real MCP client for the end-to-end tests of `ecs-doctor mcp` (tests/mcp.rs).

    python tests/mcp_client.py ECS_DOCTOR_BINARY PLAN_JSON

Starts `ECS_DOCTOR_BINARY mcp <plan.server_args>` through the official Python SDK
(PyPI `mcp`) with this process's environment (the test's AWS settings), lists the
tools, then makes each call of the plan in the same session, in order. Prints one
JSON object on stdout:

    {"server": {...}, "tools": [<each tool as listed, wire names>],
     "results": [{"ok": true, "is_error": false, "structured": {...}, "text": ["..."]}
                 | {"ok": false, "kind": "MCPError", "code": -32602, "message": "..."}]}

A call that raises is recorded (the MCP error's code and message, or the exception's
kind and text, such as a structured result the client's own check of the tool's
output schema refused), and the session goes on to the next call.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from mcp import Client, MCPError, StdioServerParameters, stdio_client


def dump(model) -> object:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def main(binary: str, plan: dict) -> dict:
    server = StdioServerParameters(
        command=binary,
        args=["mcp", *plan.get("server_args", [])],
        env=dict(os.environ),
    )
    out: dict = {"results": []}
    async with Client(stdio_client(server, errlog=sys.stderr)) as client:
        out["server"] = dump(client.server_info) if client.server_info else None
        out["tools"] = [dump(t) for t in (await client.list_tools()).tools]
        for call in plan.get("calls", []):
            try:
                result = await client.call_tool(call["tool"], call.get("arguments"))
            except MCPError as e:
                out["results"].append({"ok": False, "kind": "MCPError", "code": e.code, "message": e.message})
                continue
            except Exception as e:  # noqa: BLE001 - the test reads what went wrong
                out["results"].append({"ok": False, "kind": type(e).__name__, "message": str(e)})
                continue
            out["results"].append({
                "ok": True,
                "is_error": bool(result.is_error),
                "structured": result.structured_content,
                "text": [b.text for b in result.content if getattr(b, "type", None) == "text"],
            })
    return out


if __name__ == "__main__":
    with open(sys.argv[2], encoding="utf-8") as f:
        plan = json.load(f)
    print(json.dumps(asyncio.run(main(sys.argv[1], plan))))
