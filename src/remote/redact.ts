// Credentials out of remote URLs: the only form of a URL that may appear in a message, a statistic or a log.

// Query parameters that carry secrets in the URL forms some clients accept (`redis://host?password=...`).
const SECRET_PARAMS = /^(password|pass|pwd|token|access_token|secret|key|auth|sig|signature)$/i;

/**
 * A URL with its credentials replaced by `***`: the password of the userinfo (the user stays, it says which
 * account was refused), and the values of secret-looking query parameters. A user with no password is a
 * secret itself (Redis's legacy `redis://password@host`, a token in `https://token@host`): redacted too. A string that does
 * not parse as a URL keeps only what precedes a possible `user:password@`.
 * @param url a remote URL (redis, rediss, http, https), credentials included.
 * @returns the same URL without secrets.
 * @example
 * redactUrl('redis://cache:s3cret@10.0.0.5:6379/2'); // 'redis://cache:***@10.0.0.5:6379/2'
 * redactUrl('https://ci:tok@cache.example/ns');        // 'https://ci:***@cache.example/ns'
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL: still never echo what looks like userinfo.
    return url.replace(/\/\/[^/@\s]*@/, '//***@');
  }
  if (parsed.password) parsed.password = '***';
  // A lone user is a password (redis://password@host) or a token (https://token@host): redacted too.
  else if (parsed.username) parsed.username = '***';
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAMS.test(name)) parsed.searchParams.set(name, '***');
  }
  return parsed.href;
}

/**
 * Removes every occurrence of the secrets from a text (a server's or a library's message may quote them).
 * @param text the message.
 * @param secrets the password, token... (empty ones are ignored).
 * @returns the text with each secret replaced by `***`.
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short secrets would turn ordinary words into stars; they cannot be told apart from text anyway.
    if (secret && secret.length >= 3) out = out.split(secret).join('***');
  }
  return out;
}

/** A URL's userinfo part decoded, or as it is when it is not valid percent-encoding (a bare '%'). */
export function decodeUserinfo(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
