import type { Draft } from './draft.js';
import type { ControllerKind, PendingCall, RolloutControllers } from './types.js';
import type { ControllerQuestion } from './events.js';

/** The options key of each controller. */
const OPTION_KEY: Readonly<Record<ControllerKind, keyof RolloutControllers>> = {
  selection: 'selection',
  approval: 'approval',
  'target-monitor': 'targetMonitor',
  'fleet-monitor': 'fleetMonitor',
  removal: 'removal',
};

type Question = ControllerQuestion extends infer Q
  ? Q extends ControllerQuestion
    ? Omit<Q, 'id' | 'app' | 'env' | 'deadline'>
    : never
  : never;

/**
 * Asks a controller: the question goes out as an effect, and the call waits in the state with its
 * deadline (the runtime's answer, or its failure, comes back as an event). Returns the call's id.
 */
export function ask(d: Draft, question: Question): string {
  const options = d.options.controllers[OPTION_KEY[question.controller]];
  const timeoutMs = options?.timeoutMs ?? 0;
  const id = d.nextCallId();
  const deadline = d.now + timeoutMs;
  const call: PendingCall = {
    id,
    controller: question.controller,
    askedAt: d.now,
    deadline,
    target: question.controller === 'target-monitor' ? question.target : null,
    count: question.controller === 'selection' || question.controller === 'removal' ? question.count : null,
  };
  d.calls.push(call);
  d.emit({
    type: 'ask-controller',
    question: { ...question, id, app: d.s.app, env: d.s.env, deadline } as ControllerQuestion,
  });
  d.record({ kind: 'controller-asked', controller: question.controller, id, deadline });
  return id;
}

export function findCall(d: Draft, id: string): PendingCall | undefined {
  return d.calls.find((c) => c.id === id);
}

export function dropCall(d: Draft, id: string): void {
  d.calls = d.calls.filter((c) => c.id !== id);
}

/** Forgets every pending call but the target monitors' (a new rollout or a return begins). */
export function dropGateCalls(d: Draft): void {
  d.calls = d.calls.filter((c) => c.controller === 'target-monitor');
}

export function isConfigured(d: Draft, controller: ControllerKind): boolean {
  return d.options.controllers[OPTION_KEY[controller]] !== null;
}
