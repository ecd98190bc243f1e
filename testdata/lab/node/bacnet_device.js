// BACnet/IP device on npm @bacnet-js/client: answers Who-Is with I-Am and ReadProperty on its Device object
// (vendor, model, firmware, application version, location...); other objects get an error.
// usage: node bacnet_device.js BIND_IP PORT BROADCAST DEVICE_INSTANCE
const Bacnet = require('@bacnet-js/client');

const { ApplicationTag: T, PropertyIdentifier: P, ObjectType: O, ErrorClass, ErrorCode } = Bacnet;
const [ip, port, bcast, deviceId] = [process.argv[2], parseInt(process.argv[3], 10), process.argv[4], parseInt(process.argv[5], 10)];
const vendorId = 8; // Delta Controls
const str = (v) => [{ type: T.CHARACTER_STRING, value: v }];
const props = {
  [P.OBJECT_IDENTIFIER]: [{ type: T.OBJECTIDENTIFIER, value: { type: O.DEVICE, instance: deviceId } }],
  [P.OBJECT_NAME]: str('AHU-3 Controller'),
  [P.OBJECT_TYPE]: [{ type: T.ENUMERATED, value: O.DEVICE }],
  [P.VENDOR_NAME]: str('Delta Controls'),
  [P.VENDOR_IDENTIFIER]: [{ type: T.UNSIGNED_INTEGER, value: vendorId }],
  [P.MODEL_NAME]: str('eBCON'),
  [P.FIRMWARE_REVISION]: str('3.40'),
  [P.APPLICATION_SOFTWARE_VERSION]: str('V3.40 build 1234'),
  [P.DESCRIPTION]: str('Air handler 3, roof'),
  [P.LOCATION]: str('Roof plant room'),
  [P.PROTOCOL_VERSION]: [{ type: T.UNSIGNED_INTEGER, value: 1 }],
  [P.PROTOCOL_REVISION]: [{ type: T.UNSIGNED_INTEGER, value: 14 }],
};
const client = new Bacnet.default({ port, interface: ip, broadcastAddress: bcast, apduTimeout: 3000 });
client.on('listening', () => console.log(`bacnet device ${deviceId} listening on ${ip}:${port}`));
client.on('error', (e) => console.error('error', e));
client.on('whoIs', (msg) => {
  const { lowLimit, highLimit } = msg.payload || {};
  if (lowLimit !== undefined && highLimit !== undefined && (deviceId < lowLimit || deviceId > highLimit)) return;
  console.log('Who-Is from', msg.header.sender.address);
  client.iAmResponse(msg.header.sender, deviceId, Bacnet.Segmentation.NO_SEGMENTATION, vendorId);
});
client.on('readProperty', (msg) => {
  const { objectId, property } = msg.payload;
  console.log('ReadProperty from', msg.header.sender.address, JSON.stringify(objectId), property.id);
  const isDev = objectId.type === O.DEVICE && (objectId.instance === deviceId || objectId.instance === 4194303);
  const v = isDev ? props[property.id] : undefined;
  if (!v) {
    client.errorResponse(msg.header.sender, msg.service, msg.invokeId,
      isDev ? ErrorClass.PROPERTY : ErrorClass.OBJECT, isDev ? ErrorCode.UNKNOWN_PROPERTY : ErrorCode.UNKNOWN_OBJECT);
    return;
  }
  client.readPropertyResponse(msg.header.sender, msg.invokeId, { type: O.DEVICE, instance: deviceId }, property, v);
});
process.on('SIGTERM', () => { client.close(); process.exit(0); });
