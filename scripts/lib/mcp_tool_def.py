"""Builds the Foundry agent's MCP tool definition from the generated function folders.

Usage: mcp_tool_def.py FUNCTIONS_DIR SERVER_URL SERVER_LABEL CONNECTION_ID [ALLOWED_TOOLS_CSV]

Each <function>/function.json holds one mcpToolTrigger binding; its `metadata` (a JSON string,
contract §3) becomes the tool's _meta and carries the MCP annotations, either at its root or
under "annotations". Annotations follow the MCP spec defaults: a tool is destructive unless it
says readOnlyHint: true or destructiveHint: false, so an unannotated tool needs approval.
Stdlib only: it runs from the deploy scripts with whatever python3 the developer has.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _annotations(binding: dict) -> dict:
    meta = binding.get("metadata")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta) if meta.strip() else {}
        except json.JSONDecodeError:
            meta = {}
    if not isinstance(meta, dict):
        return {}
    nested = meta.get("annotations")
    return nested if isinstance(nested, dict) else meta


def is_destructive(annotations: dict) -> bool:
    if annotations.get("readOnlyHint") is True:
        return False
    return annotations.get("destructiveHint", True) is not False


def read_tools(functions_dir: Path) -> list[dict]:
    tools = []
    for fj in sorted(functions_dir.glob("*/function.json")):
        doc = json.loads(fj.read_text(encoding="utf-8"))
        for binding in doc.get("bindings", []):
            if binding.get("type") == "mcpToolTrigger":
                name = binding.get("toolName") or fj.parent.name
                tools.append({"name": name, "destructive": is_destructive(_annotations(binding))})
    return tools


def require_approval(tools: list[dict]):
    always = [t["name"] for t in tools if t["destructive"]]
    never = [t["name"] for t in tools if not t["destructive"]]
    if not always:
        return "never"
    if not never:
        return "always"
    return {"always": {"tool_names": always}, "never": {"tool_names": never}}


def main(argv: list[str]) -> int:
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    functions_dir, url, label, connection_id = Path(argv[1]), argv[2], argv[3], argv[4]
    tools = read_tools(functions_dir)
    if not tools:
        print(f"no mcpToolTrigger found under {functions_dir}/*/function.json", file=sys.stderr)
        return 1
    if len(argv) > 5 and argv[5].strip():
        wanted = [t.strip() for t in argv[5].split(",") if t.strip()]
        known = {t["name"] for t in tools}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            print(f"unknown tool(s) in --allowed-tools: {', '.join(unknown)}", file=sys.stderr)
            return 1
        tools = [t for t in tools if t["name"] in wanted]
    definition = {
        "type": "mcp",
        "server_label": label,
        "server_url": url,
        "project_connection_id": connection_id,
        "allowed_tools": [t["name"] for t in tools],
        "require_approval": require_approval(tools),
    }
    print(json.dumps(definition, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
