import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { probe } from './probe.js';
import { closeServersAfterEach, closedPort, serve, waitFor } from './test-support/servers.js';
import type { HealthCheckSpec, ProbeTarget } from './types.js';

closeServersAfterEach();

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-health-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const target = (port: number): ProbeTarget => ({
  host: '127.0.0.1',
  port,
  cwd: dir,
  env: { GREETING: 'hi' },
});
const healthz: HealthCheckSpec = { kind: 'http', path: '/healthz', expectStatus: [200, 204] };
const command = (line: string): HealthCheckSpec => ({ kind: 'command', command: line });
/** The timeout of a probe whose outcome is not a timeout: generous, a busy machine is slow. */
const PATIENT_MS = 10_000;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

describe('http probe', () => {
  it('passes on an expected status, without keep-alive', async () => {
    const seen: Array<string | undefined> = [];
    const port = await serve((request, response) => {
      seen.push(request.headers.connection);
      response.statusCode = request.url === '/healthz' ? 204 : 404;
      response.end();
    });
    const result = await probe(healthz, target(port), PATIENT_MS);
    expect(result).toMatchObject({ ok: true, detail: 'GET /healthz -> 204' });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(seen).toEqual(['close']);
  });

  it('fails on another status, quoting at most 200 characters of the body', async () => {
    const port = await serve((request, response) => {
      response.statusCode = 503;
      response.end(request.url === '/big' ? 'x'.repeat(1_000_000) : 'db down\n');
    });
    expect(await probe(healthz, target(port), PATIENT_MS)).toMatchObject({
      ok: false,
      detail: 'GET /healthz -> 503 "db down"',
    });
    const big = await probe({ ...healthz, path: '/big' }, target(port), PATIENT_MS);
    expect(big.detail).toBe(`GET /big -> 503 "${'x'.repeat(200)}"`);
  });

  it('sends the configured Host header', async () => {
    const port = await serve((request, response) => {
      response.statusCode = request.headers.host === 'web.internal' ? 200 : 421;
      response.end();
    });
    expect((await probe({ ...healthz, host: 'web.internal' }, target(port), PATIENT_MS)).ok).toBe(true);
    expect((await probe(healthz, target(port), PATIENT_MS)).detail).toBe('GET /healthz -> 421');
  });

  it('fails on a closed port, naming the address', async () => {
    const port = await closedPort();
    expect(await probe(healthz, target(port), PATIENT_MS)).toMatchObject({
      ok: false,
      detail: `GET /healthz: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  });

  it('times out on a server that never answers', async () => {
    const port = await serve(() => undefined);
    const result = await probe(healthz, target(port), 300);
    expect(result).toMatchObject({ ok: false, detail: 'GET /healthz: timed out after 300ms' });
    expect(result.durationMs).toBeGreaterThanOrEqual(250);
    expect((await probe(healthz, target(port), 1_000)).detail).toBe('GET /healthz: timed out after 1s');
  });

  it('reports the status of a failing response whose body stalls', async () => {
    const port = await serve((_request, response) => {
      response.writeHead(500);
      response.write('partial error');
    });
    // The timeout cuts the stalled body: long enough for the part that was sent to arrive.
    expect(await probe(healthz, target(port), 3_000)).toMatchObject({
      ok: false,
      detail: 'GET /healthz -> 500 "partial error"',
    });
  });

  it('stops when aborted', async () => {
    const port = await serve(() => undefined);
    const abort = new AbortController();
    const pending = probe(healthz, target(port), 10_000, abort.signal);
    abort.abort();
    expect(await pending).toMatchObject({ ok: false, detail: 'aborted: the check was stopped' });
  });
});

describe('tcp probe', () => {
  it('passes when the port accepts a connection, and fails when it does not', async () => {
    const open = await serve(() => undefined);
    expect(await probe({ kind: 'tcp' }, target(open), PATIENT_MS)).toMatchObject({
      ok: true,
      detail: `connect 127.0.0.1:${open} ok`,
    });
    const closed = await closedPort();
    expect(await probe({ kind: 'tcp' }, target(closed), PATIENT_MS)).toMatchObject({
      ok: false,
      detail: `connect ECONNREFUSED 127.0.0.1:${closed}`,
    });
  });
});

describe('command probe', () => {
  it('passes on exit 0, in the release dir, with PORT and the instance variables', async () => {
    const check = command(`test "$PORT" = 4123 && test "$GREETING" = hi && test "$(pwd)" = "${dir}"`);
    expect(await probe(check, target(4123), PATIENT_MS)).toMatchObject({ ok: true });
  });

  it('fails on another exit status, quoting the end of the output', async () => {
    expect(
      await probe(command('echo starting; echo "db down" >&2; exit 1'), target(1), PATIENT_MS),
    ).toMatchObject({
      ok: false,
      detail: 'echo starting; echo "db down" >&2; exit 1 -> exit 1 "starting\\ndb down"',
    });
  });

  it('kills the command and what it started when it runs past the timeout', async () => {
    const pids = path.join(dir, 'pids');
    const result = await probe(
      command(`sleep 30 & echo $! > ${pids}; echo $$ >> ${pids}; sleep 30`),
      target(1),
      // Long enough for the shell to write both pids first, however busy the machine.
      3_000,
    );
    expect(result).toMatchObject({ ok: false, detail: expect.stringMatching(/timed out after 3s$/) });
    const started = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    expect(started).toHaveLength(2);
    await waitFor('the command and its child to be killed', () => !started.some(isRunning));
  });

  it('does not wait for background processes a passing command left behind, and kills them', async () => {
    const pids = path.join(dir, 'pids');
    // Passing within the timeout is the proof: waiting for the background sleep would time out.
    const result = await probe(command(`sleep 30 & echo $! > ${pids}; exit 0`), target(1), PATIENT_MS);
    expect(result.ok).toBe(true);
    const leftover = Number(readFileSync(pids, 'utf8').trim());
    await waitFor('the leftover to be killed', () => !isRunning(leftover));
  });

  it('fails when the release dir is missing', async () => {
    const result = await probe(command('true'), { ...target(1), cwd: path.join(dir, 'gone') }, 2_000);
    expect(result).toMatchObject({
      ok: false,
      detail: expect.stringContaining(`cannot run in ${path.join(dir, 'gone')}`),
    });
  });

  it('runs in the target environment only, never the daemon’s', async () => {
    process.env.FERRY_TEST_DAEMON_KEY = 'daemon-only';
    try {
      const check = command('test -z "$FERRY_TEST_DAEMON_KEY" && test "$GREETING" = hi');
      expect(await probe(check, target(1), PATIENT_MS)).toMatchObject({ ok: true });
    } finally {
      delete process.env.FERRY_TEST_DAEMON_KEY;
    }
  });

  it('hides known secrets and URL credentials in the evidence, also in the command', async () => {
    const check = command(
      'echo "db at postgres://app:pg-pass-1@db/x, key sk-key-0042"; exit 1 # sk-key-0042',
    );
    const result = await probe(check, { ...target(1), secrets: ['sk-key-0042'] }, 2_000);
    expect(result.ok).toBe(false);
    expect(result.detail).not.toMatch(/pg-pass-1|sk-key-0042/);
    expect(result.detail).toContain('db at postgres://db/x, key ***');
  });
});
