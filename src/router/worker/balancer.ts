/**
 * Backend choice per request. Pure apart from the round-robin state it carries in the candidates
 * (currentWeight) and in the cursor, so every rule here is testable without sockets.
 */

export interface Candidate {
  readonly weight: number;
  readonly healthy: boolean;
  readonly ejectedUntil: number | null;
  /** Smooth weighted round-robin state (nginx's algorithm); starts at 0. */
  currentWeight: number;
}

/** Round-robin position among equal candidates (weight-0 fallbacks, panic mode). */
export interface Cursor {
  next: number;
}

/**
 * Chooses the backend for one request, in tiers:
 * 1. smooth weighted round-robin among healthy, weight > 0, not ejected;
 * 2. else healthy weight-0 backends that are not ejected (e.g. the old release during a switch);
 * 3. else panic mode: healthy backends even though ejected, since passive health may be wrong and
 *    sending to a suspect backend beats failing every request.
 * An unhealthy backend is never chosen. `excluded` holds backends that already failed this request.
 * Returns undefined when nothing is usable: the caller holds the request.
 */
export function pickBackend<T extends Candidate>(
  backends: readonly T[],
  now: number,
  cursor: Cursor,
  excluded?: ReadonlySet<T>,
): T | undefined {
  let best: T | undefined;
  let total = 0;
  for (const backend of backends) {
    if (!backend.healthy || backend.weight <= 0 || isEjected(backend, now) || excluded?.has(backend))
      continue;
    backend.currentWeight += backend.weight;
    total += backend.weight;
    if (best === undefined || backend.currentWeight > best.currentWeight) best = backend;
  }
  if (best !== undefined) {
    best.currentWeight -= total;
    return best;
  }
  return (
    pickRoundRobin(backends, cursor, (b) => b.weight === 0 && !isEjected(b, now) && !excluded?.has(b)) ??
    pickRoundRobin(backends, cursor, (b) => b.weight > 0 && !excluded?.has(b)) ??
    pickRoundRobin(backends, cursor, (b) => !excluded?.has(b))
  );
}

/** True when the backend could be chosen by tier 1 or 2, ignoring passive health. */
export function isServing<T extends Candidate>(backend: T, all: readonly T[]): boolean {
  if (!backend.healthy) return false;
  if (backend.weight > 0) return true;
  return !all.some((other) => other.healthy && other.weight > 0);
}

export function isEjected(candidate: Candidate, now: number): boolean {
  return candidate.ejectedUntil !== null && now < candidate.ejectedUntil;
}

function pickRoundRobin<T extends Candidate>(
  backends: readonly T[],
  cursor: Cursor,
  accept: (backend: T) => boolean,
): T | undefined {
  const count = backends.length;
  for (let i = 0; i < count; i++) {
    const index = (cursor.next + i) % count;
    const backend = backends[index];
    if (backend !== undefined && backend.healthy && accept(backend)) {
      cursor.next = (index + 1) % count;
      return backend;
    }
  }
  return undefined;
}
