// Azure infrastructure for the Rust MCP custom handler (extension-hosted model, see
// ../shared/functions-mcp-contract.md §1 model A). Shaped after the official
// Azure-Samples/remote-mcp-functions-* templates: one resource group, a user-assigned identity
// used for everything, Flex Consumption, storage without shared keys, Entra-only telemetry.
// Written by hand: Bicep is not installed on the build machines, so tests/deploy parses this
// file with pycep and asserts on the tree instead of compiling it.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; seeds the unique suffix of every resource name.')
param environmentName string

@minLength(1)
@description('Region of every resource. Flex Consumption is not offered everywhere: see "az functionapp list-flexconsumption-locations".')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying user or service principal; gets data-plane roles so it can debug against storage, telemetry and Key Vault. Empty to skip.')
param principalId string = ''

@description('Kind of principalId: a person (azd up) or a service principal (CI).')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Put storage behind private endpoints and integrate the app with a VNet so tools can reach private internal APIs.')
param vnetEnabled bool = false

@description('Create a Key Vault for downstream API keys; they reach the app as Key Vault references.')
param keyVaultEnabled bool = false

@description('Memory per instance. The handler itself needs a few MB; the Functions host needs a few hundred. See README "Deploy to Azure".')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound of the scale-out; also caps the concurrent load on downstream APIs.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('''Downstream APIs the tools call. Each item:
{ name: 'INVENTORY' (letters, digits, _), baseUrl: 'https://...', auth: 'managed_identity' | 'api_key' | 'client_credentials' | 'none',
  audience: 'api://...' (managed_identity), apiKeySecretName: 'inventory-api-key' (api_key; a secret in the Key Vault),
  apiKeyHeader: 'x-api-key' (optional), timeoutMs: 10000 (optional) }''')
param downstreamApis array = []

// Optional name overrides, as in the templates; empty means "derive from the environment".
param resourceGroupName string = ''
param functionAppName string = ''
param identityName string = ''
param appServicePlanName string = ''
param storageAccountName string = ''
param logAnalyticsName string = ''
param applicationInsightsName string = ''
param keyVaultName string = ''
param vNetName string = ''

// Must equal the service name in azure.yaml: azd finds the app to deploy to by this tag.
var serviceName = 'api'

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var appName = empty(functionAppName) ? '${abbrs.webSitesFunctions}mcp-${resourceToken}' : functionAppName
// One container per app; Flex Consumption reads the deployed package from it.
var deploymentContainerName = 'app-package-${take(appName, 32)}-${take(toLower(uniqueString(appName, resourceToken)), 7)}'
var vnetName = empty(vNetName) ? '${abbrs.networkVirtualNetworks}${resourceToken}' : vNetName
// Key Vault names are capped at 24 characters.
var vaultName = empty(keyVaultName) ? take('${abbrs.keyVaultVaults}${resourceToken}', 24) : keyVaultName
var vaultUri = 'https://${vaultName}${environment().suffixes.keyvaultDns}/'
// With a VNet, storage answers only on its private endpoints.
var networkAclsPrivate = {
  defaultAction: 'Deny'
  bypass: 'None'
}
var networkAclsPublic = {
  defaultAction: 'Allow'
  bypass: 'AzureServices'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? '${abbrs.resourcesResourceGroups}${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

// The single identity of the app: storage, telemetry, Key Vault references and every
// managed-identity token for downstream APIs (AZURE_CLIENT_ID).
module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'identity'
  scope: rg
  params: {
    name: empty(identityName) ? '${abbrs.managedIdentityUserAssignedIdentities}mcp-${resourceToken}' : identityName
    location: location
    tags: tags
  }
}

module appServicePlan 'br/public:avm/res/web/serverfarm:0.1.1' = {
  name: 'appServicePlan'
  scope: rg
  params: {
    name: empty(appServicePlanName) ? '${abbrs.webServerFarms}${resourceToken}' : appServicePlanName
    location: location
    tags: tags
    sku: {
      name: 'FC1'
      tier: 'FlexConsumption'
    }
    reserved: true
  }
}

