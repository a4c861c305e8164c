// Browser and Web Worker entry (also the `default` one): the core plus a default loader
// that fetches the bundled .wasm next to this file. The literal `new URL('./x.wasm',
// import.meta.url)` is the pattern bundlers (Vite, webpack 5, Parcel; not esbuild) recognise to
// copy the file and rewrite the URL. init() compiles while the bytes stream in when the
// server sends application/wasm, and from the downloaded bytes otherwise.
//
// @assemblyscript/loader, the one runtime dependency, stays a bare import here: bundlers
// and import maps resolve it, and an app that uses it too gets one copy. A page with no
// bundler and no import map uses gradcov/standalone, which has it inlined.
import { setDefaultLoader, type WasmBuild } from './core/wasm.js';

const files: Record<WasmBuild, () => URL> = {
  simd: () => new URL('./gradcov.wasm', import.meta.url),
  'relaxed-simd': () => new URL('./gradcov.relaxed.wasm', import.meta.url),
};

setDefaultLoader({ where: (build) => files[build]().href, load: (build) => fetch(files[build]()) });

export * from './index.js';
