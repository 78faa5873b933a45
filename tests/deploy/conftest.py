"""Shared fixtures for the deploy checks: repo paths, parsed Bicep, and an environment whose
PATH starts with the fake az/curl/azd in fakes/."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FAKES = Path(__file__).resolve().parent / "fakes"
SCRIPTS = ["package", "get-mcp-key", "register-api-center", "connect-foundry", "smoke-remote"]
FAKE_KEY = "fAkEkEy-0123456789abcdefABCDEF_-=="


@pytest.fixture(scope="session")
def bicep():
    """Parsed tree of every .bicep file under infra/, keyed by path relative to infra/."""
    from pycep import BicepParser

    parser = BicepParser()
    return {
        str(p.relative_to(REPO / "infra")): parser.parse(file_path=p)
        for p in sorted((REPO / "infra").rglob("*.bicep"))
    }


class Fakes:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.az_log = tmp / "az.log"
        self.curl_log = tmp / "curl.log"
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AZD_", "FAKE_"))
        }
        self.env.update(
            PATH=f"{FAKES}{os.pathsep}{os.environ['PATH']}",
            FAKE_AZ_LOG=str(self.az_log),
            FAKE_CURL_LOG=str(self.curl_log),
            FAKE_AZ_MCP_KEY=FAKE_KEY,
            TMPDIR=str(tmp),
        )

    def run(self, script: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
        env = dict(self.env, **extra_env)
        return subprocess.run(
            ["bash", str(REPO / "scripts" / script), *args],
            cwd=self.tmp, env=env, capture_output=True, text=True, timeout=60,
        )

    def az_calls(self) -> list[dict]:
        if not self.az_log.exists():
            return []
        return [json.loads(line) for line in self.az_log.read_text().splitlines()]

    def curl_calls(self) -> list[dict]:
        if not self.curl_log.exists():
            return []
        return [json.loads(line) for line in self.curl_log.read_text().splitlines()]

    def reset(self) -> None:
        for p in (self.az_log, self.curl_log, Path(str(self.az_log) + ".keyreads")):
            p.unlink(missing_ok=True)


@pytest.fixture
def fakes(tmp_path):
    return Fakes(tmp_path)


@pytest.fixture
def functions_dir(tmp_path):
    """Function folders as `handler functions --out` writes them (contract §3)."""
    def tool(name, meta):
        d = tmp_path / "fx" / name
        d.mkdir(parents=True)
        binding = {"type": "mcpToolTrigger", "direction": "in", "name": "context",
                   "toolName": name, "description": name, "toolProperties": "[]"}
        if meta is not None:
            binding["metadata"] = json.dumps(meta)
        (d / "function.json").write_text(json.dumps({"bindings": [binding]}))

    tool("hello_mcp", {"annotations": {"readOnlyHint": True}})
    tool("delete_snippet", {"annotations": {"destructiveHint": True, "readOnlyHint": False}})
    tool("save_snippet", {"readOnlyHint": False, "destructiveHint": False})
    tool("unannotated", None)
    return tmp_path / "fx"
