// One worker process of bench/fleet-agents.mjs: a share of the simulated agents, each with its own
// HTTPS client pinned to the server's CA (its own connections, as a real agent on its own host has)
// and the real agent transport (dist/agent/link/http-transport.js). Each agent enrolls with the join
// token, holds a long poll for its desired state open, and reports every second with jitter.
// Driven by the parent over IPC: enroll, run, window (count from now), result (what the window
// saw), stop.
import { setMaxListeners } from 'node:events';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { HttpAgentTransport } from '../dist/agent/link/http-transport.js';
import { createServerConnections } from '../dist/agent/trust/server-connections.js';
import { fleetReport } from './fleet-report.mjs';

/** Agents that enroll at once, per worker: the server's enrollments are compare-and-swap writes. */
const ENROLL_CONCURRENCY = 4;

let agents = [];
let stopping = false;
const stop = new AbortController();
// Every request of every agent listens to it.
setMaxListeners(0, stop.signal);
let window = freshWindow();
/** Errors since the agents started (the warm-up included), beside the window's. */
let totalErrors = 0;
const totalErrorSamples = [];

process.on('message', (message) => {
  handle(message).catch((error) => process.send({ type: 'failed', error: String(error?.stack ?? error) }));
});

async function handle(message) {
  switch (message.type) {
    case 'enroll':
      return enroll(message);
    case 'run':
      return run(message);
    case 'window':
      window = freshWindow();
      return process.send({ type: 'window' });
    case 'result':
      return process.send({ type: 'result', ...window, totalErrors, totalErrorSamples });
    case 'stop':
      stopping = true;
      stop.abort(new Error('stopping'));
      for (const agent of agents) agent.connections.destroy();
      process.send({ type: 'stopped' });
      return process.disconnect();
  }
}

function freshWindow() {
  return { reports: 0, latenciesMs: [], polls: 0, errors: 0, errorSamples: [] };
}

/** Enrolls this worker's agents (or takes the credentials given) and opens their clients. */
async function enroll({ serverUrl, ca, joinToken, members }) {
  agents = members.map((member) => ({
    ...member,
    connections: createServerConnections(ca),
  }));
  const queue = [...agents];
  await Promise.all(
    Array.from({ length: ENROLL_CONCURRENCY }, async () => {
      for (let agent = queue.shift(); agent !== undefined; agent = queue.shift()) {
        if (agent.credential !== undefined) continue;
        const enrolled = await new HttpAgentTransport({
          baseUrl: serverUrl,
          credential: joinToken,
          connections: agent.connections,
        }).enroll({ name: agent.name, labels: { zone: agent.zone } }, AbortSignal.timeout(60_000));
        agent.hostId = enrolled.hostId;
        agent.credential = enrolled.credential;
      }
    }),
  );
  for (const agent of agents)
    agent.transport = new HttpAgentTransport({
      baseUrl: serverUrl,
      credential: agent.credential,
      connections: agent.connections,
    });
  process.send({
    type: 'enrolled',
    members: agents.map(({ name, zone, hostId, credential }) => ({ name, zone, hostId, credential })),
  });
}

/**
 * Starts the agents, each at a random moment of the ramp (a fleet's agents do not connect at one
 * instant): its poll loop, and its report loop.
 */
function run({ intervalMs, jitter, rampMs }) {
  for (const agent of agents) {
    void sleep(Math.random() * rampMs, undefined, { signal: stop.signal }).then(
      () => {
        void pollLoop(agent);
        void reportLoop(agent, intervalMs, jitter);
      },
      () => undefined,
    );
  }
  process.send({ type: 'running' });
}

async function pollLoop(agent) {
  let after = 0;
  while (!stopping) {
    try {
      const answer = await agent.transport.pollDesired(after, stop.signal);
      if (answer !== null) after = answer.doc.revision;
      window.polls++;
    } catch (error) {
      if (stopping) return;
      failed(`poll: ${error.code ?? ''} ${error.message}`);
      await sleep(1000, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  }
}

async function reportLoop(agent, intervalMs, jitter) {
  const state = { seq: Math.floor(Math.random() * 1000), requests: 0 };
  while (!stopping) {
    const started = performance.now();
    state.requests += 50 + Math.floor(Math.random() * 100);
    state.seq++;
    const report = fleetReport(agent.hostId, agent.zone, state);
    try {
      await agent.transport.sendReport(report, stop.signal);
      window.latenciesMs.push(performance.now() - started);
      window.reports++;
    } catch (error) {
      if (stopping) return;
      failed(`report: ${error.code ?? ''} ${error.message}`);
    }
    const wait = intervalMs * (1 + jitter * (2 * Math.random() - 1)) - (performance.now() - started);
    await sleep(Math.max(0, wait), undefined, { signal: stop.signal }).catch(() => undefined);
  }
}

function failed(what) {
  totalErrors++;
  if (totalErrorSamples.length < 5) totalErrorSamples.push(what);
  window.errors++;
  if (window.errorSamples.length < 5) window.errorSamples.push(what);
}
