import { createHash } from 'node:crypto';
import type { BigIntStats, FSWatcher } from 'node:fs';
import { watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { TrustUnavailableError } from '../errors/errors.js';
import { TrustDomain } from '../identifiers/spiffe-id.js';
import { EventEmitter, type WimseEventListener } from '../observability/events.js';
import { parseJsonObjectStrict } from '../util/strict-json.js';
import type { BundleSource } from './bundle-source.js';
import type { KeyUse } from './jwt-bundle.js';
import { InvalidBundleError, JwtBundle } from './jwt-bundle.js';
import { parseSpiffeBundleMap } from './static-bundle-source.js';

/** How a bundle file is written: a SPIFFE bundle or a plain RFC 7517 JWK Set. */
export type BundleFileFormat = 'spiffe-bundle' | 'jwks';

/** One trust domain's bundle file. */
export interface BundleFile {
  /** The trust domain the file speaks for (a name or `spiffe://name`); files never name it themselves. */
  trustDomain: TrustDomain | string;
  /** Path to the file; relative paths resolve against the working directory at construction. */
  path: string;
  /**
   * Default: detected on every load. A SPIFFE bundle when there is a `spiffe_*` member or
   * a key with a SPIFFE `use`, otherwise a plain JWK Set.
   */
  format?: BundleFileFormat;
  /** For JWK Set files: mark keys without a SPIFFE `use` as usable for this purpose only. */
  use?: KeyUse;
}

interface FileBundleSourceCommonOptions {
  /**
   * Called when a file cannot be read or parsed; the last good bundle stays in use.
   * Read failures are reported once per distinct failure, not on every poll.
   */
  onError?: (error: Error, path: string) => void;
  /** Called after a trust domain's bundle was loaded, replaced or removed. */
  onUpdate?: (trustDomain: TrustDomain) => void;
  /**
   * Receives `bundle.updated` (a trust domain's bundle changed) and `bundle.stale` (a reload
   * failed; the last good bundle stays in use) events, which are also published on
   * `diagnostics_channel` as `wimse-auth:bundle.updated` / `wimse-auth:bundle.stale`.
   */
  onEvent?: WimseEventListener;
  /** How often to check the files in case a change notification is missed. Default 5000. */
  pollIntervalMs?: number;
}

/** Options of {@link FileBundleSource}: one file per trust domain, or one SPIFFE bundle map. */
export type FileBundleSourceOptions = FileBundleSourceCommonOptions &
  (
    | { files: readonly BundleFile[]; bundleMapPath?: undefined }
    | { bundleMapPath: string; files?: undefined }
  );

const DEFAULT_POLL_INTERVAL_MS = 5000;
// Longer delays make Node's timers fire after 1 ms instead.
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
// Coalesces the burst of events one atomic replace produces (write temp, rename).
const WATCH_DEBOUNCE_MS = 25;
const SPIFFE_USES: ReadonlySet<unknown> = new Set(['x509-svid', 'jwt-svid', 'wit-svid']);

interface WatchedFile {
  readonly path: string;
  readonly directory: string;
  /** Turns the file's text into the bundles it provides. */
  readonly parse: (text: string) => JwtBundle[];
  /** Trust domains the last good content provided. */
  trustDomains: ReadonlySet<string>;
  loaded: boolean;
  /** inode, size and times at the last read: a cheap "did anything change" for polling. */
  stamp: string | undefined;
  /** Hash of the last content parsed, good or bad, so identical content is never re-parsed. */
  contentHash: string | undefined;
  lastError: Error | undefined;
  lastReportedReadError: string | undefined;
  refreshing: Promise<void> | undefined;
  refreshAgain: boolean;
}

function detectFormat(text: string): BundleFileFormat {
  let document: Record<string, unknown>;
  try {
    document = parseJsonObjectStrict(text);
  } catch (cause) {
    throw new InvalidBundleError('malformed_json', 'bundle file is not a strict JSON object', { cause });
  }
  if (Object.keys(document).some((name) => name.startsWith('spiffe_'))) return 'spiffe-bundle';
  const keys = Object.hasOwn(document, 'keys') ? document.keys : undefined;
  const hasSpiffeUse =
    Array.isArray(keys) &&
    keys.some(
      (key: unknown) =>
        typeof key === 'object' && key !== null && SPIFFE_USES.has((key as { use?: unknown }).use),
    );
  return hasSpiffeUse ? 'spiffe-bundle' : 'jwks';
}

function bundleFileParser(trustDomain: TrustDomain, file: BundleFile): (text: string) => JwtBundle[] {
  return (text) => {
    const format = file.format ?? detectFormat(text);
    if (format === 'spiffe-bundle') return [JwtBundle.fromSpiffeBundle(trustDomain, text)];
    return [JwtBundle.fromJwks(trustDomain, text, file.use === undefined ? {} : { use: file.use })];
  };
}

function stampOf(stats: BigIntStats): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}

