// The HTTP backend: the layout of Bazel's remote cache (`/cas/<sha256>`, `/ac/<digest>`) over the global
// fetch alone, so the same code runs in browsers, workers and Node, against bazel-remote, nginx with WebDAV
// or any store behind such a proxy.

import { RemoteError, type BackendOptions, type RemoteBackend, type RemoteUsage } from './backend.js';
import { decodeUserinfo, redactUrl, scrubSecrets } from './redact.js';

// Blob transfers get this many bytes per millisecond on top of the base timeout (20 MB/s).
const BYTES_PER_MS = 20_000;
const HEX64 = /^[0-9a-f]{64}$/;
// Answers to a listing request from a server that cannot list (a plain cache, bazel-remote): not failures.
const CANNOT_LIST = new Set([400, 404, 405, 501]);

type Code = 'EREMOTE' | 'ETIMEDOUT' | 'EREMOTEAUTH' | 'EREMOTEFULL';

/** One entry of nginx's `autoindex_format json` listing. */
interface ListingEntry {
  name: string;
  type?: string;
  size?: number;
}

function checkHex(what: string, value: string): void {
  if (typeof value !== 'string' || !HEX64.test(value)) {
    throw new TypeError(`HttpCasBackend: expected ${what} as 64 lowercase hex digits, got ${JSON.stringify(value)}`);
  }
}

/** `user:pass` as a Basic credential (UTF-8, as browsers send it; btoa alone takes Latin-1 only). */
function basicCredential(user: string, pass: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(`${user}:${pass}`)) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/**
 * A remote store on an HTTP cache with Bazel's layout: blobs at `${base}/cas/<sha256>`, manifests at
 * `${base}/ac/<digest>` (the URL's path is the namespace; its query and fragment are not used). Credentials
 * in the URL (`https://user:pass@host/ns`) are sent as Basic authorization, `options.token` as Bearer (it
 * wins over the URL's). A 404 is a miss; every other failure, a 5xx included, is a RemoteError. Listing and
 * usage work where the server lists folders as JSON (nginx `autoindex_format json`). No leases.
 * @example
 * const backend = new HttpCasBackend({ url: 'https://cache.example/sim', timeoutMs: 5000, prefix: '', token });
 * const bytes = await backend.getBlob(sha256, size); // undefined when the server does not have it
 */
export class HttpCasBackend implements RemoteBackend {
  readonly kind = 'http' as const;
  readonly url: string;
  readonly maxBlobBytes = Number.MAX_SAFE_INTEGER;
  /** None: plain HTTP has no compare-and-set to build them on. */
  readonly leases: undefined = undefined;

  private readonly base: string;
  private readonly authorization?: string;
  private readonly timeoutMs: number;
  private readonly secrets: string[];

  /**
   * @param options the URL (`http(s)://[user:pass@]host[:port]/namespace`), the per-request timeout and an
   * optional bearer token (`prefix` is part of the manifest digests, not of the URLs).
   * @throws {RangeError} when the URL is not an http:// or https:// URL.
   */
  constructor(options: BackendOptions) {
    this.url = redactUrl(options.url);
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new RangeError(`HttpCasBackend: expected an http:// or https:// URL, got ${this.url}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new RangeError(`HttpCasBackend: expected an http:// or https:// URL, got ${this.url}`);
    }
    const user = decodeUserinfo(parsed.username);
    const pass = decodeUserinfo(parsed.password);
    if (options.token) this.authorization = `Bearer ${options.token}`;
    else if (user || pass) this.authorization = basicCredential(user, pass);
    this.secrets = [options.token, pass, parsed.password, ...(pass ? [] : [user, parsed.username])].filter((s): s is string => !!s);
    // fetch refuses URLs with credentials: they travel in the header only.
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    this.base = parsed.href.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs;
  }

  /** The blob, or undefined on a 404. @throws {RemoteError} on any other answer, a network failure or the timeout. */
  async getBlob(sha256: string, size: number): Promise<Uint8Array | undefined> {
    checkHex('a SHA-256', sha256);
    return this.exchange('GET', `cas/${sha256}`, size, undefined, async (response) => {
      if (response.status === 404) return discard(response, undefined);
      if (!response.ok) throw await this.statusError('GET', `cas/${sha256}`, response);
      return new Uint8Array(await response.arrayBuffer());
    });
  }

  /** Whether the server has the blob (HEAD). @throws {RemoteError} */
  async hasBlob(sha256: string): Promise<boolean> {
    checkHex('a SHA-256', sha256);
    return this.exchange('HEAD', `cas/${sha256}`, 0, undefined, async (response) => {
      if (response.status === 404) return discard(response, false);
      if (!response.ok) throw await this.statusError('HEAD', `cas/${sha256}`, response);
      return discard(response, true);
    });
  }

  /** Stores the blob, unless a HEAD finds it there already (a blob never changes). @throws {RemoteError} */
  async putBlob(sha256: string, bytes: Uint8Array): Promise<void> {
    checkHex('a SHA-256', sha256);
    if (await this.hasBlob(sha256)) return;
    await this.put(`cas/${sha256}`, bytes);
  }

  /** The manifest, or undefined on a 404. @throws {RemoteError} */
  async getManifest(digest: string): Promise<Uint8Array | undefined> {
    checkHex('a manifest digest', digest);
    return this.exchange('GET', `ac/${digest}`, 0, undefined, async (response) => {
      if (response.status === 404) return discard(response, undefined);
      if (!response.ok) throw await this.statusError('GET', `ac/${digest}`, response);
      return new Uint8Array(await response.arrayBuffer());
    });
  }

  /** Stores or replaces the manifest. @throws {RemoteError} */
  async putManifest(digest: string, bytes: Uint8Array): Promise<void> {
    checkHex('a manifest digest', digest);
    await this.put(`ac/${digest}`, bytes);
  }

