import { mkdir, mkdtemp, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { FerryError } from '../errors/ferry-error.js';
import { ArchiveOwners } from './archive-owners.js';
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
import { redactUrl } from '../lib/redact.js';
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
import { readChunks, SpoolFile } from './spool-file.js';
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

/**
 * The verified artifact, as the extraction reads it again: the very file it was read from (a
 * cache entry, a file:// source, both held open so a rename over them changes nothing), or the copy
 * of a download made as it went by. Only the compressed bytes are kept: decompressing them twice
 * costs less than writing and reading back the whole unpacked tar.
 */
interface Verified {
  archive: KeptArchive;
  digests: Partial<Record<ChecksumAlgorithm, string>>;
  bytes: number;
  readFrom: 'cache' | 'source';
}

interface KeptArchive {
  chunks(signal: AbortSignal): AsyncGenerator<Buffer>;
  /**
   * True when someone else may write the file (a file:// source): the second pass hashes what it
   * reads again, so an artifact rewritten in place after it was verified fails the install.
   */
  readonly foreign: boolean;
  release(): Promise<void>;
}

/**
 * Fetches, verifies and unpacks a release into releasesDir/<version> in two passes. The first
 * reads the artifact (as it downloads, for a network source, keeping a copy), hashes it and scans
 * the archive's headers; the second reads it again and unpacks it, only once the checksum matched
 * and the scan found every entry safe and the whole within its limits. So nothing is written under
 * releasesDir before the artifact is verified, and what is unpacked is what was verified. The release becomes visible by one rename once
 * complete; on any failure nothing is left behind. Installing a version that is already there with
 * the same checksum fetches nothing (reused: true), so a crashed install can simply be repeated.
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
    maxWaitMs: settings.retryMaxWaitMs,
    ...(options.retryMissingFile === true ? { retryMissingFile: true } : {}),
    signal: deadline.signal,
  };
  let verified: Verified | null = null;
  try {
    const expected = await resolveExpectedChecksums(options.source, url, policy, {
      requireChecksum: options.requireChecksum ?? false,
      allowWeakChecksums: options.allowWeakChecksums ?? false,
    });
    const installed = await findInstalled(dir, options.version, expected);
    if (installed) return describe(dir, installed, expected, true, 'installed', 0, startedAt);

    await mkdir(options.releasesDir, { recursive: true });
    const progress = options.onProgress ?? (() => undefined);
    const job: Job = { options, settings, label, expected, signal: deadline.signal, progress };
    const fetchStartedAt = performance.now();
    verified = await verifyArtifact(job, url, policy);
    const fetchMs = performance.now() - fetchStartedAt;
    if (options.beforeUnpack) await deadline.paused(options.beforeUnpack);
    const staged = await unpack(job, verified);
    const { record, reused } = await commit(options, staged, verified, expected, label);
    return describe(dir, record, expected, reused, verified.readFrom, fetchMs, startedAt);
  } catch (error) {
    throw asDiskFull(deadline.explain(error, `fetching ${label}`), options);
  } finally {
    await verified?.archive.release();
    deadline.dispose();
  }
}

/**
 * The first pass, from the cache when it has the checksum, else from the source, retrying
 * transient failures: a file:// artifact is read in place, anything else (or a file:// artifact
 * the caller wants cached) is fetched and copied into the cache as it goes by.
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
    return withRetries(
      async () => inspectFile(job, await openFileHandle(request(job.signal)), true, 'source'),
      policy,
    );
  }
  if (url.protocol !== 'file:') await randomDelay(settings.randomDelayMs, job.signal);
  const keepAs = cache === null || key === undefined ? null : { cache, key };
  return withRetries(() => fetchOnce(job, (signal) => openPaced(request(signal), settings), keepAs), policy);
}

/** The cache's entry for key, verified; a damaged entry is dropped (null: fetch instead). */
async function fromCache(job: Job, cache: DownloadCache, key: Checksum): Promise<Verified | null> {
  const path = await cache.lookup(key);
  if (path === null) return null;
  try {
    const request = { url: pathToFileURL(path), label: path, headers: {}, signal: job.signal };
    return await inspectFile(job, await openFileHandle(request), false, 'cache');
  } catch (error) {
    // Only a rejected entry (damaged, evicted meanwhile) is worth a fetch; a full disk or an
    // abort would fail the fetch just the same.
    if (job.signal.aborted || !(error instanceof FerryError)) throw error;
    await cache.remove(key).catch(() => undefined);
    return null;
  }
}

/** A local file, read in place and held open for the second pass. */
async function inspectFile(
  job: Job,
  file: { handle: FileHandle; size: number },
  foreign: boolean,
  readFrom: Verified['readFrom'],
): Promise<Verified> {
  const archive: KeptArchive = {
    chunks: (signal) => readChunks(file.handle, signal),
    foreign,
    release: () => file.handle.close().catch(() => undefined),
  };
  try {
    return { archive, readFrom, ...(await inspect(job, readChunks(file.handle, job.signal), file.size)) };
  } catch (error) {
    await archive.release();
    throw error;
  }
}

/**
 * One attempt at fetching, copying the download as it goes by (into the cache when there is one,
 * else into a file without a name beside releasesDir); a failed scan stops the transfer at once.
 */
async function fetchOnce(
  job: Job,
  open: (signal: AbortSignal) => Promise<FetchedBody>,
  keepAs: { cache: DownloadCache; key: Checksum } | null,
): Promise<Verified> {
  const { options } = job;
  // Written into the cache directory, the copy becomes the entry by one rename once verified.
  const cached =
    keepAs === null
      ? null
      : await keepAs.cache
          .tempPath()
          .then((path) => SpoolFile.create(path))
          .catch(() => null);
  const copy = cached ?? (await SpoolFile.besideReleases(options.releasesDir, options.version));
  const attempt = new AbortController();
  try {
    const body = await open(AbortSignal.any([job.signal, attempt.signal]));
    async function* copied(): AsyncGenerator<Buffer> {
      for await (const chunk of body.chunks) {
        await copy.write(chunk);
        yield chunk;
      }
    }
    const verified = await inspect(job, copied(), body.total);
    await copy.finish();
    if (cached !== null && keepAs !== null) await cached.keepIn(keepAs.cache, keepAs.key);
    const archive: KeptArchive = {
      chunks: (signal) => copy.chunks(signal),
      foreign: false,
      release: () => copy.release(),
    };
    return { archive, readFrom: 'source', ...verified };
  } catch (error) {
    attempt.abort(error);
    await copy.release();
    throw error;
  }
}

/**
 * Hashes the artifact and scans the archive in it, in one read; throws unless the whole archive is
 * safe and within its limits and every checksum matched.
 */
async function inspect(
  job: Job,
  chunks: AsyncIterable<Buffer>,
  total: number | null,
): Promise<{ digests: Partial<Record<ChecksumAlgorithm, string>>; bytes: number }> {
  const { label } = job;
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
  await scanArchive(decompressArchive(hashed(), label), job.settings.limits, label);
  const digests = hasher.digest();
  job.progress({ phase: 'verify', bytes, total: bytes });
  verifyDigests(job.expected, digests, label);
  return { digests, bytes };
}

/**
 * The second pass: unpacks the verified archive into a fresh temp dir in releasesDir. A file
 * someone else may write is hashed again as it is read: changed since it was verified, it fails.
 */
async function unpack(job: Job, verified: Verified): Promise<string> {
  const { options, label } = job;
  const tmp = await mkdtemp(join(options.releasesDir, `.tmp-${options.version}-`));
  // The archive's owners, as tar keeps them for root; nobody else may give files away.
  const owners = options.keepOwners === true && process.geteuid?.() === 0 ? await ArchiveOwners.load() : null;
  const extractor = new ArchiveExtractor(
    tmp,
    job.settings.limits,
    label,
    (bytes) => job.progress({ phase: 'extract', bytes, total: null }),
    owners,
  );
  const signal = AbortSignal.any([job.signal, extractor.failedSignal]);
  const rehash = verified.archive.foreign ? new MultiHasher(algorithmsFor(job.expected)) : null;
  async function* read(): AsyncGenerator<Buffer> {
    for await (const chunk of verified.archive.chunks(signal)) {
      rehash?.update(chunk);
      yield chunk;
    }
  }
  try {
    await extractor.extract(decompressArchive(read(), label));
    if (rehash !== null) verifyDigests(job.expected, rehash.digest(), `${label} (read again to unpack)`);
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
  readFrom: InstalledRelease['readFrom'],
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
    readFrom,
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
