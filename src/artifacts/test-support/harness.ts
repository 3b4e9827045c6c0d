import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { create } from 'tar';
import { expect } from 'vitest';
import { FerryError } from '../../errors/ferry-error.js';

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** The FerryError a promise rejects with (the test fails if it resolves or throws something else). */
export async function rejection(promise: Promise<unknown>): Promise<FerryError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FerryError);
  return error as FerryError;
}

/** A real tar(.gz) made by node-tar from a directory tree built in scratch. */
export async function packTree(
  scratch: string,
  files: Record<string, string>,
  gzipped = true,
): Promise<Buffer> {
  const source = join(scratch, `src-${randomBytes(4).toString('hex')}`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(source, path, '..'), { recursive: true });
    await writeFile(join(source, path), content);
  }
  const out = join(scratch, `packed-${randomBytes(4).toString('hex')}.tar${gzipped ? '.gz' : ''}`);
  await create({ cwd: source, file: out, gzip: gzipped, portable: true }, ['.']);
  return readFile(out);
}
