// API-level fault injection with a seeded generator, so a test that sets throttleShare = 0.5 sees
// the same calls throttled on every run.

import type { ApiFaults } from '../world.js'

/** mulberry32: tiny, fast, good enough for picking which calls misbehave. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type FaultDecision = 'drop' | 'throttle' | 'none'

/** One draw per call keeps the sequence stable when the shares change mid-run. */
export function decideFault(faults: ApiFaults, random: () => number): FaultDecision {
  const r = random()
  if (r < faults.dropShare) return 'drop'
  if (r < faults.dropShare + faults.throttleShare) return 'throttle'
  return 'none'
}
