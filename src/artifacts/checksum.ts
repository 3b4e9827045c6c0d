import { createHash, type Hash } from 'node:crypto';
import { FerryError } from '../errors/ferry-error.js';

export type ChecksumAlgorithm = 'md5' | 'sha1' | 'sha256' | 'sha512';

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  /** Lowercase hex. */
  hex: string;
}

const ALGORITHM_BY_LENGTH: ReadonlyMap<number, ChecksumAlgorithm> = new Map([
  [32, 'md5'],
  [40, 'sha1'],
  [64, 'sha256'],
  [128, 'sha512'],
]);

const HEX = /^[0-9a-f]+$/;

/**
 * Parses 'sha256:<hex>' or bare hex (the algorithm follows from the length, as stretcher does).
 * Case-insensitive; surrounding whitespace is ignored.
 */
export function parseChecksum(text: string): Checksum {
  const trimmed = text.trim().toLowerCase();
  const colon = trimmed.indexOf(':');
  const prefix = colon === -1 ? null : trimmed.slice(0, colon);
  const hex = colon === -1 ? trimmed : trimmed.slice(colon + 1);
  const byLength = ALGORITHM_BY_LENGTH.get(hex.length);
  if (!HEX.test(hex) || byLength === undefined) {
    throw invalid(text, 'hex of 32 (md5), 40 (sha1), 64 (sha256) or 128 (sha512) digits');
  }
  if (prefix !== null && prefix !== byLength) {
    const known = [...ALGORITHM_BY_LENGTH.values()].includes(prefix as ChecksumAlgorithm);
    throw invalid(
      text,
      known ? `${prefix} with ${lengthOf(prefix)} hex digits` : 'md5:, sha1:, sha256: or sha512:',
    );
  }
  return { algorithm: byLength, hex };
}

export function formatChecksum(checksum: Checksum): string {
  return `${checksum.algorithm}:${checksum.hex}`;
}

export function isSameChecksum(a: Checksum, b: Checksum): boolean {
  return a.algorithm === b.algorithm && a.hex === b.hex;
}

/** Hashes one stream with several algorithms at once, so verifying costs a single read. */
export class MultiHasher {
  private readonly hashes: Map<ChecksumAlgorithm, Hash>;

  constructor(algorithms: Iterable<ChecksumAlgorithm>) {
    this.hashes = new Map([...new Set(algorithms)].map((algorithm) => [algorithm, createHash(algorithm)]));
  }

  update(chunk: Buffer): void {
    for (const hash of this.hashes.values()) hash.update(chunk);
  }

  /** Hex digests by algorithm; call once, after the last update. */
  digest(): Partial<Record<ChecksumAlgorithm, string>> {
    return Object.fromEntries([...this.hashes].map(([algorithm, hash]) => [algorithm, hash.digest('hex')]));
  }
}

function lengthOf(algorithm: string): number {
  for (const [length, name] of ALGORITHM_BY_LENGTH) if (name === algorithm) return length;
  return 0;
}

function invalid(text: string, expected: string): FerryError {
  const shown = text.length > 140 ? `${text.slice(0, 140)}…` : text;
  return new FerryError(
    'FERRY_E_CHECKSUM_INVALID',
    `invalid checksum: expected ${expected}, got ${JSON.stringify(shown)}`,
    {
      expected,
      got: shown,
    },
  );
}
