// An application that says things on stdout and stderr when asked (the log tests' app).
const http = require('node:http');

process.stdout.write('started on stdout\n');
process.stderr.write('started on stderr\n');
http
  .createServer((req, res) => {
    if (req.url === '/spam') {
      for (let i = 0; i < 200; i++) process.stdout.write(`spam line ${i} ${'x'.repeat(80)}\n`);
      return res.end('spammed');
    }
    if (req.url === '/exit') {
      process.stdout.write('partial without newline');
      return res.end('bye', () => setTimeout(() => process.exit(0), 50));
    }
    if (req.url.startsWith('/say/')) {
      console.log(decodeURIComponent(req.url.slice('/say/'.length)));
      return res.end('said');
    }
    if (req.url.startsWith('/warn/')) {
      console.error(decodeURIComponent(req.url.slice('/warn/'.length)));
      return res.end('warned');
    }
    res.end('hello');
  })
  .listen(process.env.PORT, '127.0.0.1');
