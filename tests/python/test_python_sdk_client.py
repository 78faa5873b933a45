"""The official MCP Python SDK (1.x) against both front doors: the handler behind the host
emulator under double and single encoding, and `handler serve`."""
import json

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError

pytestmark = pytest.mark.anyio



async def run(server, fn):
    async with streamablehttp_client(server.url, headers=server.headers) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await fn(session)


def text(result):
    return result.content[0].text


async def test_lists_the_tools_with_full_schemas(server):
    tools = await run(server, lambda s: s.list_tools())
    by_name = {t.name: t for t in tools.tools}
    assert {"hello_mcp", "get_snippet", "save_snippet"} <= set(by_name)
    save = by_name["save_snippet"].inputSchema
    assert save["type"] == "object"
    assert save["required"] == ["snippetname", "snippet"]
    assert save["properties"]["snippetname"]["maxLength"] == 64
    assert by_name["save_snippet"].outputSchema["properties"]["bytes"]["type"] == "integer"
    assert by_name["hello_mcp"].inputSchema["required"] == []


async def test_hello(server):
    result = await run(server, lambda s: s.call_tool("hello_mcp", {}))
    assert not result.isError
    assert text(result) == "Hello I am MCPTool!"


@pytest.mark.parametrize("snippet", ["good text", "abcd", '{"a": 1}', "héllo ✓ 🚀\nline two"])
async def test_snippets_round_trip_exactly(server, snippet):
    async def go(s):
        saved = await s.call_tool("save_snippet", {"snippetname": "py-rt", "snippet": snippet})
        got = await s.call_tool("get_snippet", {"snippetname": "py-rt"})
        return saved, got

    saved, got = await run(server, go)
    assert not saved.isError, text(saved)
    assert saved.structuredContent == {"snippetname": "py-rt", "bytes": len(snippet.encode())}
    assert json.loads(text(saved)) == saved.structuredContent
    assert not got.isError
    assert text(got) == snippet


async def test_wrong_type_is_a_readable_is_error(server):
    result = await run(server, lambda s: s.call_tool("save_snippet", {"snippetname": 42, "snippet": "x"}))
    assert result.isError
    assert text(result) == "Invalid argument `snippetname`: expected a string, got an integer"


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "a/b", "..", "%2e%2e"])
async def test_path_tricks_are_a_readable_is_error(server, name):
    result = await run(server, lambda s: s.call_tool("get_snippet", {"snippetname": name}))
    assert result.isError
    assert text(result).startswith("Invalid argument `snippetname`: must match the pattern")


async def test_a_missing_snippet_is_a_readable_is_error(server):
    result = await run(server, lambda s: s.call_tool("get_snippet", {"snippetname": "never-saved"}))
    assert result.isError
    assert "No snippet named 'never-saved'" in text(result)


async def protocol_error(server, tool, arguments):
    async def go(s):
        try:
            await s.call_tool(tool, arguments)
        except McpError as e:
            return e.error
        return None

    return await run(server, go)


async def test_missing_required_is_invalid_params(server):
    error = await protocol_error(server, "save_snippet", {"snippetname": "x"})
    assert error is not None and error.code == -32602


async def test_unknown_tool_is_invalid_params(server):
    error = await protocol_error(server, "no_such_tool", {})
    assert error is not None and error.code == -32602
