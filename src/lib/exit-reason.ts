/**
 * How a process ended, in words: "code 1", "signal SIGKILL", or, for a process that was not the
 * daemon's child (adopted after a restart), "status unknown (adopted)": only its parent saw it.
 */
export function exitReason(exit: { readonly code: number | null; readonly signal: string | null }): string {
  if (exit.signal !== null) return `signal ${exit.signal}`;
  if (exit.code !== null) return `code ${exit.code}`;
  return 'status unknown (adopted)';
}
