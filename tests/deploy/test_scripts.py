"""The deploy scripts against fake az/curl/azd (tests/deploy/fakes): URLs, bodies, idempotence,
secret handling, --dry-run, --help and prerequisite messages."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import FAKE_KEY, REPO, SCRIPTS

APP = ["-g", "rg-dev", "-n", "func-mcp-abc"]
APIC = ["--apic", "apic-org", "--apic-resource-group", "rg-apic"]
FOUNDRY = ["--account", "ai-org", "--project", "proj1", "--account-resource-group", "rg-ai"]
SUB = "/subscriptions/{subscriptionId}"


def no_key(result):
    assert FAKE_KEY not in result.stdout
    assert FAKE_KEY not in result.stderr


def puts(calls):
    return [c for c in calls if c["argv"][:3] == ["rest", "--method", "put"]]


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(fakes, script):
    r = fakes.run(script, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Usage: scripts/" + script)
    assert "--dry-run" in r.stdout
    assert fakes.az_calls() == []


@pytest.mark.parametrize("script", SCRIPTS)
def test_unknown_argument_is_refused(fakes, script):
    r = fakes.run(script, "--no-such-flag")
    assert r.returncode != 0 and "unknown argument" in r.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_bash_syntax(script):
    subprocess.run(["bash", "-n", str(REPO / "scripts" / script)], check=True)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed (apt-get install shellcheck)")
def test_shellcheck():
    files = [str(REPO / "scripts" / s) for s in SCRIPTS] + [str(p) for p in (REPO / "scripts/lib").glob("*.sh")]
    r = subprocess.run(["shellcheck", "-x", *files], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_powershell_twins_are_marked_untested():
    for s in SCRIPTS:
        text = (REPO / "scripts" / f"{s}.ps1").read_text()
        assert text.startswith("# UNTESTED"), s


# --- prerequisites -------------------------------------------------------------------------

def test_not_logged_in_gives_clear_message(fakes):
    r = fakes.run("get-mcp-key", *APP, FAKE_AZ_LOGGED_IN="0")
    assert r.returncode == 1
    assert "not logged in" in r.stderr and "az login" in r.stderr


def test_missing_az_gives_clear_message(fakes, tmp_path):
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("bash", "dirname", "basename", "mktemp", "chmod", "rm", "cat", "grep", "tail", "tr"):
        src = shutil.which(tool)
        if src:
            (bare / tool).symlink_to(src)
    r = fakes.run("get-mcp-key", *APP, PATH=str(bare))
    assert r.returncode == 1
    assert "'az' is not on PATH" in r.stderr


def test_app_comes_from_azd_env_when_flags_are_absent(fakes):
    values = 'AZURE_RESOURCE_GROUP="rg-from-azd"\nAZURE_FUNCTION_APP_NAME="func-from-azd"\n'
    r = fakes.run("get-mcp-key", FAKE_AZD_VALUES=values)
    assert r.returncode == 0, r.stderr
    keys = [c for c in fakes.az_calls() if c["argv"][:3] == ["functionapp", "keys", "list"]]
    assert keys[0]["argv"] == ["functionapp", "keys", "list", "-g", "rg-from-azd", "-n", "func-from-azd",
                               "--query", "systemKeys.mcp_extension", "-o", "tsv"]


def test_no_app_gives_clear_message(fakes):
    r = fakes.run("get-mcp-key")
    assert r.returncode == 1 and "--resource-group" in r.stderr


# --- get-mcp-key ---------------------------------------------------------------------------

def test_get_mcp_key_never_prints_key_by_default(fakes):
    r = fakes.run("get-mcp-key", *APP)
    assert r.returncode == 0, r.stderr
    no_key(r)
    assert "--show-key" in r.stderr


def test_get_mcp_key_show_key(fakes):
    r = fakes.run("get-mcp-key", *APP, "--show-key")
    assert r.returncode == 0
    assert r.stdout.strip() == FAKE_KEY


def test_get_mcp_key_out_file_is_private(fakes, tmp_path):
    out = tmp_path / "key.txt"
    r = fakes.run("get-mcp-key", *APP, "--out", str(out))
    assert r.returncode == 0, r.stderr
    no_key(r)
    assert out.read_text() == FAKE_KEY
    assert out.stat().st_mode & 0o077 == 0


def test_get_mcp_key_warms_up_and_retries(fakes):
    r = fakes.run("get-mcp-key", *APP, "--retry-delay", "0", FAKE_AZ_KEY_AFTER="2")
    assert r.returncode == 0, r.stderr
    reads = [c for c in fakes.az_calls() if c["argv"][:2] == ["functionapp", "keys"]]
    assert len(reads) == 3
    warmups = [c["argv"][-1] for c in fakes.curl_calls()]
    assert "https://func-mcp-abc.azurewebsites.net/" in warmups


def test_get_mcp_key_gives_up_after_bounded_attempts(fakes):
    r = fakes.run("get-mcp-key", *APP, "--attempts", "2", "--retry-delay", "0", FAKE_AZ_KEY_AFTER="99")
    assert r.returncode == 1
    assert "after 2 attempts" in r.stderr


def test_get_mcp_key_dry_run(fakes):
    r = fakes.run("get-mcp-key", *APP, "--dry-run", "--show-key")
    assert r.returncode == 0
    assert fakes.az_calls() == [] and fakes.curl_calls() == []
    assert "az functionapp keys list -g rg-dev -n func-mcp-abc --query systemKeys.mcp_extension -o tsv" in r.stderr
    assert "<redacted>" in r.stdout
    no_key(r)


# --- register-api-center -------------------------------------------------------------------

def test_register_api_center_puts(fakes):
    r = fakes.run("register-api-center", *APIC, *APP)
    assert r.returncode == 0, r.stderr
    no_key(r)
    calls = puts(fakes.az_calls())
    ws = f"{SUB}/resourceGroups/rg-apic/providers/Microsoft.ApiCenter/services/apic-org/workspaces/default"
    urls = [c["argv"][c["argv"].index("--url") + 1].split("?")[0] for c in calls]
    assert urls == [
        f"{ws}/environments/production",
        f"{ws}/apis/func-mcp-abc",
        f"{ws}/apis/func-mcp-abc/versions/v1",
        f"{ws}/apis/func-mcp-abc/deployments/production",
        f"{ws}/authConfigs/func-mcp-abc-key",
    ]
    bodies = [c["body"] for c in calls]
    assert bodies[1]["properties"]["kind"] == "mcp"
    assert bodies[3]["properties"]["server"]["runtimeUri"] == [
        "https://func-mcp-abc.azurewebsites.net/runtime/webhooks/mcp"]
    assert bodies[3]["properties"]["environmentId"] == "/workspaces/default/environments/production"
    assert bodies[4]["properties"]["apiKey"] == {"name": "x-functions-key", "in": "header"}
    # The key is never sent to API Center, so it is never even read.
    assert not any(c["argv"][:2] == ["functionapp", "keys"] for c in fakes.az_calls())


def test_register_api_center_is_idempotent(fakes):
    fakes.run("register-api-center", *APIC, *APP)
    first = [(c["argv"], c["body"]) for c in puts(fakes.az_calls())]
    fakes.reset()
    fakes.run("register-api-center", *APIC, *APP)
    second = [(c["argv"], c["body"]) for c in puts(fakes.az_calls())]
    strip = lambda calls: [([a if not a.startswith("@") else "@" for a in argv], body) for argv, body in calls]
    assert strip(first) == strip(second) and len(first) == 5


def test_register_api_center_dry_run(fakes):
    r = fakes.run("register-api-center", *APIC, *APP, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert fakes.az_calls() == []
    assert r.stdout.count("+ az rest --method put") == 5
    assert '"kind": "mcp"' in r.stdout


def test_register_api_center_requires_apic(fakes):
    r = fakes.run("register-api-center", *APP)
    assert r.returncode == 1 and "--apic" in r.stderr


# --- connect-foundry -----------------------------------------------------------------------

def test_connect_foundry_puts_connection_and_prints_tool(fakes, functions_dir):
    r = fakes.run("connect-foundry", *FOUNDRY, *APP, "--functions-dir", str(functions_dir))
    assert r.returncode == 0, r.stderr
    no_key(r)
    (call,) = puts(fakes.az_calls())
    url = call["argv"][call["argv"].index("--url") + 1]
    path = (f"{SUB}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/ai-org/"
            "projects/proj1/connections/mcp-func-mcp-abc")
    assert url.split("?")[0] == path
    props = call["body"]["properties"]
    assert props["category"] == "CustomKeys" and props["authType"] == "CustomKeys"
    assert props["credentials"] == {"keys": {"x-functions-key": FAKE_KEY}}
    assert props["target"] == "https://func-mcp-abc.azurewebsites.net/runtime/webhooks/mcp"
    # The key reached az only inside the @file body, never as an argument.
    assert not any(FAKE_KEY in a for c in fakes.az_calls() for a in c["argv"])

    tool = json.loads(r.stdout)
    assert tool["type"] == "mcp"
    assert tool["server_url"] == props["target"]
    assert tool["server_label"] == "func_mcp_abc"
    assert tool["project_connection_id"].endswith("/connections/mcp-func-mcp-abc")
    assert tool["allowed_tools"] == ["delete_snippet", "hello_mcp", "save_snippet", "unannotated"]
    assert tool["require_approval"] == {
        "always": {"tool_names": ["delete_snippet", "unannotated"]},
        "never": {"tool_names": ["hello_mcp", "save_snippet"]},
    }


def test_connect_foundry_allowed_tools_subset(fakes, functions_dir):
    r = fakes.run("connect-foundry", *FOUNDRY, *APP, "--functions-dir", str(functions_dir),
                  "--allowed-tools", "hello_mcp")
    assert r.returncode == 0, r.stderr
    tool = json.loads(r.stdout)
    assert tool["allowed_tools"] == ["hello_mcp"] and tool["require_approval"] == "never"


def test_connect_foundry_is_idempotent(fakes, functions_dir):
    fakes.run("connect-foundry", *FOUNDRY, *APP, "--functions-dir", str(functions_dir))
    first = [(c["argv"][:6], c["body"]) for c in puts(fakes.az_calls())]
    fakes.reset()
    fakes.run("connect-foundry", *FOUNDRY, *APP, "--functions-dir", str(functions_dir))
    second = [(c["argv"][:6], c["body"]) for c in puts(fakes.az_calls())]
    assert first == second and len(first) == 1


def test_connect_foundry_dry_run_redacts(fakes, functions_dir):
    r = fakes.run("connect-foundry", *FOUNDRY, *APP, "--functions-dir", str(functions_dir), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert fakes.az_calls() == []
    assert '"x-functions-key": "<redacted>"' in r.stdout
    no_key(r)


def test_connect_foundry_show_key(fakes, functions_dir):
    r = fakes.run("connect-foundry", *FOUNDRY, *APP, "--functions-dir", str(functions_dir), "--show-key")
    assert r.returncode == 0
    assert FAKE_KEY in r.stderr and FAKE_KEY not in r.stdout


# --- smoke-remote --------------------------------------------------------------------------

def test_smoke_remote(fakes):
    r = fakes.run("smoke-remote", *APP)
    assert r.returncode == 0, r.stderr
    no_key(r)
    assert "tools (1): hello_mcp" in r.stdout
    assert "hello_mcp -> Hello from fake" in r.stdout
    mcp = [c for c in fakes.curl_calls() if c["body"]]
    assert [c["body"]["method"] for c in mcp] == ["initialize", "tools/list", "tools/call"]
    for c in mcp:
        assert c["argv"][c["argv"].index("-X") + 2] == "https://func-mcp-abc.azurewebsites.net/runtime/webhooks/mcp"
        assert FAKE_KEY not in " ".join(c["argv"])
        assert f'header = "x-functions-key: {FAKE_KEY}"' in c["stdin"]
        assert "application/json, text/event-stream" in c["stdin"]
    assert mcp[2]["body"]["params"] == {"name": "hello_mcp", "arguments": {}}


def test_smoke_remote_local_without_key(fakes):
    r = fakes.run("smoke-remote", "--no-key", "--url", "http://localhost:7071/runtime/webhooks/mcp")
    assert r.returncode == 0, r.stderr
    assert fakes.az_calls() == []
    assert all("x-functions-key" not in c["stdin"] for c in fakes.curl_calls())


def test_smoke_remote_401_explains(fakes):
    r = fakes.run("smoke-remote", *APP, FAKE_CURL_STATUS="401")
    assert r.returncode != 0
    assert "mcp_extension" in r.stderr
    no_key(r)


def test_smoke_remote_tool_error_fails(fakes):
    r = fakes.run("smoke-remote", *APP, FAKE_CURL_TOOL_ERROR="1")
    assert r.returncode != 0 and "isError" in r.stderr


def test_smoke_remote_dry_run(fakes):
    r = fakes.run("smoke-remote", *APP, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert fakes.az_calls() == [] and fakes.curl_calls() == []
    assert "x-functions-key: <redacted>" in r.stdout
    assert '"method":"tools/call"' in r.stdout
    no_key(r)


# --- package (fast parts; the real build is in test_package.py) ------------------------------

def test_package_azd_hook_requires_alpha_feature(fakes):
    r = fakes.run("package", "--azd-hook", "--dry-run")
    assert r.returncode == 1
    assert "azd config set alpha.language.custom on" in r.stderr


@pytest.mark.parametrize("env", [{"FAKE_AZD_ALPHA": "on"}, {"AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM": "on"}])
def test_package_azd_hook_passes_when_alpha_is_on(fakes, env):
    r = fakes.run("package", "--azd-hook", "--dry-run", **env)
    assert r.returncode == 0, r.stderr
    assert "cargo zigbuild --release --target x86_64-unknown-linux-musl --bin handler" in r.stdout
    assert "functions --out" in r.stdout
