// Declares dist/wasm-base64.js, which src/build/inline-wasm.mjs generates from the built
// .wasm files (it is not committed).
import type { WasmBuild } from './core/wasm.js';

/** Each bundled build's .wasm, base64-encoded. */
export declare const base64: Record<WasmBuild, string>;
