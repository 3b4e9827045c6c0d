/**
 * Fixture for the crash test: saves deployment states and events in a loop and prints each counter
 * value only after both writes returned, until it is killed. Run as
 * `node --import tsx crash-writer.ts <db-path>`; on a rerun it continues from what the file holds.
 */
import { openSqliteStore } from '../sqlite/sqlite-store.js';

const DEPLOYMENT_ID = 'd-crash';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: crash-writer.ts <db-path>');

const store = openSqliteStore(path);
let state = await store.getDeployment(DEPLOYMENT_ID);
if (state === undefined) {
  state = {
    id: DEPLOYMENT_ID,
    app: 'web',
    env: 'production',
    kind: 'deploy',
    from: '1.0.0',
    to: '1.1.0',
    strategy: { kind: 'blue-green', healthDeadlineMs: 60_000 },
    instances: 1,
    status: 'running',
    phase: 'starting',
    phaseSince: 0,
    step: 0,
    weight: 0,
    weightOverride: null,
    pausedRemainingMs: null,
    failure: null,
    revertReason: null,
    trafficRestored: false,
    afterSwitchHook: false,
    waitingForTraffic: false,
    pauseReason: null,
    retry: null,
    replace: null,
    trigger: null,
    createdAt: 0,
    updatedAt: 0,
  };
  await store.createDeployment(state);
}

for (let seq = state.step + 1; ; seq += 1) {
  state = { ...state, step: seq, weight: seq % 101, updatedAt: seq };
  await store.saveDeployment(state);
  await store.appendEvent({ deploymentId: DEPLOYMENT_ID, at: seq, type: 'record', message: `saved ${seq}` });
  process.stdout.write(`${seq}\n`);
}
