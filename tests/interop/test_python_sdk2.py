"""The official MCP Python SDK 2.x (`mcp.Client`) against `handler serve`: every built-in tool
listed and called, in each of the SDK's connection modes, on a server with a key (sent in the
`x-functions-key` header) and on one without (started without MCP_EXTENSION_KEY)."""
import json
import uuid

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.anyio

BUILTIN = {"hello_mcp", "get_snippet", "save_snippet"}
FIXTURES = {"test_simple_text", "test_error_handling", "json_schema_2020_12_tool"}
# "auto" probes server/discover and must land on the 2026-07-28 protocol; "legacy" forces the
# initialize handshake; a version string adopts that protocol without probing.
MODES = {"auto": "2026-07-28", "legacy": "2025-11-25", "2026-07-28": "2026-07-28"}


async def connect(endpoint, mode, fn, url=None, headers=None):
    headers = endpoint.headers if headers is None else headers
    async with create_mcp_http_client(headers=headers) as http:
        transport = streamable_http_client(url or endpoint.url, http_client=http)
        async with Client(transport, mode=mode) as client:
            return await fn(client)


def text(result):
    return result.content[0].text


@pytest.mark.parametrize("mode", MODES)
async def test_negotiates_and_lists_the_builtin_tools(endpoint, mode):
    async def go(client):
        return client.protocol_version, await client.list_tools()

    version, tools = await connect(endpoint, mode, go)
    assert version == MODES[mode]
    by_name = {t.name: t for t in tools.tools}
    assert BUILTIN <= set(by_name)
    save = by_name["save_snippet"]
    assert save.input_schema["required"] == ["snippetname", "snippet"]
    assert save.input_schema["properties"]["snippetname"]["maxLength"] == 64
    assert save.output_schema["properties"]["bytes"]["type"] == "integer"
    assert by_name["hello_mcp"].annotations.read_only_hint is True
    # The fixture tools exist only on the server started with --conformance-tools.
    assert bool(FIXTURES & set(by_name)) == (endpoint.name == "open")


@pytest.mark.parametrize("mode", MODES)
async def test_calls_every_builtin_tool(endpoint, mode):
    name = f"sdk2-{mode}-{uuid.uuid4().hex[:8]}"
    snippet = "héllo ✓ 🚀\nline two"

    async def go(client):
        hello = await client.call_tool("hello_mcp", {})
        saved = await client.call_tool("save_snippet", {"snippetname": name, "snippet": snippet})
        got = await client.call_tool("get_snippet", {"snippetname": name})
        missing = await client.call_tool("get_snippet", {"snippetname": f"{name}-never"})
        return hello, saved, got, missing

    hello, saved, got, missing = await connect(endpoint, mode, go)
    assert not hello.is_error and text(hello) == "Hello I am MCPTool!"
    assert not saved.is_error, text(saved)
    assert saved.structured_content == {"snippetname": name, "bytes": len(snippet.encode())}
    assert json.loads(text(saved)) == saved.structured_content
    assert not got.is_error and text(got) == snippet
    assert missing.is_error and f"No snippet named '{name}-never'" in text(missing)


@pytest.mark.parametrize("mode", MODES)
async def test_bad_calls_are_is_error_or_invalid_params(endpoint, mode):
    async def go(client):
        wrong_type = await client.call_tool("save_snippet", {"snippetname": 42, "snippet": "x"})
        errors = []
        for tool, args in [("no_such_tool", {}), ("save_snippet", {"snippetname": "x"})]:
            with pytest.raises(MCPError) as caught:
                await client.call_tool(tool, args)
            errors.append(caught.value.error)
        return wrong_type, errors

    wrong_type, (unknown, missing) = await connect(endpoint, mode, go)
    assert wrong_type.is_error
    assert text(wrong_type) == "Invalid argument `snippetname`: expected a string, got an integer"
    assert unknown.code == -32602 and "no_such_tool" in unknown.message
    assert missing.code == -32602 and "snippet" in missing.message


async def test_the_key_may_be_sent_as_the_code_query_parameter(endpoints):
    keyed = endpoints["keyed"]
    url = f"{keyed.url}?code={keyed.key}"
    result = await connect(keyed, "auto", lambda c: c.call_tool("hello_mcp", {}), url=url, headers={})
    assert text(result) == "Hello I am MCPTool!"


@pytest.mark.parametrize("headers", [{}, {"x-functions-key": "wrong"}], ids=["no-key", "wrong-key"])
async def test_the_keyed_server_answers_401_without_its_key(endpoints, headers):
    keyed = endpoints["keyed"]
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    async with httpx2.AsyncClient() as http:
        response = await http.post(keyed.url, json=body, headers={
            **headers, "accept": "application/json, text/event-stream"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    # And the SDK surfaces it as an MCP error rather than hanging or succeeding.
    with pytest.raises(Exception) as caught:
        await connect(keyed, "auto", lambda c: c.list_tools(), headers=headers)
    assert any(isinstance(e, MCPError) for e in leaves(caught.value)), repr(caught.value)


def leaves(error):
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from leaves(inner)
    else:
        yield error


async def test_the_open_server_needs_no_key(endpoints):
    result = await connect(endpoints["open"], "auto", lambda c: c.call_tool("hello_mcp", {}), headers={})
    assert text(result) == "Hello I am MCPTool!"
