/**
 * Runs at most `n` tasks at once. RSA-4096 generation is CPU-bound in libuv's thread pool, so
 * more keys in flight than cores only adds contention; fewer leaves cores idle.
 */
import { availableParallelism } from "node:os";

export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function defaultJobs(): number {
  return availableParallelism();
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
