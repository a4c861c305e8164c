// How runtimes without a file system receive the .wasm: as an ES module whose default
// export is the compiled WebAssembly.Module (workerd: `*.wasm`; Vercel Edge: `*.wasm?module`).
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
declare module '*.wasm?module' {
  const module: WebAssembly.Module;
  export default module;
}
