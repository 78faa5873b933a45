"""The VS Code MCP client configuration (local and remote entries, key prompted as a password)."""

import json

from conftest import REPO


def test_mcp_json_entries():
    doc = json.loads((REPO / ".vscode/mcp.json").read_text())
    local = doc["servers"]["local-mcp-function"]
    remote = doc["servers"]["remote-mcp-function"]
    assert local == {"type": "http", "url": "http://localhost:7071/runtime/webhooks/mcp"}
    assert remote["type"] == "http"
    assert remote["url"] == "https://${input:functionapp-name}.azurewebsites.net/runtime/webhooks/mcp"
    assert remote["headers"] == {"x-functions-key": "${input:functions-mcp-extension-system-key}"}
    inputs = {i["id"]: i for i in doc["inputs"]}
    assert inputs["functions-mcp-extension-system-key"]["password"] is True
    assert inputs["functionapp-name"]["type"] == "promptString"
