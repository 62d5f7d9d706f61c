// The proxy feeds the load balancer's CloudWatch metrics with what it really served: per group,
// the targets' own status codes and response times, and the load balancer's own 502 when a target
// drops the connection (counted as a connection error, not as the target's 5xx). The alarm
// evaluator, handed the published metrics, sees a bad group only once publication caught up.
import http from 'node:http'
import { AlarmEvaluator } from '../../sandbox/fleet/alarm-evaluator.js'
import { FLAKY_EVERY, SLOW_MS } from '../../sandbox/fleet/instances.js'
import { dimensionValue, type Series } from '../../sandbox/metrics/alb-metrics.js'
import { LoadBalancer } from '../../sandbox/proxy/load-balancer.js'
import { addPair, startFleet, type FleetHarness } from './fleet-helpers.js'

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
afterAll(() => agent.destroy())

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      .on('error', reject)
  })
}

async function many(url: string, n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i += 10)
    out.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => get(url)))))
  return out
}

describe('the proxy publishes what it served', () => {
  let h: FleetHarness
  let lb: LoadBalancer
  beforeEach(async () => {
    h = await startFleet()
    lb = new LoadBalancer(h.world)
    h.world.metrics.publication = { mode: 'progressive', flushMs: 1000, delayMs: 0 }
  })
  afterEach(async () => {
    await lb.stop()
    await h.close()
  })

  async function pair(
    blueBehaviour: 'ok' | 'flaky' | 'slow',
    greenBehaviour: 'ok' | 'flaky' | 'slow',
    weights: [number, number] = [50, 50]
  ) {
    const blue = await h.add([{ version: 'v1', behaviour: blueBehaviour }])
    const green = await h.add([{ version: 'v2', behaviour: greenBehaviour }])
    const p = addPair(
      h.world,
      blue.map((i) => i.id),
      green.map((i) => i.id),
      weights
    )
    for (const arn of [p.blueArn, p.greenArn])
      for (const id of h.world.targetGroups.get(arn)!.targets.keys())
        h.world.targetGroups.get(arn)!.targets.set(id, { state: 'healthy' })
    await lb.start()
    const lbArn = h.world.listeners.get(p.listenerArn)!.loadBalancerArn
    return { ...p, lbArn, url: lb.url(p.listenerArn), blue, green }
  }

  const later = () => Date.now() + 60 * 60_000
  function sum(s: Series | undefined, stat = 'Sum'): number | undefined {
    if (!s) return undefined
    const points = h.world.metrics.datapoints(s, stat, Date.now() - 3600_000, later(), 3600, later())
    return points[0]?.value
  }
  const dims = (lbArn: string, tg?: string) => [
    { Name: 'LoadBalancer', Value: dimensionValue(lbArn) },
    ...(tg ? [{ Name: 'TargetGroup', Value: dimensionValue(tg) }] : [])
  ]

  it("a flaky group: its requests and its targets' 5xx, per group, equal what the clients saw", async () => {
    const p = await pair('ok', 'flaky', [0, 100])
    const statuses = await many(p.url, 50)
    expect(statuses.filter((s) => s === 500)).toHaveLength(50 / FLAKY_EVERY)
    const m = h.world.metrics
    expect(sum(m.series('AWS/ApplicationELB', 'RequestCount', dims(p.lbArn, p.greenArn)))).toBe(50)
    expect(sum(m.series('AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', dims(p.lbArn, p.greenArn)))).toBe(10)
    expect(sum(m.series('AWS/ApplicationELB', 'HTTPCode_Target_2XX_Count', dims(p.lbArn, p.greenArn)))).toBe(40)
    // Blue served nothing: the combination is published (it is in the forward action) but has no data.
    const blueSeries = m.series('AWS/ApplicationELB', 'RequestCount', dims(p.lbArn, p.blueArn))
    expect(blueSeries === undefined || sum(blueSeries) === undefined).toBe(true)
  })

  it('a slow group: TargetResponseTime of each group measures its targets', async () => {
    const p = await pair('ok', 'slow')
    await many(p.url, 40)
    const m = h.world.metrics
    const slow = sum(m.series('AWS/ApplicationELB', 'TargetResponseTime', dims(p.lbArn, p.greenArn)), 'Average')!
    const fast = sum(m.series('AWS/ApplicationELB', 'TargetResponseTime', dims(p.lbArn, p.blueArn)), 'Average')!
    expect(slow).toBeGreaterThanOrEqual(SLOW_MS / 1000)
    expect(fast).toBeLessThan(SLOW_MS / 1000 / 2)
  })

  it("a target that drops connections: the load balancer's 502, a connection error of the group, no target 5xx", async () => {
    const p = await pair('ok', 'ok', [0, 100])
    h.fleet.setUp(p.green[0].id, false)
    const statuses = await many(p.url, 5)
    expect(statuses).toEqual([502, 502, 502, 502, 502])
    const m = h.world.metrics
    expect(sum(m.series('AWS/ApplicationELB', 'TargetConnectionErrorCount', dims(p.lbArn, p.greenArn)))).toBe(5)
    expect(sum(m.series('AWS/ApplicationELB', 'RequestCount', dims(p.lbArn, p.greenArn)))).toBe(5)
    expect(sum(m.series('AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', dims(p.lbArn, p.greenArn)))).toBeUndefined()
    expect(sum(m.series('AWS/ApplicationELB', 'HTTPCode_ELB_502_Count', dims(p.lbArn)))).toBe(5)
    expect(m.series('AWS/ApplicationELB', 'HTTPCode_ELB_502_Count', dims(p.lbArn, p.greenArn))).toBeUndefined()
  })

  it('an alarm on the published metrics fires only once publication caught up with the bad answers', async () => {
    const p = await pair('ok', 'flaky', [0, 100])
    for (const i of p.green) h.fleet.setApp(i.id, { behaviour: 'errors' })
    h.world.metrics.publication = { mode: 'progressive', flushMs: 1000, delayMs: 60_000 }
    h.world.alarms.set('g', {
      name: 'g',
      arn: 'arn:g',
      type: 'MetricAlarm',
      state: 'OK',
      reason: '',
      updatedAt: 0,
      watch: { targetGroupArn: p.greenArn, threshold: 0.2, windowMs: 10_000, minRequests: 5 }
    })
    const clock = { now: Date.now() }
    const evaluator = new AlarmEvaluator(h.world, h.world.metrics, { now: () => clock.now })
    await many(p.url, 20)
    evaluator.evaluate()
    expect(h.world.alarms.get('g')!.state).toBe('OK') // not published yet
    clock.now = Date.now() + 62_000
    evaluator.evaluate()
    expect(h.world.alarms.get('g')!.state).toBe('ALARM')
  })
})

