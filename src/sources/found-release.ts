import semver from 'semver';
import type { ReleaseArtifact } from '../releases/release.js';

/** Release notes beyond this are cut: the catalog keeps a summary, the source keeps the rest. */
const MAX_CHANGELOG_CHARS = 4096;

/** What a source resolved a release's artifact to, or why the release is skipped. */
export type ResolvedArtifact = { readonly artifact: ReleaseArtifact | null } | { readonly skip: string };

/**
 * A release as a source lists it. Its artifact is resolved only when the release is new (a GitHub
 * release downloads its checksums asset then, not at every poll).
 */
export interface FoundRelease {
  /** Validated (src/lib/release-version.ts) by the source. */
  readonly version: string;
  readonly publishedAt: number | null;
  readonly changelog: string | null;
  resolve(): Promise<ResolvedArtifact>;
}

/** Where a release stands in a source's order: what the cursor keeps of the newest offered. */
export interface ReleaseMark {
  readonly version: string;
  readonly publishedAt: number | null;
}

/**
 * Ascending order, oldest first. Two semver versions compare by
 * semver; otherwise by publish time (unknown first), then by version text so the order is total.
 */
export function compareReleases(a: ReleaseMark, b: ReleaseMark): number {
  if (semver.valid(a.version) !== null && semver.valid(b.version) !== null)
    return semver.compare(a.version, b.version);
  const byTime = (a.publishedAt ?? 0) - (b.publishedAt ?? 0);
  if (byTime !== 0) return byTime;
  return a.version < b.version ? -1 : a.version > b.version ? 1 : 0;
}

/** A tag as a version: `v1.2.3` is `1.2.3`; a tag whose rest is not semver is kept whole. */
export function versionOfTag(tag: string): string {
  const rest = /^v/i.test(tag) ? tag.slice(1) : null;
  return rest !== null && semver.valid(rest) !== null ? rest : tag;
}

/** Release notes as the catalog keeps them: trimmed, at most a few KiB, null when empty. */
export function changelogOf(text: string | null | undefined): string | null {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return null;
  return trimmed.length > MAX_CHANGELOG_CHARS ? `${trimmed.slice(0, MAX_CHANGELOG_CHARS)}…` : trimmed;
}

/** An ISO time as ms since the epoch; null when absent or unparseable. */
export function timeOf(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}
