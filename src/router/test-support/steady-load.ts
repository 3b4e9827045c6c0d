import { Agent, request } from 'node:http';

export interface SteadyLoadReport {
  ok: number;
  failed: number;
  /** Connections refused: the failure a router crash must never cause. */
  refused: number;
  /** The first few failures, with their time, for assertion messages. */
  failures: string[];
  /** Responses per backend name (the test backends answer JSON with `backend`). */
  byBackend: Map<string, number>;
}

export interface SteadyLoad {
  readonly report: SteadyLoadReport;
  /** Resolves once `count` more requests succeeded than when called. */
  succeeded(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<SteadyLoadReport>;
}

/**
 * Load that keeps going until stopped, from `keepAlive` loops on keep-alive connections and `fresh`
 * loops that open a new connection per request (so a refused connection shows). Bounded by maxMs
 * and maxRequests. A failure is a transport error or a status other than 200.
 */
export function startSteadyLoad(
  url: string,
  opts: { keepAlive?: number; fresh?: number; maxMs?: number; maxRequests?: number; method?: string } = {},
): SteadyLoad {
  const report: SteadyLoadReport = { ok: 0, failed: 0, refused: 0, failures: [], byBackend: new Map() };
  const agent = new Agent({ keepAlive: true });
  const deadline = Date.now() + (opts.maxMs ?? 120_000);
  const maxRequests = opts.maxRequests ?? 500_000;
  let sent = 0;
  let stopping = false;
  const fail = (what: string, refused: boolean): void => {
    report.failed += 1;
    if (refused) report.refused += 1;
    if (report.failures.length < 10) report.failures.push(`${new Date().toISOString()} ${what}`);
  };
  const once = (viaAgent: boolean): Promise<void> =>
    new Promise((resolve) => {
      const req = request(url, { agent: viaAgent ? agent : false, method: opts.method ?? 'GET' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => {
          fail(`response error: ${error.message}`, false);
          resolve();
        });
        res.on('end', () => {
          if (res.statusCode === 200) {
            report.ok += 1;
            const backend = backendOf(Buffer.concat(chunks).toString('utf8'));
            report.byBackend.set(backend, (report.byBackend.get(backend) ?? 0) + 1);
          } else {
            fail(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 120)}`, false);
          }
          resolve();
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        fail(`request error: ${error.code ?? ''} ${error.message}`, error.code === 'ECONNREFUSED');
        resolve();
      });
      req.end();
    });
  const loop = async (viaAgent: boolean): Promise<void> => {
    while (!stopping && Date.now() < deadline && sent < maxRequests) {
      sent += 1;
      await once(viaAgent);
    }
  };
  const loops = Promise.all([
    ...Array.from({ length: opts.keepAlive ?? 4 }, () => loop(true)),
    ...Array.from({ length: opts.fresh ?? 4 }, () => loop(false)),
  ]);
  return {
    report,
    async succeeded(count, timeoutMs = 60_000) {
      const target = report.ok + count;
      const until = Date.now() + timeoutMs;
      while (report.ok < target) {
        if (Date.now() > until || stopping || Date.now() > deadline)
          throw new Error(
            `load: ${report.ok}/${target} succeeded in time; failures: ${report.failures.join('; ')}`,
          );
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      stopping = true;
      await loops;
      agent.destroy();
      return report;
    },
  };
}

function backendOf(body: string): string {
  try {
    const named = (JSON.parse(body) as { backend?: unknown }).backend;
    return typeof named === 'string' ? named : '';
  } catch {
    return '';
  }
}
