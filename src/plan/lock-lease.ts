import type { Config } from '../config/inputs.js'

/** The lock outlives the longest the run may take, so it cannot expire under a live run. */
export function lockTtlMs(config: Pick<Config, 'timeoutMs' | 'commandTimeoutMs' | 'healthTimeoutMs'>): number {
  return Math.max(config.timeoutMs, config.commandTimeoutMs + config.healthTimeoutMs) + 10 * 60_000
}
