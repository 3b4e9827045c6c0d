import { isFerryError } from '../../errors/ferry-error.js';
import { UnknownCodeError } from '../../errors/unknown-code-error.js';

/**
 * Whether the agent reaches its server: `connecting` until the first exchange ends, `connected`
 * after one succeeded, `disconnected` after one failed (a poll or a report: the link is as good as
 * its last exchange). Without the server the agent keeps running its last desired state.
 */
export type LinkConnection = 'connecting' | 'connected' | 'disconnected';

/** An error as the status shows it: its code and message (never the credential: no header is quoted). */
export interface LinkError {
  readonly code: string;
  readonly message: string;
  /** When it happened (ms since the epoch, the agent's clock). */
  readonly at: number;
}

export interface LinkConnectionStatus {
  readonly connection: LinkConnection;
  /** Since when the connection is what it is (the start, the first failure, the reconnection). */
  readonly since: number;
  /** The last failure of the link (kept after a reconnection, with its time). */
  readonly lastError: LinkError | null;
}

/** The connection half of a link's status, moved by each exchange's outcome. */
export class ConnectionTracker {
  private connection: LinkConnection = 'connecting';
  private since: number;
  private lastError: LinkError | null = null;

  constructor(now: number) {
    this.since = now;
  }

  succeeded(now: number): void {
    if (this.connection === 'connected') return;
    this.connection = 'connected';
    this.since = now;
  }

  /** An exchange with the server failed. */
  failed(error: unknown, now: number): void {
    this.noteError(error, now);
    if (this.connection === 'disconnected') return;
    this.connection = 'disconnected';
    this.since = now;
  }

  /** A failure that says nothing of the connection (the disk, a document from the server refused). */
  noteError(error: unknown, now: number): void {
    this.lastError = { ...describeError(error), at: now };
  }

  get status(): LinkConnectionStatus {
    return { connection: this.connection, since: this.since, lastError: this.lastError };
  }
}

function describeError(error: unknown): { code: string; message: string } {
  if (isFerryError(error) || error instanceof UnknownCodeError)
    return { code: error.code, message: error.message };
  return { code: 'FERRY_E_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
