// Preloaded into every application process (node --require). fd 3 is a pipe from its managed
// server: when the server is gone, even SIGKILLed, the pipe closes and the application exits with
// it, so no orphan keeps serving or holding its port. The other way, a line on the pipe tells the
// server that a server of the application listens, so that it probes the port at that moment
// rather than polling it while the application loads.
'use strict';
const net = require('node:net');

try {
  const link = new net.Socket({ fd: 3, readable: true, writable: true });
  const leave = () => process.exit(0);
  link.on('end', leave);
  link.on('close', leave);
  link.on('error', leave);
  link.resume();
  link.unref();
  const listen = net.Server.prototype.listen;
  const listening = () => link.write('listening\n');
  net.Server.prototype.listen = function listenAndTell(...args) {
    this.once('listening', listening);
    return listen.apply(this, args);
  };
} catch {
  // Started by hand without the pipe: nothing to watch.
}
