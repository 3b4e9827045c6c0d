import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a test controller does with a question: answer (status, body), or hold it (null). */
export type ControllerBehaviour = (
  question: Record<string, unknown>,
) => { status: number; body: string } | null;

/** A controller webhook on 127.0.0.1 (a real HTTP server on port 0) for the runtime's tests. */
export interface ControllerServer {
  /** The controller's URL (with `path`, and whatever query the test adds). */
  url(path?: string): string;
  /** The questions received, in order. */
  readonly questions: Record<string, unknown>[];
  /** How many requests were held and then closed by the asker. */
  readonly abandoned: () => number;
  behave(behaviour: ControllerBehaviour): void;
  close(): Promise<void>;
}

/** Starts a controller that answers as `behaviour` says (JSON 200 `{}` by default). */
export async function startControllerServer(behaviour?: ControllerBehaviour): Promise<ControllerServer> {
  let behave: ControllerBehaviour = behaviour ?? (() => ({ status: 200, body: '{}' }));
  const questions: Record<string, unknown>[] = [];
  let abandoned = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const question = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      questions.push(question);
      const answer = behave(question);
      if (answer === null) {
        response.on('close', () => abandoned++);
        return;
      }
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    questions,
    abandoned: () => abandoned,
    behave: (next) => (behave = next),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An answer of JSON. */
export function json(body: unknown, status = 200): { status: number; body: string } {
  return { status, body: JSON.stringify(body) };
}
