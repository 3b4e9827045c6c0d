import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_FOLLOWED_INSTANCES } from '../../protocol/desired-state.js';
import type { InstanceDescription } from '../app-host-views.js';
import { instanceLogFile } from '../instance-spec.js';
import { answerBytes, answerTailLogs, type LogsAnswer, type TailLogsTask } from './tail-logs.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-tail-logs-'));
  mkdirSync(path.join(dir, 'logs'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const logOf = (id: string) => instanceLogFile(dir, id);
const numbered = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix} ${i + 1}`);

/** The app's host as a `tail-logs` task reads it: its running instances, its log files (real, in dir). */
function hostRunning(instances: Array<{ id: string; version: string }>) {
  const running = new Map(instances.map((i) => [i.id, i]));
  return {
    running,
    describe: () =>
      [...running.values()].map((i) => ({ id: i.id, version: i.version }) as InstanceDescription),
    logFileOf: (id: string) => (id.includes('/') ? null : logOf(id)),
  };
}

const task = (after?: TailLogsTask['after'], lines = 100): TailLogsTask => ({
  id: 't',
  type: 'tail-logs',
  lines,
  ...(after !== undefined ? { after } : {}),
});
/** The cursor a follow sends after `answer`. */
const cursorOf = (answer: LogsAnswer): TailLogsTask['after'] =>
  answer.map((e) => ({ instance: e.instance, version: e.version, offset: e.end! }));

describe('answerTailLogs', () => {
  it('without a cursor: the last lines of each running instance and where each was read up to', async () => {
    const host = hostRunning([
      { id: 'web-1.0.0-aa', version: '1.0.0' },
      { id: 'web-1.0.0-bb', version: '1.0.0' },
    ]);
    writeFileSync(logOf('web-1.0.0-aa'), 'a1\na2\na3\nstill writ');
    writeFileSync(logOf('web-1.0.0-bb'), '');
    const answer = await answerTailLogs(host, task(undefined, 2), 128 * 1024);
    expect(answer).toEqual([
      { instance: 'web-1.0.0-aa', version: '1.0.0', lines: ['a2', 'a3'], end: 9 },
      { instance: 'web-1.0.0-bb', version: '1.0.0', lines: [], end: 0 },
    ]);
  });

  it('with a cursor: the lines after each offset, a rotated log from its start, a new instance from its first line', async () => {
    const host = hostRunning([
      { id: 'web-1.0.0-aa', version: '1.0.0' },
      { id: 'web-1.0.0-bb', version: '1.0.0' },
    ]);
    writeFileSync(logOf('web-1.0.0-aa'), 'a1\npart');
    writeFileSync(logOf('web-1.0.0-bb'), numbered('b', 50).join('\n') + '\n');
    const first = await answerTailLogs(host, task(undefined, 1), 128 * 1024);

    appendFileSync(logOf('web-1.0.0-aa'), 'ial\na2\n');
    // Copy-truncate rotation of bb: its log is now shorter than the offset.
    truncateSync(logOf('web-1.0.0-bb'), 0);
    appendFileSync(logOf('web-1.0.0-bb'), 'b after rotation\n');
    host.running.set('web-1.1.0-cc', { id: 'web-1.1.0-cc', version: '1.1.0' });
    writeFileSync(logOf('web-1.1.0-cc'), 'c listening\nc ready\n');

    const second = await answerTailLogs(host, task(cursorOf(first)), 128 * 1024);
    expect(second).toEqual([
      {
        instance: 'web-1.0.0-aa',
        version: '1.0.0',
        lines: ['partial', 'a2'],
        end: statSync(logOf('web-1.0.0-aa')).size,
      },
      { instance: 'web-1.0.0-bb', version: '1.0.0', lines: ['b after rotation'], end: 17 },
      { instance: 'web-1.1.0-cc', version: '1.1.0', lines: ['c listening', 'c ready'], end: 20 },
    ]);
    // Nothing new: every instance is named, with no lines and the same offsets.
    const third = await answerTailLogs(host, task(cursorOf(second)), 128 * 1024);
    expect(third.map((e) => [e.instance, e.lines, e.end])).toEqual(
      second.map((e) => [e.instance, [], e.end]),
    );
  });

  it('an instance that stopped is read to the end of its log (a last line without newline too), then let go', async () => {
    const host = hostRunning([{ id: 'web-1.0.0-aa', version: '1.0.0' }]);
    writeFileSync(logOf('web-1.0.0-aa'), 'listening\n');
    const first = await answerTailLogs(host, task(undefined), 128 * 1024);
    appendFileSync(logOf('web-1.0.0-aa'), 'draining\nstopped without newline');
    host.running.delete('web-1.0.0-aa');
    const last = await answerTailLogs(host, task(cursorOf(first)), 128 * 1024);
    expect(last).toEqual([
      {
        instance: 'web-1.0.0-aa',
        version: '1.0.0',
        lines: ['draining', 'stopped without newline'],
        end: statSync(logOf('web-1.0.0-aa')).size,
      },
    ]);
    expect(await answerTailLogs(host, task(cursorOf(last)), 128 * 1024)).toEqual([]);
  });

  it('reads no file for a cursor id that is not a plain file name', async () => {
    const host = hostRunning([]);
    const answer = await answerTailLogs(
      host,
      task([{ instance: '../../../etc/passwd', version: '1.0.0', offset: 0 }]),
      128 * 1024,
    );
    expect(answer).toEqual([]);
  });

  it('stays within its budget, shared between instances; what did not fit comes in the next answers, once each', async () => {
    const host = hostRunning([
      { id: 'web-1.0.0-aa', version: '1.0.0' },
      { id: 'web-1.0.0-bb', version: '1.0.0' },
    ]);
    writeFileSync(logOf('web-1.0.0-aa'), '');
    writeFileSync(logOf('web-1.0.0-bb'), '');
    let answer = await answerTailLogs(host, task(undefined), 128 * 1024);
    const chatty = numbered('a', 3_000);
    appendFileSync(logOf('web-1.0.0-aa'), chatty.join('\n') + '\n');
    appendFileSync(logOf('web-1.0.0-bb'), 'b quiet\n');
    const budget = 8 * 1024;
    const seen = new Map<string, string[]>([
      ['web-1.0.0-aa', []],
      ['web-1.0.0-bb', []],
    ]);
    let asks = 0;
    do {
      answer = await answerTailLogs(host, task(cursorOf(answer)), budget);
      expect(answerBytes(answer)).toBeLessThanOrEqual(budget);
      for (const entry of answer) seen.get(entry.instance)!.push(...entry.lines);
      // The quiet instance's line is not held behind the chatty one's.
      if (asks === 0) expect(seen.get('web-1.0.0-bb')).toEqual(['b quiet']);
      asks++;
    } while (answer.some((e) => e.more === true) && asks < 1_000);
    expect(asks).toBeGreaterThan(1);
    expect(seen.get('web-1.0.0-aa')).toEqual(chatty);
    expect(seen.get('web-1.0.0-bb')).toEqual(['b quiet']);
  });

  it(`reads at most ${MAX_FOLLOWED_INSTANCES} instances, those its cursor names first`, async () => {
    const ids = Array.from(
      { length: MAX_FOLLOWED_INSTANCES + 6 },
      (_, i) => `web-1.0.0-${String(i).padStart(3, '0')}`,
    );
    const host = hostRunning(ids.map((id) => ({ id, version: '1.0.0' })));
    const last = ids.at(-1)!;
    const answer = await answerTailLogs(
      host,
      task([{ instance: last, version: '1.0.0', offset: 0 }]),
      128 * 1024,
    );
    expect(answer).toHaveLength(MAX_FOLLOWED_INSTANCES);
    expect(answer[0]!.instance).toBe(last);
  });
});
