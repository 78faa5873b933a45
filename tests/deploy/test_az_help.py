"""Every az subcommand and flag the scripts use exists in the pinned azure-cli (its --help runs
offline). Skipped when azure-cli is not installed (tests/deploy/run installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

AZ = Path(sys.executable).parent / "az"
if not AZ.exists() and shutil.which("az"):
    AZ = Path(shutil.which("az"))

pytestmark = pytest.mark.skipif(
    not AZ.exists(), reason="azure-cli is not installed in this venv (tests/deploy/run installs it)")

USED = [
    (["account", "show"], ["--only-show-errors", "--output"]),
    (["functionapp", "keys", "list"], ["--resource-group", "--name", "--query", "--output"]),
    (["rest"], ["--method", "--url", "--body", "--headers", "--query", "--output", "--only-show-errors"]),
]


@pytest.mark.parametrize("command,flags", USED, ids=[" ".join(c) for c, _ in USED])
def test_az_help(command, flags, tmp_path):
    env = dict(os.environ, AZURE_CONFIG_DIR=str(tmp_path), AZURE_CORE_COLLECT_TELEMETRY="false")
    r = subprocess.run([str(AZ), *command, "--help"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    for flag in flags:
        assert flag in r.stdout, f"az {' '.join(command)} has no {flag}"


def test_az_rest_substitutes_subscription_id(tmp_path):
    env = dict(os.environ, AZURE_CONFIG_DIR=str(tmp_path), AZURE_CORE_COLLECT_TELEMETRY="false")
    r = subprocess.run([str(AZ), "rest", "--help"], capture_output=True, text=True, env=env, timeout=120)
    # The scripts rely on az rest filling {subscriptionId} in --url.
    assert "{subscriptionId}" in r.stdout
