// GetMetricData on the emulated endpoint, through the real SDK: the load balancer's metrics as
// ALB publishes them (dimensions, statistics, no data without requests), with the publication
// delay, and GetMetricData's paging and validation.
import { GetMetricDataCommand, paginateGetMetricData, type MetricDataQuery } from '@aws-sdk/client-cloudwatch'
import { addTargetGroup, newLoadBalancerArn } from '../../sandbox/aws/fixtures.js'
import { dimensionValue, type AlbRequest } from '../../sandbox/metrics/alb-metrics.js'
import { rejection, startHarness, type Harness } from './aws-helpers.js'

const T0 = Date.UTC(2025, 10, 27, 12, 0, 0) // a minute boundary
let clock = T0
let h: Harness
let lb: string
let blue: string
let green: string

beforeEach(async () => {
  clock = T0
  h = await startHarness({ now: () => clock })
  lb = newLoadBalancerArn(h.world, 'web')
  blue = addTargetGroup(h.world, { name: 'web-blue', loadBalancerArns: [lb] })
  green = addTargetGroup(h.world, { name: 'web-green', loadBalancerArns: [lb] })
  h.world.metrics.publication = { mode: 'aws', delayMs: 120_000 }
})

afterEach(async () => {
  await h.close()
})

function serve(tg: string, at: number, what: Partial<AlbRequest> = {}): void {
  h.world.metrics.record({ at, loadBalancerArn: lb, targetGroupArn: tg, targetStatus: 200, targetMs: 20, ...what })
}

const dims = (tg?: string) => [
  { Name: 'LoadBalancer', Value: dimensionValue(lb) },
  ...(tg ? [{ Name: 'TargetGroup', Value: dimensionValue(tg) }] : [])
]

function q(
  id: string,
  metric: string,
  stat: string,
  tg?: string,
  extra: Partial<MetricDataQuery> = {},
  period = 60
): MetricDataQuery {
  return {
    Id: id,
    MetricStat: {
      Metric: { Namespace: 'AWS/ApplicationELB', MetricName: metric, Dimensions: dims(tg) },
      Period: period,
      Stat: stat
    },
    ...extra
  }
}

async function get(
  queries: MetricDataQuery[],
  from = T0,
  to = T0 + 10 * 60_000,
  more: { ScanBy?: 'TimestampAscending' | 'TimestampDescending'; MaxDatapoints?: number } = {}
) {
  const out = await h.cw.send(
    new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: new Date(from), EndTime: new Date(to), ...more })
  )
  return Object.fromEntries((out.MetricDataResults ?? []).map((r) => [r.Id, r]))
}

const series = (r: { Timestamps?: Date[]; Values?: number[] }) =>
  (r.Timestamps ?? []).map((t, i) => [t.toISOString().slice(11, 16), r.Values![i]])

