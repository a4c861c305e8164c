// Cloudflare Workers (workerd) entry. Workers may not compile WebAssembly from bytes, so
// the .wasm is imported as a module: wrangler's default rules turn `import x from
// './x.wasm'` into a CompiledWasm module, i.e. a WebAssembly.Module, and init() needs no
// argument.
import simd from './gradcov.wasm';
import relaxed from './gradcov.relaxed.wasm';
import { setDefaultLoader, type WasmBuild } from './core/wasm.js';

const files: Record<WasmBuild, WebAssembly.Module> = { simd, 'relaxed-simd': relaxed };
setDefaultLoader({
  where: (build) => `the ${build} .wasm imported as a CompiledWasm module`,
  load: (build) => files[build],
});

export * from './index.js';
