// Preloaded into every application process (node --require). fd 3 is a pipe from its managed
// server: when the server is gone, even SIGKILLed, the pipe closes and the application exits with
// it, so no orphan keeps serving or holding its port.
'use strict';
const net = require('node:net');

try {
  const link = new net.Socket({ fd: 3, readable: true, writable: false });
  const leave = () => process.exit(0);
  link.on('end', leave);
  link.on('close', leave);
  link.on('error', leave);
  link.resume();
  link.unref();
} catch {
  // Started by hand without the pipe: nothing to watch.
}
