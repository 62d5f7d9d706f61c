import http from 'node:http'
import { addRule, forwardAction } from '../../sandbox/aws/fixtures.js'
import { AlarmEvaluator } from '../../sandbox/fleet/alarm-evaluator.js'
import { LoadBalancer, STICKY_COOKIE, pathMatches, pickWeighted } from '../../sandbox/proxy/load-balancer.js'
import { addPair, startFleet, type FleetHarness } from './fleet-helpers.js'

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
afterAll(() => agent.destroy())

interface Answer {
  status: number
  version?: string
  instance?: string
  setCookie?: string[]
}

function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers }, (res) => {
        res.resume()
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            version: res.headers['x-app-version'] as string | undefined,
            instance: res.headers['x-instance-id'] as string | undefined,
            setCookie: res.headers['set-cookie']
          })
        )
      })
      .on('error', reject)
  })
}

async function many(url: string, n: number, headers: Record<string, string> = {}): Promise<Answer[]> {
  const out: Answer[] = []
  for (let i = 0; i < n; i += 20)
    out.push(...(await Promise.all(Array.from({ length: Math.min(20, n - i) }, () => get(url, headers)))))
  return out
}

function setHealth(h: FleetHarness, tgArn: string, state: 'healthy' | 'unhealthy', ids?: string[]): void {
  const tg = h.world.targetGroups.get(tgArn)!
  for (const id of ids ?? [...tg.targets.keys()]) tg.targets.set(id, { state })
}

