import { type FSWatcher, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** Supplies the current token (a WIT, a JWT-SVID, an access token). Called once per request. */
export type TokenProvider = () => Promise<string>;

/** A token given as a fixed string or a provider. */
export type TokenSource = string | TokenProvider;

/** Resolves a {@link TokenSource} to the token to send now. */
export async function resolveToken(source: TokenSource, what: string): Promise<string> {
  const token = typeof source === 'string' ? source : await source();
  if (typeof token !== 'string' || token.length === 0) throw new TypeError(`${what}: no token`);
  return token;
}

/** A {@link TokenProvider} reading a file, with `close()` to stop watching it. */
export interface FileTokenProvider extends TokenProvider {
  /** Stops watching the directory. The provider keeps working (it then relies on stat alone). */
  close(): void;
}

/** Options of {@link fileTokenProvider}. */
export interface FileTokenProviderOptions {
  /** Watch the file's directory (default `true`) so rewrites are seen even when size and mtime look unchanged. */
  watch?: boolean;
}

/**
 * A token provider for the agentless "push" model: something (a sidecar, the kubelet's
 * projected volume, a cron job) writes the token to `file`; every call returns its current
 * content, trimmed. The file is re-read when it changes: a directory watch marks it dirty,
 * and every call also compares inode, size and mtime, so atomic renames and symlink swaps
 * (Kubernetes `..data`) are seen even where `fs.watch` reports nothing. An empty or missing
 * file rejects the call; errors name the file, never its content.
 */
export function fileTokenProvider(file: string, options: FileTokenProviderOptions = {}): FileTokenProvider {
  const absolute = path.resolve(file);
  let cached: { value: string; mtimeMs: number; size: number; ino: number } | undefined;
  let dirty = true;
  let watcher: FSWatcher | undefined;
  if (options.watch !== false) {
    try {
      watcher = watch(path.dirname(absolute), { persistent: false }, () => {
        dirty = true;
      });
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined; // the stat comparison still notices changes
    }
  }

  const provider = async (): Promise<string> => {
    const info = await stat(absolute);
    if (
      !dirty &&
      cached !== undefined &&
      cached.mtimeMs === info.mtimeMs &&
      cached.size === info.size &&
      cached.ino === info.ino
    ) {
      return cached.value;
    }
    dirty = false;
    const value = (await readFile(absolute, 'utf8')).trim();
    if (value.length === 0) {
      dirty = true;
      throw new Error(`token file ${absolute} is empty`);
    }
    cached = { value, mtimeMs: info.mtimeMs, size: info.size, ino: info.ino };
    return value;
  };
  return Object.assign(provider, {
    close(): void {
      watcher?.close();
      watcher = undefined;
    },
  });
}
