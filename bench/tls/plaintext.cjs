// Bench only (bench/suites/70-tls.mjs): the same code on plain sockets, to measure what TLS costs.
// Loaded with NODE_OPTIONS=--require into the bench's own processes and the MASTER and servers
// they start, it turns Node's TLS entry points into their plain counterparts. Nothing of Flotilla
// loads it; a production process never runs without TLS.
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const tls = require('node:tls');

https.createServer = (options, handler) => {
  const server = http.createServer({ noDelay: true }, typeof options === 'function' ? options : handler);
  server.setSecureContext = () => {};
  return server;
};
https.Agent = http.Agent;
https.request = (...args) => http.request(...args);
https.get = (...args) => http.get(...args);
tls.connect = (options, ...rest) => net.connect(options, ...rest);
require('node:module').syncBuiltinESMExports();
