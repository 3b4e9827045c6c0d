import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { FerryConfig } from '../../config/types.js';
import { parseConfig } from '../../config/load.js';
import { LOG_REDACTION, type Logger } from '../../lib/logger.js';
import type { IntakeOutcome, ReleaseCandidate, ReleaseIntake } from '../../releases/release.js';

/** An intake that records what it is offered (and can be made to fail). */
export class RecordingIntake implements ReleaseIntake {
  readonly offers: ReleaseCandidate[] = [];
  failWith: Error | null = null;
  /** Only offers of these versions fail (all do when empty). */
  readonly failOnly = new Set<string>();

  offer(candidate: ReleaseCandidate): Promise<readonly IntakeOutcome[]> {
    if (this.failWith !== null && (this.failOnly.size === 0 || this.failOnly.has(candidate.version)))
      return Promise.reject(this.failWith);
    this.offers.push(candidate);
    return Promise.resolve([{ env: 'production', action: 'waiting', reason: null, deployment: null }]);
  }

  versions(): string[] {
    return this.offers.map((o) => o.version);
  }
}

/** A logger with Ferry's redaction whose lines (JSON) are kept for the test to read. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino(
    { level: 'debug', redact: LOG_REDACTION },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    }),
  );
  return { logger, lines };
}

/** A ferry.yaml with one app `hello` and the given `sources:` block (indented as under the app). */
export function configWithSources(
  sources: string,
  opts: { dir: string; env?: NodeJS.ProcessEnv },
): FerryConfig {
  return parseConfig(
    `
apps:
  hello:
    artifact: { url: "dist/hello-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    listen: 8080
${sources}`,
    { configPath: `${opts.dir}/ferry.yaml`, env: { FERRY_HOME: opts.dir, ...opts.env } },
  );
}
