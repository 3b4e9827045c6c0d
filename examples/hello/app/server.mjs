// The example app Ferry deploys: a dependency-free HTTP server whose behaviour depends only on the
// VERSION file the build puts next to it, so release tarballs differ in nothing else.
//   GET /          -> 200 "hello from <version>" (X-Version header); ?delay=MS sends the headers at
//                     once and the body MS ms later (a request in flight, for drain tests)
//   GET /healthz   -> 200 "ok"
// A version containing "-unhealthy" fails /healthz with 503 for its whole life; one containing
// "-errors" stays healthy but answers 500 to 9 of every 10 requests to /; one containing "-slow"
// answers /healthz with 503 "warming up" for its first 3 seconds (a slow starter); one containing
// "-gated" answers /healthz with 503 until the file named by HELLO_GATE exists, then 200 for the
// rest of its life (a starter that is ready when a test says so, not after a time it hopes is enough).
import { Buffer } from 'node:buffer';
import console from 'node:console';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import process from 'node:process';
import { setInterval, setTimeout } from 'node:timers';
import { URL } from 'node:url';

const SHUTDOWN_GRACE_MS = 5_000;
const MAX_DELAY_MS = 10_000;

const version = readVersion();
const unhealthy = version.includes('-unhealthy');
const failing = version.includes('-errors');
const warmUntil = version.includes('-slow') ? Date.now() + 3_000 : 0;
const gate = version.includes('-gated') ? readGate() : null;
let gateOpened = false;
const port = readPort();
const host = process.env.HOST || '127.0.0.1';

let requests = 0;
let shuttingDown = false;

const server = http.createServer((req, res) => {
  res.setHeader('X-Version', version);
  const url = new URL(req.url ?? '/', 'http://localhost');

  if (url.pathname === '/healthz') {
    if (unhealthy) return reply(res, 503, 'unhealthy build\n');
    if (Date.now() < warmUntil) return reply(res, 503, 'warming up\n');
    if (gate !== null && !gateOpened) {
      gateOpened = existsSync(gate);
      if (!gateOpened) return reply(res, 503, `waiting for ${gate}\n`);
    }
    return reply(res, 200, 'ok\n');
  }
  if (url.pathname === '/') {
    requests += 1;
    // Deterministic: every request but each tenth fails, so a canary's error rate is always ~90%.
    if (failing && requests % 10 !== 0) return reply(res, 500, `error from ${version}\n`);
    const body = `hello from ${version}\n`;
    const delay = Math.min(Number(url.searchParams.get('delay')) || 0, MAX_DELAY_MS);
    if (delay <= 0) return reply(res, 200, body);
    // A slow request: headers now, body later, so a client can tell it is in flight.
    writeHead(res, 200, body);
    res.flushHeaders();
    return void setTimeout(() => res.end(body), delay);
  }
  reply(res, 404, 'not found\n');
});

server.listen(port, host, () => {
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  console.log(`hello ${version} listening on http://${host}:${bound} (pid ${process.pid})`);
  if (unhealthy) console.log('this build is unhealthy on purpose: /healthz answers 503');
  if (failing) console.log('this build fails on purpose: 9 of 10 requests to / answer 500');
  if (gate !== null) console.log(`this build is gated: /healthz answers 503 until ${gate} exists`);
});

process.on('SIGTERM', () => {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(`hello ${version} draining: no new connections, finishing requests in flight`);
  // close() stops accepting; it completes once every connection is gone. Idle keep-alive
  // connections would hold it open, so close those now and again as in-flight requests finish.
  server.close(() => {
    console.log(`hello ${version} stopped`);
    process.exit(0);
  });
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  sweep.unref();
  setTimeout(() => {
    console.error(`hello ${version}: requests still open after ${SHUTDOWN_GRACE_MS} ms, closing them`);
    server.closeAllConnections();
    process.exit(1);
  }, SHUTDOWN_GRACE_MS).unref();
});

function reply(res, status, body) {
  writeHead(res, status, body);
  res.end(body);
}

function writeHead(res, status, body) {
  // During shutdown, tell keep-alive clients to send their next request elsewhere.
  if (shuttingDown) res.setHeader('Connection', 'close');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
}

function readVersion() {
  const file = new URL('./VERSION', import.meta.url);
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (text !== '') return text;
  } catch {
    // Reported below with the path.
  }
  console.error(
    `hello: no version in ${file.pathname}; run examples/hello/build.mjs and start the unpacked release`,
  );
  process.exit(1);
}

function readGate() {
  const file = process.env.HELLO_GATE;
  if (file) return file;
  console.error(`hello: a -gated build needs HELLO_GATE, the file whose existence opens its gate`);
  process.exit(1);
}

function readPort() {
  const raw = process.env.PORT;
  const value = Number(raw);
  if (raw === undefined || raw === '' || !Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`hello: PORT must be a port number (0-65535), got ${JSON.stringify(raw ?? null)}`);
    process.exit(1);
  }
  return value;
}
