import type { Command } from 'commander';
import type { LogLine, LogsResponse } from '../../api/types.js';
import { clientOf, envQuery } from '../context.js';
import { onInterrupt } from '../interrupt.js';
import { printJson, printJsonLine } from '../json-output.js';

export interface LogsOptions {
  env?: string;
  lines: number;
  follow?: boolean;
  json?: boolean;
}

/**
 * ferry logs APP: its instances' recent lines, or (-f) those and then new ones as they come, of
 * the instances started later too (a deployment's new release): each with the time the daemon
 * read it (blank for the recent lines, written without a time), the host (on enrolled hosts), the
 * instance and its version.
 */
export async function logs(app: string, opts: LogsOptions, command: Command): Promise<void> {
  const client = await clientOf(command);
  const query = [envQuery(opts.env), `lines=${opts.lines}`].filter(Boolean).join('&');
  const path = `/v1/apps/${encodeURIComponent(app)}/logs?${query}`;
  if (!opts.follow) {
    const response = await client.get<LogsResponse>(path);
    if (opts.json) printJson(response);
    else for (const l of response.lines) process.stdout.write(`${hostOf(l)}${l.instance} | ${l.line}\n`);
    return;
  }
  const print = (l: LogLine) =>
    opts.json
      ? printJsonLine(l)
      : process.stdout.write(`${timeOf(l.at)} ${hostOf(l)}${l.instance} ${l.version} | ${l.line}\n`);
  const interrupt = onInterrupt();
  try {
    for await (const line of client.stream<LogLine>(`${path}&follow=1`, interrupt.signal)) print(line);
  } catch (error) {
    if (!interrupt.signal.aborted) throw error;
  } finally {
    interrupt.dispose();
  }
}

/** The host a line comes from, before its instance (an environment on enrolled hosts). */
function hostOf(l: LogLine): string {
  return l.host !== undefined ? `${l.host} ` : '';
}

/** ISO 8601 as everywhere else in Ferry's output; as wide, blank, when the line has no time. */
function timeOf(at: number | undefined): string {
  return at === undefined ? ' '.repeat(24) : new Date(at).toISOString();
}