module storage 'br/public:avm/res/storage/storage-account:0.8.3' = {
  name: 'storage'
  scope: rg
  params: {
    name: empty(storageAccountName) ? '${abbrs.storageStorageAccounts}${resourceToken}' : storageAccountName
    location: location
    tags: tags
    // Identity only: no account keys exist to leak or rotate.
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    dnsEndpointType: 'Standard'
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: vnetEnabled ? networkAclsPrivate : networkAclsPublic
    blobServices: {
      containers: [
        {
          name: deploymentContainerName
        }
      ]
    }
  }
}

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.11.1' = {
  name: 'logAnalytics'
  scope: rg
  params: {
    name: empty(logAnalyticsName) ? '${abbrs.operationalInsightsWorkspaces}${resourceToken}' : logAnalyticsName
    location: location
    tags: tags
    dataRetention: 30
  }
}

module appInsights 'br/public:avm/res/insights/component:0.6.0' = {
  name: 'appInsights'
  scope: rg
  params: {
    name: empty(applicationInsightsName) ? '${abbrs.insightsComponents}${resourceToken}' : applicationInsightsName
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    // Ingestion only with an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
    disableLocalAuth: true
  }
}

module keyVault 'br/public:avm/res/key-vault/vault:0.13.3' = if (keyVaultEnabled) {
  name: 'keyVault'
  scope: rg
  params: {
    name: vaultName
    location: location
    tags: tags
    sku: 'standard'
    // Access through Azure RBAC roles (rbac.bicep), not access policies.
    enableRbacAuthorization: true
    // azd down --purge must be able to purge it.
    enablePurgeProtection: false
    softDeleteRetentionInDays: 7
  }
}

module vnet 'app/vnet.bicep' = if (vnetEnabled) {
  name: 'vnet'
  scope: rg
  params: {
    name: vnetName
    location: location
    tags: tags
  }
}

module storagePrivateEndpoints 'app/storage-private-endpoints.bicep' = if (vnetEnabled) {
  name: 'storagePrivateEndpoints'
  scope: rg
  params: {
    location: location
    tags: tags
    virtualNetworkName: vnetName
    subnetName: vnetEnabled ? vnet.outputs.privateEndpointSubnetName : ''
    storageAccountName: storage.outputs.name
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    appInsightsName: appInsights.outputs.name
    keyVaultName: keyVaultEnabled ? keyVault.outputs.name : ''
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module functionApp 'app/function.bicep' = {
  name: 'function'
  scope: rg
  params: {
    name: appName
    location: location
    tags: union(tags, {
      'azd-service-name': serviceName
    })
    appServicePlanId: appServicePlan.outputs.resourceId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    identityId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    applicationInsightsName: appInsights.outputs.name
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    virtualNetworkSubnetId: vnetEnabled ? vnet.outputs.appSubnetId : ''
    keyVaultEnabled: keyVaultEnabled
    keyVaultUri: vaultUri
    downstreamApis: downstreamApis
  }
  // The host must be able to read its storage and write telemetry the moment it starts.
  dependsOn: [
    rbac
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
// Same value under the templates' name, for scripts written against them.
output AZURE_FUNCTION_NAME string = functionApp.outputs.name
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_DEFAULT_HOSTNAME string = functionApp.outputs.defaultHostname
output SERVICE_API_ENDPOINTS array = [
  functionApp.outputs.mcpEndpoint
]
output MCP_ENDPOINT_URL string = functionApp.outputs.mcpEndpoint
// Not named AZURE_CLIENT_ID: azd env values get loaded into developer shells, where that name
// would redirect local DefaultAzureCredential to an identity the developer cannot use.
output AZURE_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output AZURE_KEY_VAULT_NAME string = keyVaultEnabled ? vaultName : ''
output AZURE_KEY_VAULT_URI string = keyVaultEnabled ? vaultUri : ''
output APPLICATIONINSIGHTS_CONNECTION_STRING string = appInsights.outputs.connectionString
