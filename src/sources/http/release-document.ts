import { z } from 'zod';

/** The largest release document read. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

const CHECKSUM = /^(sha256|sha512|sha1|md5):[0-9a-fA-F]+$/;
const BARE_SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * One release in an HTTP source's document (docs/triggers.md#http-source). `url` may be relative to
 * the document's URL; `checksum` is `sha256:<hex>` (or a bare sha256 hex digest).
 */
const entry = z.object({
  version: z.string().min(1),
  url: z.string().min(1),
  checksum: z
    .string()
    .refine((c) => CHECKSUM.test(c) || BARE_SHA256.test(c), 'expected "sha256:<hex>"')
    .transform((c) => (BARE_SHA256.test(c) ? `sha256:${c.toLowerCase()}` : c))
    .nullish(),
  changelog: z.string().nullish(),
  published_at: z
    .string()
    .refine((t) => !Number.isNaN(Date.parse(t)), 'expected an ISO 8601 time')
    .nullish(),
});

export type DocumentEntry = z.output<typeof entry>;

/** `format: index`: every release the source has. */
export const indexDocument = z.object({ releases: z.array(entry) });
/** `format: latest`: the one newest release. */
export const latestDocument = entry;

/** The releases a document lists, or what is wrong with it (each problem with its JSON path). */
export function parseReleaseDocument(
  format: 'index' | 'latest',
  text: string,
): { releases: DocumentEntry[] } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { problem: `expected JSON, got ${error instanceof Error ? error.message : String(error)}` };
  }
  const parsed = format === 'index' ? indexDocument.safeParse(json) : latestDocument.safeParse(json);
  if (!parsed.success)
    return {
      problem: parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.length === 0 ? '(document)' : i.path.join('.')}: ${i.message}`)
        .join('; '),
    };
  return { releases: 'releases' in parsed.data ? parsed.data.releases : [parsed.data] };
}
