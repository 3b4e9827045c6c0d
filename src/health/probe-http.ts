import http from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { settleOnce, timedOut, type ProbeOutcome } from './probe.js';
import type { HealthCheckSpec, ProbeTarget } from './types.js';

/** The most of a failing response's body quoted as evidence. */
const SNIPPET_CHARS = 200;

/**
 * GET the check's path, without keep-alive (a pooled socket would hide a dead listener). Passes on
 * an expected status; on another one, quotes the start of the body and reads no further.
 */
export function probeHttp(
  check: Extract<HealthCheckSpec, { kind: 'http' }>,
  target: ProbeTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  const what = `GET ${check.path}`;
  return new Promise((resolve) => {
    let status: number | null = null;
    let snippet = '';
    const failed = () => ({
      ok: false,
      detail: `${what} -> ${status}${snippet.trim() ? ` ${JSON.stringify(snippet.trim().slice(0, SNIPPET_CHARS))}` : ''}`,
    });
    const settle = settleOnce(
      resolve,
      timeoutMs,
      signal,
      // A status already received is the better evidence: the body was only slow.
      () => (status === null ? { ok: false, detail: `${what}: ${timedOut(timeoutMs)}` } : failed()),
      () => request.destroy(),
    );
    const request = http.request(
      {
        host: target.host,
        port: target.port,
        path: check.path,
        method: 'GET',
        agent: false,
        headers: {
          host: check.host ?? `${target.host}:${target.port}`,
          connection: 'close',
          'user-agent': 'ferry-health-check',
        },
      },
      (response) => {
        status = response.statusCode ?? 0;
        if (check.expectStatus.includes(status)) return settle({ ok: true, detail: `${what} -> ${status}` });
        const decoder = new StringDecoder('utf8');
        response.on('data', (chunk: Buffer) => {
          snippet += decoder.write(chunk);
          if (snippet.length >= SNIPPET_CHARS) settle(failed());
        });
        response.once('end', () => settle(failed()));
        response.once('error', () => settle(failed()));
      },
    );
    request.once('error', (error) => settle({ ok: false, detail: `${what}: ${error.message}` }));
    request.end();
  });
}
