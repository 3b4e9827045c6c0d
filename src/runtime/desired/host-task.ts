import { randomUUID } from 'node:crypto';
import { knownErrorCode } from '../../errors/catalog.js';
import { FerryError } from '../../errors/ferry-error.js';
import type { HostTask } from '../../protocol/desired-state.js';
import type { TaskReport } from '../../protocol/report.js';
import type { HostLink } from './host-link.js';
import { withoutTask, withTask } from './edits.js';

type TaskWork = HostTask extends infer T ? (T extends HostTask ? Omit<T, 'id'> : never) : never;

/**
 * Work a host does once and acknowledges (a hook run, pruning): put into the app's desired state
 * under a fresh id, awaited in the host's reports, then taken out again. Rejects with the host's
 * failure (its catalog code, or FERRY_E_INTERNAL for one this version lacks), or FERRY_E_HOST_TIMEOUT.
 */
export async function runHostTask(
  link: HostLink,
  where: { host: string; app: string; env: string },
  work: TaskWork,
  opts: { what: string; timeoutMs: number; idPrefix: string },
): Promise<TaskReport> {
  const task: HostTask = { ...work, id: `${opts.idPrefix}.${randomUUID()}` };
  const { host, app, env } = where;
  const revision = await link.edit(host, app, env, (doc) => withTask(doc, task));
  try {
    const report = await link.until(host, app, env, {
      revision,
      what: opts.what,
      timeoutMs: opts.timeoutMs,
      accept: (r) => r.tasks.some((t) => t.id === task.id && t.state !== 'running'),
    });
    const outcome = report.tasks.find((t) => t.id === task.id)!;
    if (outcome.state === 'failed') {
      const failure = outcome.failure ?? { code: 'FERRY_E_INTERNAL', message: `${opts.what} failed` };
      throw new FerryError(knownErrorCode(failure.code), failure.message);
    }
    return outcome;
  } finally {
    await link.edit(host, app, env, (doc) => withoutTask(doc, task.id)).catch(() => undefined);
  }
}