describe('GetMetricData: the load balancer metrics', () => {
  test('counts per target group, Sum per minute, oldest first when asked, labelled with the metric name', async () => {
    for (let i = 0; i < 10; i++) serve(green, T0 + i * 1000, i < 3 ? { targetStatus: 503 } : {})
    for (let i = 0; i < 90; i++) serve(blue, T0 + i * 1000)
    serve(green, T0 + 60_000 + 5000)
    serve(green, T0 + 60_000 + 6000, {
      targetStatus: undefined,
      targetMs: undefined,
      connectionError: true,
      elbStatus: 502
    })
    clock = T0 + 2 * 60_000 + 120_000 // both minutes closed and their delay passed

    const r = await get(
      [
        q('nreq', 'RequestCount', 'Sum', green),
        q('n5xx', 'HTTPCode_Target_5XX_Count', 'Sum', green),
        q('ncon', 'TargetConnectionErrorCount', 'Sum', green),
        q('sreq', 'RequestCount', 'Sum', blue),
        q('s5xx', 'HTTPCode_Target_5XX_Count', 'Sum', blue)
      ],
      T0,
      T0 + 10 * 60_000,
      { ScanBy: 'TimestampAscending' }
    )
    expect(series(r.nreq)).toEqual([
      ['12:00', 10],
      ['12:01', 2]
    ])
    expect(series(r.n5xx)).toEqual([['12:00', 3]]) // nonzero only: the 12:01 minute has no 5xx datapoint
    expect(series(r.ncon)).toEqual([['12:01', 1]])
    expect(series(r.sreq)).toEqual([
      ['12:00', 60],
      ['12:01', 30]
    ])
    expect(series(r.s5xx)).toEqual([]) // blue never answered 5xx: no datapoint at all
    expect(r.nreq.Label).toBe('RequestCount')
    expect(r.nreq.StatusCode).toBe('Complete')
  })

  test('TargetResponseTime in seconds: Average, percentiles, Maximum, SampleCount; counts average 1', async () => {
    for (let i = 1; i <= 100; i++) serve(green, T0 + i * 100, { targetMs: i }) // 1..100 ms
    clock = T0 + 60_000 + 120_000
    const r = await get([
      q('avg', 'TargetResponseTime', 'Average', green),
      q('p99', 'TargetResponseTime', 'p99', green),
      q('p50', 'TargetResponseTime', 'p50', green),
      q('max', 'TargetResponseTime', 'Maximum', green),
      q('n', 'TargetResponseTime', 'SampleCount', green),
      q('cavg', 'RequestCount', 'Average', green)
    ])
    expect(r.avg.Values![0]).toBeCloseTo(0.0505, 6)
    expect(r.p99.Values).toEqual([0.099])
    expect(r.p50.Values).toEqual([0.05])
    expect(r.max.Values).toEqual([0.1])
    expect(r.n.Values).toEqual([100])
    expect(r.cavg.Values).toEqual([1])
  })

  test('a load balancer 5xx is published per load balancer only, never under the group', async () => {
    serve(green, T0 + 1000, { targetStatus: undefined, targetMs: undefined, connectionError: true, elbStatus: 502 })
    serve(green, T0 + 2000, { targetStatus: 500 })
    clock = T0 + 60_000 + 120_000
    const r = await get([
      q('elb', 'HTTPCode_ELB_5XX_Count', 'Sum'),
      q('elb502', 'HTTPCode_ELB_502_Count', 'Sum'),
      q('elbtg', 'HTTPCode_ELB_5XX_Count', 'Sum', green),
      q('lbreq', 'RequestCount', 'Sum'),
      q('lbtarget5xx', 'HTTPCode_Target_5XX_Count', 'Sum'),
      {
        Id: 'tgonly',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/ApplicationELB',
            MetricName: 'RequestCount',
            Dimensions: [{ Name: 'TargetGroup', Value: dimensionValue(green) }]
          },
          Period: 60,
          Stat: 'Sum'
        }
      },
      {
        Id: 'otherns',
        MetricStat: {
          Metric: { Namespace: 'AWS/ELB', MetricName: 'RequestCount', Dimensions: dims(green) },
          Period: 60,
          Stat: 'Sum'
        }
      }
    ])
    expect(r.elb.Values).toEqual([1])
    expect(r.elb502.Values).toEqual([1])
    expect(r.elbtg.Values).toEqual([])
    expect(r.lbreq.Values).toEqual([2])
    expect(r.lbtarget5xx.Values).toEqual([1])
    expect(r.tgonly.Values).toEqual([])
    expect(r.otherns.Values).toEqual([])
  })

  test("Unit: the metric's own returns data, another returns none; ReturnData false is left out; Label kept", async () => {
    serve(green, T0 + 1000)
    clock = T0 + 60_000 + 120_000
    const r = await get([
      q('count', 'RequestCount', 'Sum', green, { Label: 'green requests' }),
      {
        ...q('sec', 'RequestCount', 'Sum', green),
        MetricStat: { ...q('x', 'RequestCount', 'Sum', green).MetricStat!, Unit: 'Seconds' }
      },
      {
        ...q('cnt', 'RequestCount', 'Sum', green),
        MetricStat: { ...q('x', 'RequestCount', 'Sum', green).MetricStat!, Unit: 'Count' }
      },
      q('hidden', 'RequestCount', 'Sum', blue, { ReturnData: false })
    ])
    expect(r.count.Label).toBe('green requests')
    expect(r.count.Values).toEqual([1])
    expect(r.sec.Values).toEqual([])
    expect(r.cnt.Values).toEqual([1])
    expect(r.hidden).toBeUndefined()
  })
})

