import { openFile } from './file.js';
import { openGcs } from './gcs.js';
import { openHttp } from './http.js';
import { openS3 } from './s3.js';
import { describeSchemes, isArtifactScheme, type ArtifactScheme } from './schemes.js';
import type { FetchedBody, FetchRequest, Source } from './source.js';
import { sourceError } from './source.js';

export type { FetchedBody, FetchRequest, Source } from './source.js';
export { isMissing, isMissingFile, isRetryable, sourceError } from './source.js';
export { openFileHandle } from './file.js';

// One module per scheme (the list is ARTIFACT_SCHEMES).
const SOURCES: Readonly<Record<ArtifactScheme, Source>> = {
  'file:': openFile,
  'http:': openHttp,
  'https:': openHttp,
  's3:': openS3,
  'gs:': openGcs,
};

/** Opens the artifact at request.url with the source for its scheme. */
export function openSource(request: FetchRequest): Promise<FetchedBody> {
  const { protocol } = request.url;
  if (!isArtifactScheme(protocol)) {
    return Promise.reject(
      sourceError(
        `artifact URL ${request.label}: expected a scheme of ${describeSchemes()}, got ${protocol}//`,
        {
          where: request.label,
          retryable: false,
        },
      ),
    );
  }
  return SOURCES[protocol](request);
}

/** Fetches a small text document (a checksums file), refusing anything larger than maxBytes. */
export async function fetchText(request: FetchRequest, maxBytes = 1024 * 1024): Promise<string> {
  const body = await openSource(request);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body.chunks) {
    size += chunk.length;
    if (size > maxBytes) {
      throw sourceError(`${request.label}: expected at most ${maxBytes} bytes, got more`, {
        where: request.label,
        retryable: false,
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
