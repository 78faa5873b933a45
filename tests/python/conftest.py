"""Fixtures that start the built binaries the way a user would: the host emulator in front of
the handler (model A, both encodings), and `handler serve` (self-hosted). The binaries come
from target/debug (scripts/test builds them first; HANDLER_BIN / EMULATOR_BIN override)."""
import os
import pathlib
import shutil
import socket
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
KEY = "py-e2e-key-3b7d9f1a"
HANDLER = pathlib.Path(os.environ.get("HANDLER_BIN", ROOT / "target/debug/handler"))
EMULATOR = pathlib.Path(os.environ.get("EMULATOR_BIN", ROOT / "target/debug/host-emulator"))


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lay_out_app(dest: pathlib.Path):
    subprocess.run([str(HANDLER), "functions", "--out", str(dest)], check=True, capture_output=True)
    shutil.copy(ROOT / "host.json", dest / "host.json")
    shutil.copy(ROOT / "local.settings.json", dest / "local.settings.json")
    (dest / "handler").symlink_to(HANDLER)


class Server:
    def __init__(self, url, headers, proc, name):
        self.url, self.headers, self.proc, self.name = url, headers, proc, name


def _start_emulator(tmp_path, encoding):
    app = tmp_path / "app"
    app.mkdir()
    lay_out_app(app)
    proc = subprocess.Popen(
        [str(EMULATOR), "--app-root", str(app), "--encoding", encoding, "--key", KEY,
         "--blob-dir", str(tmp_path / "blobs")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline().strip()
    assert line.startswith("MCP endpoint: "), f"emulator did not start: {line!r}"
    return Server(line.removeprefix("MCP endpoint: "), {"x-functions-key": KEY}, proc, f"functions-{encoding}")


def _start_self_hosted(tmp_path):
    port = _free_port()
    env = dict(os.environ, MCP_EXTENSION_KEY=KEY, SNIPPETS_DIR=str(tmp_path / "snippets"))
    env.pop("FUNCTIONS_CUSTOMHANDLER_PORT", None)
    proc = subprocess.Popen([str(HANDLER), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return Server(f"http://127.0.0.1:{port}/runtime/webhooks/mcp", {"x-functions-key": KEY}, proc, "self-hosted")


@pytest.fixture(params=["double", "single", "self-hosted"])
def server(request, tmp_path):
    if request.param == "self-hosted":
        srv = _start_self_hosted(tmp_path)
    else:
        srv = _start_emulator(tmp_path, request.param)
    yield srv
    srv.proc.terminate()
    try:
        srv.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
