// The soak's only source of chance: one seeded generator per episode, so that an episode's seed
// alone replays the same start, operation and faults.

import { seededRandom } from '../aws/faults.js'

export class Rng {
  private readonly next: () => number

  constructor(seed: number) {
    // Neighbouring seeds (the soak uses seed, seed+1, ...) must not give neighbouring draws.
    this.next = seededRandom(Math.imul(seed >>> 0, 0x9e3779b1) ^ 0x85ebca6b)
  }

  float(min = 0, max = 1): number {
    return min + this.next() * (max - min)
  }

  /** An integer from min to max, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]
  }

  /** One of the items, each as likely as its weight. */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    const total = items.reduce((sum, [, w]) => sum + w, 0)
    let x = this.next() * total
    for (const [item, w] of items) {
      x -= w
      if (x < 0) return item
    }
    return items[items.length - 1][0]
  }
}
