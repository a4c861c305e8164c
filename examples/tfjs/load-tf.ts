// Loads @tensorflow/tfjs-core with its gradients and the CPU backend in Node. The core's
// Node build ships without gradient functions (the @tensorflow/tfjs union package, or a
// bundler reading the ES modules, registers them); here esbuild bundles the ES modules
// once into a temporary CommonJS file, which is what a bundler would do for an app.
import { build } from 'esbuild';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TF from '@tensorflow/tfjs-core';

export async function loadTf(): Promise<typeof TF> {
  const result = await build({
    stdin: {
      contents:
        "export * from '@tensorflow/tfjs-core';\nimport '@tensorflow/tfjs-core/dist/register_all_gradients';\nimport '@tensorflow/tfjs-backend-cpu';\n",
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
      sourcefile: 'tf-entry.js',
    },
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'node',
    mainFields: ['module', 'main'],
    logLevel: 'error',
  });
  const dir = mkdtempSync(join(tmpdir(), 'gradcov-tfjs-'));
  try {
    const file = join(dir, 'tf.cjs');
    writeFileSync(file, result.outputFiles[0]!.text);
    const tf = createRequire(import.meta.url)(file) as typeof TF;
    tf.env().set('PROD', true); // no "install tfjs-node" banner
    await tf.setBackend('cpu');
    return tf;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
