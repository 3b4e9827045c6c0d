/**
 * The CLI's JSON output: the API's shapes, each point in time also written as ISO 8601. A field
 * holding ms since the epoch (named `at`, `since`, or ending in `At` or `Since`, the API's
 * convention; durations end in `Ms`) keeps its number and gets a sibling `<name>Iso`, e.g.
 * `"createdAt": 1767264060000, "createdAtIso": "2026-01-01T10:41:00.000Z"`.
 */
export function withIsoTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withIsoTimes);
  if (value === null || typeof value !== 'object') return value;
  // fromEntries defines properties: a "__proto__" key from the wire stays data.
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).flatMap(([key, field]): Array<[string, unknown]> => {
      const entry: [string, unknown] = [key, withIsoTimes(field)];
      if (!isTimeField(key) || !(field === null || typeof field === 'number')) return [entry];
      return [entry, [`${key}Iso`, isoOf(field)]];
    }),
  );
}

function isTimeField(key: string): boolean {
  return key === 'at' || key === 'since' || /[a-z](At|Since)$/.test(key);
}

function isoOf(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms)) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A response as indented JSON, times also in ISO 8601. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(withIsoTimes(value), null, 2)}\n`);
}

/** One line of NDJSON (a streamed event or result), times also in ISO 8601. */
export function printJsonLine(value: unknown, out: NodeJS.WritableStream = process.stdout): void {
  out.write(`${JSON.stringify(withIsoTimes(value))}\n`);
}
