// An ordinary Express app: a JSON route, and server-sent events one second apart.
const express = require('express');

const app = express();
app.get('/hello', (request, response) => response.json({ app: 'express-hello', server: process.env.FLOTILLA_SERVER, path: request.originalUrl }));
app.get('/events', (request, response) => {
  response.set({ 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.flushHeaders();
  let count = 0;
  const timer = setInterval(() => {
    count += 1;
    response.write(`data: ${JSON.stringify({ count, at: Date.now() })}\n\n`);
    if (count === 3) {
      clearInterval(timer);
      response.end();
    }
  }, 300);
  request.on('close', () => clearInterval(timer));
});
app.listen(Number(process.env.PORT), '127.0.0.1');
