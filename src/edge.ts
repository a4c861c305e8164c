// Vercel Edge (`edge-light`) entry. Edge functions may not compile WebAssembly from bytes;
// Vercel's and Next.js's bundlers turn `import x from './x.wasm?module'` into a
// WebAssembly.Module, so init() needs no argument there.
import simd from './gradcov.wasm?module';
import relaxed from './gradcov.relaxed.wasm?module';
import { setDefaultLoader, type WasmBuild } from './core/wasm.js';

const files: Record<WasmBuild, WebAssembly.Module> = { simd, 'relaxed-simd': relaxed };
setDefaultLoader({
  where: (build) => `the ${build} .wasm imported with ?module`,
  load: (build) => files[build],
});

export * from './index.js';
