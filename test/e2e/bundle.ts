// Bundles the conformance script with esbuild the way a platform's bundler would: the
// package resolved through the given export conditions, and the .wasm import left to the
// platform (CompiledWasm module for workerd, an injected global for Vercel's `?module`).
import { build, type Plugin } from 'esbuild';
import { CONFORMANCE } from './runtimes.js';

/** Exposes the package and the conformance function as globals, for runtimes driven by eval. */
const GLOBALS_ENTRY = `import * as gradcov from 'gradcov';
import { conformance } from './conformance.js';
globalThis.gradcov = gradcov;
globalThis.conformance = conformance;
`;

/** A worker answering every request with the summary as JSON. */
const WORKER_ENTRY = `import { conformance } from './conformance.js';
export default { async fetch() { return Response.json(await conformance()); } };
`;

export async function bundle(options: {
  entry: 'globals' | 'worker';
  conditions: string[];
  format: 'esm' | 'iife';
  wasm: Plugin;
}): Promise<string> {
  const result = await build({
    stdin: {
      contents: options.entry === 'globals' ? GLOBALS_ENTRY : WORKER_ENTRY,
      resolveDir: CONFORMANCE,
      sourcefile: 'entry.js',
    },
    bundle: true,
    write: false,
    format: options.format,
    platform: 'neutral',
    conditions: options.conditions,
    plugins: [options.wasm],
    logLevel: 'error',
  });
  return result.outputFiles[0]!.text;
}
