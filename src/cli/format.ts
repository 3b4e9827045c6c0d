/** Small formatters shared by the CLI's renderers. */

/** An uptime as "45s", "12m3s" or "5h20m"; "-" when unknown. */
export function formatUptime(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** A moment as "2026-01-01 10:41:07" (UTC). */
export function formatDateTime(at: number): string {
  return new Date(at).toISOString().replace('T', ' ').slice(0, 19);
}
