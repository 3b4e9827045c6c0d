/** The last path component of a URL, decoded: the name a SHA256SUMS file lists the artifact under. */
export function urlFileName(url: URL): string {
  const last = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}
