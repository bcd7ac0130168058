// The miss path: cloud SDKs, metadata client, STS. Loaded by the hit path
// (provider/provide.ts) only when the cache cannot answer; embedded compressed and compiled on
// first use (packaging/build/bundle.ts).
export { refreshToken } from './provider/refresh.ts';
