import { formatDuration } from '../lib/duration.js';
import { dropCall, findCall } from './ask.js';
import { openNextStage, removalCandidates, startBatch, waitingTargets } from './batches.js';
import { compareNames, type Draft } from './draft.js';
import { failTarget } from './judge.js';
import { beginReturn, failRelease } from './lifecycle.js';
import type { PendingCall, RolloutTarget } from './types.js';
import type { ControllerAnswer } from './events.js';

/**
 * Controllers' answers, failures and silences. A controller never blocks a rollout for ever: one
 * that errors, answers nonsense or does not answer by its deadline fails its step: the target for a
 * target monitor, the release for a fleet monitor (it rolls back), the rollout for an approval (as
 * denied) and for a selection or a removal (every target returns to last known good; the release is
 * not judged).
 */
export function answerCall(d: Draft, id: string, answer: ControllerAnswer): void {
  const call = findCall(d, id);
  if (call === undefined) {
    d.record({
      kind: 'answer-ignored',
      id,
      reason: 'no call of this id is pending (answered, timed out or moot)',
    });
    return;
  }
  if (answer.controller !== call.controller) {
    failCall(d, call, `answered as a ${answer.controller} controller to a ${call.controller} question`);
    return;
  }
  switch (answer.controller) {
    case 'selection':
      return selected(d, call, answer.targets);
    case 'removal':
      return removed(d, call, answer.targets);
    case 'approval': {
      const by = answer.by ?? 'the approval controller';
      if (!answer.approved) {
        dropCall(d, call.id);
        d.record({ kind: 'controller-answered', controller: 'approval', id, outcome: `denied by ${by}` });
        beginReturn(d, 'denied', `denied by ${by}${answer.reason ? `: ${answer.reason}` : ''}`);
        return;
      }
      dropCall(d, call.id);
      d.record({ kind: 'controller-answered', controller: 'approval', id, outcome: `approved by ${by}` });
      const gate = d.s.gate;
      if (gate?.kind === 'approval' && gate.at === 'after-canary') openNextStage(d, 'approval');
      else d.s.gate = null;
      return;
    }
    case 'target-monitor':
    case 'fleet-monitor': {
      dropCall(d, call.id);
      const outcome = answer.reason ? `${answer.verdict}: ${answer.reason}` : answer.verdict;
      d.record({ kind: 'controller-answered', controller: call.controller, id, outcome });
      if (answer.verdict === 'pass') passed(d, call);
      else
        verdictFailed(
          d,
          call,
          `the ${call.controller} says it failed${answer.reason ? `: ${answer.reason}` : ''}`,
        );
      return;
    }
  }
}

/** The runtime could not get an answer (connection refused, an HTTP error, an unreadable body). */
export function callFailed(d: Draft, id: string, error: string): void {
  const call = findCall(d, id);
  if (call === undefined) {
    d.record({
      kind: 'answer-ignored',
      id,
      reason: 'no call of this id is pending (answered, timed out or moot)',
    });
    return;
  }
  failCall(d, call, error);
}

/** Calls past their deadline fail (the time is in the state: a restart does not extend it). */
export function expireCalls(d: Draft): void {
  if (!d.calls.some((c) => d.now > c.deadline)) return;
  const late = d.calls.filter((c) => d.now > c.deadline);
  d.calls = d.calls.filter((c) => d.now <= c.deadline);
  // Target monitors first (each fails its target only), then the gate's call (one at most; failing
  // it may make the others moot).
  const ordered = [
    ...late.filter((c) => c.controller === 'target-monitor'),
    ...late.filter((c) => c.controller !== 'target-monitor'),
  ];
  for (const call of ordered) {
    if (call.controller !== 'target-monitor' && !isGateCall(d, call)) continue;
    failCall(d, call, `no answer within ${formatDuration(call.deadline - call.askedAt)}`, true);
  }
}

/** The call the rollout's gate waits for (a return or a new rollout makes the others moot). */
function isGateCall(d: Draft, call: PendingCall): boolean {
  const gate = d.s.gate;
  return gate !== null && 'call' in gate && gate.call === call.id;
}

