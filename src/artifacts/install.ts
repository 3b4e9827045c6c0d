import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FerryError } from '../errors/ferry-error.js';
import { formatChecksum, MultiHasher, type Checksum, type ChecksumAlgorithm } from './checksum.js';
import { decompressIfGzip } from './decompress.js';
import {
  algorithmsFor,
  parseArtifactUrl,
  resolveExpectedChecksums,
  verifyDigests,
} from './expected-checksums.js';
import { ArchiveExtractor } from './extract.js';
import { findInstalled } from './installed.js';
import { redactUrl } from './redact.js';
import {
  assertVersionName,
  syncDirectory,
  writeReleaseRecord,
  type ReleaseRecord,
} from './release-record.js';
import { Deadline, withRetries, type RetryPolicy } from './retry.js';
import { openSource } from './sources/index.js';
import { resolveInstallSettings, type InstallSettings } from './settings.js';
import type { InstalledRelease, InstallReleaseOptions } from './types.js';

interface Staged {
  tmp: string;
  digests: Partial<Record<ChecksumAlgorithm, string>>;
  bytes: number;
}

/**
 * Fetches, verifies and unpacks a release into releasesDir/<version> in one streaming pass. The
 * release becomes visible (by one rename) only once the stream ended and the checksum matched;
 * on any failure nothing is left behind. Installing a version that is already there with the
 * same checksum fetches nothing (reused: true), so a crashed install can simply be repeated.
 */
export async function installRelease(options: InstallReleaseOptions): Promise<InstalledRelease> {
  const startedAt = performance.now();
  options.signal?.throwIfAborted();
  assertVersionName(options.version);
  const settings = resolveInstallSettings(options);
  const url = parseArtifactUrl(options.source.url);
  const label = redactUrl(url);
  const dir = join(options.releasesDir, options.version);
  const deadline = new Deadline(options.signal, settings.timeoutMs);
  const policy: RetryPolicy = {
    retries: settings.retries,
    waitMs: settings.retryWaitMs,
    signal: deadline.signal,
  };
  try {
    const expected = await resolveExpectedChecksums(options.source, url, policy);
    const installed = await findInstalled(dir, options.version, expected);
    if (installed) return describe(dir, installed, expected, true, 0, startedAt);

    await mkdir(options.releasesDir, { recursive: true });
    const fetchStartedAt = performance.now();
    const staged = await withRetries(
      () => stage(options, settings, url, label, expected, deadline.signal),
      policy,
    );
    const fetchMs = performance.now() - fetchStartedAt;
    const { record, reused } = await commit(options, staged, expected, label);
    return describe(dir, record, expected, reused, fetchMs, startedAt);
  } catch (error) {
    throw asDiskFull(deadline.explain(error, `fetching ${label}`), options);
  } finally {
    deadline.dispose();
  }
}

/** One attempt: stream the artifact through the hash and the extractor into a fresh temp dir. */
async function stage(
  options: InstallReleaseOptions,
  settings: InstallSettings,
  url: URL,
  label: string,
  expected: Checksum[],
  signal: AbortSignal,
): Promise<Staged> {
  const progress = options.onProgress ?? (() => undefined);
  const tmp = await mkdtemp(join(options.releasesDir, `.tmp-${options.version}-`));
  const extractor = new ArchiveExtractor(tmp, settings.limits, label, (bytes) =>
    progress({ phase: 'extract', bytes, total: null }),
  );
  const attempt = new AbortController();
  const hasher = new MultiHasher(algorithmsFor(expected));
  let bytes = 0;
  try {
    const body = await openSource({
      url,
      label,
      headers: options.source.headers ?? {},
      signal: AbortSignal.any([signal, attempt.signal, extractor.failedSignal]),
    });
    async function* hashed(): AsyncGenerator<Buffer> {
      for await (const chunk of body.chunks) {
        hasher.update(chunk);
        bytes += chunk.length;
        progress({ phase: 'download', bytes, total: body.total });
        yield chunk;
      }
    }
    await extractor.extract(decompressIfGzip(hashed(), label));
    const digests = hasher.digest();
    progress({ phase: 'verify', bytes, total: bytes });
    verifyDigests(expected, digests, label);
    return { tmp, digests, bytes };
  } catch (error) {
    // Stop the transfer and every write before removing what was written.
    attempt.abort(error);
    extractor.abort(error);
    await extractor.settled();
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** Records the verified release and renames it into place; a concurrent install may have won. */
async function commit(
  options: InstallReleaseOptions,
  staged: Staged,
  expected: Checksum[],
  label: string,
): Promise<{ record: ReleaseRecord; reused: boolean }> {
  const dir = join(options.releasesDir, options.version);
  const primary = expected[0]?.algorithm ?? 'sha256';
  const record: ReleaseRecord = {
    version: options.version,
    checksum: `${primary}:${staged.digests[primary] ?? ''}`,
    checksums: staged.digests,
    url: label,
    bytes: staged.bytes,
    installedAt: new Date().toISOString(),
  };
  try {
    await writeReleaseRecord(staged.tmp, record);
    await rename(staged.tmp, dir);
  } catch (error) {
    await rm(staged.tmp, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    const other = await findInstalled(dir, options.version, expected);
    if (other) return { record: other, reused: true };
    throw error;
  }
  await syncDirectory(options.releasesDir);
  return { record, reused: false };
}

function describe(
  dir: string,
  record: ReleaseRecord,
  expected: Checksum[],
  reused: boolean,
  fetchMs: number,
  startedAt: number,
): InstalledRelease {
  const first = expected[0];
  return {
    version: record.version,
    dir,
    checksum: first ? formatChecksum(first) : record.checksum,
    bytes: record.bytes,
    reused,
    timings: { fetchMs: Math.round(fetchMs), totalMs: Math.round(performance.now() - startedAt) },
  };
}

function asDiskFull(error: unknown, options: InstallReleaseOptions): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return error;
  return new FerryError(
    'FERRY_E_DISK_FULL',
    `installing release ${options.version} into ${options.releasesDir}: expected room for it on disk, got ${code}; nothing partial was left`,
    { where: options.releasesDir, expected: 'free space', got: code },
    { cause: error },
  );
}
