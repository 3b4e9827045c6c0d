import { once } from 'node:events';
import { Parser, type ReadEntry } from 'tar';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import { tooLarge } from './archive-plan.js';
import { unsafeEntry } from './archive-tree.js';
import type { ExtractLimits } from './types.js';

// Headers, padding and pax records cost at most this much tar stream per entry beyond its data.
const STREAM_OVERHEAD_PER_ENTRY = 2048;

/**
 * Feeds a (decompressed) tar stream to node-tar's parser, bounded: the stream may not be longer
 * than the limits allow, nothing after the end-of-archive blocks is parsed, and any failure (the
 * parser's, or one reported with fail()) ends the feed with that error. With `skipBodies`, every
 * header goes to onHeader and the bodies are dropped unparsed: the scan reads headers only.
 */
export class TarFeed {
  readonly parser: Parser;
  private readonly failed = new AbortController();
  private readonly skipped = new WeakSet<ReadEntry>();
  private failure: Error | undefined = undefined;
  private streamBytes = 0;
  private sawEndOfArchive = false;

  constructor(
    private readonly limits: ExtractLimits,
    private readonly label: string,
    onHeader?: (entry: ReadEntry) => void,
  ) {
    const skipBodies =
      onHeader === undefined
        ? {}
        : {
            filter: (_path: string, entry: unknown) => {
              const read = entry as ReadEntry;
              this.skipped.add(read);
              if (this.failure === undefined) {
                try {
                  onHeader(read);
                } catch (error) {
                  this.fail(error);
                }
              }
              return false;
            },
          };
    this.parser = new Parser({ strict: true, brotli: false, zstd: false, ...skipBodies });
    this.parser.on('ignoredEntry', (entry: ReadEntry) => {
      if (this.skipped.has(entry)) return;
      this.fail(
        entry.meta
          ? formatError(label, `a ${entry.type} header of ${entry.size} bytes (too large)`)
          : unsafeEntry(label, entry.path, `has the unsupported type ${entry.type}`),
      );
    });
    this.parser.on('error', (error: Error) => this.fail(formatError(label, messageOf(error))));
    this.parser.on('eof', () => (this.sawEndOfArchive = true));
  }

  /** Aborts once the feed has failed. */
  get failedSignal(): AbortSignal {
    return this.failed.signal;
  }

  /**
   * Writes every chunk to the parser (waiting for it to drain) and ends it. Each chunk the parser
   * gets goes to sink first, if given: the tar up to its end-of-archive blocks, within the bound.
   */
  async feed(chunks: AsyncIterable<Buffer>, sink?: (chunk: Buffer) => Promise<void>): Promise<void> {
    const maxStream = this.limits.maxBytes + this.limits.maxEntries * STREAM_OVERHEAD_PER_ENTRY;
    try {
      for await (const chunk of chunks) {
        this.throwIfFailed();
        this.streamBytes += chunk.length;
        if (this.streamBytes > maxStream) {
          throw tooLarge(
            this.label,
            `a tar stream of more than ${maxStream} bytes`,
            `at least ${this.streamBytes}`,
          );
        }
        // What follows the end-of-archive blocks is padding: hashed upstream, not worth parsing.
        if (this.sawEndOfArchive) continue;
        await sink?.(chunk);
        if (!this.parser.write(chunk)) await this.waitFor('drain');
      }
      const ended = this.waitFor('end');
      this.parser.end();
      await ended;
      this.throwIfFailed();
    } catch (error) {
      this.throwIfFailed();
      throw error;
    }
  }

  /** Records the first failure; the feed (and whoever watches failedSignal) stops with it. */
  fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.failed.abort(this.failure);
  }

  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private async waitFor(event: 'drain' | 'end'): Promise<void> {
    try {
      await once(this.parser, event, { signal: this.failed.signal });
    } catch (error) {
      this.throwIfFailed();
      throw error;
    }
  }
}

export function formatError(label: string, got: string): FerryError {
  return new FerryError(
    'FERRY_E_ARTIFACT_FORMAT',
    `artifact ${label}: expected a complete tar or tar.gz archive, got ${got}`,
    { where: label, expected: 'tar or tar.gz', got },
  );
}
