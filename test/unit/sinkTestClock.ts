/**
 * A fake clock for sink tests: `sleep` advances time instantly, so budget and backoff behaviour is
 * tested without waiting and without asserting wall-clock speed.
 */
export interface FakeClock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  slept: number[];
  advance(ms: number): void;
}

export function fakeClock(startMs = 1_700_000_000_000): FakeClock {
  let t = startMs;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    random: () => 0.5,
    slept,
    advance(ms: number) {
      t += ms;
    },
  };
}
