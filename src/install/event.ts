import { FerryError } from '../errors/ferry-error.js';

/**
 * True when run by `consul watch`, which sets CONSUL_INDEX: set but empty counts as unset, as
 * stretcher tests it (os.Getenv(...) != "").
 */
export function isUnderConsulWatch(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.CONSUL_INDEX ?? '') !== '';
}

/** One Consul watch event, as `consul watch -type=event` writes it on the handler's stdin. */
interface ConsulEvent {
  Payload?: unknown;
}

/**
 * Finds the manifest URL the way stretcher does: the argument when given; otherwise the event on
 * stdin. A Consul watch event list (under consul watch, or the input starts with '[') yields the
 * base64 payload of its last event; anything else (a Serf user event payload, a plain line) is
 * the URL on its first line.
 */
export function readManifestUrl(
  argument: string | undefined,
  stdin: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (argument !== undefined && argument.trim() !== '') return argument.trim();
  if (isUnderConsulWatch(env) || stdin.trimStart().startsWith('[')) return fromConsulEvents(stdin);
  const firstLine = (stdin.split('\n')[0] ?? '').trim();
  if (firstLine === '') {
    throw new FerryError(
      'FERRY_E_USAGE',
      'manifest URL: expected an argument or a line on stdin, got nothing',
      {
        where: 'stdin',
      },
    );
  }
  return firstLine;
}

function fromConsulEvents(stdin: string): string {
  let events: unknown;
  try {
    events = JSON.parse(stdin);
  } catch (error) {
    throw new FerryError(
      'FERRY_E_USAGE',
      `Consul events: expected a JSON array on stdin, got invalid JSON`,
      { where: 'stdin' },
      { cause: error },
    );
  }
  if (!Array.isArray(events)) {
    throw new FerryError('FERRY_E_USAGE', 'Consul events: expected a JSON array on stdin', {
      where: 'stdin',
    });
  }
  const last = events.at(-1) as ConsulEvent | undefined;
  if (last === undefined) throw new FerryError('FERRY_E_USAGE', 'No Consul events found', { where: 'stdin' });
  if (typeof last.Payload !== 'string') {
    throw new FerryError('FERRY_E_USAGE', 'Consul event: expected a base64 Payload, got none', {
      where: 'stdin',
    });
  }
  const url = Buffer.from(last.Payload, 'base64').toString('utf8').split('\n')[0]?.trim() ?? '';
  if (url === '')
    throw new FerryError('FERRY_E_USAGE', 'Consul event: the Payload is empty', { where: 'stdin' });
  return url;
}

/** Reads all of stdin, or nothing when stdin is a terminal. */
export async function readStdin(stream: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (stream.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
