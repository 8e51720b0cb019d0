package testkit

// ThreeServicesServers is a config's servers section for ThreeServices:
// the servers whose addresses its records hold, by the names the tests'
// services sections use.
const ThreeServicesServers = `servers:
  - {name: core, address: 192.0.2.1}
  - {name: edge, address: 192.0.2.2}
  - {name: backup, address: 192.0.2.3}
`
