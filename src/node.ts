/**
 * The main entry, `import { init, estimateHessian, ... } from 'gradcov'`: the core, with init() finding the bundled `.wasm` the right way for each runtime (package.json conditions pick the Node, browser, Deno/Bun, workerd or edge build of this entry).
 *
 * @module gradcov
 */
// Node entry (also Deno and Bun, which resolve the `node` condition): the core plus a
// default loader that reads the bundled .wasm from disk next to this file.
import { readFile } from 'node:fs/promises';
import { setDefaultLoader, type WasmBuild } from './core/wasm.js';

// '../dist/' so that the same path works from dist/node.js and from src/node.ts under tsx.
const files: Record<WasmBuild, URL> = {
  simd: new URL('../dist/gradcov.wasm', import.meta.url),
  'relaxed-simd': new URL('../dist/gradcov.relaxed.wasm', import.meta.url),
};
setDefaultLoader({ where: (build) => files[build].href, load: (build) => readFile(files[build]) });

export * from './index.js';
