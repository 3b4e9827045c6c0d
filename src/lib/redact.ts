/**
 * The one redaction of secrets: URLs as they may be stored, logged, returned or put in errors and
 * events, and free text (hook output, evidence) with known secret values and URL credentials hidden.
 */

/** What a hidden value is replaced with. */
export const REDACTED = '***';

// Query parameters that carry credentials in pre-signed or token URLs (S3 X-Amz-Signature,
// X-Amz-Credential, X-Amz-Security-Token; GCS X-Goog-Signature, X-Goog-Credential; Azure SAS sig...).
const SECRET_PARAM = /sig|signature|token|key|secret|pass|auth|credential/i;

// Variable names whose values are secrets: API_TOKEN, DB_PASSWORD, AWS_SECRET_ACCESS_KEY...
const SECRET_NAME = /token|secret|password|passwd|key|credential|auth/i;

// A URL inside free text: a scheme, then everything up to whitespace, a quote or a bracket.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

// Shorter known values are not hidden: replacing "1" or "on" everywhere would wreck the text.
const MIN_SECRET_LENGTH = 4;

/**
 * The URL as it may appear in messages, logs, the release ledger and API responses: no userinfo, and
 * the values of credential-like query parameters replaced by `***`. `{version}` stays readable.
 */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.toString());
  } catch {
    return '(unparseable URL)';
  }
  if (parsed.username !== '' || parsed.password !== '') {
    parsed.username = '';
    parsed.password = '';
  }
  for (const name of [...new Set(parsed.searchParams.keys())]) {
    if (SECRET_PARAM.test(name)) parsed.searchParams.set(name, REDACTED);
  }
  return parsed.href.replaceAll('%7Bversion%7D', '{version}');
}

/** True for a variable or header name that holds a secret (TOKEN, SECRET, PASSWORD, KEY, AUTH...). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** The secret values a URL carries: its userinfo and its credential-like query parameters. */
export function urlSecrets(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  // Both spellings: text may quote the value as it is in the URL or decoded.
  const values = [parsed.username, parsed.password].flatMap((raw) => [raw, safeDecode(raw)]);
  for (const [name, value] of parsed.searchParams)
    if (SECRET_PARAM.test(name)) values.push(value, encodeURIComponent(value));
  return [...new Set(values)].filter((value) => value.length >= MIN_SECRET_LENGTH);
}

/**
 * Free text as it may be kept as evidence: every URL in it redacted (redactUrl), then every known
 * secret value replaced by `***`, longest first so that a secret containing another is hidden whole.
 */
export function redactText(text: string, knownSecrets: readonly string[] = []): string {
  let out = text.replace(URL_IN_TEXT, (match) => {
    const redacted = redactUrl(match);
    if (redacted !== '(unparseable URL)') return redacted;
    // Not a URL the parser takes, but the text keeps it: hide what looks like credentials in place.
    return match
      .replace(/\/\/[^/@\s]*@/, '//')
      .replace(/([?&][^=&#]*=)([^&#]*)/g, (param: string, name: string) =>
        SECRET_PARAM.test(name) ? `${name}${REDACTED}` : param,
      );
  });
  const secrets = [...new Set(knownSecrets)]
    .filter((secret) => secret.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const secret of secrets) out = out.replaceAll(secret, REDACTED);
  return out;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
