// S7comm server: the real Snap7 1.3.0 server library through npm node-snap7. It answers SZL 0x0011 (order
// number 6ES7 315-2EH14-0AB0), 0x001C (AS name, module, serial) and CPU state (RUN) from Snap7's built-in
// data. usage: node s7server.js IP PORT
const snap7 = require('node-snap7');

const [ip, port] = [process.argv[2], parseInt(process.argv[3], 10)];
const s = new snap7.S7Server();
s.SetParam(s.LocalPort, port);
s.RegisterArea(s.srvAreaDB, 1, Buffer.from('HELLO-S7'.padEnd(64, '\0')));
s.on('event', (ev) => console.log(s.EventText(ev)));
s.StartTo(ip, (err) => {
  if (err) { console.error('start failed:', s.ErrorText(err)); process.exit(1); }
  console.log('snap7 server on', ip, port);
});
process.on('SIGTERM', () => { s.Stop(); process.exit(0); });
