import { MAX_FOLLOWED_INSTANCES, type HostTask } from '../../protocol/desired-state.js';
import { MAX_LOG_LINE_BYTES, type TaskReport } from '../../protocol/report.js';
import { readLogAfter, readLogTail } from '../../supervisor/index.js';
import type { AppHost } from '../app-host.js';

export type TailLogsTask = Extract<HostTask, { type: 'tail-logs' }>;
export type LogsAnswer = NonNullable<TaskReport['logs']>;

/** What an instance's entry weighs in a report besides its lines (its id, version, offsets, keys). */
const ENTRY_BYTES = 500;

/** What one line weighs in a report: its JSON (escapes included) and a separator. */
function lineBytes(line: string): number {
  return Buffer.byteLength(JSON.stringify(line)) + 1;
}

/** What a `tail-logs` answer weighs in a report (an estimate from above). */
export function answerBytes(answer: LogsAnswer): number {
  let bytes = 0;
  for (const entry of answer) {
    bytes += ENTRY_BYTES;
    for (const line of entry.lines) bytes += lineBytes(line);
  }
  return bytes;
}

interface LogToRead {
  readonly instance: string;
  readonly version: string;
  /** Where to read from: the last lines ('tail') or a byte offset. */
  readonly from: 'tail' | number;
  /** It no longer runs: its log is read to its end, a last line without a newline included. */
  readonly stopped: boolean;
}

/**
 * A `tail-logs` task's answer: each running instance's last lines, or (with the task's `after`) the
 * whole lines after each offset, an instance it does not name from the start of its log; one it
 * names that stopped is read to the end of its log and then left out of the answer (the follow
 * lets it go). Each entry says where its log was read up to (`end`). The answer weighs at most
 * `budgetBytes`, shared out between the instances so that a chatty one does not starve the others;
 * an entry cut short says `more`.
 */
export async function answerTailLogs(
  host: Pick<AppHost, 'describe' | 'logFileOf'>,
  task: TailLogsTask,
  budgetBytes: number,
): Promise<LogsAnswer> {
  const reads = logsToRead(host, task);
  let left = budgetBytes - reads.length * ENTRY_BYTES;
  const answer: LogsAnswer = [];
  for (const [n, read] of reads.entries()) {
    let allowance = Math.max(0, Math.floor(left / (reads.length - n)));
    const spent = allowance;
    const take = (line: string): boolean => {
      const bytes = lineBytes(line);
      if (bytes > allowance) return false;
      allowance -= bytes;
      return true;
    };
    const entry = await readOne(host, read, task.lines, take);
    left -= spent - allowance;
    if (entry !== null) answer.push(entry);
  }
  return answer;
}

/** The instances a follow names first (it keeps them when more run than it may read), then the others running. */
function logsToRead(host: Pick<AppHost, 'describe'>, task: TailLogsTask): LogToRead[] {
  const running = host.describe();
  const versions = new Map(running.map((i) => [i.id, i.version]));
  const reads: LogToRead[] = [];
  const named = new Set<string>();
  for (const { instance, version, offset } of task.after ?? []) {
    if (named.has(instance)) continue;
    named.add(instance);
    const runs = versions.get(instance);
    reads.push({ instance, version: runs ?? version, from: offset, stopped: runs === undefined });
  }
  for (const { id, version } of running)
    if (!named.has(id))
      reads.push({ instance: id, version, from: task.after === undefined ? 'tail' : 0, stopped: false });
  return reads.slice(0, MAX_FOLLOWED_INSTANCES);
}

async function readOne(
  host: Pick<AppHost, 'logFileOf'>,
  read: LogToRead,
  lines: number,
  take: (line: string) => boolean,
): Promise<LogsAnswer[number] | null> {
  const { instance, version, from, stopped } = read;
  const file = host.logFileOf(instance);
  if (file === null) return null;
  const options = { maxLineBytes: MAX_LOG_LINE_BYTES, take };
  try {
    if (from === 'tail') {
      const tail = await readLogTail(file, lines, options);
      return { instance, version, lines: tail?.lines ?? [], end: tail?.end ?? 0 };
    }
    const after = await readLogAfter(file, from, { ...options, flush: stopped });
    // A stopped instance read to its end is let go; one that runs and has no file yet waits for it.
    if (after === null) return stopped ? null : { instance, version, lines: [], end: 0 };
    if (stopped && after.lines.length === 0 && !after.more) return null;
    return { instance, version, lines: after.lines, end: after.end, ...(after.more ? { more: true } : {}) };
  } catch {
    // Unreadable now (its permissions changed under it): the next ask tries again from the same place.
    return stopped ? null : { instance, version, lines: [], end: from === 'tail' ? 0 : from };
  }
}
