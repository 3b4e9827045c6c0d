import { ArchivePlanner } from './archive-plan.js';
import { TarFeed } from './tar-feed.js';
import type { ExtractLimits } from './types.js';

export interface ScanSummary {
  /** Inodes the release will take: entries and the directories their paths imply. */
  entries: number;
  /** What unpacking it costs on disk, in whole blocks plus a per-entry overhead. */
  diskBytes: number;
}

/**
 * Reads a (decompressed) tar stream without unpacking anything: every header goes through the plan
 * the extractor follows (every safety check, the entry count, the disk cost), and the bodies are
 * skipped unparsed. Resolves once the whole archive is known to be within its limits and safe.
 * What was parsed goes to sink as it goes by (the tar without what follows its end).
 */
export async function scanArchive(
  chunks: AsyncIterable<Buffer>,
  limits: ExtractLimits,
  label: string,
  sink?: (chunk: Buffer) => Promise<void>,
): Promise<ScanSummary> {
  const planner = new ArchivePlanner(limits, label);
  const feed = new TarFeed(limits, label, (entry) => planner.plan(entry));
  await feed.feed(chunks, sink);
  planner.finish();
  return planner.totals;
}
