const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `round` (awaited) every `everyMs` until `stop()` resolves, at most `maxRounds` times: the loop of the rolling
 * tests' client probes, which run while Terraform applies.
 */
export function startProbeLoop(round: (index: number) => Promise<void>, everyMs: number, maxRounds: number): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    for (let index = 1; !stopped && index <= maxRounds; index++) {
      await round(index);
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
