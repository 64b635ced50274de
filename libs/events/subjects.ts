/**
 * NATS subject matching (`*` = one token, `>` = one or more trailing tokens),
 * for filtering on the client when the server cannot filter for us.
 */
export function subjectMatches(filter: string, subject: string): boolean {
  const filterTokens = filter.split('.');
  const subjectTokens = subject.split('.');
  for (let i = 0; i < filterTokens.length; i++) {
    const token = filterTokens[i];
    if (token === '>') return subjectTokens.length > i;
    if (i >= subjectTokens.length) return false;
    if (token !== '*' && token !== subjectTokens[i]) return false;
  }
  return filterTokens.length === subjectTokens.length;
}

/** True when the connected server is at least major.minor (e.g. for features added in 2.10). */
export function serverVersionAtLeast(version: string | undefined, major: number, minor: number): boolean {
  const match = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  if (!match) return false;
  const [serverMajor, serverMinor] = [Number(match[1]), Number(match[2])];
  return serverMajor > major || (serverMajor === major && serverMinor >= minor);
}