  /**
   * The digests under `/ac/`, when the server lists folders as JSON; undefined when it cannot list (404,
   * 405, an HTML page). @throws {RemoteError} on refused credentials, a 5xx, a network failure, the timeout.
   */
  async listManifests(): Promise<string[] | undefined> {
    return (await this.listing('ac/'))?.map((entry) => entry.name);
  }

  /** Counts and bytes from the listings of `/ac/` and `/cas/`, as far as the server lists; else `{}`. @throws {RemoteError} */
  async usage(): Promise<RemoteUsage> {
    const manifests = await this.listing('ac/');
    const blobs = await this.listing('cas/');
    return {
      ...(manifests ? { entries: manifests.length } : {}),
      ...(blobs ? { blobs: blobs.length, bytes: blobs.reduce((sum, entry) => sum + (Number(entry.size) || 0), 0) } : {}),
    };
  }

  /**
   * One HEAD of `/ac/`: any answer proves the server reachable, except refused credentials and a 5xx.
   * @throws {RemoteError}
   */
  async ping(): Promise<void> {
    await this.exchange('HEAD', 'ac/', 0, undefined, async (response) => {
      if (response.status === 401 || response.status === 403 || response.status >= 500) throw await this.statusError('HEAD', 'ac/', response);
      await discard(response, undefined);
    });
  }

  /** Nothing to close: fetch pools its own connections. */
  async close(): Promise<void> {}

  private async put(path: string, bytes: Uint8Array): Promise<void> {
    await this.exchange('PUT', path, bytes.byteLength, bytes, async (response) => {
      if (!response.ok) throw await this.statusError('PUT', path, response);
      await discard(response, undefined);
    });
  }

  /** The 64-hex files of a folder's JSON listing, or undefined when the server does not list it so. */
  private async listing(folder: 'ac/' | '' | 'cas/'): Promise<ListingEntry[] | undefined> {
    return this.exchange('GET', folder, 0, undefined, async (response) => {
      // A server that lists folders answers 404 for one not made yet (nothing uploaded): when the base folder
      // lists, that is an empty namespace, not a server that cannot list.
      if (response.status === 404 && folder !== '') return discard(response, await this.listing('') ? [] : undefined);
      if (CANNOT_LIST.has(response.status)) return discard(response, undefined);
      if (!response.ok) throw await this.statusError('GET', folder, response);
      let parsed: unknown;
      try {
        parsed = JSON.parse(await response.text());
      } catch {
        return undefined; // an HTML index, or anything else that is not a JSON listing
      }
      if (!Array.isArray(parsed)) return undefined;
      return parsed.filter((entry): entry is ListingEntry => typeof entry?.name === 'string' && (folder === '' || (HEX64.test(entry.name)
        && (entry.type === undefined || entry.type === 'file'))));
    }, 'application/json');
  }

  /**
   * One request under its own timeout (the base one, plus time for `bytes` of body either way), the
   * reading of the answer included; every failure becomes a RemoteError.
   */
  private async exchange<T>(method: string, path: string, bytes: number, body: Uint8Array | undefined,
    handle: (response: Response) => Promise<T>, accept?: string): Promise<T> {
    const ms = Math.ceil(this.timeoutMs + bytes / BYTES_PER_MS);
    const headers: Record<string, string> = {};
    if (this.authorization) headers.authorization = this.authorization;
    if (accept) headers.accept = accept;
    if (body) headers['content-type'] = 'application/octet-stream';
    try {
      const response = await fetch(`${this.base}/${path}`, {
        method,
        headers,
        // A view on a SharedArrayBuffer is not a BodyInit by the DOM types; fetch copies the bytes anyway.
        ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}),
        signal: AbortSignal.timeout(ms),
      });
      return await handle(response);
    } catch (error) {
      if (error instanceof RemoteError) throw error;
      const name = (error as { name?: unknown })?.name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new RemoteError('ETIMEDOUT', `HTTP cache at ${this.url}: ${method} ${path} got no answer in ${ms} ms`, this.url);
      }
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, a TLS error) is in its cause.
      const reason = error instanceof Error ? [error.message, (error.cause as Error | undefined)?.message].filter(Boolean).join(': ') : String(error);
      const detail = scrubSecrets(reason, this.secrets);
      throw new RemoteError('EREMOTE', `HTTP cache at ${this.url}: ${method} ${path} failed: ${detail}`, this.url, { cause: new Error(detail) });
    }
  }

  private async statusError(method: string, path: string, response: Response): Promise<RemoteError> {
    await discard(response, undefined);
    const status = response.status;
    const answer = `${status}${response.statusText ? ` ${response.statusText}` : ''}`;
    let code: Code = 'EREMOTE';
    let message = `HTTP cache at ${this.url}: ${method} ${path} answered ${answer}`;
    if (status === 401 || status === 403) {
      code = 'EREMOTEAUTH';
      message = this.authorization
        ? `HTTP cache at ${this.url} refused the credentials: ${method} ${path} answered ${answer}`
        : `HTTP cache at ${this.url} needs credentials (user:password in the URL, or a token): ${method} ${path} answered ${answer}`;
    } else if (status === 413 || status === 507) {
      code = 'EREMOTEFULL';
      message = `HTTP cache at ${this.url} is full or refuses the size: ${method} ${path} answered ${answer}`;
    }
    return new RemoteError(code, scrubSecrets(message, this.secrets), this.url, { status });
  }
}

/** Frees the connection of an answer whose body is not wanted, then gives `value`. */
async function discard<T>(response: Response, value: T): Promise<T> {
  try {
    await response.body?.cancel();
  } catch {
    // Already read or closed: nothing held.
  }
  return value;
}
