// An ordinary Fastify app: one JSON route.
const fastify = require('fastify')();

fastify.get('/hello', async (request) => ({ app: 'fastify-hello', server: process.env.FLOTILLA_SERVER, path: request.url }));
fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