/** What makes two bundles interchangeable, so a rewrite with the same keys keeps the old object. */
function fingerprintOf(bundle: JwtBundle): string {
  return JSON.stringify([
    bundle.sequence?.toString() ?? null,
    bundle.refreshHintSeconds ?? null,
    bundle.toJwks(),
  ]);
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function newWatchedFile(path: string, parse: (text: string) => JwtBundle[]): WatchedFile {
  const absolute = resolve(path);
  return {
    path: absolute,
    directory: dirname(absolute),
    parse,
    trustDomains: new Set(),
    loaded: false,
    stamp: undefined,
    contentHash: undefined,
    lastError: undefined,
    lastReportedReadError: undefined,
    refreshing: undefined,
    refreshAgain: false,
  };
}

/**
 * Trust bundles read from files that an agent (SPIRE agent, spiffe-helper, a mounted
 * ConfigMap) keeps up to date. Each file's directory is watched, so atomic
 * rename-replaces and symlink swaps are seen, and the files are polled as a fallback.
 *
 * A reload that fails keeps the last good bundle and reports `onError`. A configured
 * trust domain whose file has never loaded makes {@link FileBundleSource.getBundle}
 * throw TrustUnavailableError (503): it is unavailable, not untrusted. Content that did
 * not change keeps the same {@link JwtBundle} object. Watchers and timers never keep the
 * process alive; {@link FileBundleSource.close} stops them.
 */
export class FileBundleSource implements BundleSource, AsyncDisposable {
  /** Settles once every file has been tried once (successfully or not); never rejects. */
  readonly ready: Promise<void>;
  readonly #files: readonly WatchedFile[];
  // Files mode: the file responsible for each configured trust domain.
  readonly #fileByTrustDomain = new Map<string, WatchedFile>();
  // Bundle-map mode: the one file responsible for every trust domain.
  readonly #bundleMapFile: WatchedFile | undefined;
  readonly #bundles = new Map<string, JwtBundle>();
  readonly #fingerprints = new Map<string, string>();
  readonly #watchers = new Map<string, FSWatcher | undefined>();
  readonly #debounceTimers = new Map<string, NodeJS.Timeout>();
  readonly #pollTimer: NodeJS.Timeout;
  readonly #onError: ((error: Error, path: string) => void) | undefined;
  readonly #onUpdate: ((trustDomain: TrustDomain) => void) | undefined;
  readonly #events: EventEmitter;
  #initialized = false;
  #closed = false;

  /**
   * Starts loading and watching. Await {@link FileBundleSource.ready} to know the first
   * load finished; `getBundle` calls made earlier wait for it.
   * @throws TypeError on invalid options (no files, a trust domain listed twice).
   * @throws RangeError when `pollIntervalMs` is not a positive timer delay.
   * @throws InvalidSpiffeIdError when a trust domain is invalid.
   */
  constructor(options: FileBundleSourceOptions) {
    const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (!Number.isFinite(pollIntervalMs) || pollIntervalMs <= 0 || pollIntervalMs > MAX_TIMER_DELAY_MS) {
      throw new RangeError(`pollIntervalMs must be between 1 and ${MAX_TIMER_DELAY_MS}`);
    }
    this.#onError = options.onError;
    this.#onUpdate = options.onUpdate;
    this.#events = new EventEmitter(options.onEvent);

    if (options.bundleMapPath !== undefined) {
      this.#bundleMapFile = newWatchedFile(options.bundleMapPath, parseSpiffeBundleMap);
      this.#files = [this.#bundleMapFile];
    } else {
      if (options.files === undefined || options.files.length === 0) {
        throw new TypeError('FileBundleSource needs "files" or "bundleMapPath"');
      }
      this.#files = options.files.map((file) => {
        const trustDomain =
          typeof file.trustDomain === 'string' ? TrustDomain.parse(file.trustDomain) : file.trustDomain;
        if (this.#fileByTrustDomain.has(trustDomain.name)) {
          throw new TypeError(`trust domain "${trustDomain.name}" is configured twice`);
        }
        const watched = newWatchedFile(file.path, bundleFileParser(trustDomain, file));
        this.#fileByTrustDomain.set(trustDomain.name, watched);
        return watched;
      });
    }

    // Watch before the first read, so a replace during the initial load is not missed.
    for (const file of this.#files) this.#ensureWatcher(file.directory);
    this.#pollTimer = setInterval(() => this.#poll(), pollIntervalMs);
    this.#pollTimer.unref();
    this.ready = Promise.all(this.#files.map((file) => this.#refresh(file, true))).then(() => {
      this.#initialized = true;
    });
  }

  /**
   * The current bundle of `trustDomain`; `undefined` when it is not configured (or, for a
   * bundle map, not in the map).
   * @throws TrustUnavailableError (`trust_unavailable`) when its file has never loaded.
   */
  getBundle(trustDomain: TrustDomain): Promise<JwtBundle | undefined> | JwtBundle | undefined {
    if (!this.#initialized) return this.ready.then(() => this.#lookup(trustDomain));
    return this.#lookup(trustDomain);
  }

  /** Stops watching and polling, and waits for an in-flight reload to finish. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#pollTimer);
    for (const timer of this.#debounceTimers.values()) clearTimeout(timer);
    this.#debounceTimers.clear();
    for (const watcher of this.#watchers.values()) watcher?.close();
    this.#watchers.clear();
    await Promise.all(this.#files.map((file) => file.refreshing));
  }

  /** Same as {@link FileBundleSource.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #lookup(trustDomain: TrustDomain): JwtBundle | undefined {
    const file = this.#bundleMapFile ?? this.#fileByTrustDomain.get(trustDomain.name);
    if (file === undefined) return undefined;
    if (!file.loaded) {
      throw new TrustUnavailableError(
        `trust bundle for trust domain "${trustDomain.name}" is not available`,
        {
          cause: file.lastError,
        },
      );
    }
    return this.#bundles.get(trustDomain.name);
  }

  #ensureWatcher(directory: string): void {
    if (this.#closed || this.#watchers.get(directory) !== undefined) return;
    let watcher: FSWatcher;
    try {
      // Watching the directory, not the file: an atomic replace swaps the file's inode, and
      // a ConfigMap update only touches a symlink next to it.
      watcher = watch(directory, { persistent: false }, () => this.#onDirectoryEvent(directory));
    } catch {
      // The directory may not exist yet; polling covers it and retries the watch.
      this.#watchers.set(directory, undefined);
      return;
    }
    watcher.on('error', () => {
      watcher.close();
      if (this.#watchers.get(directory) === watcher) this.#watchers.set(directory, undefined);
    });
    this.#watchers.set(directory, watcher);
  }

  #onDirectoryEvent(directory: string): void {
    if (this.#closed || this.#debounceTimers.has(directory)) return;
    const timer = setTimeout(() => {
      this.#debounceTimers.delete(directory);
      for (const file of this.#files) {
        if (file.directory === directory) void this.#refresh(file, true);
      }
    }, WATCH_DEBOUNCE_MS);
    timer.unref();
    this.#debounceTimers.set(directory, timer);
  }

  #poll(): void {
    for (const file of this.#files) {
      this.#ensureWatcher(file.directory);
      void this.#refresh(file, false);
    }
  }

  /**
   * Re-reads `file` if it changed. `force` skips the stat comparison (a watch event may
   * arrive for a rewrite that kept size and timestamp). Never rejects.
   */
  #refresh(file: WatchedFile, force: boolean): Promise<void> {
    if (file.refreshing !== undefined) {
      // A change notification during a reload must not be lost: run once more after it.
      if (force) file.refreshAgain = true;
      return file.refreshing;
    }
    const run = async (): Promise<void> => {
      let forced = force;
      do {
        file.refreshAgain = false;
        try {
          await this.#refreshOnce(file, forced);
        } catch (error) {
          this.#reportError(file, toError(error));
        }
        forced = true;
      } while (file.refreshAgain && !this.#closed);
    };
    file.refreshing = run().finally(() => {
      file.refreshing = undefined;
    });
    return file.refreshing;
  }

  async #refreshOnce(file: WatchedFile, force: boolean): Promise<void> {
    if (this.#closed) return;
    let text: string;
    try {
      const stamp = stampOf(await stat(file.path, { bigint: true }));
      if (!force && stamp === file.stamp) return;
      text = await readFile(file.path, 'utf8');
      file.stamp = stamp;
    } catch (error) {
      this.#recordReadFailure(file, toError(error));
      return;
    }
    file.lastReportedReadError = undefined;
    const contentHash = createHash('sha256').update(text).digest('base64');
    if (contentHash === file.contentHash) return;
    file.contentHash = contentHash;
    let bundles: JwtBundle[];
    try {
      bundles = file.parse(text);
    } catch (error) {
      file.lastError = toError(error);
      this.#reportError(file, file.lastError);
      return;
    }
    if (this.#closed) return;
    file.loaded = true;
    file.lastError = undefined;
    this.#apply(file, bundles);
  }

  #recordReadFailure(file: WatchedFile, error: Error): void {
    // Forget the stamp so the file is read again as soon as it is back.
    file.stamp = undefined;
    if (!file.loaded) file.lastError = error;
    // Polling would otherwise report the same missing file every interval.
    const key = `${(error as NodeJS.ErrnoException).code ?? error.name}`;
    if (key === file.lastReportedReadError) return;
    file.lastReportedReadError = key;
    this.#reportError(file, error);
  }

  #apply(file: WatchedFile, bundles: readonly JwtBundle[]): void {
    const provided = new Set<string>();
    const changed: TrustDomain[] = [];
    for (const bundle of bundles) {
      const name = bundle.trustDomain.name;
      provided.add(name);
      const fingerprint = fingerprintOf(bundle);
      if (this.#bundles.has(name) && this.#fingerprints.get(name) === fingerprint) continue;
      this.#bundles.set(name, bundle);
      this.#fingerprints.set(name, fingerprint);
      changed.push(bundle.trustDomain);
    }
    for (const name of file.trustDomains) {
      if (provided.has(name)) continue;
      const removed = this.#bundles.get(name);
      this.#bundles.delete(name);
      this.#fingerprints.delete(name);
      if (removed !== undefined) changed.push(removed.trustDomain);
    }
    file.trustDomains = provided;
    for (const trustDomain of changed) {
      this.#notify(() => this.#onUpdate?.(trustDomain));
      this.#events.emit('bundle.updated', () => ({
        'wimse.trust_domain': trustDomain.name,
        'file.path': file.path,
      }));
    }
  }

  #reportError(file: WatchedFile, error: Error): void {
    this.#notify(() => this.#onError?.(error, file.path));
    if (file.loaded) {
      this.#events.emit('bundle.stale', () => ({ 'file.path': file.path, 'error.type': error.name }));
    }
  }

  #notify(callback: () => void): void {
    if (this.#closed) return;
    try {
      callback();
    } catch {
      // A failing listener must not stop trust material from being kept up to date.
    }
  }
}
