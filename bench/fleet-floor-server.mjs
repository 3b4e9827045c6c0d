// The peer of bench/fleet-agents.mjs: the floor of the agent protocol's work on the server. A bare
// Fastify HTTPS server (the same certificate as Ferry's agents' listener) answering the same two
// routes: the long poll waits out the poll bound and answers 204; a report is parsed as JSON (the
// same body limit) and dropped. No credential check, no validation, nothing kept.
//   Usage: node bench/fleet-floor-server.mjs PORT CERT_FILE KEY_FILE
import { readFileSync } from 'node:fs';
import process from 'node:process';
import Fastify from 'fastify';

const [port, certFile, keyFile] = process.argv.slice(2);
const POLL_BOUND_MS = 25_000;
const app = Fastify({
  logger: false,
  forceCloseConnections: true,
  https: { cert: readFileSync(certFile), key: readFileSync(keyFile) },
});
app.get('/v1/agent/desired', (request, reply) => {
  const timer = setTimeout(() => void reply.status(204).send(), POLL_BOUND_MS);
  reply.raw.once('close', () => clearTimeout(timer));
  return reply;
});
app.post('/v1/agent/report', { bodyLimit: 256 * 1024 }, (request, reply) => {
  if (!request.headers.authorization?.startsWith('Bearer ')) return reply.status(401).send();
  return reply.status(204).send();
});
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.stdout.write('listening\n');
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
