import http from 'node:http'
import { forwardAction } from '../../sandbox/aws/fixtures.js'
import { seededRandom } from '../../sandbox/aws/faults.js'
import { CookieJar } from '../../sandbox/load/cookie-jar.js'
import { startLoad, versionsByClient } from '../../sandbox/load/load-generator.js'
import { LoadBalancer } from '../../sandbox/proxy/load-balancer.js'
import {
  STICKY_COOKIE,
  chooseTargetGroup,
  decodeStickyCookie,
  encodeStickyCookie,
  type ChooseOptions
} from '../../sandbox/proxy/stickiness.js'
import { addPair, startFleet, until, type FleetHarness } from './fleet-helpers.js'

const A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123456789abcdef'
const B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/0123456789abcdef'
const T0 = Date.UTC(2026, 0, 1)

const cookieFor = (arn: string, exp: number): string => `${STICKY_COOKIE}=${encodeStickyCookie(arn, exp)}`
const choose = (over: Partial<ChooseOptions>) =>
  chooseTargetGroup({
    groups: [
      { arn: A, weight: 0 },
      { arn: B, weight: 100 }
    ],
    stickiness: { Enabled: true, DurationSeconds: 60 },
    cookieHeader: undefined,
    now: T0,
    hasTargets: () => true,
    ...over
  })

describe('target group stickiness (pure)', () => {
  test('the cookie decides the group even at weight 0, as long as the group is in the forward action', () => {
    const c = choose({ cookieHeader: `other=1; ${cookieFor(A, T0 + 1000)}` })
    expect(c).toMatchObject({ arn: A, bySticky: true })
    // ... and with every weight at 0 too.
    expect(
      choose({
        groups: [
          { arn: A, weight: 0 },
          { arn: B, weight: 0 }
        ],
        cookieHeader: cookieFor(A, T0 + 1000)
      }).arn
    ).toBe(A)
    expect(
      choose({
        groups: [
          { arn: A, weight: 0 },
          { arn: B, weight: 0 }
        ]
      }).arn
    ).toBeUndefined()
  })

  test('each sticky answer renews the cookie: its expiry moves to now + DurationSeconds', () => {
    const c = choose({ cookieHeader: cookieFor(A, T0 + 1000), now: T0 + 500 })
    const expires = T0 + 500 + 60_000
    expect(c.setCookie).toBe(
      `${STICKY_COOKIE}=${encodeStickyCookie(A, expires)}; Expires=${new Date(expires).toUTCString()}; Path=/`
    )
    expect(decodeStickyCookie(c.setCookie!.split(';')[0].split('=')[1])).toEqual({ tg: A, exp: expires })
  })

  test('the weights decide when the cookie is missing, expired, unreadable, for a group not in the action, or for a group without targets', () => {
    const C = A.replace('web-blue', 'web-other')
    for (const cookieHeader of [
      undefined,
      cookieFor(A, T0),
      cookieFor(A, T0 - 1),
      `${STICKY_COOKIE}=garbage`,
      cookieFor(C, T0 + 1000)
    ]) {
      const c = choose({ cookieHeader })
      expect(c).toMatchObject({ arn: B, bySticky: false })
      expect(c.setCookie).toMatch(new RegExp(`^${STICKY_COOKIE}=`))
    }
    expect(choose({ cookieHeader: cookieFor(A, T0 + 1000), hasTargets: (arn) => arn !== A }).arn).toBe(B)
  })

  test('without group stickiness the cookie is ignored and none is set', () => {
    for (const stickiness of [undefined, { Enabled: false }]) {
      const c = choose({ stickiness, cookieHeader: cookieFor(A, T0 + 1000) })
      expect(c).toEqual({ arn: B, bySticky: false })
    }
  })
})

describe('CookieJar', () => {
  test('keeps cookies until Expires / Max-Age, replaces by name, drops expired ones', () => {
    const jar = new CookieJar()
    jar.store([`a=1; Expires=${new Date(T0 + 1000).toUTCString()}; Path=/`, 'b=2; Max-Age=5', 's=session'], T0)
    expect(jar.header(T0 + 999)).toBe('a=1; b=2; s=session')
    expect(jar.header(T0 + 1000)).toBe('b=2; s=session')
    jar.store(['b=3; Max-Age=5'], T0 + 4000)
    expect(jar.header(T0 + 8000)).toBe('b=3; s=session')
    jar.store(['s=gone; Max-Age=0'], T0 + 8000)
    expect(jar.header(T0 + 8000)).toBe('b=3')
    expect(jar.size).toBe(1)
  })
})

