import type { Command } from 'commander';
import type {
  DeploymentDetailResponse,
  HistoryResponse,
  LogsResponse,
  StatusResponse,
} from '../../api/types.js';
import { clientOf, envQuery, printJson } from '../context.js';
import { renderDeploymentLine, renderEvent, renderFailure, renderHistory, renderStatus } from '../render.js';
import { renderServedReport } from '../render-report.js';
import { positiveInt } from '../args.js';

/** status, history, logs: read commands, each with --json. */
export function registerReadCommands(program: Command): void {
  program
    .command('status')
    .description('what runs: current release, instances and their health, the running or last deployment')
    .argument('[app]', 'only this app')
    .option('--env <env>', 'only this environment')
    .option('--json', 'print the API response as JSON')
    .action(async (app: string | undefined, opts: { env?: string; json?: boolean }, command: Command) => {
      const params = [app ? `app=${encodeURIComponent(app)}` : '', envQuery(opts.env)]
        .filter(Boolean)
        .join('&');
      const status = await clientOf(command).get<StatusResponse>(`/v1/status${params ? `?${params}` : ''}`);
      if (opts.json) printJson(status);
      else process.stdout.write(`${renderStatus(status)}\n`);
    });

  program
    .command('history')
    .description("an app's deployments (with failure evidence) and its release ledger")
    .argument('<app>')
    .option('--env <env>', 'environment (default: the first one)')
    .option('--limit <n>', 'how many deployments', positiveInt('--limit'), 20)
    .option('--json', 'print the API response as JSON')
    .action(async (app: string, opts: { env?: string; limit: number; json?: boolean }, command: Command) => {
      const query = [envQuery(opts.env), `limit=${opts.limit}`].filter(Boolean).join('&');
      const history = await clientOf(command).get<HistoryResponse>(
        `/v1/apps/${encodeURIComponent(app)}/history?${query}`,
      );
      if (opts.json) printJson(history);
      else process.stdout.write(`${renderHistory(history)}\n`);
    });

  program
    .command('show')
    .description('one deployment: its state, failure evidence and full event log')
    .argument('<deployment>', 'the deployment id (from status or history)')
    .option('--json', 'print the API response as JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const detail = await clientOf(command).get<DeploymentDetailResponse>(
        `/v1/deployments/${encodeURIComponent(id)}`,
      );
      if (opts.json) return printJson(detail);
      const lines = [
        renderDeploymentLine(detail.deployment),
        ...renderFailure(detail.deployment),
        ...renderServedReport(detail.deployment),
        '',
        'events:',
      ];
      for (const event of detail.events) lines.push(`  ${renderEvent(event)}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  program
    .command('logs')
    .description("the app's instance logs (stdout and stderr)")
    .argument('<app>')
    .option('--env <env>', 'environment (default: the first one)')
    .option('-n, --lines <n>', 'how many recent lines per instance', positiveInt('--lines'), 100)
    .option('-f, --follow', 'keep printing new lines')
    .option('--json', 'print JSON lines')
    .action(
      async (
        app: string,
        opts: { env?: string; lines: number; follow?: boolean; json?: boolean },
        command: Command,
      ) => {
        const client = clientOf(command);
        const query = [envQuery(opts.env), `lines=${opts.lines}`].filter(Boolean).join('&');
        const print = (l: LogsResponse['lines'][number]) =>
          process.stdout.write(opts.json ? `${JSON.stringify(l)}\n` : `${l.instance} | ${l.line}\n`);
        if (!opts.follow) {
          const logs = await client.get<LogsResponse>(`/v1/apps/${encodeURIComponent(app)}/logs?${query}`);
          if (opts.json) printJson(logs);
          else logs.lines.forEach(print);
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
      },
    );
}
