#!/usr/bin/env node
// Installs the Debian packages the tests need (real serf, rsync, openssl, etcd, python3, iproute2:
// the tests run real programs, never stand-ins). `npm test` runs it first (pretest), so `npm ci && npm run
// check` and .ci/run prepare the host before any test runs; the tests themselves only check and
// fail clearly, they never change the host.
//
// A missing package is installed with apt-get when running as root; otherwise this fails, naming
// what is missing and the command that installs it. Nothing is ever skipped (under CI=true as
// anywhere else).
//
//   node scripts/test-deps.mjs [--check]     --check: report what is missing, install nothing
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import console from 'node:console';
import path from 'node:path';
import process from 'node:process';

/**
 * What the tests run, the Debian package that provides it, and who needs it; `sbin`: it lives in
 * /usr/sbin, which an ordinary user's PATH omits, so it is looked for there too.
 */
const DEPENDENCIES = [
  { command: 'serf', pkg: 'serf', usedBy: 'test/e2e/serf.test.ts (ferry install as a Serf event handler)' },
  { command: 'rsync', pkg: 'rsync', usedBy: 'the ferry install tests that compare with rsync -a --delete' },
  { command: 'openssl', pkg: 'openssl', usedBy: 'test/e2e/api-tls.test.ts (a self-signed certificate)' },
  {
    command: 'etcd',
    pkg: 'etcd-server',
    usedBy: 'src/store/kv/etcd-kv.test.ts (the key-value store contract on a real etcd)',
  },
  {
    command: 'python3',
    pkg: 'python3',
    usedBy: 'the router tests (a backend whose accept queue is full)',
  },
  {
    command: 'ip',
    pkg: 'iproute2',
    sbin: true,
    usedBy: 'test/support/netns.test.ts and the fleet tests (network namespaces, veth pairs, a bridge)',
  },
];
const SBIN = ['/usr/sbin', '/sbin'];

const checkOnly = process.argv.slice(2).includes('--check');
const unknown = process.argv.slice(2).filter((arg) => arg !== '--check');
if (unknown.length > 0)
  fail(`unknown argument ${JSON.stringify(unknown[0])}; usage: node scripts/test-deps.mjs [--check]`);

let missing = DEPENDENCIES.filter((dep) => !isInstalled(dep));
if (missing.length > 0 && !checkOnly && process.getuid?.() === 0) {
  if (!onPath('apt-get'))
    fail(explain(missing, 'apt-get is not available here (this script knows Debian only)'));
  install(missing.map((dep) => dep.pkg));
  missing = DEPENDENCIES.filter((dep) => !isInstalled(dep));
  if (missing.length > 0) fail(explain(missing, 'apt-get ran, yet they are still missing'));
}
if (missing.length > 0) {
  const why = checkOnly ? 'asked to check only' : 'installing them needs root';
  fail(explain(missing, why));
}
console.log(`test-deps: ${DEPENDENCIES.map((dep) => dep.command).join(', ')} present`);

/** Whether a dependency's program is in one of PATH's directories (or, for an sbin one, in SBIN). */
function isInstalled(dep) {
  return onPath(dep.command, dep.sbin ? SBIN : []);
}

/** Whether an executable named `command` is in one of PATH's directories, or of `extraDirs`. */
function onPath(command, extraDirs = []) {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs]) {
    if (dir === '') continue;
    const file = path.join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

function install(packages) {
  console.log(`test-deps: installing ${packages.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const aptGet = (...args) => spawnSync('apt-get', args, { env, stdio: 'inherit' }).status === 0;
  const installed = () => aptGet('install', '-y', '--no-install-recommends', ...packages);
  // A fresh host may have no package lists yet: update once, then try again.
  if (!installed() && !(aptGet('update') && installed())) {
    fail(`apt-get could not install ${packages.join(' ')} (its output is above)`);
  }
}

function explain(deps, why) {
  const lines = deps.map((dep) => `  ${dep.command} (Debian package ${dep.pkg}), for ${dep.usedBy}`);
  const packages = deps.map((dep) => dep.pkg).join(' ');
  return [
    `the tests need programs that are not installed (${why}):`,
    ...lines,
    `install them as root with: apt-get install -y ${packages}`,
    '(npm test installs them by itself when it runs as root)',
  ].join('\n');
}

function fail(message) {
  console.error(`test-deps: ${message}`);
  process.exit(1);
}
