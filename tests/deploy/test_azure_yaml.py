"""azure.yaml against the azd schema in ../shared/schemas, plus the project's own rules."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from conftest import REPO

SCHEMA = REPO.parent / "shared" / "schemas" / "azure.yaml.json"


@pytest.fixture(scope="module")
def azure_yaml():
    return yaml.safe_load((REPO / "azure.yaml").read_text())


@pytest.mark.skipif(not SCHEMA.exists(), reason=f"no azd schema at {SCHEMA}")
def test_azure_yaml_is_valid(azure_yaml):
    schema = json.loads(SCHEMA.read_text())
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    errors = sorted(validator_cls(schema).iter_errors(azure_yaml), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_one_custom_function_service_built_by_prepackage(azure_yaml):
    assert azure_yaml["infra"]["path"] == "infra"
    (name, svc), = azure_yaml["services"].items()
    assert name == "api"
    assert svc["host"] == "function"
    assert svc["language"] == "custom"
    assert svc["dist"] == ".dist/app"
    hook = svc["hooks"]["prepackage"]
    assert hook["posix"]["run"].split()[0] == "./scripts/package"
    assert "--azd-hook" in hook["posix"]["run"]
    assert hook["windows"]["run"].split()[0] == "./scripts/package.ps1"
    assert "predeploy" not in svc["hooks"]


def test_dist_folder_is_ignored_by_git():
    ignored = (REPO / ".gitignore").read_text().split()
    assert "/.dist" in ignored
