// Echoes every WebSocket message back; plain HTTP requests get a JSON note saying so.
const http = require('node:http');
const { WebSocketServer } = require('ws');

const server = http.createServer((request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ app: 'ws-echo', upgraded: false, path: request.url }));
});
const sockets = new WebSocketServer({ server });
sockets.on('connection', (socket, request) => {
  socket.send(JSON.stringify({ hello: request.url }));
  socket.on('message', (data, binary) => socket.send(data, { binary }));
});
server.listen(Number(process.env.PORT), '127.0.0.1');
