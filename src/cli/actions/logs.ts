import type { Command } from 'commander';
import type { LogsResponse } from '../../api/types.js';
import { clientOf, envQuery } from '../context.js';
import { printJson, printJsonLine } from '../json-output.js';

export interface LogsOptions {
  env?: string;
  lines: number;
  follow?: boolean;
  json?: boolean;
}

/** ferry logs APP: its instances' recent lines, or (-f) those as they come. */
export async function logs(app: string, opts: LogsOptions, command: Command): Promise<void> {
  const client = await clientOf(command);
  const query = [envQuery(opts.env), `lines=${opts.lines}`].filter(Boolean).join('&');
  const print = (l: LogsResponse['lines'][number]) =>
    opts.json ? printJsonLine(l) : process.stdout.write(`${l.instance} | ${l.line}\n`);
  if (!opts.follow) {
    const response = await client.get<LogsResponse>(`/v1/apps/${encodeURIComponent(app)}/logs?${query}`);
    if (opts.json) printJson(response);
    else response.lines.forEach(print);
    return;
  }
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  try {
    for await (const line of client.stream<LogsResponse['lines'][number]>(
      `/v1/apps/${encodeURIComponent(app)}/logs?${query}&follow=1`,
      abort.signal,
    ))
      print(line);
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  }
}
