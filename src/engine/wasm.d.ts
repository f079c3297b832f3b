// A .wasm import is its bytes: esbuild's binary loader in the build, test/support/wasm-bytes.ts
// under vitest.
declare module '*.wasm' {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}