describe('LoadBalancer', () => {
  let h: FleetHarness
  let lb: LoadBalancer
  beforeEach(async () => {
    h = await startFleet()
    // A seeded choice: the split is then the same on every run, not a 1-in-50 flake on a tolerance.
    lb = new LoadBalancer(h.world, { random: seeded(42) })
  })
  afterEach(async () => {
    await lb.stop()
    await h.close()
  })

  async function pair(weights: [number, number], sticky?: number) {
    const blue = await h.add([{ version: 'v1' }, { version: 'v1' }])
    const green = await h.add([{ version: 'v2' }, { version: 'v2' }])
    const p = addPair(
      h.world,
      blue.map((i) => i.id),
      green.map((i) => i.id),
      weights,
      sticky
    )
    setHealth(h, p.blueArn, 'healthy')
    setHealth(h, p.greenArn, 'healthy')
    await lb.start()
    return { ...p, blue, green, url: lb.url(p.listenerArn) }
  }

  it('splits traffic by the forward weights (80/20 within tolerance) and applies a change at once', async () => {
    const p = await pair([80, 20])
    const answers = await many(p.url, 400)
    const green = answers.filter((a) => a.version === 'v2').length / answers.length
    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect(green).toBeGreaterThan(0.14)
    expect(green).toBeLessThan(0.26)
    // The records name group and target of every request.
    expect(lb.records).toHaveLength(400)
    expect(lb.records.filter((r) => r.targetGroupArn === p.greenArn).length).toBe(
      answers.filter((a) => a.version === 'v2').length
    )

    h.world.listeners.get(p.listenerArn)!.defaultActions = [forwardAction({ [p.blueArn]: 0, [p.greenArn]: 100 })]
    const after = await many(p.url, 50)
    expect(after.every((a) => a.version === 'v2')).toBe(true)
  })

  it('round-robins over healthy targets only, and fails open when none is healthy', async () => {
    const p = await pair([100, 0])
    const [b1, b2] = p.blue
    setHealth(h, p.blueArn, 'unhealthy', [b2.id])
    const answers = await many(p.url, 20)
    expect(new Set(answers.map((a) => a.instance))).toEqual(new Set([b1.id]))

    setHealth(h, p.blueArn, 'healthy', [b2.id])
    const both = await many(p.url, 20)
    expect(both.filter((a) => a.instance === b1.id)).toHaveLength(10)

    setHealth(h, p.blueArn, 'unhealthy')
    const open = await many(p.url, 20)
    expect(new Set(open.map((a) => a.instance))).toEqual(new Set([b1.id, b2.id]))
    expect(open.every((a) => a.status === 200)).toBe(true)
  })

  it('answers 503 for a group without targets and 502 when the target is down', async () => {
    const p = await pair([100, 0])
    const tg = h.world.targetGroups.get(p.blueArn)!
    const saved = new Map(tg.targets)
    tg.targets.clear()
    expect((await get(p.url)).status).toBe(503)
    for (const [k, v] of saved) tg.targets.set(k, v)
    for (const i of p.blue) h.fleet.setUp(i.id, false)
    expect((await get(p.url)).status).toBe(502)
    expect(lb.records.at(-1)).toMatchObject({ status: 502, targetGroupArn: p.blueArn })
  })

  it('keeps a client on its group with the AWSALBTG cookie, also once that group is at weight 0', async () => {
    const p = await pair([50, 50], 3600)
    const first = await get(p.url)
    const cookie = first.setCookie?.find((c) => c.startsWith(`${STICKY_COOKIE}=`))
    expect(cookie).toBeDefined()
    const pair0 = cookie!.split(';')[0]
    const answers = await many(p.url, 40, { cookie: pair0 })
    expect(new Set(answers.map((a) => a.version))).toEqual(new Set([first.version]))
    // Without the cookie, both groups answer.
    const anon = await many(p.url, 60)
    expect(new Set(anon.map((a) => a.version))).toEqual(new Set(['v1', 'v2']))
    // At weight 0 the group is still in the forward action: the cookie still decides (as on ALB).
    const stuckArn = first.version === 'v1' ? p.blueArn : p.greenArn
    const otherArn = stuckArn === p.blueArn ? p.greenArn : p.blueArn
    h.world.listeners.get(p.listenerArn)!.defaultActions = [forwardAction({ [stuckArn]: 0, [otherArn]: 100 }, 3600)]
    const stuck = await many(p.url, 10, { cookie: pair0 })
    expect(stuck.every((a) => a.version === first.version)).toBe(true)
    expect(lb.records.slice(-10).every((r) => r.sticky === true && r.targetGroupArn === stuckArn)).toBe(true)
    // Stickiness turned off on the route releases the client.
    h.world.listeners.get(p.listenerArn)!.defaultActions = [forwardAction({ [stuckArn]: 0, [otherArn]: 100 })]
    const moved = await many(p.url, 10, { cookie: pair0 })
    expect(moved.every((a) => a.version !== first.version)).toBe(true)
  })

  it('evaluates path-pattern rules by priority before the default action', async () => {
    const p = await pair([100, 0])
    addRule(h.world, {
      listenerArn: p.listenerArn,
      priority: 10,
      conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } }],
      actions: [forwardAction({ [p.blueArn]: 0, [p.greenArn]: 100 })]
    })
    expect((await get(`${p.url}/api/users`)).version).toBe('v2')
    expect((await get(`${p.url}/home`)).version).toBe('v1')
    expect(pathMatches('/img/*.png', '/img/a/b.png')).toBe(true)
    expect(pathMatches('/img/?.png', '/img/ab.png')).toBe(false)
  })

  it('feeds the 5xx alarm: a group answering 500 puts its alarm in ALARM, the other stays OK', async () => {
    const p = await pair([50, 50])
    for (const i of p.green) h.fleet.setApp(i.id, { behaviour: 'errors' })
    h.world.alarms.set('web-green-5xx', {
      name: 'web-green-5xx',
      arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-green-5xx',
      type: 'MetricAlarm',
      state: 'OK',
      reason: '',
      updatedAt: 0,
      watch: { targetGroupArn: p.greenArn, threshold: 0.2, windowMs: 10_000, minRequests: 5 }
    })
    h.world.alarms.set('web-blue-5xx', {
      ...h.world.alarms.get('web-green-5xx')!,
      name: 'web-blue-5xx',
      watch: { targetGroupArn: p.blueArn, threshold: 0.2, windowMs: 10_000, minRequests: 5 }
    })
    h.world.alarms.set('web-any', {
      name: 'web-any',
      arn: 'arn:x',
      type: 'CompositeAlarm',
      state: 'OK',
      reason: '',
      updatedAt: 0,
      anyOf: ['web-blue-5xx', 'web-green-5xx']
    })
    const evaluator = new AlarmEvaluator(h.world, lb.stats)
    evaluator.evaluate()
    expect(h.world.alarms.get('web-green-5xx')!.state).toBe('OK')
    const answers = await many(p.url, 40)
    expect(answers.some((a) => a.status === 500)).toBe(true)
    evaluator.evaluate()
    const green = h.world.alarms.get('web-green-5xx')!
    expect(green.state).toBe('ALARM')
    expect(green.reason).toMatch(
      /^Threshold Crossed: 1 datapoint \[1 \(.*\)\] was greater than or equal to the threshold \(0.2\)/
    )
    expect(green.updatedAt).toBeGreaterThan(0)
    expect(h.world.alarms.get('web-blue-5xx')!.state).toBe('OK')
    expect(h.world.alarms.get('web-any')!.state).toBe('ALARM')
    // Outside the window the alarm returns to OK.
    expect(lb.stats.window(p.greenArn, 10_000, Date.now() + 20_000)).toEqual({ total: 0, errors: 0 })
  })

  it('keeps an alarm OK below minRequests', async () => {
    const p = await pair([100, 0])
    for (const i of p.blue) h.fleet.setApp(i.id, { behaviour: 'errors' })
    h.world.alarms.set('b', {
      name: 'b',
      arn: 'arn:b',
      type: 'MetricAlarm',
      state: 'OK',
      reason: '',
      updatedAt: 0,
      watch: { targetGroupArn: p.blueArn, threshold: 0.1, windowMs: 10_000, minRequests: 10 }
    })
    await many(p.url, 5)
    new AlarmEvaluator(h.world, lb.stats).evaluate()
    expect(h.world.alarms.get('b')!.state).toBe('OK')
  })
})

describe('pickWeighted', () => {
  it('never picks a group at weight 0 and returns undefined when all are 0', () => {
    const groups = [
      { arn: 'a', weight: 0 },
      { arn: 'b', weight: 1 }
    ]
    for (const x of [0, 0.5, 0.9999]) expect(pickWeighted(groups, () => x)).toBe('b')
    expect(pickWeighted([{ arn: 'a', weight: 0 }])).toBeUndefined()
  })
})

/** mulberry32: a small seeded PRNG, uniform on [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
