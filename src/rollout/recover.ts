import { removalCandidates, waitingTargets } from './batches.js';
import type { Draft } from './draft.js';
import type { PendingCall } from './types.js';
import type { ControllerQuestion } from './events.js';

/**
 * After a restart of the runtime, whatever it may not have done goes out again: every target's
 * assignment (the hosts' desired state is rebuilt whole; assigning is idempotent) and every pending
 * question, with its id and its original deadline.
 */
export function recover(d: Draft): void {
  d.retellEveryTarget();
  for (const call of d.calls) {
    const question = questionOf(d, call);
    if (question !== null) d.emit({ type: 'ask-controller', question });
  }
  d.record({ kind: 'recovered' });
}

function questionOf(d: Draft, call: PendingCall): ControllerQuestion | null {
  const s = d.s;
  const base = { id: call.id, app: s.app, env: s.env, deadline: call.deadline };
  const batch = s.batch;
  switch (call.controller) {
    case 'selection': {
      const version = s.rolling!;
      const replace = d.options.mode === 'replace';
      return {
        ...base,
        controller: 'selection',
        version,
        batch: s.batches + 1,
        count: call.count ?? 0,
        mode: d.options.mode,
        candidates: replace ? [] : waitingTargets(d, version).map((t) => t.name),
      };
    }
    case 'approval':
      return {
        ...base,
        controller: 'approval',
        version: s.rolling!,
        at: s.gate?.kind === 'approval' ? s.gate.at : 'start',
      };
    case 'target-monitor': {
      const i = d.find(call.target ?? '');
      if (i < 0) return null;
      return { ...base, controller: 'target-monitor', version: d.at(i).assigned ?? '', target: d.at(i).name };
    }
    case 'fleet-monitor':
      if (batch === null) return null;
      return {
        ...base,
        controller: 'fleet-monitor',
        version: batch.version,
        purpose: s.gate?.kind === 'analysis' ? 'canary' : 'batch',
        batch: batch.index,
        targets: batch.targets,
      };
    case 'removal':
      if (batch === null) return null;
      return {
        ...base,
        controller: 'removal',
        version: batch.version,
        count: call.count ?? 0,
        candidates: removalCandidates(d, batch).map((t) => t.name),
      };
  }
}
