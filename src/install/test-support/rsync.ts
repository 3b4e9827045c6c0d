import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RsyncResult {
  code: number;
  output: string;
}

/** Runs `rsync -a --delete <args>`; a non-zero exit is a result, not an error. */
export async function rsyncArchive(args: readonly string[]): Promise<RsyncResult> {
  try {
    const { stdout, stderr } = await run('rsync', ['-a', '--delete', ...args]);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}
