#!/usr/bin/env node
// A release going live by itself: a signed webhook (Ferry's generic one, as a CI job sends it)
// arrives, and the time until the hello app serves the new release to 100% of requests is measured
// from the outside (every response after the first new one is new too), under keep-alive load that
// counts failed requests. The same deploys through `ferry deploy --wait` are the reference: the
// webhook's listener, its checks and the release intake should add next to nothing to them.
// Usage: node bench/webhook-live.mjs [--deploys 8]
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ROOT, ensureBuilt, freePort, keepAliveLoad, median, startFerryWithHello, tempDir } from './lib.mjs';

const { values } = parseArgs({ options: { deploys: { type: 'string', default: '8' } } });
const deploys = Number(values.deploys);
ensureBuilt();
const dir = tempDir('ferry-bench-webhook-');
// Increasing versions: a source's release is deployed only when it is newer than the serving one.
const versions = Array.from({ length: 2 * deploys }, (_, i) => `1.1.${i + 1}`);
execFileSync(
  process.execPath,
  [
    path.join(ROOT, 'examples/hello/build.mjs'),
    '--out',
    path.join(dir, 'dist'),
    ...versions.flatMap((v) => ['--version', v]),
  ],
  { stdio: 'ignore' },
);
const secret = randomBytes(24).toString('hex');
const hooksPort = await freePort();
const ferryUp = await startFerryWithHello(dir, {
  appYaml: `    triggers: { generic: { secret: "${secret}" } }\n`,
  topYaml: `triggers: { listen: "127.0.0.1:${hooksPort}" }\n`,
});
const appUrl = `http://127.0.0.1:${ferryUp.appPort}/`;

/** Sends the generic webhook a CI job would: HMAC-SHA256 over "<timestamp>.<body>". */
async function sendWebhook(version) {
  const body = JSON.stringify({ version });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  const response = await fetch(`http://127.0.0.1:${hooksPort}/hooks/generic/hello`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-ferry-timestamp': timestamp,
      'x-ferry-signature-256': `sha256=${signature}`,
      'x-ferry-delivery': randomUUID(),
    },
    body,
  });
  if (response.status !== 202)
    throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const servedVersion = () =>
  new Promise((resolve, reject) => {
    http
      .get(appUrl, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers['x-version']));
      })
      .on('error', reject);
  });

/** Polls until the app answers `version`, then checks the next 20 answers are all of it. */
async function untilServing(version, deadlineMs = 30_000) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if ((await servedVersion()) === version) {
      const at = Date.now();
      for (let i = 0; i < 20; i++) {
        const seen = await servedVersion();
        if (seen !== version) throw new Error(`after ${version} served, an answer came from ${seen}`);
      }
      return at;
    }
    await sleep(5);
  }
  throw new Error(`${version} was not served within ${deadlineMs} ms`);
}

const webhook = [];
const cli = [];
let load;
try {
  await untilServing('1.0.0');
  load = await keepAliveLoad(appUrl, 4);
  for (let i = 0; i < deploys; i++) {
    const viaHook = versions[2 * i];
    let started = Date.now();
    await sendWebhook(viaHook);
    webhook.push((await untilServing(viaHook)) - started);
    await waitIdle();
    const viaCli = versions[2 * i + 1];
    started = Date.now();
    const done = untilServing(viaCli);
    ferryUp.cli('deploy', 'hello', viaCli);
    cli.push((await done) - started);
    await waitIdle();
  }
  const report = await load.stop();
  load = null;
  console.log(
    `\nwebhook to 100% on the new release: hello (2 instances, health every 200 ms, 2 healthy checks), ${deploys} deploys each way\n`,
  );
  console.log('path                         median (ms)   min    max');
  for (const [name, rows] of [
    ['signed webhook -> 100%', webhook],
    ['ferry deploy -> 100%', cli],
  ])
    console.log(
      `${name.padEnd(28)} ${String(median(rows)).padStart(10)} ${String(Math.min(...rows)).padStart(6)} ${String(Math.max(...rows)).padStart(6)}`,
    );
  console.log(`\nwebhook / ferry deploy (medians): ${(median(webhook) / median(cli)).toFixed(2)}x`);
  console.log(
    `requests under load: ${report.requests}, failed: ${report.failures}${report.samples.length ? ` (${report.samples.join('; ')})` : ''}`,
  );
  console.log(`webhook to 100% median: ${median(webhook)} ms (issue 11's bar: <= 2000 ms)`);
} finally {
  if (load) await load.stop();
  agent.destroy();
  ferryUp.stop();
}

/** Waits until no deployment of hello runs, so the next one starts on a settled app. */
async function waitIdle() {
  for (let i = 0; i < 600; i++) {
    const { deployments } = JSON.parse(ferryUp.cli('history', 'hello', '--limit', '1', '--json'));
    if (deployments[0] && ['succeeded', 'failed', 'rolled-back', 'aborted'].includes(deployments[0].status))
      return;
    await sleep(50);
  }
  throw new Error('a deployment of hello did not finish within 30 s');
}
