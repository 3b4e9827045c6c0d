import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InstanceSpec } from '../types.js';

/** Tiny fixture programs for process tests, written into a temp dir (CommonJS, no dependencies). */
export const SCRIPTS = {
  /** Serves on PORT until SIGTERM, then says bye and exits 0. */
  serve: `const s=require('http').createServer((q,r)=>r.end('ok')).listen(+process.env.PORT||0,'127.0.0.1',()=>console.log('listening'));process.on('SIGTERM',()=>{console.log('bye');s.close(()=>process.exit(0))});`,
  /** Ignores SIGTERM: only SIGKILL ends it. */
  stubborn: `process.on('SIGTERM',()=>console.log('ignoring SIGTERM'));console.log('up');setInterval(()=>{},1000);`,
  /** Exits with status 3 shortly after it started. */
  crash: `console.log('starting, then crashing');setTimeout(()=>process.exit(3),20);`,
  /** Starts a helper that ignores SIGTERM (same process group, markers inherited), prints its pid, idles. */
  parent: `const c=require('child_process').spawn(process.execPath,['stubborn.cjs'],{stdio:'inherit'});console.log('helper '+c.pid);setInterval(()=>{},1000);`,
  /** Crashes on its first CRASHES runs (counted in a file), then stays up: a dependency came back. */
  flaky: `const fs=require('fs');const n=fs.existsSync('runs')?+fs.readFileSync('runs','utf8')+1:1;fs.writeFileSync('runs',String(n));if(n<=+process.env.CRASHES){console.log('run '+n+' crashes');process.exit(1)}console.log('run '+n+' up');setInterval(()=>{},1000);`,
  /** Prints a numbered line every 5ms. */
  ticker: `let i=0;setInterval(()=>console.log('tick '+(++i)),5);`,
  /** Keeps one core busy (for CPU sampling). */
  spin: `console.log('spinning');for(;;){}`,
  /** Prints its environment as JSON, then idles. */
  printenv: `console.log(JSON.stringify(process.env));setInterval(()=>{},1000);`,
} as const;

export type FixtureScript = keyof typeof SCRIPTS;

/** A temp dir with the fixture scripts; it doubles as the Ferry home and the release dir. */
export function fixtureDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-supervisor-'));
  for (const [name, code] of Object.entries(SCRIPTS)) writeFileSync(path.join(dir, `${name}.cjs`), code);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let counter = 0;

export function specFor(
  dir: string,
  script: FixtureScript,
  overrides: Partial<InstanceSpec> = {},
): InstanceSpec {
  const id = `test-${script}-${process.pid}-${++counter}`;
  return {
    id,
    app: 'test',
    env: 'production',
    version: '1.0.0',
    cwd: dir,
    command: process.execPath,
    args: [`${script}.cjs`],
    envVars: {},
    port: 0,
    logFile: path.join(dir, 'logs', `${id}.log`),
    ...overrides,
  };
}
