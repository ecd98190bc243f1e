// OPC UA server: npm node-opcua. FindServers answers applicationUri urn:acme:testplc:server and productUri
// urn:acme:testplc; GetEndpoints lists its endpoints (security None among them). The first start creates
// a PKI in the working directory (6-8 s). usage: node opcua_server.js PORT HOST
const { OPCUAServer, nodesets } = require('node-opcua');

const [port, host] = [parseInt(process.argv[2], 10), process.argv[3]];
(async () => {
  const server = new OPCUAServer({
    port, host, hostname: host, alternateHostname: [host],
    resourcePath: '/UA/TestPLC',
    buildInfo: {
      productName: 'TestPLC OPC UA Server', manufacturerName: 'Acme Automation',
      productUri: 'urn:acme:testplc', softwareVersion: '1.2.3', buildNumber: '42',
    },
    serverInfo: { applicationUri: 'urn:acme:testplc:server', productUri: 'urn:acme:testplc', applicationName: { text: 'Acme TestPLC' } },
    nodeset_filename: [nodesets.standard],
  });
  await server.initialize();
  await server.start();
  console.log('OPC UA server up:', server.getEndpointUrl());
  process.on('SIGTERM', async () => { await server.shutdown(100); process.exit(0); });
})().catch((e) => { console.error(e); process.exit(1); });
