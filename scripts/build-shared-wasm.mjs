// Builds the shared-memory kernels (asconfig.json targets "shared" and "shared-relaxed":
// imported shared memory, for the worker pool) with the transform that gives every
// instance its own static scratch (assembly/shared/scratch-transform.mjs). asc is run from
// here rather than from the config, because the config cannot name a transform by a
// relative path, and so that a build without the transform fails instead of shipping
// kernels whose instances overwrite each other's scratch.
import asc from 'assemblyscript/asc';
import SharedScratch, { stats } from '../assembly/shared/scratch-transform.mjs';

for (const target of ['shared', 'shared-relaxed']) {
  stats.rewritten = 0;
  const { error, stderr } = await asc.main(['--config', 'asconfig.json', '--target', target], {
    transforms: [SharedScratch],
  });
  if (error) {
    console.error(stderr.toString());
    throw error;
  }
  if (stats.rewritten === 0)
    throw new Error(
      `build-shared-wasm: target ${target}: the scratch transform found no static scratch to make per instance; check assembly/shared/scratch-transform.mjs against the kernels`,
    );
  console.log(`build-shared-wasm: ${target}: ${stats.rewritten} static scratch blocks made per instance`);
}
