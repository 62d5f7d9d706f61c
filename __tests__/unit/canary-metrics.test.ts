// The judge's CloudWatch queries built from the ARNs, and the answer read back by ALB's rules.
import { describe, expect, it } from '@jest/globals'
import {
  fleetEvidence,
  fleetQueries,
  loadBalancerDimension,
  loadBalancerDimensions,
  metricWindow,
  targetGroupDimension
} from '../../src/plan/canary-metrics.js'
import type { MetricSeries } from '../../src/aws/metric-data.js'

const LISTENER =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2'
const RULE =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee'
const OTHER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/api/0123456789abcdef/f2f7dc8efc522ab2'
const GREEN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-green/73e2d6bc24d8a067'
const T0 = Date.UTC(2025, 10, 27, 12, 0, 0)

describe('dimensions from ARNs', () => {
  it.each([
    [LISTENER, 'app/web/50dc6c495c0c9188'],
    [RULE, 'app/web/50dc6c495c0c9188'],
    [
      'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/net/web/50dc6c495c0c9188/f2f7dc8efc522ab2',
      undefined
    ]
  ])('%s -> %s', (arn, dimension) => {
    expect(loadBalancerDimension(arn)).toBe(dimension)
  })

  it('the target group is the part after the colon; routes on one load balancer give one dimension', () => {
    expect(targetGroupDimension(GREEN)).toBe('targetgroup/web-green/73e2d6bc24d8a067')
    expect(loadBalancerDimensions([LISTENER, RULE])).toEqual(['app/web/50dc6c495c0c9188'])
    expect(loadBalancerDimensions([LISTENER, OTHER])).toEqual(['app/web/50dc6c495c0c9188', 'app/api/0123456789abcdef'])
  })
})

describe('metricWindow', () => {
  it.each([
    ['mid-minute to mid-minute: whole minutes around both', T0 + 20_000, T0 + 150_000, T0, T0 + 180_000],
    ['starting and looking within one minute: that minute', T0 + 5_000, T0 + 6_000, T0, T0 + 60_000],
    ['now exactly on a boundary: the minute it opens is included', T0, T0 + 60_000, T0, T0 + 120_000]
  ])('%s', (_name, from, now, start, end) => {
    expect(metricWindow(from, now)).toEqual({ start, end })
  })
})

describe('fleetQueries', () => {
  it("per-minute Sum of the counts and the window's own Average and p99, with both dimensions", () => {
    const queries = fleetQueries('n', ['app/web/50dc6c495c0c9188'], 'targetgroup/web-green/73e2d6bc24d8a067', {
      start: T0,
      end: T0 + 300_000
    })
    expect(
      queries.map((q) => [q.Id, q.MetricStat!.Metric!.MetricName, q.MetricStat!.Stat, q.MetricStat!.Period])
    ).toEqual([
      ['n0_req', 'RequestCount', 'Sum', 60],
      ['n0_t5xx', 'HTTPCode_Target_5XX_Count', 'Sum', 60],
      ['n0_conn', 'TargetConnectionErrorCount', 'Sum', 60],
      ['n0_avg', 'TargetResponseTime', 'Average', 300],
      ['n0_p99', 'TargetResponseTime', 'p99', 300]
    ])
    for (const q of queries) {
      expect(q.MetricStat!.Metric!.Namespace).toBe('AWS/ApplicationELB')
      expect(q.MetricStat!.Metric!.Dimensions).toEqual([
        { Name: 'LoadBalancer', Value: 'app/web/50dc6c495c0c9188' },
        { Name: 'TargetGroup', Value: 'targetgroup/web-green/73e2d6bc24d8a067' }
      ])
      expect(q.Id).toMatch(/^[a-z][a-zA-Z0-9_]*$/) // GetMetricData's rule for ids
    }
  })
})

describe("fleetEvidence: gaps filled with zero only where ALB's rules allow", () => {
  const m = (k: number) => T0 + k * 60_000
  const series = (entries: Record<string, Array<[number, number]>>): MetricSeries =>
    new Map(Object.entries(entries).map(([k, v]) => [k, v.map(([at, value]) => ({ at, value }))]))

  it('a minute with requests but no 5xx datapoint has zero 5xx; a minute without RequestCount is no data', () => {
    const e = fleetEvidence(
      'n',
      1,
      series({
        n0_req: [
          [m(0), 100],
          [m(1), 120]
        ],
        n0_t5xx: [
          [m(1), 6],
          [m(2), 9]
        ], // m(2) has no RequestCount yet: left out with it
        n0_conn: [[m(0), 2]],
        n0_avg: [[m(0), 0.025]],
        n0_p99: [[m(0), 0.2]]
      })
    )
    expect(e.sample).toEqual({
      requests: 220,
      target5xx: 6,
      connectionErrors: 2,
      errors: 8,
      latencyAvgMs: 25,
      latencyP99Ms: 200
    })
    expect(e.minutes).toEqual([m(0), m(1)])
  })

  it('no RequestCount at all: no requests, no minutes, no latency', () => {
    const e = fleetEvidence('n', 1, series({ n0_t5xx: [[m(0), 3]] }))
    expect(e.sample).toEqual({ requests: 0, target5xx: 0, connectionErrors: 0, errors: 0 })
    expect(e.minutes).toEqual([])
  })

  it('two load balancers: counts add up, the average is weighted by requests, the worst p99 stands', () => {
    const e = fleetEvidence(
      's',
      2,
      series({
        s0_req: [[m(0), 300]],
        s1_req: [[m(0), 100]],
        s1_t5xx: [[m(0), 4]],
        s0_avg: [[m(0), 0.01]],
        s1_avg: [[m(0), 0.05]],
        s0_p99: [[m(0), 0.1]],
        s1_p99: [[m(0), 0.3]]
      })
    )
    expect(e.sample.requests).toBe(400)
    expect(e.sample.errors).toBe(4)
    expect(e.sample.latencyAvgMs).toBeCloseTo(20, 9)
    expect(e.sample.latencyP99Ms).toBeCloseTo(300, 9)
  })
})
