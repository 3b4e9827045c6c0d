import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { FerryError } from '../errors/ferry-error.js';
import { DownloadCache, type CacheWriter } from './cache.js';
import { coalesce } from './coalesce.js';
import { formatChecksum, MultiHasher, type Checksum, type ChecksumAlgorithm } from './checksum.js';
import { decompressArchive } from './decompress.js';
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
import { openResumable } from './resume.js';
import { openSource, type FetchedBody } from './sources/index.js';
import { resolveInstallSettings, type InstallSettings } from './settings.js';
import { randomDelay, throttle } from './throttle.js';
import type { InstalledRelease, InstallReleaseOptions } from './types.js';

// What the pipeline takes from the network at a time; sockets deliver 64 KiB (see coalesce.ts).
const CHUNK_BYTES = 1024 * 1024;

interface Staged {
  tmp: string;
  digests: Partial<Record<ChecksumAlgorithm, string>>;
  bytes: number;
}

/** Where one attempt's bytes come from, and whether to keep a copy of them in the cache. */
interface Plan {
  open: (signal: AbortSignal) => Promise<FetchedBody>;
  cacheAs: { cache: DownloadCache; key: Checksum } | null;
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
    // The cache is keyed by checksum, so it only helps when the checksum is known before fetching.
    const key = expected[0];
    const cache =
      options.cacheDir === undefined || key === undefined
        ? null
        : new DownloadCache(options.cacheDir, settings.cacheMaxBytes);
    let fetchStartedAt = performance.now();
    let staged =
      cache === null || key === undefined
        ? null
        : await fromCache(options, settings, label, expected, deadline.signal, cache, key);
    if (staged === null) {
      await randomDelay(settings.randomDelayMs, deadline.signal);
      fetchStartedAt = performance.now();
      const plan: Plan = {
        open: (signal) => openNetwork(url, label, options, settings, signal),
        cacheAs: cache === null || key === undefined ? null : { cache, key },
      };
      staged = await withRetries(
        () => stage(options, settings, label, expected, deadline.signal, plan),
        policy,
      );
    }
    const fetchMs = performance.now() - fetchStartedAt;
    const { record, reused } = await commit(options, staged, expected, label);
    return describe(dir, record, expected, reused, fetchMs, startedAt);
  } catch (error) {
    throw asDiskFull(deadline.explain(error, `fetching ${label}`), options);
  } finally {
    deadline.dispose();
  }
}

/** The source's bytes, resumed after mid-stream failures where it can be, and paced when asked. */
async function openNetwork(
  url: URL,
  label: string,
  options: InstallReleaseOptions,
  settings: InstallSettings,
  signal: AbortSignal,
): Promise<FetchedBody> {
  const request = { url, label, headers: options.source.headers ?? {}, signal };
  const body = await openResumable(request, { max: settings.retries, waitMs: settings.retryWaitMs });
  if (settings.maxBytesPerSecond === 0) return { ...body, chunks: coalesce(body.chunks, CHUNK_BYTES) };
  // A paced download is not held back by the CPU: its chunks stay small, so the pace stays smooth.
  return { ...body, chunks: throttle(body.chunks, settings.maxBytesPerSecond, signal) };
}

/** Installs from the cache entry for key, if any; a damaged entry is dropped (null: fetch instead). */
async function fromCache(
  options: InstallReleaseOptions,
  settings: InstallSettings,
  label: string,
  expected: Checksum[],
  signal: AbortSignal,
  cache: DownloadCache,
  key: Checksum,
): Promise<Staged | null> {
  const path = await cache.lookup(key);
  if (path === null) return null;
  const plan: Plan = {
    open: (attemptSignal) =>
      openSource({ url: pathToFileURL(path), label: path, headers: {}, signal: attemptSignal }),
    cacheAs: null,
  };
  try {
    return await stage(options, settings, label, expected, signal, plan);
  } catch (error) {
    // Only a rejected entry (damaged, evicted meanwhile) is worth a fetch; a full disk or an
    // abort would fail the fetch just the same.
    if (signal.aborted || !(error instanceof FerryError)) throw error;
    await cache.remove(key).catch(() => undefined);
    return null;
  }
}

/** One attempt: stream the artifact through the hash and the extractor into a fresh temp dir. */
async function stage(
  options: InstallReleaseOptions,
  settings: InstallSettings,
  label: string,
  expected: Checksum[],
  signal: AbortSignal,
  plan: Plan,
): Promise<Staged> {
  const progress = options.onProgress ?? (() => undefined);
  const tmp = await mkdtemp(join(options.releasesDir, `.tmp-${options.version}-`));
  const extractor = new ArchiveExtractor(tmp, settings.limits, label, (bytes) =>
    progress({ phase: 'extract', bytes, total: null }),
  );
  const attempt = new AbortController();
  const hasher = new MultiHasher(algorithmsFor(expected));
  let bytes = 0;
  let copy: CacheWriter | null = null;
  try {
    const body = await plan.open(AbortSignal.any([signal, attempt.signal, extractor.failedSignal]));
    // The cache is an optimisation: one that cannot be written to must not fail the install.
    copy = plan.cacheAs === null ? null : await plan.cacheAs.cache.startWrite().catch(() => null);
    const writer = copy;
    async function* hashed(): AsyncGenerator<Buffer> {
      for await (const chunk of body.chunks) {
        hasher.update(chunk);
        await writer?.write(chunk);
        bytes += chunk.length;
        progress({ phase: 'download', bytes, total: body.total });
        yield chunk;
      }
    }
    await extractor.extract(decompressArchive(hashed(), label));
    const digests = hasher.digest();
    progress({ phase: 'verify', bytes, total: bytes });
    verifyDigests(expected, digests, label);
    if (plan.cacheAs !== null) await copy?.commit(plan.cacheAs.key);
    return { tmp, digests, bytes };
  } catch (error) {
    await copy?.discard();
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
