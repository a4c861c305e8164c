// Node entry: the core plus a default loader that reads the bundled .wasm from disk.
import { readFile } from 'node:fs/promises';
import { setDefaultSource } from './wasm.js';

const url = new URL('../dist/gradcov.wasm', import.meta.url);
setDefaultSource(url.href, () => readFile(url));

export * from './index.js';
