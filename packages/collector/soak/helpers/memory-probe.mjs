// Loaded with `node --expose-gc --import` into a `pruuv` process by soak/memory.test.ts: every
// second, after a full garbage collection, sends `process.memoryUsage()` to the parent over IPC.
setInterval(() => {
  globalThis.gc?.();
  process.send?.({ at: Date.now(), ...process.memoryUsage() });
}, 1000).unref();
