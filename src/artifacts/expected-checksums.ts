import { FerryError } from '../errors/ferry-error.js';
import { formatChecksum, parseChecksum, type Checksum, type ChecksumAlgorithm } from './checksum.js';
import { findChecksumFor, parseChecksumsFile } from './checksums-file.js';
import { redactUrl, urlFileName } from './redact.js';
import { withRetries, type RetryPolicy } from './retry.js';
import { fetchText } from './sources/index.js';
import type { ArtifactSource } from './types.js';

/**
 * The checksums the artifact must match: the one given, the one its checksums file lists for it,
 * or both (then they must agree; of different algorithms, both are verified). Empty when none.
 */
export async function resolveExpectedChecksums(
  source: ArtifactSource,
  url: URL,
  policy: RetryPolicy,
): Promise<Checksum[]> {
  const given =
    source.checksum != null && source.checksum.trim() !== '' ? parseChecksum(source.checksum) : null;
  if (source.checksumsUrl == null || source.checksumsUrl.trim() === '') return given ? [given] : [];

  const sumsUrl = parseArtifactUrl(source.checksumsUrl, 'checksums URL');
  const label = redactUrl(sumsUrl);
  const request = { url: sumsUrl, label, headers: source.headers ?? {}, signal: policy.signal };
  const text = await withRetries(() => fetchText(request), policy);
  const listed = findChecksumFor(parseChecksumsFile(text, label), urlFileName(url), label);
  if (given === null) return [listed];
  if (given.algorithm !== listed.algorithm) return [given, listed];
  if (given.hex !== listed.hex) {
    throw new FerryError(
      'FERRY_E_CHECKSUM_MISMATCH',
      `checksum for ${redactUrl(url)} disagrees with ${label}: expected ${formatChecksum(given)} (given), got ${formatChecksum(listed)} (listed)`,
      { where: redactUrl(url), expected: formatChecksum(given), got: formatChecksum(listed) },
    );
  }
  return [given];
}

/** The algorithms to hash with: every expected one, and always sha256 (what releases record). */
export function algorithmsFor(expected: Checksum[]): ChecksumAlgorithm[] {
  return [...new Set<ChecksumAlgorithm>(['sha256', ...expected.map((checksum) => checksum.algorithm)])];
}

/** Throws FERRY_E_CHECKSUM_MISMATCH unless every expected checksum is among the digests. */
export function verifyDigests(
  expected: Checksum[],
  digests: Partial<Record<ChecksumAlgorithm, string>>,
  label: string,
): void {
  for (const checksum of expected) {
    const got = digests[checksum.algorithm];
    if (got !== checksum.hex) {
      const gotText = `${checksum.algorithm}:${got ?? 'nothing'}`;
      throw new FerryError(
        'FERRY_E_CHECKSUM_MISMATCH',
        `checksum mismatch for ${label}: expected ${formatChecksum(checksum)}, got ${gotText}`,
        { where: label, expected: formatChecksum(checksum), got: gotText },
      );
    }
  }
}

export function parseArtifactUrl(text: string, what = 'artifact URL'): URL {
  try {
    return new URL(text);
  } catch {
    // The text may hold credentials, so neither it nor the parser's error (which quotes it) is kept.
    throw new FerryError(
      'FERRY_E_ARTIFACT_SOURCE',
      `${what}: expected an absolute URL (https://host/app.tar.gz, file:///path/app.tar.gz), got text that is not one`,
      { where: what, retryable: false },
    );
  }
}
