// Runs the README's `<!-- tested: NAME -->` code blocks in-process, against this package's
// sources, so the tests fail when a snippet stops working.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as core from '@wimse-auth/core';
import type { TestTrustDomain } from '../../../test/support/trust-domain.js';
import * as strategy from '../src/index.js';

/** The origin the README snippets configure. */
export const README_ORIGIN = 'https://orders.internal.example.org';
/** The bundle path the README snippets use; replaced by a real file at test time. */
const README_BUNDLE_PATH = '/run/spire/bundle.json';

/** The code of the README block marked `<!-- tested: name -->`. */
export function readmeBlock(name: string): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const marker = `<!-- tested: ${name} -->\n\`\`\`js\n`;
  const start = readme.indexOf(marker);
  if (start < 0) throw new Error(`README.md has no block marked "tested: ${name}"`);
  const end = readme.indexOf('\n```\n', start + marker.length);
  if (end < 0) throw new Error(`README.md block "${name}" is not closed`);
  return readme.slice(start + marker.length, end + 1);
}

function replaceOnce(code: string, from: string, to: string): string {
  const parts = code.split(from);
  if (parts.length !== 2) throw new Error(`expected exactly one ${JSON.stringify(from)} in the snippet`);
  return parts.join(to);
}

/**
 * Turns the snippet's `import … from '…'` lines into lookups in `modules` (default and
 * named imports only; anything else throws), so it runs as an async function body.
 */
function importsToLookups(code: string, modules: Readonly<Record<string, object>>): string {
  return code.replace(/^import (.+) from '([^']+)';$/gm, (_line, clause: string, specifier: string) => {
    if (!(specifier in modules)) throw new Error(`the snippet imports ${specifier}, unknown to the test`);
    const from = `__modules[${JSON.stringify(specifier)}]`;
    const named = /^\{([^}]*)\}$/.exec(clause);
    if (named) return `const {${named[1]!.replace(/\bas\b/g, ':')}} = ${from};`;
    if (/^[A-Za-z_$][\w$]*$/.test(clause)) return `const ${clause} = ${from}.default;`;
    throw new Error(`unsupported import form in the snippet: import ${clause}`);
  });
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...args: unknown[]) => Promise<unknown>;

export interface SnippetRun<App> {
  /** The snippet's `app`, returned in place of its `app.listen(8080)`. */
  readonly app: App;
  close(): Promise<void>;
}

/**
 * Runs README block `name`: its trust bundle file is a real SPIFFE bundle of `td`, its
 * `app.listen(8080)` becomes `return app`, and its imports resolve to `frameworkModules`
 * plus @wimse-auth/core and this package's sources.
 */
export async function runReadmeBlock<App>(
  name: string,
  td: TestTrustDomain,
  frameworkModules: Readonly<Record<string, unknown>>,
): Promise<SnippetRun<App>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'wimse-passport-readme-'));
  const bundlePath = path.join(dir, 'bundle.json');
  writeFileSync(bundlePath, JSON.stringify(td.bundle));
  const sources: core.FileBundleSource[] = [];
  class TrackedFileBundleSource extends core.FileBundleSource {
    constructor(options: core.FileBundleSourceOptions) {
      super(options);
      sources.push(this);
    }
  }
  const modules: Record<string, object> = {
    '@wimse-auth/core': { ...core, FileBundleSource: TrackedFileBundleSource },
    '@wimse-auth/passport': strategy,
  };
  for (const [specifier, value] of Object.entries(frameworkModules)) modules[specifier] = { default: value };

  let code = readmeBlock(name);
  code = replaceOnce(code, `'${README_BUNDLE_PATH}'`, JSON.stringify(bundlePath));
  code = replaceOnce(code, 'app.listen(8080);', 'return app;');
  code = importsToLookups(code, modules);
  const app = (await new AsyncFunction('__modules', code)(modules)) as App;
  return {
    app,
    close: async () => {
      await Promise.all(sources.map((source) => source.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
