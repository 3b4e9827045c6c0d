import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { FerryError } from '../errors/ferry-error.js';
import { scanArchive } from './archive-scan.js';
import { DownloadCache } from './cache.js';
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
import { DownloadFile, LocalFile, type LocalArtifact } from './local-artifact.js';
import { redactUrl } from './redact.js';
import {
  assertVersionName,
  syncDirectory,
  writeReleaseRecord,
  type ReleaseRecord,
} from './release-record.js';
import { Deadline, withRetries, type RetryPolicy } from './retry.js';
import { openResumable } from './resume.js';
import { openFileHandle, type FetchedBody, type FetchRequest } from './sources/index.js';
import { resolveInstallSettings, type InstallSettings } from './settings.js';
import { randomDelay, throttle } from './throttle.js';
import type { InstalledRelease, InstallProgress, InstallReleaseOptions } from './types.js';

// What the pipeline takes from the network at a time; sockets deliver 64 KiB (see coalesce.ts).
const CHUNK_BYTES = 1024 * 1024;

/** One install's fixed inputs, as every step needs them. */
interface Job {
  options: InstallReleaseOptions;
  settings: InstallSettings;
  label: string;
  expected: Checksum[];
  signal: AbortSignal;
  progress: (progress: InstallProgress) => void;
}

/** An artifact in a local file whose checksum matched and whose scan found it safe and within limits. */
interface Verified {
  file: LocalArtifact;
  digests: Partial<Record<ChecksumAlgorithm, string>>;
  bytes: number;
  /** Not Ferry's file (file://): hash it again while extracting, in case it changed meanwhile. */
  recheck: boolean;
}

/**
 * Fetches, verifies and unpacks a release into releasesDir/<version>, in two passes over a local
 * file: the first hashes the artifact and scans its headers (as it downloads, for a network
 * source), the second unpacks it, only once the checksum matched and the scan found every entry
 * safe and the whole within its limits. Nothing is written under releasesDir before that, and the
 * release becomes visible by one rename once complete; on any failure nothing is left behind.
 * Installing a version that is already there with the same checksum fetches nothing (reused:
 * true), so a crashed install can simply be repeated.
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
  let verified: Verified | null = null;
  try {
    const expected = await resolveExpectedChecksums(options.source, url, policy, {
      requireChecksum: options.requireChecksum ?? false,
      allowWeakChecksums: options.allowWeakChecksums ?? false,
    });
    const installed = await findInstalled(dir, options.version, expected);
    if (installed) return describe(dir, installed, expected, true, 0, startedAt);

    await mkdir(options.releasesDir, { recursive: true });
    const progress = options.onProgress ?? (() => undefined);
    const job: Job = { options, settings, label, expected, signal: deadline.signal, progress };
    const fetchStartedAt = performance.now();
    verified = await verifyArtifact(job, url, policy);
    const fetchMs = performance.now() - fetchStartedAt;
    const staged = await unpack(job, verified);
    const { record, reused } = await commit(options, staged, verified, expected, label);
    return describe(dir, record, expected, reused, fetchMs, startedAt);
  } catch (error) {
    throw asDiskFull(deadline.explain(error, `fetching ${label}`), options);
  } finally {
    await verified?.file.release();
    deadline.dispose();
  }
}

/**
 * The first pass: a local, verified and scanned copy of the artifact. From the cache when it has
 * the checksum; a file:// artifact in place (unless it is to be cached); anything else fetched
 * into a local file (the cache entry to be, or a temp file beside releasesDir) as it is hashed
 * and scanned, retrying transient failures.
 */
async function verifyArtifact(job: Job, url: URL, policy: RetryPolicy): Promise<Verified> {
  const { options, settings, label, expected } = job;
  // The cache is keyed by checksum, so it only helps when the checksum is known before fetching.
  const key = expected[0];
  const cache =
    options.cacheDir === undefined || key === undefined
      ? null
      : new DownloadCache(options.cacheDir, settings.cacheMaxBytes);
  if (cache !== null && key !== undefined) {
    const hit = await fromCache(job, cache, key);
    if (hit !== null) return hit;
  }
  const request = (signal: AbortSignal): FetchRequest => ({
    url,
    label,
    headers: options.source.headers ?? {},
    signal,
  });
  if (url.protocol === 'file:' && cache === null) {
    return withRetries(async () => {
      const { handle, size } = await openFileHandle(request(job.signal));
      return { ...(await inspectLocal(job, new LocalFile(handle), size)), recheck: true };
    }, policy);
  }
  if (url.protocol !== 'file:') await randomDelay(settings.randomDelayMs, job.signal);
  const keepAs = cache === null || key === undefined ? null : { cache, key };
  return withRetries(
    () => fetchToFile(job, (signal) => openPaced(request(signal), settings), keepAs),
    policy,
  );
}

/** The cache's entry for key, verified and scanned; a damaged entry is dropped (null: fetch instead). */
async function fromCache(job: Job, cache: DownloadCache, key: Checksum): Promise<Verified | null> {
  const path = await cache.lookup(key);
  if (path === null) return null;
  try {
    const request = { url: pathToFileURL(path), label: path, headers: {}, signal: job.signal };
    const { handle, size } = await openFileHandle(request);
    return { ...(await inspectLocal(job, new LocalFile(handle), size)), recheck: false };
  } catch (error) {
    // Only a rejected entry (damaged, evicted meanwhile) is worth a fetch; a full disk or an
    // abort would fail the fetch just the same.
    if (job.signal.aborted || !(error instanceof FerryError)) throw error;
    await cache.remove(key).catch(() => undefined);
    return null;
  }
}

