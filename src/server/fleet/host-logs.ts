import type { LogLine } from '../../api/types.js';
import { messageOf } from '../../errors/ferry-error.js';
import type { Labels } from '../../lib/labels.js';
import type { ExchangeHostLink } from '../../runtime/desired/exchange-link.js';
import { runHostTask } from '../../runtime/desired/host-task.js';
import type { Trust } from '../trust/trust.js';
import { matchesLabels } from './host-selection.js';

/** How long a host has to answer `ferry logs` (its agent reports within a second when idle). */
const LOGS_TIMEOUT_MS = 10_000;

/**
 * The last lines of the app's instances on every host the selector picks that runs it, asked of
 * each host's agent (a `tail-logs` task in its desired state, answered in its report), by host
 * name. A host that does not answer in time is named in the answer's lines rather than failing the
 * others.
 */
export async function tailHostLogs(
  deps: { readonly trust: Pick<Trust, 'listHosts'>; readonly link: ExchangeHostLink },
  ask: { readonly app: string; readonly env: string; readonly selector: Labels; readonly lines: number },
): Promise<LogLine[]> {
  const { app, env } = ask;
  const enrolled = await deps.trust.listHosts();
  const hosts = enrolled
    .filter((h) => !h.revoked && matchesLabels(h.labels, ask.selector))
    .filter((h) => deps.link.lastReport(h.id, app, env) !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const answers = await Promise.all(
    hosts.map(async (host): Promise<LogLine[]> => {
      try {
        const lines = await tailAppLogs(deps.link, { host: host.id, app, env, lines: ask.lines });
        return lines.map((line) => ({ host: host.name, ...line }));
      } catch (error) {
        return [{ host: host.name, instance: '-', version: '-', line: `(no answer: ${messageOf(error)})` }];
      }
    }),
  );
  return answers.flat();
}

/**
 * The last lines of the app's instances on one host, asked of its agent (a `tail-logs` task in its
 * desired state, answered in its report); none when the host runs nothing of the app. Fails when
 * the host does not answer in time.
 */
export async function tailAppLogs(
  link: ExchangeHostLink,
  ask: { readonly host: string; readonly app: string; readonly env: string; readonly lines: number },
): Promise<LogLine[]> {
  const { host, app, env, lines } = ask;
  if (link.lastReport(host, app, env) === undefined) return [];
  const outcome = await runHostTask(
    link,
    { host, app, env },
    { type: 'tail-logs', lines },
    { what: 'the last log lines', timeoutMs: LOGS_TIMEOUT_MS, idPrefix: 'logs' },
  );
  return (outcome.logs ?? []).flatMap((i) =>
    i.lines.map((line) => ({ instance: i.instance, version: i.version, line })),
  );
}
