"""The OpenAPI-generated orders tools end to end: the official Python SDK → host emulator →
handler → Prism mocking mcp_tools/apis/orders/openapi.yaml in validation mode. Prism answers
422 to any request that breaks the spec, so the OpenAPI → tool mapping cannot agree with its
own mistakes: method, path, query, headers, body and the API key all have to be right."""
import os
import pathlib
import socket
import subprocess
import time

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

from conftest import EMULATOR, KEY, ROOT, lay_out_app

pytestmark = pytest.mark.anyio

PRISM = pathlib.Path(os.environ.get("PRISM_BIN", ROOT / ".tools/prism/node_modules/.bin/prism"))
SPEC = ROOT / "mcp_tools/apis/orders/openapi.yaml"
ADDRESS = {"name": "Ada", "line1": "Main St 1", "city": "Berlin", "postalCode": "10115", "country": "DE"}
CALLS = [
    ("list_orders", {"status": "placed", "pageSize": 5}),
    ("get_order", {"orderId": "ORD-2024-000123"}),
    ("create_order", {"Idempotency-Key": "k-1", "body": {
        "customerId": "C-1", "lines": [{"sku": "CHAIR-OAK-01", "quantity": 2}],
        "shippingAddress": ADDRESS, "paymentToken": "tok"}}),
    ("cancel_order", {"orderId": "ORD-2024-000123", "body": {"reason": "other", "comment": None}}),
    ("delete_draft_order", {"orderId": "ORD-2024-000123"}),
    ("get_shipping_label", {"orderId": "ORD-2024-000123"}),
    ("get_stock_level", {"sku": "CHAIR-OAK-01"}),
    ("set_stock_level", {"sku": "CHAIR-OAK-01", "X-Request-Id": "6f1c1f0e-1d2b-4c1a-9f00-000000000001",
                         "body": {"warehouseId": "WH-BER1", "available": 3}}),
    ("list_warehouses", {}),
    ("get_category", {"categoryId": "chairs", "depth": 2}),
    ("get_order_with_stock", {"orderId": "ORD-2024-000123"}),
]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def prism(tmp_path):
    if not PRISM.exists():
        pytest.fail(f"Prism is not installed at {PRISM} (scripts/test installs it)")
    port = _free_port()
    log = open(tmp_path / "prism.log", "w")
    proc = subprocess.Popen([str(PRISM), "mock", "--errors", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert proc.poll() is None, (tmp_path / "prism.log").read_text()
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}", tmp_path / "prism.log"
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture
def emulator_with_orders_api(tmp_path, prism):
    base_url, _ = prism
    app = tmp_path / "app"
    app.mkdir()
    lay_out_app(app)
    env = {
        "DOWNSTREAM__ORDERS__BASE_URL": base_url,
        "DOWNSTREAM__ORDERS__AUTH": "api_key",
        "DOWNSTREAM__ORDERS__API_KEY": "local-dev-key",
        "DOWNSTREAM__ORDERS__API_KEY_HEADER": "Ocp-Apim-Subscription-Key",
    }
    args = [str(EMULATOR), "--app-root", str(app), "--key", KEY]
    for k, v in env.items():
        args += ["--env", f"{k}={v}"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    assert line.startswith("MCP endpoint: "), line
    yield line.removeprefix("MCP endpoint: ")
    proc.terminate()
    proc.wait(timeout=10)


async def test_every_orders_tool_passes_prism_validation(emulator_with_orders_api, prism):
    _, prism_log = prism
    results = {}
    async with streamablehttp_client(emulator_with_orders_api, headers={"x-functions-key": KEY}) as (r, w, _):
        async with ClientSession(r, w) as session:
            await session.initialize()
            listed = {t.name for t in (await session.list_tools()).tools}
            assert {name for name, _ in CALLS} <= listed
            for name, args in CALLS:
                results[name] = await session.call_tool(name, args)
    failed = {n: r.content[0].text if r.content and r.content[0].type == "text" else r.content
              for n, r in results.items() if r.isError}
    assert not failed, f"tools failed against Prism:\n{failed}\n\nPrism log:\n{prism_log.read_text()[-4000:]}"
    assert results["get_stock_level"].structuredContent["sku"]
    assert results["get_shipping_label"].content[0].type == "image"
    log = prism_log.read_text()
    assert "Request terminated with error" not in log and "violation" not in log.lower(), log[-4000:]
