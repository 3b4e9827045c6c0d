/** Where a release's artifact comes from and how to verify it. */
export interface ArtifactSource {
  /** file:///abs/path.tar.gz, http(s)://..., s3://bucket/key or gs://bucket/object (tar or tar.gz, detected by content). */
  url: string;
  /** 'sha256:<hex>' or bare hex; the algorithm follows from the length (md5, sha1, sha256, sha512). */
  checksum?: string | null;
  /** A SHA256SUMS-style file; its entry for the artifact's file name is the expected checksum. */
  checksumsUrl?: string | null;
  /** Sent with http(s) requests to the artifact's origin; never logged. */
  headers?: Record<string, string>;
}

/** Bounds on what an archive may unpack to, so a hostile or broken artifact cannot fill the disk. */
export interface ExtractLimits {
  /**
   * What the release may cost on disk: every entry its size in 4 KiB blocks (a directory and a
   * symlink one block) plus 1 KiB for its inode and name (see archive-plan.ts).
   */
  maxBytes: number;
  /** Number of entries of any kind, with the directories their paths imply. */
  maxEntries: number;
}

/** In this order: the artifact is fetched (or read) and scanned, verified, then extracted. */
export type InstallPhase = 'download' | 'verify' | 'extract';

export interface InstallProgress {
  phase: InstallPhase;
  bytes: number;
  total: number | null;
}

export interface InstallReleaseOptions {
  releasesDir: string;
  version: string;
  source: ArtifactSource;
  limits?: Partial<ExtractLimits>;
  /** Refuse a remote artifact (anything but file://) that has neither checksum nor checksumsUrl. */
  requireChecksum?: boolean;
  /** Accept md5 and sha1 checksums; refused by default (FERRY_E_CHECKSUM_WEAK). */
  allowWeakChecksums?: boolean;
  signal?: AbortSignal;
  /** Deadline for the whole fetch, retries and waits included. */
  timeoutMs?: number;
  /** How many times a transient failure (network error, timeout, 5xx) is retried. */
  retries?: number;
  /** The first pause before a retry; each next one doubles, up to retryMaxWaitMs. */
  retryWaitMs?: number;
  /** The longest pause between retries (30 s by default); retryWaitMs here makes every pause equal. */
  retryMaxWaitMs?: number;
  /**
   * Retry a missing file:// artifact like a transient failure instead of failing at once
   * (ferry install: stretcher retries it, for an archive still being copied into place).
   */
  retryMissingFile?: boolean;
  /**
   * Keep verified artifacts here as <algo>-<hex>, and read them from here instead of the network
   * when the checksum is known before fetching. No cache when unset.
   */
  cacheDir?: string;
  /** Bound on the cache's total size; the oldest entries go first. */
  cacheMaxBytes?: number;
  /** Average download speed limit in bytes per second; unlimited when unset. */
  maxBytesPerSecond?: number;
  /** Wait a random time in [0, randomDelayMs) before a network fetch (counts toward timeoutMs). */
  randomDelayMs?: number;
  onProgress?: (progress: InstallProgress) => void;
  /**
   * Runs once the artifact is fetched and verified, before anything is unpacked (ferry install's
   * pre commands); not when the release is already installed. Its time does not count toward
   * timeoutMs; its failure fails the install with nothing unpacked.
   */
  beforeUnpack?: () => Promise<void>;
  /**
   * Run as root, give the unpacked entries the archive's owners as tar does for root (see
   * ArchiveOwners); otherwise, and by default, they belong to the user unpacking them.
   */
  keepOwners?: boolean;
}

export interface InstalledRelease {
  version: string;
  dir: string;
  /** '<algorithm>:<hex>' of the artifact as fetched: the algorithm given, sha256 when none was. */
  checksum: string;
  /** Bytes of the artifact as fetched (compressed size). */
  bytes: number;
  /** True when the release was already installed with a matching checksum and nothing was fetched. */
  reused: boolean;
  /**
   * Where the artifact's bytes were read from: nowhere (`installed`: the release was there), the
   * download cache, or its source (a network fetch, or a file:// artifact read in place).
   */
  readFrom: 'installed' | 'cache' | 'source';
  timings: { fetchMs: number; totalMs: number };
}

export const DEFAULT_LIMITS: Readonly<ExtractLimits> = Object.freeze({
  maxBytes: 2 * 1024 ** 3,
  maxEntries: 100_000,
});

export const DEFAULT_FETCH = Object.freeze({
  timeoutMs: 60 * 60_000,
  retries: 3,
  retryWaitMs: 1000,
  retryMaxWaitMs: 30_000,
  cacheMaxBytes: 5 * 1024 ** 3,
});
