import type { LogLine } from '../../api/types.js';
import { messageOf } from '../../errors/ferry-error.js';
import { sleep, type Clock } from '../../lib/clock.js';
import type { HostTask } from '../../protocol/desired-state.js';
import type { TaskReport } from '../../protocol/report.js';

/** How long a host that answered and had nothing more waits before it is asked again. */
export const FOLLOW_POLL_MS = 1_000;
/** How often the hosts that may run the app are listed again (one enrolled or deployed to since). */
export const FOLLOW_RELIST_MS = 5_000;
/** The longest wait before a host that did not answer is asked again. */
const FOLLOW_BACKOFF_MAX_MS = 30_000;

/** A `tail-logs` task's cursor: per instance, where its log was read up to. */
export type LogCursor = NonNullable<Extract<HostTask, { type: 'tail-logs' }>['after']>;
export type LogsAnswer = NonNullable<TaskReport['logs']>;

/** A host a follow reads: its id, and the name its lines carry (none: the server's own host). */
export interface FollowedHost {
  readonly id: string;
  readonly name?: string;
}

export interface LogFollowDeps {
  readonly clock: Clock;
  /** The hosts that may run the app now (read again every relistMs). */
  readonly hosts: () => Promise<readonly FollowedHost[]>;
  /**
   * Asks a host's agent for the app's log lines (a `tail-logs` task): without a cursor the last
   * lines, with one the lines after it. Null when the host runs none of the app.
   */
  readonly ask: (host: string, after: LogCursor | undefined) => Promise<LogsAnswer | null>;
  readonly pollMs?: number;
  readonly relistMs?: number;
}

export interface LogFollow {
  /** The follow ends when it aborts (the client went away). */
  readonly signal: AbortSignal;
  readonly send: (line: LogLine) => void;
}

/**
 * `ferry logs -f` through the hosts' agents: each host that may run the app is asked for the last
 * lines of its instances, then again and again for the lines after where its last answer ended
 * (at once while it has more, else after pollMs). Instances started since come from their first
 * line, as does every instance of a host listed later (enrolled or deployed to since the follow
 * began). A host that does not answer gets one line saying so and is asked again with backoff; it
 * never ends the follow for the others. Resolves once the signal aborts; never rejects.
 */
export async function followLogs(deps: LogFollowDeps, follow: LogFollow): Promise<void> {
  const { clock } = deps;
  const { signal } = follow;
  const followed = new Map<string, AbortController>();
  const loops = new Set<Promise<void>>();
  let first = true;
  while (!signal.aborted) {
    // A failed listing keeps the hosts followed; the next one may do better.
    const hosts = await deps.hosts().catch(() => null);
    if (hosts !== null && !signal.aborted) {
      const listed = new Set(hosts.map((h) => h.id));
      for (const [id, stop] of followed)
        if (!listed.has(id)) {
          stop.abort();
          followed.delete(id);
        }
      for (const host of hosts) {
        if (followed.has(host.id)) continue;
        const stop = new AbortController();
        followed.set(host.id, stop);
        const loop = followHost(deps, host, {
          from: first ? 'tail' : 'start',
          signal: AbortSignal.any([signal, stop.signal]),
          send: follow.send,
        }).finally(() => loops.delete(loop));
        loops.add(loop);
      }
      first = false;
    }
    await sleep(clock, deps.relistMs ?? FOLLOW_RELIST_MS, signal).catch(() => undefined);
  }
  await Promise.all(loops);
}

/** One host's part of a follow: its answers in turn, each asked from where the last one ended. */
async function followHost(
  deps: LogFollowDeps,
  host: FollowedHost,
  opts: {
    readonly from: 'tail' | 'start';
    readonly signal: AbortSignal;
    readonly send: (line: LogLine) => void;
  },
): Promise<void> {
  const { clock } = deps;
  const { signal } = opts;
  const pollMs = deps.pollMs ?? FOLLOW_POLL_MS;
  const tag = host.name !== undefined ? { host: host.name } : {};
  const say = (line: string) => opts.send({ ...tag, instance: '-', version: '-', line, at: clock.now() });
  const wait = (ms: number) => sleep(clock, ms, signal).catch(() => undefined);
  // Undefined: the first answer has each instance's last lines (and says where they end).
  let cursor: LogCursor | undefined = opts.from === 'tail' ? undefined : [];
  let failures = 0;
  while (!signal.aborted) {
    let answer: LogsAnswer | null;
    try {
      answer = await deps.ask(host.id, cursor);
    } catch (error) {
      if (signal.aborted) return;
      if (failures === 0) say(`(no answer: ${messageOf(error)}; asking again)`);
      failures++;
      await wait(Math.min(pollMs * 2 ** (failures - 1), FOLLOW_BACKOFF_MAX_MS));
      continue;
    }
    if (signal.aborted) return;
    if (failures > 0) say('(answering again)');
    failures = 0;
    if (answer === null) {
      // It runs none of the app yet: what it starts later is read from its first line.
      cursor ??= [];
      await wait(pollMs);
      continue;
    }
    // The recent lines carry no time (an instance writes none); new ones the time they were read.
    const at = cursor === undefined ? {} : { at: clock.now() };
    for (const entry of answer)
      for (const line of entry.lines)
        opts.send({ ...tag, instance: entry.instance, version: entry.version, line, ...at });
    if (answer.some((entry) => entry.end === undefined)) {
      say(
        '(its agent cannot follow logs: it runs an older Ferry; ferry logs without -f shows its last lines)',
      );
      return;
    }
    cursor = answer.map((entry) => ({
      instance: entry.instance,
      version: entry.version,
      offset: entry.end!,
    }));
    if (!answer.some((entry) => entry.more === true)) await wait(pollMs);
  }
}
