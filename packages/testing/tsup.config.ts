import { packageBuild } from '../../tsup.preset.js';

// The Workload API fake is a separate entry, so the main entry never loads gRPC.
export default packageBuild(['src/index.ts', 'src/workload-api/index.ts']);
