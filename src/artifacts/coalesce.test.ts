import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { coalesce } from './coalesce.js';

/** Chunks of the given sizes cutting through the alphabet: [2, 3] gives 'ab', 'cde'. */
function chunksOf(sizes: number[]): Buffer[] {
  let next = 0;
  return sizes.map((size) =>
    Buffer.from(Array.from({ length: size }, () => String.fromCharCode(97 + (next++ % 26))).join('')),
  );
}

async function collect(source: AsyncIterable<Buffer>, minBytes: number): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of coalesce(source, minBytes)) out.push(chunk.toString());
  return out;
}

describe('coalesce', () => {
  it.each([
    { sizes: [2, 2, 2, 2], minBytes: 4, expected: ['abcd', 'efgh'] },
    { sizes: [2, 2, 2], minBytes: 4, expected: ['abcd', 'ef'] },
    { sizes: [5, 1, 3], minBytes: 4, expected: ['abcde', 'fghi'] },
    { sizes: [1, 1, 1], minBytes: 10, expected: ['abc'] },
    { sizes: [], minBytes: 4, expected: [] },
  ])('joins $sizes into chunks of at least $minBytes, in order', async ({ sizes, minBytes, expected }) => {
    expect(await collect(Readable.from(chunksOf(sizes)), minBytes)).toEqual(expected);
  });

  it('passes the source error on', async () => {
    const source = new Readable({ read: () => undefined });
    source.push(Buffer.from('ab'));
    setImmediate(() => source.destroy(new Error('reset')));
    await expect(collect(source, 4)).rejects.toThrow('reset');
  });
});
