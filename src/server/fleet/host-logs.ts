import type { LogLine } from '../../api/types.js';
import { messageOf } from '../../errors/ferry-error.js';
import type { Clock } from '../../lib/clock.js';
import type { Labels } from '../../lib/labels.js';
import { MAX_FOLLOWED_INSTANCES, MAX_TAIL_LINES } from '../../protocol/desired-state.js';
import type { ExchangeHostLink } from '../../runtime/desired/exchange-link.js';
import { runHostTask } from '../../runtime/desired/host-task.js';
import type { HostSummary } from '../trust/hosts.js';
import type { Trust } from '../trust/trust.js';
import { matchesLabels } from './host-selection.js';
import {
  followLogs,
  type FollowedHost,
  type LogCursor,
  type LogFollow,
  type LogsAnswer,
} from './log-follow.js';

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
  const hosts = (await selectedHosts(deps.trust, ask.selector)).filter(
    (h) => deps.link.lastReport(h.id, app, env) !== undefined,
  );
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
 * `ferry logs -f` of the app on every host the selector picks (followLogs, through each host's
 * agent): their lines carry the host's name; a host enrolled or selected later is followed too.
 */
export function followHostLogs(
  deps: {
    readonly trust: Pick<Trust, 'listHosts'>;
    readonly link: ExchangeHostLink;
    readonly clock: Clock;
  },
  ask: { readonly app: string; readonly env: string; readonly selector: Labels; readonly lines: number },
  follow: LogFollow,
): Promise<void> {
  const hosts = async () =>
    (await selectedHosts(deps.trust, ask.selector)).map((h) => ({ id: h.id, name: h.name }));
  return followAppLogs(deps, hosts, ask, follow);
}

/** The enrolled hosts (not revoked) the selector picks, by name. */
async function selectedHosts(trust: Pick<Trust, 'listHosts'>, selector: Labels): Promise<HostSummary[]> {
  return (await trust.listHosts())
    .filter((h) => !h.revoked && matchesLabels(h.labels, selector))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
  const answer = (await askAppLogs(link, ask)) ?? [];
  return answer.flatMap((i) => i.lines.map((line) => ({ instance: i.instance, version: i.version, line })));
}

/**
 * `ferry logs -f` of the app on `hosts` (followLogs), each asked through its agent as tailAppLogs
 * asks, from where its last answer ended.
 */
export function followAppLogs(
  deps: { readonly link: ExchangeHostLink; readonly clock: Clock },
  hosts: () => Promise<readonly FollowedHost[]>,
  ask: { readonly app: string; readonly env: string; readonly lines: number },
  follow: LogFollow,
): Promise<void> {
  return followLogs(
    {
      clock: deps.clock,
      hosts,
      ask: (host, after) => askAppLogs(deps.link, { ...ask, host, after }),
    },
    follow,
  );
}

/** A `tail-logs` task's answer from the host (with `after`: the lines after it); null when it runs none of the app. */
async function askAppLogs(
  link: ExchangeHostLink,
  ask: {
    readonly host: string;
    readonly app: string;
    readonly env: string;
    readonly lines: number;
    readonly after?: LogCursor | undefined;
  },
): Promise<LogsAnswer | null> {
  const { host, app, env, after } = ask;
  if (link.lastReport(host, app, env) === undefined) return null;
  const outcome = await runHostTask(
    link,
    { host, app, env },
    {
      type: 'tail-logs',
      lines: Math.min(ask.lines, MAX_TAIL_LINES),
      ...(after !== undefined ? { after: after.slice(0, MAX_FOLLOWED_INSTANCES) } : {}),
    },
    { what: 'the log lines', timeoutMs: LOGS_TIMEOUT_MS, idPrefix: 'logs' },
  );
  return outcome.logs ?? [];
}
