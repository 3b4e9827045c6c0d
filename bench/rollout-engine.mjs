#!/usr/bin/env node
// The fleet rollout engine's step time (src/rollout, built into dist/): for 1,000, 10,000 and
// 100,000 targets in the middle of a rollout (batches of 5%, a batch in flight), the median wall
// time of one step for each kind of event the runtime sends most: every target reporting (in host
// name order, as a runtime reading the agents' reports from the store gets them: etcd ranges and
// SQLite keys are sorted; and in a random order, the worst case), a tick, and the first report of
// every target (they join; median of 5). Also the size of the persisted state (JSON) and the time to serialize
// it, which the runtime pays on every step it persists. No peer: the goal is the bar, one
// step over 100,000 targets in at most 50 ms.
//   Usage: npm run build && node bench/rollout-engine.mjs [--rounds 21]
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ROOT, median } from './lib.mjs';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '21' } } });
const rounds = Number(values.rounds);

const entry = path.join(ROOT, 'dist/rollout/index.js');
if (!existsSync(entry)) throw new Error('dist/rollout/index.js is missing: run `npm run build` first');
const { createRollout, resolveRolloutOptions, step } = await import(pathToFileURL(entry).href);

const SIZES = [1_000, 10_000, 100_000];
const options = resolveRolloutOptions({ batch: { percent: 5 }, soakMs: 60_000, deadlineMs: 120_000 });

/** Times fn() once, in ms. */
function time(fn) {
  const started = performance.now();
  const out = fn();
  return [performance.now() - started, out];
}

/** Every host's report, in an order of their own (agents report as they please, not by name). */
function reportsOf(hosts, order, at) {
  // An order of their own, but the same from step to step.
  const reports = new Array(order.length);
  for (let i = 0; i < order.length; i++) {
    const name = order[i];
    reports[i] = { name, at, version: hosts.get(name), healthy: true };
  }
  return reports;
}

/** A fixed shuffle (a linear congruential generator: the same order on every run). */
function shuffled(names) {
  const out = names.slice();
  let seed = 12345;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function follow(hosts, effects) {
  for (const e of effects) if (e.type === 'assign') hosts.set(e.target, e.version);
}

const load = os.loadavg()[0].toFixed(2);
console.log(
  `rollout engine: median of ${rounds} steps, mid-rollout (batches of 5%, soak 60 s), Node ${process.version}, ${os.cpus().length} cores, load average ${load}\n`,
);
console.log(
  'targets    report, by name   report, random order   tick      join, by name   join, random order   state JSON   JSON.stringify',
);
for (const n of SIZES) {
  const hosts = new Map();
  for (let i = 0; i < n; i++) hosts.set(`host-${String(i).padStart(6, '0')}`, 'v1');
  const byName = [...hosts.keys()];
  const random = shuffled(byName);
  let now = 0;
  const empty = createRollout({ app: 'web', env: 'production', options, lkg: 'v1' }, now);
  // Every target's first report (a server starting on an empty state): a few times each way.
  const joinTimes = { byName: [], random: [] };
  let state = empty;
  for (let r = 0; r < 5; r++) {
    for (const kind of ['byName', 'random']) {
      const reports = reportsOf(hosts, kind === 'byName' ? byName : random, now);
      const [ms, joined] = time(() => step(empty, { type: 'reported', reports }, now));
      joinTimes[kind].push(ms);
      state = joined.state;
    }
  }
  let order = random;
  let out = step(state, { type: 'deploy', version: 'v2', actor: 'bench' }, now);
  state = out.state;
  follow(hosts, out.effects);
  // Warm up, and get a batch well in flight.
  for (let i = 0; i < 5; i++) {
    now += 5_000;
    out = step(state, { type: 'reported', reports: reportsOf(hosts, order, now) }, now);
    state = out.state;
    follow(hosts, out.effects);
  }
  const reportTimes = { byName: [], random: [] };
  const tickTimes = [];
  for (let r = 0; r < rounds; r++) {
    // 5 s per round: over the rounds, batches settle and the next ones get their release.
    for (const kind of ['byName', 'random']) {
      order = kind === 'byName' ? byName : random;
      now += 2_500;
      const reports = reportsOf(hosts, order, now);
      const [ms, next] = time(() => step(state, { type: 'reported', reports }, now));
      reportTimes[kind].push(ms);
      state = next.state;
      follow(hosts, next.effects);
    }
    const [tickMs, ticked] = time(() => step(state, { type: 'tick' }, now + 1));
    tickTimes.push(tickMs);
    state = ticked.state;
  }
  const [jsonMs, json] = time(() => JSON.stringify(state));
  const batches = state.batches;
  console.log(
    `${n.toLocaleString('en').padEnd(10)} ${fmt(median(reportTimes.byName)).padEnd(17)} ${fmt(median(reportTimes.random)).padEnd(22)} ${fmt(median(tickTimes)).padEnd(9)} ${fmt(median(joinTimes.byName)).padEnd(15)} ${fmt(median(joinTimes.random)).padEnd(20)} ${(json.length / 1e6).toFixed(1).padStart(6)} MB    ${fmt(jsonMs)}   (batch ${batches} reached)`,
  );
}

function fmt(ms) {
  return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}
