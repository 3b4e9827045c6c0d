/**
 * Releases as Ferry learns of them: from a watcher (GitHub releases, an HTTP index), a webhook
 * (GitHub, a registry, a CI job's signed JSON) or a user (`ferry release add`, the API). Every
 * source hands its finds to the one intake (ReleaseIntake), which records them in the catalog and
 * deploys them where the app's policies allow, through the same path as `ferry deploy`.
 */

/** The kinds of trigger, one list: shown in history, the audit log and the API. */
export const TRIGGER_KINDS = ['user', 'webhook', 'watcher'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/** Who or what brought a release or started a deployment. Never holds a secret. */
export interface Trigger {
  readonly kind: TriggerKind;
  /**
   * Who exactly: a token's name (`token:ci`), a webhook delivery (`webhook:github:<delivery id>`),
   * a watcher (`watcher:github:owner/name`, `watcher:http:<app>`).
   */
  readonly actor: string;
}

/** Where a release's artifact is fetched from when not from the app's `artifact.url` template. */
export interface ReleaseArtifact {
  /** The artifact's URL (credentials in it are redacted wherever it is shown). */
  readonly url: string;
  /** `sha256:<hex>` (or another algorithm the artifact settings allow); null: none known. */
  readonly checksum: string | null;
}

/** A release a source found or was given. */
export interface ReleaseCandidate {
  readonly app: string;
  /** Validated by the one validator (src/lib/release-version.ts) before it is offered. */
  readonly version: string;
  /** null: the app's artifact settings with {version} (their checksum rules too). */
  readonly artifact: ReleaseArtifact | null;
  /** Release notes as the source gave them (trimmed to a few KiB); null when none. */
  readonly changelog: string | null;
  /** When the source published it (ms since the epoch); null when unknown. */
  readonly publishedAt: number | null;
  /**
   * The one environment the source names (a webhook's `env`, a trigger's `env`); null: every
   * environment of the app whose policy deploys new releases.
   */
  readonly env: string | null;
  readonly trigger: Trigger;
}

/** A release as the catalog keeps it: what was offered, and when Ferry first recorded it. */
export interface CatalogEntry extends Omit<ReleaseCandidate, 'env'> {
  /** ms since the epoch. */
  readonly recordedAt: number;
}

/** What the intake did with a candidate in one environment. */
export interface IntakeOutcome {
  readonly env: string;
  /**
   * deployed: a deployment or rollout started (`deployment` names it); queued: behind a lock or a
   * running rollout; waiting: held by the policy (a deployment window, a debounce) and deployed
   * later by itself; skipped: the policy does not take it (`reason` says why).
   */
  readonly action: 'deployed' | 'queued' | 'waiting' | 'skipped';
  readonly reason: string | null;
  /** The deployment's or rollout's id when one started. */
  readonly deployment: string | null;
}

/** The one way in for new releases. */
export interface ReleaseIntake {
  /**
   * Records the candidate in the catalog (once per app and version; a second offer with another
   * artifact or checksum is refused: FERRY_E_RELEASE_CONFLICT) and applies each target
   * environment's policy. Resolves once every deployment it starts has been accepted (not finished).
   */
  offer(candidate: ReleaseCandidate): Promise<readonly IntakeOutcome[]>;
}

/** The releases Ferry knows of, per app. */
export interface ReleaseCatalog {
  get(app: string, version: string): Promise<CatalogEntry | undefined>;
  /** Newest first (by publishedAt, else recordedAt). */
  list(app: string, opts?: { readonly limit?: number }): Promise<readonly CatalogEntry[]>;
}

/** What the API and the daemon hold of releases. */
export interface Releases {
  readonly intake: ReleaseIntake;
  readonly catalog: ReleaseCatalog;
}
