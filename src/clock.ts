/**
 * The one place that reads time. Epoch milliseconds, but from the monotonic
 * timer, so wall-clock steps (NTP) cannot make a limiter admit too much.
 */
export interface Clock {
  now(): number;
}

const origin = performance.timeOrigin;

export const systemClock: Clock = {
  now: () => origin + performance.now(),
};
