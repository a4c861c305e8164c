// Browser / worker / edge entry: the core plus a default loader that fetches the bundled
// .wasm next to this file (streaming compilation where the server sends application/wasm).
import { setDefaultSource } from './wasm.js';

const url = new URL('../dist/gradcov.wasm', import.meta.url);
setDefaultSource(url.href, () => fetch(url));

export * from './index.js';