describe('GetMetricData: publication delay', () => {
  test('aws: a minute appears only once it has closed and the delay has passed', async () => {
    serve(green, T0 + 1000)
    serve(green, T0 + 61_000)
    const at = async (t: number) => {
      clock = t
      return series(
        (await get([q('n', 'RequestCount', 'Sum', green)], T0, T0 + 5 * 60_000, { ScanBy: 'TimestampAscending' })).n
      )
    }
    expect(await at(T0 + 59_000)).toEqual([])
    expect(await at(T0 + 60_000 + 119_000)).toEqual([])
    expect(await at(T0 + 60_000 + 120_000)).toEqual([['12:00', 1]])
    expect(await at(T0 + 120_000 + 120_000)).toEqual([
      ['12:00', 1],
      ['12:01', 1]
    ])
  })

  test('progressive (sandbox): the open minute grows, each report published after the delay', async () => {
    h.world.metrics.publication = { mode: 'progressive', flushMs: 1000, delayMs: 2000 }
    for (let i = 0; i < 10; i++) serve(green, T0 + 100 + i * 1000) // one request at 0.1 s, 1.1 s, ... 9.1 s
    const at = async (t: number) => {
      clock = t
      return (await get([q('n', 'RequestCount', 'Sum', green)], T0, T0 + 60_000)).n.Values
    }
    expect(await at(T0 + 2999)).toEqual([]) // the first report (0-1 s) is published at 3 s
    expect(await at(T0 + 3000)).toEqual([1])
    expect(await at(T0 + 7500)).toEqual([5])
    expect(await at(T0 + 60_000)).toEqual([10])
  })
})