function failCall(d: Draft, call: PendingCall, reason: string, dropped = false): void {
  if (!dropped) dropCall(d, call.id);
  d.record({ kind: 'controller-failed', controller: call.controller, id: call.id, reason });
  const message = `the ${call.controller} controller failed: ${reason}`;
  switch (call.controller) {
    case 'selection':
    case 'removal':
      return beginReturn(d, 'controller', message);
    case 'approval':
      return beginReturn(d, 'denied', `${message} (taken as a denial)`);
    case 'target-monitor':
    case 'fleet-monitor':
      return verdictFailed(d, call, message);
  }
}

function passed(d: Draft, call: PendingCall): void {
  if (call.controller === 'target-monitor') {
    const i = d.find(call.target ?? '');
    if (i >= 0 && d.at(i).status === 'verifying') d.update(i, { status: 'settled' });
    return;
  }
  const gate = d.s.gate;
  if (gate?.kind === 'analysis' || gate?.kind === 'fleet-monitor') openNextStage(d, gate.kind);
}

function verdictFailed(d: Draft, call: PendingCall, reason: string): void {
  if (call.controller === 'target-monitor') {
    const i = d.find(call.target ?? '');
    if (i >= 0 && d.at(i).status === 'verifying') failTarget(d, i, reason);
    return;
  }
  failRelease(d, reason);
}

function selected(d: Draft, call: PendingCall, names: readonly string[]): void {
  const version = d.s.rolling!;
  const replace = d.options.mode === 'replace';
  const problem = replace
    ? newNamesProblem(d, call, names)
    : pickProblem(call, names, waitingTargets(d, version));
  if (problem !== null) return failCall(d, call, problem);
  dropCall(d, call.id);
  d.record({
    kind: 'controller-answered',
    controller: 'selection',
    id: call.id,
    outcome: `${names.length} target(s)`,
  });
  d.s.gate = null;
  if (replace) {
    const added = [...names].sort(compareNames);
    d.insert(
      added.map((name) => ({
        name,
        labels: {},
        reported: null,
        healthy: false,
        message: null,
        addedAt: d.now,
        assigned: null,
        assignedAt: null,
        healthySince: null,
        status: 'unassigned',
        failure: null,
        batch: null,
      })),
      added.map(() => null),
    );
    for (const name of names) d.assign(d.find(name), version);
    d.record({ kind: 'targets-added', targets: [...names], count: names.length, version });
  }
  startBatch(d, version, [...names], replace);
}

function removed(d: Draft, call: PendingCall, names: readonly string[]): void {
  const b = d.s.batch;
  if (b === null || d.s.gate?.kind !== 'removal') return failCall(d, call, 'no batch waits for a removal');
  const problem = pickProblem(call, names, removalCandidates(d, b));
  if (problem !== null) return failCall(d, call, problem);
  dropCall(d, call.id);
  d.record({
    kind: 'controller-answered',
    controller: 'removal',
    id: call.id,
    outcome: `${names.length} target(s)`,
  });
  for (const name of names) {
    const i = d.find(name);
    d.update(i, { status: 'removed', assigned: null, assignedAt: null, healthySince: null });
    d.tell(name, null);
  }
  d.record({ kind: 'targets-removed', targets: [...names], count: names.length });
  openNextStage(d, 'removal');
}

/** What is wrong with a pick of 1..count distinct targets among the candidates; null when nothing. */
function pickProblem(
  call: PendingCall,
  names: readonly string[],
  candidates: RolloutTarget[],
): string | null {
  const count = call.count ?? 0;
  if (names.length === 0 || names.length > count)
    return `expected 1 to ${count} target name(s), got ${names.length}`;
  const allowed = new Set(candidates.map((t) => t.name));
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) return `expected distinct target names, got ${JSON.stringify(name)} twice`;
    seen.add(name);
    if (!allowed.has(name)) return `expected targets it was offered, got ${JSON.stringify(name)}`;
  }
  return null;
}

/** Replace mode: the selection names 1..count new targets, none known already. */
function newNamesProblem(d: Draft, call: PendingCall, names: readonly string[]): string | null {
  const count = call.count ?? 0;
  if (names.length === 0 || names.length > count)
    return `expected 1 to ${count} new target name(s), got ${names.length}`;
  const seen = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string' || name === '') return `expected target names, got ${JSON.stringify(name)}`;
    if (seen.has(name)) return `expected distinct target names, got ${JSON.stringify(name)} twice`;
    seen.add(name);
    if (d.find(name) >= 0) return `expected new targets, got ${JSON.stringify(name)}, a target already`;
  }
  return null;
}