async function inspectLocal(job: Job, file: LocalArtifact, size: number): Promise<Omit<Verified, 'recheck'>> {
  try {
    return { file, ...(await inspect(job, file.chunks(job.signal), size)) };
  } catch (error) {
    await file.release();
    throw error;
  }
}

/**
 * One attempt at fetching: the bytes go to a new local file as they are hashed and scanned. A
 * failed scan stops the transfer at once; a mismatch removes the file.
 */
async function fetchToFile(
  job: Job,
  open: (signal: AbortSignal) => Promise<FetchedBody>,
  keepAs: { cache: DownloadCache; key: Checksum } | null,
): Promise<Verified> {
  const { options } = job;
  const besideReleases = (): Promise<DownloadFile> =>
    DownloadFile.create(DownloadFile.besideReleases(options.releasesDir, options.version));
  // Written into the cache directory, the copy becomes the entry by one rename once verified; a
  // cache that cannot be written to must not fail the install.
  const file =
    keepAs === null
      ? await besideReleases()
      : await keepAs.cache
          .tempPath()
          .then((path) => DownloadFile.create(path))
          .catch(besideReleases);
  const attempt = new AbortController();
  try {
    const body = await open(AbortSignal.any([job.signal, attempt.signal]));
    async function* copied(): AsyncGenerator<Buffer> {
      for await (const chunk of body.chunks) {
        await file.write(chunk);
        yield chunk;
      }
    }
    const inspected = await inspect(job, copied(), body.total);
    await file.finish();
    if (keepAs !== null) await file.keepIn(keepAs.cache, keepAs.key);
    return { file, ...inspected, recheck: false };
  } catch (error) {
    // Stop the transfer before removing what it wrote.
    attempt.abort(error);
    await file.release();
    throw error;
  }
}

/**
 * Hashes the artifact and scans the archive in it, in one read; throws unless the whole archive
 * is safe and within its limits and every expected checksum matched.
 */
async function inspect(
  job: Job,
  chunks: AsyncIterable<Buffer>,
  total: number | null,
): Promise<{ digests: Partial<Record<ChecksumAlgorithm, string>>; bytes: number }> {
  const hasher = new MultiHasher(algorithmsFor(job.expected));
  let bytes = 0;
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      hasher.update(chunk);
      bytes += chunk.length;
      job.progress({ phase: 'download', bytes, total });
      yield chunk;
    }
  }
  await scanArchive(decompressArchive(hashed(), job.label), job.settings.limits, job.label);
  const digests = hasher.digest();
  job.progress({ phase: 'verify', bytes, total: bytes });
  verifyDigests(job.expected, digests, job.label);
  return { digests, bytes };
}

/** The second pass: unpacks the verified artifact into a fresh temp dir in releasesDir. */
async function unpack(job: Job, verified: Verified): Promise<string> {
  const { options, label } = job;
  const tmp = await mkdtemp(join(options.releasesDir, `.tmp-${options.version}-`));
  const extractor = new ArchiveExtractor(tmp, job.settings.limits, label, (bytes) =>
    job.progress({ phase: 'extract', bytes, total: null }),
  );
  const chunks = verified.file.chunks(AbortSignal.any([job.signal, extractor.failedSignal]));
  const rehash = verified.recheck ? new MultiHasher(['sha256']) : null;
  async function* rehashed(): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      rehash?.update(chunk);
      yield chunk;
    }
  }
  try {
    await extractor.extract(decompressArchive(rehash === null ? chunks : rehashed(), label));
    const sha256 = rehash?.digest().sha256;
    if (sha256 !== undefined && sha256 !== verified.digests.sha256) {
      throw changedMeanwhile(label, verified.digests.sha256 ?? '', sha256);
    }
    return tmp;
  } catch (error) {
    // Stop every write before removing what was written.
    extractor.abort(error);
    await extractor.settled();
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** The source's bytes, resumed after mid-stream failures where it can be, and paced when asked. */
async function openPaced(request: FetchRequest, settings: InstallSettings): Promise<FetchedBody> {
  const body = await openResumable(request, { max: settings.retries, waitMs: settings.retryWaitMs });
  if (settings.maxBytesPerSecond === 0) return { ...body, chunks: coalesce(body.chunks, CHUNK_BYTES) };
  // A paced download is not held back by the CPU: its chunks stay small, so the pace stays smooth.
  return { ...body, chunks: throttle(body.chunks, settings.maxBytesPerSecond, request.signal) };
}

/** Records the verified release and renames it into place; a concurrent install may have won. */
async function commit(
  options: InstallReleaseOptions,
  staged: string,
  verified: Verified,
  expected: Checksum[],
  label: string,
): Promise<{ record: ReleaseRecord; reused: boolean }> {
  const dir = join(options.releasesDir, options.version);
  const primary = expected[0]?.algorithm ?? 'sha256';
  const record: ReleaseRecord = {
    version: options.version,
    checksum: `${primary}:${verified.digests[primary] ?? ''}`,
    checksums: verified.digests,
    url: label,
    bytes: verified.bytes,
    installedAt: new Date().toISOString(),
  };
  try {
    await writeReleaseRecord(staged, record);
    await rename(staged, dir);
  } catch (error) {
    await rm(staged, { recursive: true, force: true });
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

function changedMeanwhile(label: string, verified: string, got: string): FerryError {
  return new FerryError(
    'FERRY_E_CHECKSUM_MISMATCH',
    `artifact ${label} changed while it was being installed: expected sha256:${verified} (as verified), got sha256:${got}`,
    { where: label, expected: `sha256:${verified}`, got: `sha256:${got}` },
  );
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
