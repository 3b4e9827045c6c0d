import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { ReleaseAddRequest, ReleaseAddResponse, ReleasesResponse } from '../../api/types.js';
import { FerryError } from '../../errors/ferry-error.js';
import { clientOf } from '../context.js';
import { printJson } from '../json-output.js';
import { renderReleaseAdded, renderReleases } from '../render-releases.js';

export interface ReleaseAddOptions {
  /** --artifact: the artifact's URL or file path (`--url` names the daemon). */
  artifact?: string;
  checksum?: string;
  changelog?: string;
  changelogFile?: string;
  env?: string;
  /** commander's --no-deploy: false when given. */
  deploy: boolean;
  json?: boolean;
}

/**
 * ferry release add APP VERSION: records a release by hand; the daemon deploys it where the app's
 * policies allow (--no-deploy: records it only). A URL without a scheme is a file path, sent as an
 * absolute file:// URL (the daemon does not know the caller's directory).
 */
export async function addRelease(
  app: string,
  version: string,
  opts: ReleaseAddOptions,
  command: Command,
): Promise<void> {
  if (opts.changelog !== undefined && opts.changelogFile !== undefined)
    throw new FerryError('FERRY_E_USAGE', '--changelog and --changelog-file: give one of them, got both', {
      expected: 'one of --changelog, --changelog-file',
      got: 'both',
    });
  const changelog = opts.changelogFile === undefined ? opts.changelog : readChangelog(opts.changelogFile);
  const body: ReleaseAddRequest = {
    version,
    ...(opts.artifact !== undefined ? { url: artifactUrl(opts.artifact) } : {}),
    ...(opts.checksum !== undefined ? { checksum: opts.checksum } : {}),
    ...(changelog !== undefined ? { changelog } : {}),
    ...(opts.env !== undefined ? { env: opts.env } : {}),
    deploy: opts.deploy,
  };
  const client = await clientOf(command);
  const response = await client.post<ReleaseAddResponse>(
    `/v1/apps/${encodeURIComponent(app)}/releases`,
    body,
  );
  if (opts.json) printJson(response);
  else process.stdout.write(`${renderReleaseAdded(response)}\n`);
}

/** ferry releases APP: the app's releases, newest first, with their status in each environment. */
export async function listReleases(
  app: string,
  opts: { limit: number; json?: boolean },
  command: Command,
): Promise<void> {
  const client = await clientOf(command);
  const response = await client.get<ReleasesResponse>(
    `/v1/apps/${encodeURIComponent(app)}/releases?limit=${opts.limit}`,
  );
  if (opts.json) printJson(response);
  else process.stdout.write(`${renderReleases(response)}\n`);
}

function artifactUrl(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return url;
  // Keep {version} readable: pathToFileURL would escape the braces.
  return pathToFileURL(path.resolve(url)).href.replaceAll('%7Bversion%7D', '{version}');
}

function readChangelog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new FerryError(
      'FERRY_E_USAGE',
      `--changelog-file: expected a readable file, got ${JSON.stringify(file)} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      { where: '--changelog-file', got: file },
    );
  }
}
