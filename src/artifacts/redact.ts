// Query parameters that carry credentials in pre-signed or token URLs (S3, GCS, Azure SAS, ...).
const SECRET_PARAM = /sig|signature|token|key|secret|pass|auth|credential/i;

/**
 * The URL as it may appear in messages, logs and release metadata: no userinfo, and the values of
 * credential-like query parameters replaced by '***'.
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
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) parsed.searchParams.set(name, '***');
  }
  return parsed.toString();
}

/** The last path component of a URL, decoded: the name a SHA256SUMS file lists the artifact under. */
export function urlFileName(url: URL): string {
  const last = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}
