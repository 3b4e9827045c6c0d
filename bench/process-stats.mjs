// Wall time, CPU time and peak RSS of a command's whole process tree, from /proc (Linux).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const SAMPLE_MS = 20;

/**
 * Runs a command to its end; wall seconds, CPU seconds of its process tree, stdout, and the tree's
 * peak RSS: the sum of each process's VmHWM (a pipeline's processes run side by side), sampled
 * every 20 ms.
 */
export function measure(command, args) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const cpuBefore = childrenCpuSeconds();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const peaks = new Map();
    const sample = () => {
      for (const pid of processTree(child.pid)) {
        const hwm = readHwmKb(pid);
        if (hwm > (peaks.get(pid) ?? 0)) peaks.set(pid, hwm);
      }
    };
    const sampler = setInterval(sample, SAMPLE_MS);
    sample();
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited with ${code}`));
      const peakMb = [...peaks.values()].reduce((sum, kb) => sum + kb, 0) / 1024;
      resolve({ seconds, cpuSeconds: childrenCpuSeconds() - cpuBefore, stdout, peakMb });
    });
  });
}

/** User + system time of every child process reaped so far (the archive server is not, till the end). */
function childrenCpuSeconds() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // cutime and cstime, fields 16 and 17 of proc(5), in clock ticks of 1/100 s.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function processTree(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // Gone between the listing and the read.
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

function readHwmKb(pid) {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
