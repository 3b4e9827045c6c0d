import { Agent, request } from 'node:http';

export interface LoadResult {
  ok: number;
  failed: number;
  /** A few failures, for the assertion message. */
  failures: string[];
  byBackend: Map<string, number>;
}

export interface LoadOptions {
  url: string;
  /** Parallel request loops, each on its own keep-alive connection. */
  concurrency: number;
  /**
   * The load stops after this long ... A safety bound, never what a test waits for: a load that
   * should run until a condition uses stopWhen, with a duration far beyond it (a busy machine is slow).
   */
  durationMs: number;
  /** ... or after this many requests, whichever comes first ... */
  maxRequests: number;
  /** ... or once this says so. */
  stopWhen?: () => boolean;
  /** When set, every other loop POSTs this body: a request that cannot be retried once sent. */
  postBody?: Buffer;
}

/**
 * Keep-alive load like a real client: `concurrency` loops, each sending its next request as soon as the
 * last one ended. A request fails on any transport error or a status other than 200. Bounded in time and
 * in count. Responses are JSON with a `backend` field, counted per backend.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const result: LoadResult = { ok: 0, failed: 0, failures: [], byBackend: new Map() };
  const deadline = Date.now() + opts.durationMs;
  let started = 0;
  const loop = async (_: unknown, index: number): Promise<void> => {
    const body = index % 2 === 1 ? opts.postBody : undefined;
    while (Date.now() < deadline && started < opts.maxRequests && opts.stopWhen?.() !== true) {
      started += 1;
      const outcome = await getOnce(opts.url, agent, {}, body);
      if (outcome.status === 200) {
        result.ok += 1;
        result.byBackend.set(outcome.backend, (result.byBackend.get(outcome.backend) ?? 0) + 1);
      } else {
        result.failed += 1;
        if (result.failures.length < 5)
          result.failures.push(outcome.error ?? `status ${outcome.status}: ${outcome.body}`);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, loop));
  agent.destroy();
  return result;
}

interface Outcome {
  status: number;
  backend: string;
  body: string;
  error?: string;
}

export function getOnce(
  url: string,
  agent?: Agent,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const method = body === undefined ? 'GET' : 'POST';
    const req = request(url, { agent, headers, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => resolve({ status: 0, backend: '', body: '', error: error.message }));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let backend = '';
        try {
          const named = (JSON.parse(body) as { backend?: unknown }).backend;
          backend = typeof named === 'string' ? named : '';
        } catch {
          // Not one of the test backends' JSON answers (e.g. a router 503).
        }
        resolve({ status: res.statusCode ?? 0, backend, body });
      });
    });
    req.on('error', (error) => resolve({ status: 0, backend: '', body: '', error: error.message }));
    req.end(body);
  });
}
