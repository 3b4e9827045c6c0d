/**
 * The URL schemes Ferry fetches artifacts from, one source module each (see index.ts). Kept apart
 * from the sources so that the config's validation can name them without loading any SDK.
 */
export const ARTIFACT_SCHEMES = ['file:', 'http:', 'https:', 's3:', 'gs:'] as const;

export type ArtifactScheme = (typeof ARTIFACT_SCHEMES)[number];

/** "file://, http://, https://, s3://, gs://", for messages. */
export function describeSchemes(): string {
  return ARTIFACT_SCHEMES.map((scheme) => `${scheme}//`).join(', ');
}

export function isArtifactScheme(protocol: string): protocol is ArtifactScheme {
  return (ARTIFACT_SCHEMES as readonly string[]).includes(protocol);
}
