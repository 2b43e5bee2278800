// A real SMTP server for tests: it keeps every message it is sent in memory and shows them over
// HTTP, so a test can check what CareKey mailed without any outside mail service.
//
//   node smtp-sink.mjs [--smtp-port 2525] [--http-port 2580]
//
// A port of 0 picks a free one; the line printed once both listen carries the real ports, and
// the Rust tests parse it, so keep its shape.

import http from 'node:http';
import { parseArgs } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

const HOST = '127.0.0.1'; // tests only: never reachable from outside this machine
const MAX_SIZE = 1024 * 1024;
const KEPT_HEADERS = ['message-id', 'date', 'content-type'];

const { values: args } = parseArgs({
  options: {
    'smtp-port': { type: 'string', default: '2525' },
    'http-port': { type: 'string', default: '2580' },
  },
});

let messages = [];
let nextId = 1;

const smtp = new SMTPServer({
  authOptional: true,
  // Plain SMTP on loopback: CareKey's test config sends without TLS or credentials.
  disabledCommands: ['STARTTLS', 'AUTH'],
  size: MAX_SIZE,
  logger: false,
  // Shut down promptly on SIGTERM rather than waiting for idle clients to leave.
  closeTimeout: 1000,
  async onData(stream, session, callback) {
    try {
      const parsed = await simpleParser(stream);
      if (stream.sizeExceeded) {
        const err = new Error('Message exceeds the 1 MB limit');
        err.responseCode = 552;
        return callback(err);
      }
      // headerLines keeps the raw text (unfolded here); parsed.headers turns some into Dates and
      // objects.
      const headers = {};
      for (const { key, line } of parsed.headerLines) {
        if (KEPT_HEADERS.includes(key) && !(key in headers)) {
          headers[key] = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
        }
      }
      // The envelope, not the To:/From: headers, says who the mail was really sent to; that is
      // what a test about delivery cares about.
      messages.push({
        id: nextId++,
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((r) => r.address),
        subject: parsed.subject ?? '',
        message_id: parsed.messageId ?? '',
        text: parsed.text ?? '',
        html: typeof parsed.html === 'string' ? parsed.html : '',
        headers,
        received_at: new Date().toISOString(),
      });
      callback();
    } catch (err) {
      callback(err);
    }
  },
});
// Connection-level errors only: a failure to listen is reported once, below.
let listening = false;
smtp.on('error', (err) => listening && console.error('smtp-sink: smtp error:', err.message));

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const api = http.createServer((req, res) => {
  const url = new URL(req.url, `http://${HOST}`);
  if (url.pathname === '/healthz' && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok');
  }
  if (url.pathname === '/messages' && req.method === 'GET') {
    const to = url.searchParams.get('to');
    if (to === null) return sendJson(res, 200, messages);
    const want = to.toLowerCase();
    return sendJson(res, 200, messages.filter((m) => m.to.some((a) => a.toLowerCase() === want)));
  }
  if (url.pathname === '/messages' && req.method === 'DELETE') {
    messages = [];
    return sendJson(res, 200, []);
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found');
});

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port), HOST, () => resolve(server.address().port));
  });
}

try {
  const smtpPort = await listen(smtp.server, args['smtp-port']);
  const httpPort = await listen(api, args['http-port']);
  listening = true;
  console.log(`smtp-sink: smtp on ${HOST}:${smtpPort}, http on ${HOST}:${httpPort}`);
} catch (err) {
  console.error(`smtp-sink: cannot listen: ${err.message}`);
  process.exit(1);
}

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  // Keep-alive HTTP clients would otherwise hold the process open.
  api.closeAllConnections();
  let open = 2;
  const done = () => --open === 0 && process.exit(0);
  api.close(done);
  smtp.close(done);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
