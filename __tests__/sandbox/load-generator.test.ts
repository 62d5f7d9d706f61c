import http from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  formatTrafficReport,
  startLoad,
  summarize,
  trafficReport,
  versionsByClient,
  type LoadSample
} from '../../sandbox/load/load-generator.js'
import type { WeightChange } from '../../sandbox/world.js'

const GREEN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/0123456789abcdef'
const BLUE = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123456789abcdef'
const ROUTE = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2'
const OTHER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/aaaaaaaaaaaaaaaa'

const sample = (at: number, version: string | undefined, status = 200): LoadSample => ({
  at,
  doneAt: at + 2,
  status,
  version,
  ok: status >= 200 && status < 300,
  ...(status >= 200 && status < 300 ? {} : { error: `HTTP ${status}` })
})

const change = (at: number, green: number, routeArn = ROUTE): WeightChange => ({
  at,
  routeArn,
  weights: { [BLUE]: 100 - green, [GREEN]: green }
})

describe('trafficReport', () => {
  it('splits the run at each weight change of the route and compares weight with the new share', () => {
    const samples: LoadSample[] = []
    for (let t = 0; t < 1000; t += 10) samples.push(sample(t, 'v1')) // before: 100 samples
    for (let t = 1000; t < 2000; t += 10) samples.push(sample(t, t % 100 === 0 ? 'v2' : 'v1')) // 10%
    for (let t = 2000; t < 3000; t += 10) samples.push(sample(t, t % 20 === 0 ? 'v2' : 'v1', t === 2500 ? 502 : 200)) // 50%
    for (let t = 3000; t < 3500; t += 10) samples.push(sample(t, 'v2')) // 100%
    samples.push(sample(3600, undefined, 503)) // no version: counted, not in the share
    const changes = [change(1000, 10), change(1000, 10, OTHER), change(2000, 50), change(3000, 100)]
    const r = trafficReport(samples, changes, { newTargetGroupArn: GREEN, newVersion: 'v2', routeArn: ROUTE })
    expect(r.sent).toBe(351)
    expect(r.failed).toBe(2)
    expect(r.steps.map((s) => [s.weight, s.requests, s.answered, s.newShare, s.failures])).toEqual([
      [0, 100, 100, 0, 0],
      [10, 100, 100, 10, 0],
      [50, 100, 100, 50, 1],
      [100, 51, 50, 100, 1]
    ])
    expect(r.steps[1]).toMatchObject({ from: 1000, to: 2000 })
    const text = formatTrafficReport(r)
    expect(text).toContain('requests sent: 351, failed: 2')
    expect(text.split('\n')).toHaveLength(2 + 1 + 4)
  })

  it('uses a change at or before the start as the first step weight', () => {
    const r = trafficReport([sample(100, 'v2'), sample(200, 'v2')], [change(50, 100)], {
      newTargetGroupArn: GREEN,
      newVersion: 'v2'
    })
    expect(r.steps).toHaveLength(1)
    expect(r.steps[0]).toMatchObject({ weight: 100, requests: 2, newShare: 100 })
  })
})

describe('LoadGenerator', () => {
  let server: http.Server
  let url: string
  let hits = 0
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits++
      const fail = req.url?.includes('fail') && hits % 2 === 0
      res.writeHead(fail ? 500 : 200, { 'x-app-version': 'v7' })
      res.end('ok')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  it('sends at the configured rate for the duration and records every response', async () => {
    const load = startLoad({ url, rps: 100, durationMs: 500 })
    await load.done
    const s = load.summary()
    expect(s.sent).toBeGreaterThanOrEqual(45)
    expect(s.sent).toBeLessThanOrEqual(56)
    expect(s.completed).toBe(s.sent)
    expect(s.failed).toBe(0)
    expect(s.byVersion).toEqual({ v7: s.sent })
    expect(load.samples.every((x) => x.doneAt >= x.at)).toBe(true)
  })

  it('counts non-2xx answers and connection errors as failures', async () => {
    const load = startLoad({ url, path: '/fail', rps: 100, durationMs: 200 })
    await load.done
    expect(load.summary().failed).toBeGreaterThan(0)
    expect(load.summary().errors['HTTP 500']).toBe(load.summary().failed)

    const dead = startLoad({ url: 'http://127.0.0.1:1', rps: 50, durationMs: 100 })
    await dead.done
    const d = summarize(dead.samples)
    expect(d.failed).toBe(d.sent)
    expect(Object.keys(d.errors)).toEqual(['ECONNREFUSED'])
  })
})

describe('LoadGenerator clients', () => {
  let server: http.Server
  let url: string
  let issued = 0
  beforeAll(async () => {
    // Gives every cookieless request a new id and echoes the id a request brings back.
    server = http.createServer((req, res) => {
      const seen = /(?:^|; )id=(\d+)/.exec(req.headers.cookie ?? '')?.[1]
      const id = seen ?? String(++issued)
      res.writeHead(200, {
        'x-app-version': `id-${id}`,
        ...(seen ? {} : { 'set-cookie': `id=${id}; Max-Age=3600; Path=/` })
      })
      res.end('ok')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  it('each simulated client keeps its own cookies and sends them back', async () => {
    const load = startLoad({ url, rps: 100, durationMs: 400, clients: 4 })
    await load.done
    const byClient = versionsByClient(load.samples)
    expect(byClient).toHaveLength(4)
    // One id per client (the one it was given first), and four different ids.
    for (const versions of byClient) expect(Object.keys(versions)).toHaveLength(1)
    expect(new Set(byClient.map((v) => Object.keys(v)[0])).size).toBe(4)
    expect(load.samples.every((s) => s.client !== undefined && s.client >= 0 && s.client < 4)).toBe(true)
    // A client never has two requests out at once.
    for (let c = 0; c < 4; c++) {
      const mine = load.samples.filter((s) => s.client === c).sort((a, b) => a.at - b.at)
      for (let i = 1; i < mine.length; i++) expect(mine[i].at).toBeGreaterThanOrEqual(mine[i - 1].doneAt)
    }
  })

  it('without clients every request arrives without cookies', async () => {
    const before = issued
    const load = startLoad({ url, rps: 100, durationMs: 200 })
    await load.done
    expect(issued - before).toBe(load.samples.length)
    expect(load.samples.every((s) => s.client === undefined)).toBe(true)
  })
})
