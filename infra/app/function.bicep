// The Flex Consumption function app that runs our custom handler.
// A plain resource rather than the AVM web/site module: the properties this project depends on
// (runtime 'custom', identity-based deployment storage, keyVaultReferenceIdentity,
// virtualNetworkSubnetId) are then spelled exactly as the ARM API names them, which is what
// tests/deploy asserts on.

param name string
param location string = resourceGroup().location
param tags object = {}
param appServicePlanId string
param storageAccountName string
param deploymentContainerName string
param identityId string
param identityClientId string
param applicationInsightsName string

@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048
param maximumInstanceCount int = 100

@description('Subnet (delegated to Microsoft.App/environments) for outbound calls into a VNet; empty for none.')
param virtualNetworkSubnetId string = ''

param keyVaultEnabled bool = false
@description('https://<vault>.vault.azure.net/ ; only used when keyVaultEnabled.')
param keyVaultUri string = ''

@description('See main.bicep downstreamApis.')
param downstreamApis array = []

resource stg 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// The host reaches its storage (blob leases, queues of the MCP extension, tables for
// diagnostics) with the user-assigned identity: no connection string, no key.
var storageSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: stg.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: stg.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: stg.properties.primaryEndpoints.table
}

var telemetrySettings = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  // Local auth is disabled on the component, so ingestion needs an Entra token of this identity.
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

var identitySettings = {
  // The handler's managed-identity credential picks the user-assigned identity by this.
  AZURE_CLIENT_ID: identityClientId
}

// DOWNSTREAM__<API>__* settings (architecture.md settings table). Empty values are dropped so
// the handler's own defaults apply. An API key is only ever a Key Vault reference here: a
// literal key would sit in the deployment history.
var downstreamEntries = flatten(map(downstreamApis, api => [
  {
    name: 'DOWNSTREAM__${toUpper(api.name)}__BASE_URL'
    value: api.baseUrl
  }
  {
    name: 'DOWNSTREAM__${toUpper(api.name)}__AUTH'
    value: api.?auth ?? 'none'
  }
  {
    name: 'DOWNSTREAM__${toUpper(api.name)}__AUDIENCE'
    value: api.?audience ?? ''
  }
  {
    name: 'DOWNSTREAM__${toUpper(api.name)}__API_KEY'
    value: keyVaultEnabled && !empty(api.?apiKeySecretName ?? '') ? '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${api.apiKeySecretName}/)' : ''
  }
  {
    name: 'DOWNSTREAM__${toUpper(api.name)}__API_KEY_HEADER'
    value: api.?apiKeyHeader ?? ''
  }
  {
    name: 'DOWNSTREAM__${toUpper(api.name)}__TIMEOUT_MS'
    value: string(api.?timeoutMs ?? '')
  }
]))
var downstreamSettings = toObject(filter(downstreamEntries, e => !empty(e.value)), e => e.name, e => e.value)

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: appServicePlanId
    httpsOnly: true
    // Outbound traffic into the VNet, so tools can call private internal APIs.
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    // Key Vault references resolve with the user-assigned identity (the site has no system identity).
    keyVaultReferenceIdentity: keyVaultEnabled ? identityId : null
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${stg.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      // A custom handler: the host starts the "handler" executable named in host.json.
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
  }
}

// Flex Consumption takes no FUNCTIONS_WORKER_RUNTIME setting: the runtime is functionAppConfig.runtime.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(downstreamSettings, storageSettings, telemetrySettings, identitySettings)
}

output name string = functionApp.name
output defaultHostname string = functionApp.properties.defaultHostName
output mcpEndpoint string = 'https://${functionApp.properties.defaultHostName}/runtime/webhooks/mcp'