describe('an alarm on the whole load balancer', () => {
  it('dilutes a 10% canary answering only 5xx: 10% of the answers stay under a 20% threshold', async () => {
    const h = await startFleet()
    const lb = new LoadBalancer(h.world)
    try {
      h.world.metrics.publication = { mode: 'progressive', flushMs: 1000, delayMs: 0 }
      const blue = await h.add([{ version: 'v1' }])
      const green = await h.add([{ version: 'v2', behaviour: 'errors' }])
      const p = addPair(
        h.world,
        blue.map((i) => i.id),
        green.map((i) => i.id),
        [90, 10]
      )
      for (const arn of [p.blueArn, p.greenArn])
        for (const id of h.world.targetGroups.get(arn)!.targets.keys())
          h.world.targetGroups.get(arn)!.targets.set(id, { state: 'healthy' })
      await lb.start()
      const lbArn = h.world.listeners.get(p.listenerArn)!.loadBalancerArn
      const watch = { threshold: 0.2, windowMs: 60_000, minRequests: 5 }
      h.world.alarms.set('lb', {
        name: 'lb',
        arn: 'arn:lb',
        type: 'MetricAlarm',
        state: 'OK',
        reason: '',
        updatedAt: 0,
        watch: { loadBalancerArn: lbArn, ...watch }
      })
      h.world.alarms.set('green', {
        name: 'green',
        arn: 'arn:g',
        type: 'MetricAlarm',
        state: 'OK',
        reason: '',
        updatedAt: 0,
        watch: { targetGroupArn: p.greenArn, ...watch }
      })
      const statuses = await many(lb.url(p.listenerArn), 200)
      expect(statuses.filter((s) => s === 500).length).toBeGreaterThan(5)
      new AlarmEvaluator(h.world, h.world.metrics, { now: () => Date.now() + 2000 }).evaluate()
      expect(h.world.alarms.get('green')!.state).toBe('ALARM')
      expect(h.world.alarms.get('lb')!.state).toBe('OK')
    } finally {
      await lb.stop()
      await h.close()
    }
  })
})