describe('stickiness through the proxy', () => {
  let h: FleetHarness
  let lb: LoadBalancer
  let clock = T0
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
  afterAll(() => agent.destroy())
  beforeEach(async () => {
    h = await startFleet()
  })
  afterEach(async () => {
    await lb.stop()
    await h.close()
  })

  async function pair(weights: [number, number], sticky?: number, now?: () => number) {
    const blue = await h.add([{ version: 'v1' }, { version: 'v1' }])
    const green = await h.add([{ version: 'v2' }, { version: 'v2' }])
    const p = addPair(
      h.world,
      blue.map((i) => i.id),
      green.map((i) => i.id),
      weights,
      sticky
    )
    for (const arn of [p.blueArn, p.greenArn]) {
      const tg = h.world.targetGroups.get(arn)!
      for (const id of tg.targets.keys()) tg.targets.set(id, { state: 'healthy' })
    }
    lb = new LoadBalancer(h.world, { now, random: seededRandom(42) })
    await lb.start()
    return { ...p, url: lb.url(p.listenerArn) }
  }

  function get(url: string, cookie?: string): Promise<{ version?: string; setCookie?: string }> {
    return new Promise((resolve, reject) => {
      http
        .get(url, { agent, headers: cookie ? { cookie } : {} }, (res) => {
          res.resume()
          res.on('end', () =>
            resolve({
              version: res.headers['x-app-version'] as string | undefined,
              setCookie: res.headers['set-cookie']?.find((c) => c.startsWith(STICKY_COOKIE))
            })
          )
        })
        .on('error', reject)
    })
  }

  test('a sticky client stays on a fleet at weight 0 while it keeps coming back, and leaves once the cookie expires', async () => {
    clock = T0
    const p = await pair([0, 100], 60, () => clock)
    // The client was pinned to blue while blue had traffic (its cookie names blue).
    let cookie = cookieFor(p.blueArn, T0 + 60_000)
    let lastExpiry = 0
    for (let i = 0; i < 5; i++) {
      clock += 50_000 // under the 60 s duration each time: the renewed cookie never lapses
      const r = await get(p.url, cookie)
      expect(r.version).toBe('v1')
      const expires = Date.parse(/Expires=([^;]+)/.exec(r.setCookie!)![1])
      expect(expires).toBe(Math.floor((clock + 60_000) / 1000) * 1000)
      expect(expires).toBeGreaterThan(lastExpiry)
      lastExpiry = expires
      cookie = r.setCookie!.split(';')[0]
    }
    expect(lb.records.every((r) => r.sticky === true && r.targetGroupArn === p.blueArn)).toBe(true)
    // Away for longer than the duration: the cookie has lapsed, the weights decide again.
    clock += 61_000
    const after = await get(p.url, cookie)
    expect(after.version).toBe('v2')
    expect(lb.records.at(-1)!.sticky).toBeUndefined()
  })

  test('load-generator clients keep their own cookies: sticky clients stay on a fleet at weight 0, cookieless ones do not', async () => {
    const p = await pair([50, 50], 3600)
    const clients = 8
    const sticky = startLoad({ url: p.url, rps: 200, clients })
    const plain = startLoad({ url: p.url, rps: 100 })
    // Every client has had an answer (and so its cookie) before the flip.
    await until(
      () => new Set(sticky.samples.filter((s) => s.ok).map((s) => s.client)).size === clients,
      5000,
      'every client answered'
    )
    const flipAt = Date.now()
    h.world.listeners.get(p.listenerArn)!.defaultActions = [forwardAction({ [p.blueArn]: 0, [p.greenArn]: 100 }, 3600)]
    await until(
      () => sticky.samples.filter((s) => s.at > flipAt + 5).length >= 5 * clients,
      5000,
      'requests after the flip'
    )
    await Promise.all([sticky.stop(), plain.stop()])

    const before = versionsByClient(sticky.samples.filter((s) => s.at < flipAt))
    const after = versionsByClient(sticky.samples.filter((s) => s.at > flipAt + 5))
    const onBlue = before.map((v, c) => (v.v1 && !v.v2 ? c : -1)).filter((c) => c >= 0)
    const onGreen = before.map((v, c) => (v.v2 && !v.v1 ? c : -1)).filter((c) => c >= 0)
    expect(onBlue.length).toBeGreaterThan(0)
    expect(onGreen.length).toBeGreaterThan(0)
    // Pinned clients never switch: blue ones keep getting v1 at weight 0, green ones v2.
    for (const c of onBlue) expect(Object.keys(after[c])).toEqual(['v1'])
    for (const c of onGreen) expect(Object.keys(after[c])).toEqual(['v2'])
    // Requests without cookies follow the weights at once.
    expect(plain.samples.filter((s) => s.at > flipAt + 5 && s.version === 'v1')).toHaveLength(0)
    expect(sticky.summary().failed + plain.summary().failed).toBe(0)
  })
})
