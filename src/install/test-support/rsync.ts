import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Makes sure the Debian packages a test compares Ferry with are installed: with apt-get when
 * missing and running as root. False when they are missing and cannot be installed; under CI=true
 * that is an error instead, so a comparison is never skipped there.
 */
export async function ensureDebianPackages(
  packages: readonly { name: string; command: string }[],
): Promise<boolean> {
  const missing = async () => {
    const absent: string[] = [];
    for (const { name, command } of packages) {
      const found = await run('sh', ['-c', `command -v ${command}`]).then(
        () => true,
        () => false,
      );
      if (!found) absent.push(name);
    }
    return absent;
  };
  let absent = await missing();
  if (absent.length > 0 && process.getuid?.() === 0) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => run('apt-get', ['install', '-y', ...absent], { env });
    await install().catch(async () => {
      await run('apt-get', ['update'], { env });
      await install();
    });
    absent = await missing();
  }
  if (absent.length === 0) return true;
  if (process.env.CI === 'true') {
    throw new Error(
      `${absent.join(', ')} required under CI=true and could not be installed (apt-get install ${absent.join(' ')})`,
    );
  }
  return false;
}

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
