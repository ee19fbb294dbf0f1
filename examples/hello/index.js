// Flotilla runs this with PORT set; the managed server proxies http://server:HTTP/hello/... here.
const http = require('node:http');

const server = process.env.FLOTILLA_SERVER || 'unknown';
const version = process.env.HELLO_VERSION || '1';

http
  .createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ hello: 'world', server, path: request.url, version, pid: process.pid }) + '\n');
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
