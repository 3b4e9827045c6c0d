import http from 'node:http';

export interface LoadReport {
  requests: number;
  failures: number;
  /** Responses per X-Version header. */
  versions: Record<string, number>;
  /** The first few failures, for the assertion message. */
  samples: string[];
  durationMs: number;
}

/**
 * Continuous keep-alive load on a URL from `connections` parallel clients, until stop() or the
 * bounds (maxRequests, maxMs). A failure is a non-2xx status or a connection error.
 */
export function startLoad(
  url: string,
  opts: { connections?: number; maxRequests?: number; maxMs?: number } = {},
) {
  const connections = opts.connections ?? 8;
  const maxRequests = opts.maxRequests ?? 5_000_000;
  const maxMs = opts.maxMs ?? 20 * 60_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const report: LoadReport = { requests: 0, failures: 0, versions: {}, samples: [], durationMs: 0 };
  const started = Date.now();
  let stopping = false;
  const fail = (what: string) => {
    report.failures++;
    if (report.samples.length < 10) report.samples.push(`${new Date().toISOString()} ${what}`);
  };
  const once = () =>
    new Promise<void>((resolve) => {
      const req = http.get(url, { agent }, (res) => {
        const version = String(res.headers['x-version'] ?? 'none');
        res.resume();
        res.on('end', () => {
          report.requests++;
          report.versions[version] = (report.versions[version] ?? 0) + 1;
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300)
            fail(`HTTP ${res.statusCode} from ${version}`);
          resolve();
        });
        res.on('error', (error) => {
          report.requests++;
          fail(`response error ${error.message}`);
          resolve();
        });
      });
      req.on('error', (error) => {
        report.requests++;
        fail(`request error ${error.message}`);
        resolve();
      });
    });
  const worker = async () => {
    while (!stopping && report.requests < maxRequests && Date.now() - started < maxMs) await once();
  };
  const workers = Promise.all(Array.from({ length: connections }, worker));
  return {
    report,
    async stop(): Promise<LoadReport> {
      stopping = true;
      await workers;
      agent.destroy();
      report.durationMs = Date.now() - started;
      return report;
    },
  };
}
