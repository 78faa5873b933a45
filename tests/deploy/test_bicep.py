"""Structural checks of infra/*.bicep on the tree pycep parses (Bicep itself cannot run here)."""

from __future__ import annotations

import json
import re

import yaml

from conftest import REPO

ROLE = {
    "blob_owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "queue_contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "table_contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "metrics_publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "kv_secrets_user": "4633458b-17de-408a-b874-0445c86b69e6",
}


def var(tree, name):
    return tree["variables"][name]["value"]


def resource_body(tree, name):
    cfg = tree["resources"][name]["config"]
    return cfg.get("config", cfg)  # conditional/looped resources nest one level deeper


def module_params(tree, name):
    cfg = tree["modules"][name]["config"]
    return cfg.get("config", cfg)["params"]


def conditional(node):
    assert "operator" in node and node["operator"]["type"] == "conditional", node
    return node["operator"]["operands"]


def test_every_bicep_file_parses(bicep):
    assert {"main.bicep", "app/function.bicep", "app/rbac.bicep", "app/vnet.bicep",
            "app/storage-private-endpoints.bicep"} <= set(bicep)


def test_main_is_subscription_scoped_with_a_resource_group(bicep):
    main = bicep["main.bicep"]
    assert main["globals"]["scope"]["value"] == "subscription"
    assert main["resources"]["rg"]["type"] == "Microsoft.Resources/resourceGroups"


def test_avm_modules_are_pinned(bicep):
    seen = 0
    for tree in bicep.values():
        for name, mod in tree.get("modules", {}).items():
            if mod["type"] == "bicep_registry_alias":
                detail = mod["detail"]
                assert detail["alias"] == "public" and detail["path"].startswith("avm/res/"), name
                assert re.fullmatch(r"\d+\.\d+\.\d+", detail["tag"]), (name, detail["tag"])
                seen += 1
    assert seen >= 8