describe('GetMetricData: periods, ordering and paging', () => {
  test('a period over a minute adds minutes up; StartTime is rounded down to the minute, EndTime is exclusive', async () => {
    for (let m = 0; m < 6; m++) serve(green, T0 + m * 60_000 + 30_000)
    clock = T0 + 24 * 3600_000
    const five = await get([q('n', 'RequestCount', 'Sum', green, {}, 300)], T0 + 20_000, T0 + 6 * 60_000, {
      ScanBy: 'TimestampAscending'
    })
    expect(series(five.n)).toEqual([
      ['12:00', 5],
      ['12:05', 1]
    ])
    const cut = await get([q('n', 'RequestCount', 'Sum', green)], T0 + 59_000, T0 + 3 * 60_000, {
      ScanBy: 'TimestampAscending'
    })
    expect(series(cut.n)).toEqual([
      ['12:00', 1],
      ['12:01', 1],
      ['12:02', 1]
    ])
    const exclusive = await get([q('n', 'RequestCount', 'Sum', green)], T0, T0 + 2 * 60_000)
    expect(exclusive.n.Values).toHaveLength(2)
  })

  test("standard resolution: a 10-second period returns only the minute's own datapoint", async () => {
    for (let i = 0; i < 6; i++) serve(green, T0 + i * 10_000)
    clock = T0 + 3600_000
    const r = await get([q('n', 'RequestCount', 'Sum', green, {}, 10)], T0, T0 + 60_000)
    expect(series(r.n)).toEqual([['12:00', 6]])
    expect(r.n.Timestamps![0].getTime()).toBe(T0)
  })

  test('newest first by default; MaxDatapoints pages with NextToken and PartialData', async () => {
    for (let m = 0; m < 5; m++) serve(green, T0 + m * 60_000 + 1000)
    for (let m = 0; m < 3; m++) serve(blue, T0 + m * 60_000 + 1000)
    clock = T0 + 3600_000
    const first = await h.cw.send(
      new GetMetricDataCommand({
        MetricDataQueries: [q('g', 'RequestCount', 'Sum', green), q('b', 'RequestCount', 'Sum', blue)],
        StartTime: new Date(T0),
        EndTime: new Date(T0 + 600_000),
        MaxDatapoints: 3
      })
    )
    expect(first.NextToken).toBeDefined()
    const g = first.MetricDataResults!.find((r) => r.Id === 'g')!
    expect(series(g)).toEqual([
      ['12:04', 1],
      ['12:03', 1],
      ['12:02', 1]
    ])
    expect(g.StatusCode).toBe('PartialData')
    const all: Record<string, number> = {}
    let pages = 0
    for await (const page of paginateGetMetricData(
      { client: h.cw },
      {
        MetricDataQueries: [q('g', 'RequestCount', 'Sum', green), q('b', 'RequestCount', 'Sum', blue)],
        StartTime: new Date(T0),
        EndTime: new Date(T0 + 600_000),
        MaxDatapoints: 3
      }
    )) {
      pages++
      for (const r of page.MetricDataResults ?? []) all[r.Id!] = (all[r.Id!] ?? 0) + (r.Values ?? []).length
    }
    expect(pages).toBe(3)
    expect(all).toEqual({ g: 5, b: 3 })
    const bad = await rejection(
      h.cw.send(
        new GetMetricDataCommand({
          MetricDataQueries: [q('g', 'RequestCount', 'Sum', green)],
          StartTime: new Date(T0),
          EndTime: new Date(T0 + 600_000),
          NextToken: 'nope'
        })
      )
    )
    expect(bad.name).toBe('InvalidNextToken')
  })
})

describe('GetMetricData: validation', () => {
  const base = { StartTime: new Date(T0), EndTime: new Date(T0 + 60_000) }
  test.each([
    [
      'a period that is neither 1, 5, 10, 20, 30 nor a multiple of 60',
      () => [q('n', 'RequestCount', 'Sum', green, {}, 90 + 1)],
      base,
      /Period/
    ],
    [
      'StartTime equal to EndTime',
      () => [q('n', 'RequestCount', 'Sum', green)],
      { StartTime: new Date(T0), EndTime: new Date(T0) },
      /must not equal/
    ],
    [
      'StartTime after EndTime',
      () => [q('n', 'RequestCount', 'Sum', green)],
      { StartTime: new Date(T0 + 1000), EndTime: new Date(T0) },
      /less than/
    ],
    ['an Id starting with a capital', () => [q('Bad', 'RequestCount', 'Sum', green)], base, /Id/],
    [
      'a duplicated Id',
      () => [q('n', 'RequestCount', 'Sum', green), q('n', 'RequestCount', 'Sum', blue)],
      base,
      /duplicated/
    ],
    ['metric math', () => [{ Id: 'e', Expression: 'm1 / m2' }], base, /metric math/],
    ['an unknown statistic', () => [q('n', 'RequestCount', 'Total', green)], base, /Stat/],
    [
      'more than 500 queries',
      () => Array.from({ length: 501 }, (_, i) => q(`n${i}`, 'RequestCount', 'Sum', green)),
      base,
      /500/
    ]
  ])('%s is a ValidationError', async (_what, queries, times, message) => {
    const e = await rejection(h.cw.send(new GetMetricDataCommand({ MetricDataQueries: queries(), ...times })))
    expect(e.name).toBe('ValidationException')
    expect(e.$metadata?.httpStatusCode).toBe(400)
    expect(e.message).toMatch(message)
  })
})
