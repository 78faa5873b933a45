"""Endpoints for the interop tests: the two `handler serve` processes tests/interop/run starts
(INTEROP_KEYED_URL + INTEROP_KEY: a server with MCP_EXTENSION_KEY set; INTEROP_OPEN_URL: a
server without a key, with --conformance-tools). Run on its own (`pytest tests/interop`), the
fixtures start the two servers themselves from target/debug/handler (HANDLER_BIN overrides)."""
import os
import pathlib
import socket
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HANDLER = pathlib.Path(os.environ.get("HANDLER_BIN", ROOT / "target/debug/handler"))


class Endpoint:
    def __init__(self, name, url, key):
        self.name, self.url, self.key = name, url, key

    @property
    def headers(self):
        return {"x-functions-key": self.key} if self.key else {}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp, key, extra_args):
    port = _free_port()
    env = dict(os.environ, SNIPPETS_DIR=str(tmp / f"snippets-{port}"))
    env.pop("FUNCTIONS_CUSTOMHANDLER_PORT", None)
    env.pop("MCP_EXTENSION_KEY", None)
    if key:
        env["MCP_EXTENSION_KEY"] = key
    proc = subprocess.Popen([str(HANDLER), "serve", "--port", str(port), *extra_args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port}/runtime/webhooks/mcp"


@pytest.fixture(scope="session")
def endpoints(tmp_path_factory):
    if os.environ.get("INTEROP_KEYED_URL") and os.environ.get("INTEROP_OPEN_URL"):
        yield {
            "keyed": Endpoint("keyed", os.environ["INTEROP_KEYED_URL"], os.environ["INTEROP_KEY"]),
            "open": Endpoint("open", os.environ["INTEROP_OPEN_URL"], None),
        }
        return
    tmp = tmp_path_factory.mktemp("interop")
    key = "interop-key-5c1e0a7d"
    keyed, keyed_url = _start(tmp, key, [])
    opened, open_url = _start(tmp, None, ["--conformance-tools"])
    try:
        yield {"keyed": Endpoint("keyed", keyed_url, key), "open": Endpoint("open", open_url, None)}
    finally:
        for proc in (keyed, opened):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(params=["keyed", "open"])
def endpoint(request, endpoints):
    return endpoints[request.param]


@pytest.fixture
def anyio_backend():
    return "asyncio"
