import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * A client on a raw TCP socket, for what an HTTP client library would hide: partial or malformed
 * requests, several requests written at once, and whether the server closed the connection.
 */
export class RawClient {
  private readonly chunks: Buffer[] = [];
  /** Epoch ms when the server closed (or reset) the connection, or null while it is open. */
  closedAt: number | null = null;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => (this.closedAt = Date.now()));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  /** What the server sent so far, as latin1 text. */
  get text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  get closed(): boolean {
    return this.closedAt !== null;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until the received text satisfies the predicate; throws with what came after the deadline. */
  async waitForText(
    description: string,
    accept: (text: string) => boolean,
    timeoutMs = 15_000,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!accept(this.text)) {
      if (Date.now() > deadline || (this.closed && !accept(this.text)))
        throw new Error(`waiting for ${description}: got ${JSON.stringify(this.text.slice(0, 500))}`);
      await delay(10);
    }
    return this.text;
  }

  /** Waits until the server closed the connection; throws with what came after the deadline. */
  async waitForClose(timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline)
        throw new Error(
          `the server did not close the connection; got ${JSON.stringify(this.text.slice(0, 500))}`,
        );
      await delay(10);
    }
    return this.text;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The status codes of the responses in a raw HTTP/1.1 byte stream, in order. */
export function statusCodes(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
}
