import { packageBuild } from '../../tsup.preset.js';

export default packageBuild(['src/index.ts', 'src/augment.ts']);
