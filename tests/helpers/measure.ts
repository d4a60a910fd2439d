// Time and memory of one call, for the tests that bound them (and print them).

/** How long `run` took, and how far the process's resident memory rose above where it started:
 *  sampled every millisecond while `run` awaits, and once when it ends (memory is seldom handed
 *  back that soon, so this also counts what synchronous code allocated). */
export async function measured<T>(run: () => T | Promise<T>): Promise<{ ms: number; mb: number; result: T }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 1);
  const t0 = performance.now();
  try {
    const result = await run();
    const ms = performance.now() - t0;
    return { ms, mb: (Math.max(peak, process.memoryUsage.rss()) - start) / 2 ** 20, result };
  } finally {
    clearInterval(sample);
  }
}