def test_flex_consumption_plan(bicep):
    params = module_params(bicep["main.bicep"], "appServicePlan")
    assert bicep["main.bicep"]["modules"]["appServicePlan"]["detail"]["path"] == "avm/res/web/serverfarm"
    assert params["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert params["reserved"] is True


def test_storage_without_shared_keys(bicep):
    params = module_params(bicep["main.bicep"], "storage")
    assert params["allowSharedKeyAccess"] is False
    assert params["allowBlobPublicAccess"] is False
    assert params["blobServices"]["containers"][0]["name"] == "deploymentContainerName"


def test_app_insights_without_local_auth(bicep):
    params = module_params(bicep["main.bicep"], "appInsights")
    assert params["disableLocalAuth"] is True
    assert params["workspaceResourceId"]  # wired to Log Analytics


def test_site_runs_custom_handler_on_flex(bicep):
    fn = bicep["app/function.bicep"]
    site = fn["resources"]["functionApp"]
    assert site["type"] == "Microsoft.Web/sites"
    body = resource_body(fn, "functionApp")
    assert body["kind"] == "functionapp,linux"
    config = body["properties"]["functionAppConfig"]
    assert config["runtime"] == {"name": "custom", "version": "1.0"}
    scale = config["scaleAndConcurrency"]
    assert scale == {"instanceMemoryMB": "instanceMemoryMB", "maximumInstanceCount": "maximumInstanceCount"}


def test_deployment_storage_uses_the_identity(bicep):
    fn = bicep["app/function.bicep"]
    body = resource_body(fn, "functionApp")
    storage = body["properties"]["functionAppConfig"]["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"] == {
        "type": "UserAssignedIdentity",
        "userAssignedIdentityResourceId": "identityId",
    }
    assert body["identity"]["type"] == "UserAssigned"


def test_instance_memory_and_scale_parameters(bicep):
    for path in ("main.bicep", "app/function.bicep"):
        p = bicep[path]["parameters"]["instanceMemoryMB"]
        assert p["default"] == 2048
        allowed = [d for d in p["decorators"] if d["type"] == "allowed"]
        assert allowed and sorted(allowed[0]["argument"]) == [512, 2048, 4096]
        assert "maximumInstanceCount" in bicep[path]["parameters"]


def test_app_settings(bicep):
    fn = bicep["app/function.bicep"]
    settings = resource_body(fn, "appSettings")
    assert fn["resources"]["appSettings"]["type"] == "Microsoft.Web/sites/config"
    assert settings["name"] == "appsettings"
    merged = settings["properties"]["function"]
    assert merged["type"] == "union"
    parts = list(merged["parameters"].values())
    # Downstream settings first, so a downstream name can never override the platform ones.
    assert parts == ["downstreamSettings", "storageSettings", "telemetrySettings", "identitySettings"]

    storage = var(fn, "storageSettings")
    assert storage["AzureWebJobsStorage__credential"] == "managedidentity"
    assert storage["AzureWebJobsStorage__clientId"] == "identityClientId"
    for service in ("blob", "queue", "table"):
        assert f"AzureWebJobsStorage__{service}ServiceUri" in storage
    telemetry = var(fn, "telemetrySettings")
    assert telemetry["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "ClientId=${identityClientId};Authorization=AAD"
    assert "APPLICATIONINSIGHTS_CONNECTION_STRING" in telemetry
    assert var(fn, "identitySettings") == {"AZURE_CLIENT_ID": "identityClientId"}
    assert "FUNCTIONS_WORKER_RUNTIME" not in json.dumps(fn["variables"])


def test_downstream_settings_and_key_vault_references(bicep):
    fn = bicep["app/function.bicep"]
    text = json.dumps(var(fn, "downstreamEntries"))
    for suffix in ("BASE_URL", "AUTH", "AUDIENCE", "API_KEY", "API_KEY_HEADER", "TIMEOUT_MS"):
        assert f"DOWNSTREAM__${{toUpper(api.name)}}__{suffix}" in text
    assert "@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${api.apiKeySecretName}/)" in text
    assert var(fn, "downstreamSettings")["function"]["type"] == "toObject"


def test_key_vault_reference_identity_when_key_vault_is_on(bicep):
    fn = bicep["app/function.bicep"]
    props = resource_body(fn, "functionApp")["properties"]
    ops = conditional(props["keyVaultReferenceIdentity"])
    assert ops["condition"] == "keyVaultEnabled"
    assert ops["true_value"] == "identityId"
    main = bicep["main.bicep"]
    assert main["parameters"]["keyVaultEnabled"]["default"] is False
    assert main["modules"]["keyVault"]["detail"]["path"] == "avm/res/key-vault/vault"
    assert main["modules"]["keyVault"]["config"]["condition"] == "keyVaultEnabled"
    assert module_params(main, "keyVault")["enableRbacAuthorization"] is True


def test_vnet_integration_for_outbound_calls(bicep):
    fn = bicep["app/function.bicep"]
    ops = conditional(resource_body(fn, "functionApp")["properties"]["virtualNetworkSubnetId"])
    assert ops["false_value"] == "virtualNetworkSubnetId"
    main = bicep["main.bicep"]
    assert main["parameters"]["vnetEnabled"]["default"] is False
    subnet = conditional(module_params(main, "functionApp")["virtualNetworkSubnetId"])
    assert subnet["condition"] == "vnetEnabled"
    assert main["modules"]["vnet"]["config"]["condition"] == "vnetEnabled"
    assert main["modules"]["storagePrivateEndpoints"]["config"]["condition"] == "vnetEnabled"
    vnet_subnets = module_params(bicep["app/vnet.bicep"], "virtualNetwork")["subnets"]
    assert any(s.get("delegation") == "Microsoft.App/environments" for s in vnet_subnets)
    assert var(bicep["app/storage-private-endpoints.bicep"], "services") == ["blob", "queue", "table"]


def test_azd_service_name_tag_matches_azure_yaml(bicep):
    main = bicep["main.bicep"]
    tags = module_params(main, "functionApp")["tags"]["function"]
    assert tags["type"] == "union"
    assert tags["parameters"]["arg_2"] == {"'azd-service-name'": "serviceName"}
    service = var(main, "serviceName")
    azure_yaml = yaml.safe_load((REPO / "azure.yaml").read_text())
    assert list(azure_yaml["services"]) == [service]
    assert module_params(main, "functionApp")["tags"]["function"]["parameters"]["arg_1"] == "tags"


def test_role_assignments(bicep):
    rbac = bicep["app/rbac.bicep"]
    guids = {v["value"] for v in rbac["variables"].values() if isinstance(v["value"], str)}
    assert set(ROLE.values()) <= guids
    assert var(rbac, "storageRoles") == ["storageBlobDataOwner", "storageQueueDataContributor",
                                         "storageTableDataContributor"]
    assigned = {}
    for name, res in rbac["resources"].items():
        if res["type"] != "Microsoft.Authorization/roleAssignments":
            continue
        body = resource_body(rbac, name)
        role = body["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
        assigned[name] = (role, body["properties"]["principalId"], body["properties"]["principalType"])
    # The identity gets every data-plane role, the deploying user the same ones for debugging.
    assert assigned["identityStorage"] == ("role", "identityPrincipalId", "ServicePrincipal")
    assert assigned["userStorage"] == ("role", "userPrincipalId", "userPrincipalType")
    assert assigned["identityMetrics"] == ("monitoringMetricsPublisher", "identityPrincipalId", "ServicePrincipal")
    assert assigned["userMetrics"][:2] == ("monitoringMetricsPublisher", "userPrincipalId")
    assert assigned["identitySecrets"] == ("keyVaultSecretsUser", "identityPrincipalId", "ServicePrincipal")
    assert var(rbac, "keyVaultSecretsUser") == ROLE["kv_secrets_user"]
    assert var(rbac, "storageBlobDataOwner") == ROLE["blob_owner"]
    assert var(rbac, "monitoringMetricsPublisher") == ROLE["metrics_publisher"]
    main = bicep["main.bicep"]
    assert module_params(main, "rbac")["userPrincipalId"] == "principalId"
    assert module_params(main, "rbac")["identityPrincipalId"] == "identity.outputs.principalId" or \
        "identity" in json.dumps(module_params(main, "rbac")["identityPrincipalId"])


def test_outputs_the_scripts_need(bicep):
    outputs = bicep["main.bicep"]["outputs"]
    for name in ("AZURE_FUNCTION_APP_NAME", "AZURE_RESOURCE_GROUP", "AZURE_LOCATION",
                 "SERVICE_API_ENDPOINTS", "MCP_ENDPOINT_URL", "AZURE_IDENTITY_CLIENT_ID",
                 "AZURE_KEY_VAULT_NAME", "AZURE_TENANT_ID"):
        assert name in outputs, name
    fn_out = bicep["app/function.bicep"]["outputs"]["mcpEndpoint"]
    assert "/runtime/webhooks/mcp" in json.dumps(fn_out)


def test_parameters_file_matches_main(bicep):
    doc = json.loads((REPO / "infra/main.parameters.json").read_text())
    params = bicep["main.bicep"]["parameters"]
    for name in doc["parameters"]:
        assert name in params, f"main.parameters.json sets unknown parameter {name}"
    abbrs = json.loads((REPO / "infra/abbreviations.json").read_text())
    used = re.findall(r"abbrs\.(\w+)", (REPO / "infra/main.bicep").read_text())
    assert set(used) <= set(abbrs)
