/** How a write that may fail in passing is tried again. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  tries: number;
  /** Waits a random 0..jitterMs × attempt before each retry, so writers that failed together do not retry together. */
  jitterMs?: number;
  /** Only these errors are retried; any other is thrown at once. Every error by default. */
  retryOn?: (error: unknown) => boolean;
}

/** Runs `attempt` until it succeeds or the policy's tries are spent, then throws the last error. */
export async function retried<T>(attempt: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= policy.tries || (policy.retryOn && !policy.retryOn(error))) throw error;
      if (policy.jitterMs) await new Promise((resolve) => setTimeout(resolve, Math.random() * policy.jitterMs! * n));
    }
  }
}
