import { FerryError } from '../../errors/ferry-error.js';
import { hostDesiredStateSchema, type HostDesiredState } from '../../protocol/desired-state.js';
import { messageProblems } from '../../protocol/problems.js';
import type { KvEntry, KvStore } from '../../store/kv/kv.js';
import type {
  DesiredChange,
  DesiredRead,
  DesiredStateDraft,
  DesiredStates,
  DesiredWatch,
} from './desired-states.js';

/** The key of a host's desired state: `/hosts/<id>/desired`, the id percent-encoded. */
export function desiredStateKey(host: string): string {
  return `/hosts/${encodeURIComponent(host)}/desired`;
}

/**
 * Desired states as keys of the revisioned store. The value is the document's JSON without its
 * host and revision: the key names the host, and the revision is the key's modRevision, so it can
 * never disagree with the store.
 */
export class KvDesiredStates implements DesiredStates {
  constructor(private readonly kv: KvStore) {}

  async get(host: string): Promise<DesiredRead> {
    // The store's revision first: a write after it is seen by a watch from it, even when this
    // get already saw that write too (the watcher skips what it has).
    const revision = await this.kv.revision();
    const entry = await this.kv.get(desiredStateKey(host));
    return { doc: entry === undefined ? null : toDoc(host, entry.value, entry.modRevision), revision };
  }

  async put(
    host: string,
    draft: DesiredStateDraft,
    options: { ifRevision?: number } = {},
  ): Promise<HostDesiredState | null> {
    const value = toValue(host, draft);
    const key = desiredStateKey(host);
    if (options.ifRevision === undefined) return toDoc(host, value, await this.kv.put(key, value));
    const result = await this.kv.txn({
      compare: [{ key, modRevision: options.ifRevision }],
      success: [{ type: 'put', key, value }],
    });
    return result.succeeded ? toDoc(host, value, result.revision) : null;
  }

  watch(
    host: string,
    fromRevision: number,
    listener: (change: DesiredChange) => void,
    onError: (error: Error) => void,
  ): DesiredWatch {
    const key = desiredStateKey(host);
    let ended = false;
    const watch = this.kv.watch(
      key,
      fromRevision,
      (events) => {
        for (const event of events) {
          // A prefix watch: `/hosts/a/desired` is also the start of longer keys.
          if (ended || event.key !== key) continue;
          try {
            const doc = event.type === 'put' ? toDoc(host, event.value ?? '', event.modRevision) : null;
            listener({ doc, revision: event.modRevision });
          } catch (error) {
            ended = true;
            watch.cancel();
            onError(error as Error);
          }
        }
      },
      (error) => {
        ended = true;
        onError(error);
      },
    );
    return {
      cancel: () => {
        ended = true;
        watch.cancel();
      },
    };
  }
}

function toValue(host: string, draft: DesiredStateDraft): string {
  // A full document may be passed: its host and revision are the store's to give.
  const { host: _host, revision: _revision, ...body } = draft as Partial<HostDesiredState>;
  const checked = hostDesiredStateSchema.safeParse({ ...body, host, revision: 0 });
  if (!checked.success)
    throw new FerryError(
      'FERRY_E_INTERNAL',
      `the desired state of host ${JSON.stringify(host)} is not valid: ${messageProblems(checked.error, 'desired').join('; ')}`,
      { where: desiredStateKey(host) },
    );
  const { host: _h, revision: _r, ...stored } = checked.data;
  return JSON.stringify(stored);
}

function toDoc(host: string, value: KvEntry['value'], revision: number): HostDesiredState {
  let body: unknown;
  try {
    body = JSON.parse(value);
  } catch {
    body = null;
  }
  const checked = hostDesiredStateSchema.safeParse(
    typeof body === 'object' && body !== null ? { ...body, host, revision } : body,
  );
  if (!checked.success)
    throw new FerryError(
      'FERRY_E_STORE',
      `the store holds a desired state of host ${JSON.stringify(host)} that is not valid: ${messageProblems(checked.error, 'desired').join('; ')}`,
      { where: desiredStateKey(host) },
    );
  return checked.data;
}
