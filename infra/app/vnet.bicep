// A VNet with one subnet for storage private endpoints and one for the app's outbound
// integration (Flex Consumption requires the Microsoft.App/environments delegation), through
// which tools reach private internal APIs. Peer it with, or route it to, the network of those
// APIs yourself.

param name string
param location string = resourceGroup().location
param tags object = {}
param addressPrefix string = '10.0.0.0/16'
param privateEndpointSubnetName string = 'private-endpoints'
param privateEndpointSubnetPrefix string = '10.0.1.0/24'
param appSubnetName string = 'app'
param appSubnetPrefix string = '10.0.2.0/24'

module virtualNetwork 'br/public:avm/res/network/virtual-network:0.6.1' = {
  name: 'virtualNetwork'
  params: {
    name: name
    location: location
    tags: tags
    addressPrefixes: [
      addressPrefix
    ]
    subnets: [
      {
        name: privateEndpointSubnetName
        addressPrefix: privateEndpointSubnetPrefix
        privateEndpointNetworkPolicies: 'Disabled'
        privateLinkServiceNetworkPolicies: 'Enabled'
      }
      {
        name: appSubnetName
        addressPrefix: appSubnetPrefix
        privateEndpointNetworkPolicies: 'Disabled'
        privateLinkServiceNetworkPolicies: 'Enabled'
        delegation: 'Microsoft.App/environments'
      }
    ]
  }
}

output privateEndpointSubnetName string = privateEndpointSubnetName
output privateEndpointSubnetId string = '${virtualNetwork.outputs.resourceId}/subnets/${privateEndpointSubnetName}'
output appSubnetId string = '${virtualNetwork.outputs.resourceId}/subnets/${appSubnetName}'
