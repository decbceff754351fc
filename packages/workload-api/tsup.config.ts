import type { Options } from 'tsup';
import { packageBuild } from '../../tsup.preset.js';

// `shims` gives the CJS build an `import.meta.url`, which locates the shipped .proto file.
export default { ...(packageBuild() as Options), shims: true } satisfies Options;
