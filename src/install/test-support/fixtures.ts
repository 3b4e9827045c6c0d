import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { create } from 'tar';

/** A temp dir for one test; remove() always cleans it. */
export async function makeWorkspace(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-install-test-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes a tree from an object: path -> content (string) or { content, mode }. */
export async function writeTree(
  root: string,
  files: Record<string, string | { content: string; mode: number }>,
): Promise<void> {
  for (const [path, file] of Object.entries(files)) {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    const content = typeof file === 'string' ? file : file.content;
    await writeFile(full, content);
    if (typeof file !== 'string') await chmod(full, file.mode);
  }
}

/**
 * Packs a tree into a tar.gz with the tar package; `entries` chooses the top-level entries
 * (['.'] gives a ./ entry, as `tar -C dir .` does). Returns its file:// URL and sha256.
 */
export async function packArchive(
  dir: string,
  out: string,
  entries: string[] = ['.'],
): Promise<{ url: string; checksum: string; bytes: Buffer }> {
  await create({ gzip: true, cwd: dir, file: out, portable: true }, entries);
  const bytes = await readFile(out);
  return { url: pathToFileURL(out).href, checksum: createHash('sha256').update(bytes).digest('hex'), bytes };
}

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** tsx by its path, so that the CLI runs from source in any working directory. */
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs `ferry install ...` from source in a child process, with stdin, env and working directory. */
export function runFerryInstall(
  args: string[],
  options: {
    stdin?: string;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    onStart?: (child: ChildProcess) => void;
  } = {},
): Promise<CliResult> {
  const script = fileURLToPath(new URL('./cli.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', tsxLoader, script, 'install', ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.stdin ?? '');
  options.onStart?.(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
