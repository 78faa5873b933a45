"""scripts/package on Linux: a real musl build and the staged folder's contents. Needs the
handler's `functions` subcommand and cargo; skipped with the reason when either is missing."""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
import stat
import subprocess

import pytest

from conftest import REPO


def _cannot_package() -> str | None:
    # Packaging is a native and a musl release build (minutes on a cold cache): allow skipping
    # it for quick local runs. A build that fails must fail the test, never skip it.
    if os.environ.get("DEPLOY_SKIP_PACKAGE") == "1":
        return "DEPLOY_SKIP_PACKAGE=1"
    if shutil.which("cargo") is None:
        return "cargo is not installed"
    return None


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    reason = _cannot_package()
    if reason:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("stage") / "app"
    r = subprocess.run(["bash", str(REPO / "scripts/package"), "--out", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stderr[-4000:]
    return out


def test_handler_is_static_and_executable(staged):
    handler = staged / "handler"
    assert handler.stat().st_mode & stat.S_IXUSR
    described = subprocess.run(["file", "-b", str(handler)], capture_output=True, text=True).stdout
    assert "ELF 64-bit" in described and "x86-64" in described
    assert "statically linked" in described or "static-pie linked" in described, described
    ldd = subprocess.run(["ldd", str(handler)], capture_output=True, text=True)
    assert "not a dynamic executable" in ldd.stdout + ldd.stderr or "statically linked" in ldd.stdout + ldd.stderr


def test_staged_folder_has_exactly_the_app(staged):
    assert (staged / "host.json").read_bytes() == (REPO / "host.json").read_bytes()
    folders = [p for p in staged.iterdir() if p.is_dir()]
    assert folders, "no function folders"
    for folder in folders:
        assert [p.name for p in folder.iterdir()] == ["function.json"], folder
    files = sorted(p.name for p in staged.iterdir() if p.is_file())
    assert files == ["handler", "host.json"]


def test_musl_only_prints_the_binary_path(staged):
    r = subprocess.run(["bash", str(REPO / "scripts/package"), "--musl-only"],
                       cwd=REPO, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stderr[-2000:]
    path = r.stdout.strip().splitlines()[-1]
    assert path.endswith("target/x86_64-unknown-linux-musl/release/handler")
    assert (REPO / path).exists() or __import__("pathlib").Path(path).exists()


def _rpc(url: str, key: str, message: dict) -> dict:
    """One JSON-RPC request as an MCP client sends it; the host answers JSON or one SSE event."""
    request = urllib.request.Request(
        url,
        data=json.dumps(message).encode(),
        headers={"content-type": "application/json", "accept": "application/json, text/event-stream",
                 "x-functions-key": key, "mcp-protocol-version": "2025-06-18"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read().decode()
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        body = next(line[5:].strip() for line in body.splitlines() if line.startswith("data:"))
    return json.loads(body)


def test_what_we_deploy_serves_tool_calls_under_the_host_emulator(staged, tmp_path):
    """The staged folder exactly as azd would zip it, started by the emulator of the Functions
    host: the static binary answers a tool call and round-trips a snippet through the blob
    bindings."""
    emulator = REPO / "target/debug/host-emulator"
    if not emulator.exists():
        subprocess.run(["cargo", "build", "--quiet", "-p", "host_emulator"], cwd=REPO, check=True, timeout=1800)
    key = "deploy-check-key"
    proc = subprocess.Popen([str(emulator), "--app-root", str(staged), "--key", key,
                             "--blob-dir", str(tmp_path / "blobs")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("MCP endpoint: "), line
        url = line.removeprefix("MCP endpoint: ")
        init = _rpc(url, key, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "deploy-check", "version": "1"}}})
        assert init["result"]["serverInfo"]["name"] == "rust-mcp-functions"
        call = lambda i, name, args: _rpc(url, key, {"jsonrpc": "2.0", "id": i, "method": "tools/call",
                                                     "params": {"name": name, "arguments": args}})["result"]
        hello = call(2, "hello_mcp", {})
        assert hello["content"][0]["text"] == "Hello I am MCPTool!"
        saved = call(3, "save_snippet", {"snippetname": "deployed", "snippet": "good text"})
        assert saved.get("isError") is not True, saved
        got = call(4, "get_snippet", {"snippetname": "deployed"})
        assert got["content"][0]["text"] == "good text"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
