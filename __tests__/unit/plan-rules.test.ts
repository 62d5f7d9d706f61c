// Small pure rules: how long the lock is leased for, and what the load balancer's health settings
// mean for how long a deploy waits.
import { describe, expect, it } from '@jest/globals'
import { lockTtlMs } from '../../src/plan/lock-lease.js'
import { describeTargets, healthCadence } from '../../src/plan/target-health.js'

const MIN = 60_000

describe('lockTtlMs', () => {
  it.each([
    [
      'the operation timeout when it is the longest',
      { timeoutMs: 60 * MIN, commandTimeoutMs: 10 * MIN, healthTimeoutMs: 5 * MIN },
      70 * MIN
    ],
    [
      'commands plus health when they outlast the timeout',
      { timeoutMs: 10 * MIN, commandTimeoutMs: 30 * MIN, healthTimeoutMs: 15 * MIN },
      55 * MIN
    ]
  ])('outlives %s, by ten minutes', (_case, config, ttl) => {
    expect(lockTtlMs(config)).toBe(ttl)
  })
})

describe('healthCadence', () => {
  it("reads the group's interval and thresholds", () => {
    expect(
      healthCadence({ HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 3, UnhealthyThresholdCount: 2 })
    ).toEqual({
      intervalMs: 10_000,
      detectUnhealthyMs: 20_000,
      detectHealthyMs: 30_000
    })
  })

  it("uses AWS's defaults where the group leaves them unset (30 s, 5 healthy, 2 unhealthy)", () => {
    expect(healthCadence({})).toEqual({ intervalMs: 30_000, detectUnhealthyMs: 60_000, detectHealthyMs: 150_000 })
  })
})

describe('describeTargets', () => {
  it('names each target with its state and reason', () => {
    expect(
      describeTargets([
        { id: 'i-1', state: 'unhealthy', reason: 'Target.Timeout' },
        { id: 'i-2', state: 'initial' }
      ])
    ).toBe('i-1 unhealthy (Target.Timeout), i-2 initial')
  })

  it('shows the first ten and counts the rest', () => {
    const targets = Array.from({ length: 13 }, (_, i) => ({ id: `i-${i}`, state: 'draining' }))
    const text = describeTargets(targets)
    expect(text).toMatch(/^i-0 draining, .*, i-9 draining and 3 more$/)
    expect(text).not.toContain('i-10')
  })
})
