// The canary judge on plain counts: no mocks, no clock, every decision from the numbers alone.
import { describe, expect, it } from '@jest/globals'
import {
  fisherOneSided,
  judgeCanary,
  LATENCY_NOISE_MS,
  type FleetSample,
  type JudgePolicy,
  type Look
} from '../../src/plan/canary-judgement.js'

const policy: JudgePolicy = { maxErrorRateIncrease: 0.01, maxLatencyIncrease: 0.25, minRequests: 100 }

/** A fleet that served `requests` with `errors` target 5xx, and a latency. */
function fleet(
  requests: number,
  errors: number,
  latencyAvgMs = 20,
  latencyP99Ms = 80,
  connectionErrors = 0
): FleetSample {
  return {
    requests,
    errors: errors + connectionErrors,
    target5xx: errors,
    connectionErrors,
    latencyAvgMs,
    latencyP99Ms
  }
}

describe('judgeCanary: decisions on counts', () => {
  it.each<[string, FleetSample, FleetSample, Look, string, string | undefined]>([
    ['a bad canary is caught', fleet(1000, 60), fleet(9000, 9), 'final', 'fail', 'error-rate'],
    ['equal rates pass', fleet(1000, 5), fleet(9000, 45), 'final', 'pass', undefined],
    ['a zero-error baseline with one canary error passes', fleet(200, 1), fleet(1800, 0), 'final', 'pass', undefined],
    [
      'one canary error among its first 30 requests does not fail it either, even if it is 3%',
      fleet(30, 1),
      fleet(270, 0),
      'final',
      'inconclusive',
      'requests'
    ],
    [
      'a large baseline cannot hide a bad canary',
      fleet(1000, 30),
      fleet(1_000_000, 1000),
      'final',
      'fail',
      'error-rate'
    ],
    [
      "one error on the canary's only request against a thousand clean ones is not fatal (though p = 0.001)",
      fleet(1, 1),
      fleet(1068, 0),
      'interim',
      'inconclusive',
      'requests'
    ],
    ['two errors on its first two requests are', fleet(2, 2), fleet(1068, 0), 'interim', 'fail', 'error-rate'],
    [
      "connection errors (the load balancer's 502s) count against the canary",
      fleet(1000, 0, 20, 80, 50),
      fleet(9000, 0),
      'final',
      'fail',
      'error-rate'
    ],
    ['too few requests is inconclusive', fleet(40, 0), fleet(360, 0), 'final', 'inconclusive', 'requests'],
    [
      'no requests at all is inconclusive, not a pass',
      fleet(0, 0),
      fleet(5000, 0),
      'final',
      'inconclusive',
      'requests'
    ],
    [
      'no stable traffic to compare with is inconclusive',
      fleet(500, 0),
      fleet(0, 0),
      'final',
      'inconclusive',
      'requests'
    ],
    ['a rise over the tolerance that chance explains passes', fleet(100, 3), fleet(900, 9), 'final', 'pass', undefined],
    [
      'a significant rise within the tolerance passes',
      fleet(100_000, 900),
      fleet(900_000, 1000),
      'final',
      'pass',
      undefined
    ],
    ['a slower canary fails on latency', fleet(1000, 0, 40, 160), fleet(9000, 0, 20, 80), 'final', 'fail', 'latency'],
    [
      'only its p99 slower still fails on latency',
      fleet(1000, 0, 22, 200),
      fleet(9000, 0, 20, 80),
      'final',
      'fail',
      'latency'
    ],
    [
      'a percentage rise of a few milliseconds is noise, not a regression',
      fleet(1000, 0, 4, 9),
      fleet(9000, 0, 2, 5),
      'final',
      'pass',
      undefined
    ],
    [
      'a p99 over a few hundred requests is its slowest few: not judged',
      fleet(300, 0, 20, 400),
      fleet(2700, 0, 20, 80),
      'final',
      'pass',
      undefined
    ],
    [
      'latency never fails a step early: an interim look leaves it to the end',
      fleet(1000, 0, 40, 160),
      fleet(9000, 0, 20, 80),
      'interim',
      'pass',
      undefined
    ],
    [
      'latency is not judged on a handful of requests',
      fleet(20, 0, 400, 900),
      fleet(180, 0, 20, 80),
      'final',
      'inconclusive',
      'requests'
    ],
    [
      'an interim look fails early on overwhelming evidence, even on few requests',
      fleet(10, 10),
      fleet(90, 0),
      'interim',
      'fail',
      'error-rate'
    ],
    [
      'an interim look does not fail on what the final look would call barely significant',
      fleet(300, 9),
      fleet(2700, 27),
      'interim',
      'pass',
      undefined
    ]
  ])('%s', (_name, canary, stable, look, verdict, metric) => {
    const j = judgeCanary(canary, stable, policy, look)
    expect(j.verdict).toBe(verdict)
    expect(j.metric).toBe(metric)
  })

  it('the barely significant case of the interim row does fail at the final look', () => {
    // 9/300 = 3% against 1%: +2 points, p ~ 0.004; the final look's 0.05 catches it, 0.001 does not.
    const j = judgeCanary(fleet(300, 9), fleet(2700, 27), policy, 'final')
    expect(j.verdict).toBe('fail')
    expect(j.errorRate!.pValue).toBeGreaterThan(0.001)
    expect(j.errorRate!.pValue).toBeLessThan(0.05)
  })

  it('a failure names the metric and the numbers', () => {
    const j = judgeCanary(fleet(1000, 60), fleet(9000, 9), policy, 'final')
    expect(j.reason).toMatch(
      /^5xx rate 6\.0% on the new fleet \(60\/1000\) vs 0\.10% on the stable one \(9\/9000\): \+5\.9 points, over the tolerated \+1 point, and significant \(p=<1e-6 < 0\.05\)$/
    )
    const slow = judgeCanary(fleet(1000, 0, 40, 160), fleet(9000, 0, 20, 80), policy, 'final')
    expect(slow.reason).toBe(
      'TargetResponseTime avg 40 ms on the new fleet vs 20 ms on the stable one: +100%, over the tolerated +25%'
    )
    expect(slow.latency!.p99).toEqual({ newMs: 160, stableMs: 80, increase: 1 })
  })

  it('a pass says why, with the numbers; an inconclusive verdict names analysis-min-requests', () => {
    expect(judgeCanary(fleet(1000, 5), fleet(9000, 45), policy, 'final').reason).toBe(
      '5xx rate 0.50% on the new fleet (5/1000) vs 0.50% on the stable one (45/9000), within +1 point; latency avg 20 ms vs 20 ms, p99 80 ms vs 80 ms, within +25%'
    )
    expect(judgeCanary(fleet(40, 0), fleet(360, 0), policy, 'final').reason).toMatch(
      /^only 40 requests on the new fleet, fewer than analysis-min-requests \(100\)/
    )
  })

  it("the tolerances are the policy's: a stricter error tolerance fails what the default passes", () => {
    const canary = fleet(5000, 40)
    const stable = fleet(45_000, 90)
    expect(judgeCanary(canary, stable, policy, 'final').verdict).toBe('pass')
    expect(judgeCanary(canary, stable, { ...policy, maxErrorRateIncrease: 0.005 }, 'final').verdict).toBe('fail')
    expect(
      judgeCanary(fleet(1000, 0, 30), fleet(9000, 0, 20), { ...policy, maxLatencyIncrease: 0.6 }, 'final').verdict
    ).toBe('pass')
    expect(LATENCY_NOISE_MS).toBe(10)
  })
})

describe('fisherOneSided', () => {
  it.each([
    // Hand-checkable cases: all 10 errors on the 10 canary requests out of 100 is 1 / C(100, 10).
    [10, 10, 0, 90, 1 / 17_310_309_456_440],
    // One error, on the canary's 1 of 11 requests: 1/11.
    [1, 1, 0, 10, 1 / 11],
    [0, 10, 5, 90, 1],
    [0, 10, 0, 90, 1]
  ])('canary %d/%d vs stable %d/%d: p = %d', (a, n, b, m, p) => {
    expect(fisherOneSided(a, n, b, m)).toBeCloseTo(p, 12)
  })

  it('is near one half when both fleets have the same rate, and shrinks as the canary gets worse', () => {
    const same = fisherOneSided(500, 10_000, 4500, 90_000)
    expect(same).toBeGreaterThan(0.4)
    expect(same).toBeLessThan(0.6)
    expect(fisherOneSided(600, 10_000, 4500, 90_000)).toBeLessThan(1e-4)
  })
})
