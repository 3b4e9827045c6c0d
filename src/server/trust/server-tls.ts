import { loadOperatorTls, type OperatorTlsFiles } from './operator-tls.js';
import { ensureQuickTls, type QuickTlsOptions } from './quick-tls.js';

/**
 * What `ferry server` listens with, and what agents pin: from the quick setup's own CA
 * (quick-tls.ts) or from the operator's files (operator-tls.ts).
 */
export interface ServerTls {
  /** The server's private key (PEM). Secret: never logged or returned. */
  readonly key: string;
  /** The chain the server presents (PEM): its certificate, intermediates, then the CA. */
  readonly cert: string;
  /** The CA agents trust (PEM). */
  readonly ca: string;
  /** `sha256:<hex>` of the CA certificate's DER: what `ferry agent --ca-fingerprint` pins. */
  readonly caFingerprint: string;
  /** When the server certificate expires (ms since the epoch). */
  readonly expiresAt: number;
  readonly source: 'self-signed' | 'operator';
  /** What this start did to the quick setup's files, for the server's output. */
  readonly created: { readonly ca: boolean; readonly serverCertificate: boolean };
}

/** Where `ferry server` takes its TLS from. */
export interface ServerTlsOptions extends QuickTlsOptions {
  /** The operator's own files; without them, the quick setup's CA in the data directory. */
  readonly files?: OperatorTlsFiles;
}

/** The server's TLS: the operator's files when given (checked), else the quick setup's. */
export async function loadServerTls(options: ServerTlsOptions): Promise<ServerTls> {
  if (options.files !== undefined) return loadOperatorTls(options.files, options.clock);
  return ensureQuickTls(options);
}
