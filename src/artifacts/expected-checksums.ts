import { FerryError } from '../errors/ferry-error.js';
import { formatChecksum, parseChecksum, type Checksum, type ChecksumAlgorithm } from './checksum.js';
import { findChecksumFor, parseChecksumsFile } from './checksums-file.js';
import { redactUrl } from '../lib/redact.js';
import { urlFileName } from './url-file-name.js';
import { withRetries, type RetryPolicy } from './retry.js';
import { fetchText } from './sources/index.js';
import type { ArtifactSource } from './types.js';

/** What an install accepts as verification. */
export interface ChecksumPolicy {
  /** A remote artifact (anything but file://) must come with a checksum or a checksums file. */
  requireChecksum: boolean;
  /** md5 and sha1 are accepted (both can be forged). */
  allowWeakChecksums: boolean;
}

const WEAK_ALGORITHMS: ReadonlySet<ChecksumAlgorithm> = new Set(['md5', 'sha1']);

/**
 * The checksums the artifact must match: the one given, the one its checksums file lists for it,
 * or both (then they must agree; of different algorithms, both are verified). Empty when none.
 * Refuses, before the artifact is fetched, what the policy does not accept.
 */
export async function resolveExpectedChecksums(
  source: ArtifactSource,
  url: URL,
  policy: RetryPolicy,
  accept: ChecksumPolicy,
): Promise<Checksum[]> {
  const hasSums = source.checksumsUrl != null && source.checksumsUrl.trim() !== '';
  const given =
    source.checksum != null && source.checksum.trim() !== '' ? parseChecksum(source.checksum) : null;
  if (given === null && !hasSums && accept.requireChecksum && url.protocol !== 'file:') {
    throw checksumRequired(redactUrl(url));
  }
  if (given !== null) assertStrong(given, redactUrl(url), 'the given checksum', accept);
  if (!hasSums) return given ? [given] : [];

  const sumsUrl = parseArtifactUrl(source.checksumsUrl ?? '', 'checksums URL');
  const label = redactUrl(sumsUrl);
  const request = { url: sumsUrl, label, headers: source.headers ?? {}, signal: policy.signal };
  const text = await withRetries(() => fetchText(request), policy);
  const fileName = urlFileName(url);
  const listed = findChecksumFor(parseChecksumsFile(text, label), fileName, label);
  assertStrong(listed, redactUrl(url), `the line for ${JSON.stringify(fileName)} in ${label}`, accept);
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

function checksumRequired(label: string): FerryError {
  const expected = 'a checksum or a checksums file to verify it against';
  return new FerryError(
    'FERRY_E_CHECKSUM_REQUIRED',
    `artifact ${label}: expected ${expected}, got neither; add checksum (sha256:<hex>) or checksums (the URL of a SHA256SUMS file), or set require_checksum: false to install it unverified`,
    { where: label, expected, got: 'none', setting: 'require_checksum' },
  );
}

function assertStrong(checksum: Checksum, label: string, from: string, accept: ChecksumPolicy): void {
  if (accept.allowWeakChecksums || !WEAK_ALGORITHMS.has(checksum.algorithm)) return;
  const { algorithm } = checksum;
  throw new FerryError(
    'FERRY_E_CHECKSUM_WEAK',
    `artifact ${label}: expected a sha256 or sha512 checksum, got ${algorithm} (from ${from}); ${algorithm} collisions can be forged, so give a sha256, or set allow_weak_checksums: true to accept it`,
    { where: label, expected: 'sha256 or sha512', got: algorithm, setting: 'allow_weak_checksums' },
  );
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
