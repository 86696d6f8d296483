/**
 * Runs at most `n` tasks at once: how many keys are generated in parallel.
 *
 * RSA-4096 generation time is heavy-tailed (a prime search: one key on one core took 0.7 s to
 * 2.7 s here). With only `cores` keys in flight, a long key that starts last runs alone while
 * the other cores idle. With several keys per core in flight, the OS shares the cores among
 * them and long keys start at once, so the cores stay busy until the last few keys. On 2 cores,
 * 10 keys, three `npm run bench` runs: 8.1, 7.7, 10.5 s in flight against 10.6, 8.5, 9.3 s with
 * --jobs 2: noisy, but better in two of three.
 */
import { availableParallelism } from "node:os";
import { KEYS_IN_FLIGHT_PER_CORE } from "../defaults.js";

export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function defaultJobs(): number {
  return KEYS_IN_FLIGHT_PER_CORE * availableParallelism();
}

export function createLimiter(n: number = defaultJobs()): Limiter {
  let running = 0;
  const queue: Array<() => void> = [];
  const next = (): void => {
    if (running >= n) return;
    const start = queue.shift();
    if (start) {
      running++;
      start();
    }
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        task()
          .then(resolve, reject)
          .finally(() => {
            running--;
            next();
          });
      });
      next();
    });
}
