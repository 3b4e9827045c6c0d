#!/usr/bin/env node
// Deploy latency of hello, trigger to 100% on the new release, split into install, start, health
// gate, switch and drain (from the deployment's event log), with a 200 ms health interval and 2
// healthy checks; plus the daemon's idle RSS.  Usage: node bench/deploy.mjs [--deploys 10]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ROOT, ensureBuilt, median, startFerryWithHello, tempDir } from './lib.mjs';

const { values } = parseArgs({ options: { deploys: { type: 'string', default: '10' } } });
ensureBuilt();
const dir = tempDir('ferry-bench-deploy-');
execFileSync(
  process.execPath,
  [path.join(ROOT, 'examples/hello/build.mjs'), '--out', path.join(dir, 'dist')],
  { stdio: 'ignore' },
);
const ferryUp = await startFerryWithHello(dir);
const { apiPort, home } = ferryUp;
const ferry = (...args) => JSON.parse(ferryUp.cli(...args, '--json'));

try {
  const rows = [];
  for (let i = 0; i < Number(values.deploys); i++) {
    const version = i % 2 === 0 ? '1.1.0' : '1.0.0';
    const started = Date.now();
    ferryUp.cli('deploy', 'hello', version, '--wait');
    const total = Date.now() - started;
    const [last] = ferry('history', 'hello', '--limit', '1').deployments;
    const { events } = await (
      await fetch(`http://127.0.0.1:${apiPort}/v1/deployments/${last.id}`, {
        headers: { authorization: `Bearer ${readFileSync(path.join(home, 'api-token'), 'utf8').trim()}` },
      })
    ).json();
    rows.push({ total, ...split(events) });
  }
  console.log(
    `\ndeploy latency of hello (2 instances, health every 200ms, 2 healthy checks), ${rows.length} blue-green deploys\n`,
  );
  console.log('phase            median (ms)');
  for (const key of [
    'install',
    'start',
    'health gate',
    'switch',
    'drain',
    'trigger to 100%',
    'CLI round trip',
  ]) {
    console.log(`${key.padEnd(16)} ${String(median(rows.map((r) => r[key]))).padStart(10)}`);
  }
  // Idle RSS: after the deploys, with no deployment running.
  await sleep(2000);
  const pid = JSON.parse(readFileSync(path.join(home, 'daemon.json'), 'utf8')).pid;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  console.log(`\ndaemon idle RSS: ${rss.toFixed(1)} MB (target <= 80 MB)`);
  console.log(
    `trigger to 100% median: ${median(rows.map((r) => r['trigger to 100%']))} ms (target <= 1000 ms)`,
  );
} finally {
  ferryUp.stop();
}

/** Phase durations from the event log's timestamps. */
function split(events) {
  const at = (re) => events.find((e) => re.test(e.message))?.at;
  const begin = events[0].at;
  const starting = at(/^running: starting/);
  const started = at(/instance\(s\) of .* running$/);
  const gate = at(/: switching$/);
  const healthy = at(/^100% of traffic on/);
  const done = events.at(-1).at;
  return {
    install: starting - begin,
    start: started - starting,
    'health gate': gate - started,
    switch: healthy - gate,
    drain: done - healthy,
    'trigger to 100%': healthy - begin,
    'CLI round trip': done - begin,
  };
}
