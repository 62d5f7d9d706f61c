// Steady traffic through the proxy (keep-alive, fixed rate, bounded duration), recording every
// response: when it was sent, its status, the version that answered (x-app-version) and failures
// (non-2xx or connection errors). `trafficReport` splits a run into the steps between weight
// changes and compares, per step, the weight set on the new fleet with the share it served.
// With `clients`, requests come from that many simulated visitors, each with its own cookie jar,
// so stickiness cookies pin them the way they pin real browsers.

import http from 'node:http'
import type { WeightChange } from '../world.js'
import { CookieJar } from './cookie-jar.js'

export interface LoadOptions {
  /** Base URL of the proxy, e.g. http://127.0.0.1:8080 */
  url: string
  path?: string
  /** Requests per second. Default 50. */
  rps?: number
  /** Stops after this long (default: until stop()). */
  durationMs?: number
  /** Most requests outstanding; over it a request is counted as failed (`overloaded`). Default 512. */
  maxInFlight?: number
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number
  /** Send each request as a new client (no cookies, default) or keep one cookie jar (sticky client). */
  keepCookies?: boolean
  /**
   * Simulated clients that each keep their own cookie jar, like browsers: requests go to them in
   * turn, and each sends back the cookies it was given (AWSALBTG stickiness included) until they
   * expire. A client has one request out at a time (a visitor waiting for its page): a turn that
   * comes while its last request is out waits for the answer, so with slow answers the rate falls
   * below rps. Overrides keepCookies; 0 (default) sends every request as a new client.
   */
  clients?: number
}

export interface LoadSample {
  /** When the request was sent. */
  at: number
  doneAt: number
  status: number // 0 on connection error
  version?: string
  ok: boolean
  error?: string
  /** Which simulated client sent it (with `clients` or `keepCookies`). */
  client?: number
}

export interface LoadSummary {
  sent: number
  completed: number
  failed: number
  byStatus: Record<string, number>
  byVersion: Record<string, number>
  errors: Record<string, number>
}

export class LoadGenerator {
  readonly samples: LoadSample[] = []
  startedAt = 0
  stoppedAt = 0
  /** Resolves when the run is over and every request has finished. */
  readonly done: Promise<void>
  private readonly opts: Required<Omit<LoadOptions, 'durationMs'>> & { durationMs?: number }
  private readonly agent: http.Agent
  private timer?: NodeJS.Timeout
  private inFlight = 0
  /** Requests due so far by the rate. */
  private scheduled = 0
  /** Requests actually sent (a busy client's turn waits). */
  private sent = 0
  private stopping = false
  private resolveDone!: () => void
  private readonly jars: CookieJar[]
  private readonly busy: boolean[]
  private readonly waiting: number[]

  constructor(opts: LoadOptions) {
    this.opts = { path: '/', rps: 50, maxInFlight: 512, timeoutMs: 10_000, keepCookies: false, clients: 0, ...opts }
    const clients = this.opts.clients > 0 ? this.opts.clients : this.opts.keepCookies ? 1 : 0
    this.jars = Array.from({ length: clients }, () => new CookieJar())
    this.busy = new Array<boolean>(clients).fill(false)
    this.waiting = new Array<number>(clients).fill(0)
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 30_000 })
    this.done = new Promise((r) => (this.resolveDone = r))
  }

  start(): this {
    if (this.startedAt) return this
    this.startedAt = Date.now()
    const tickMs = Math.max(2, Math.min(20, Math.floor(1000 / this.opts.rps)))
    this.timer = setInterval(() => this.tick(), tickMs)
    this.tick()
    return this
  }

  /** Stops sending; resolves once the outstanding requests finished. */
  async stop(): Promise<void> {
    this.finishSending()
    await this.done
  }

  summary(): LoadSummary {
    return summarize(this.samples, this.sent)
  }

  private finishSending(): void {
    if (this.stopping) return
    this.stopping = true
    this.stoppedAt = Date.now()
    if (this.timer) clearInterval(this.timer)
    this.maybeDone()
  }

  private maybeDone(): void {
    if (this.stopping && this.inFlight === 0) {
      this.agent.destroy()
      this.resolveDone()
    }
  }

  private tick(): void {
    if (this.stopping) return
    const now = Date.now()
    const elapsed = now - this.startedAt
    if (this.opts.durationMs !== undefined && elapsed >= this.opts.durationMs) {
      this.finishSending()
      return
    }
    const due = Math.floor((elapsed / 1000) * this.opts.rps) + 1
    while (this.scheduled < due) this.schedule()
  }

  private schedule(): void {
    const n = this.scheduled++
    if (this.jars.length === 0) return this.send(undefined)
    const client = n % this.jars.length
    if (this.busy[client]) this.waiting[client]++
    else this.send(client)
  }

  private send(client: number | undefined): void {
    this.sent++
    const at = Date.now()
    const jar = client === undefined ? undefined : this.jars[client]
    const tag = client === undefined ? {} : { client }
    if (this.inFlight >= this.opts.maxInFlight) {
      this.samples.push({ at, doneAt: at, status: 0, ok: false, error: 'overloaded', ...tag })
      return
    }
    this.inFlight++
    if (client !== undefined) this.busy[client] = true
    let settled = false
    const finish = (s: Omit<LoadSample, 'at' | 'doneAt' | 'client'>): void => {
      if (settled) return
      settled = true
      this.samples.push({ at, doneAt: Date.now(), ...s, ...tag })
      this.inFlight--
      if (client !== undefined) {
        this.busy[client] = false
        if (!this.stopping && this.waiting[client] > 0) {
          this.waiting[client]--
          this.send(client)
        }
      }
      this.maybeDone()
    }
    const url = new URL(this.opts.path, this.opts.url)
    const headers: http.OutgoingHttpHeaders = {}
    const cookie = jar?.header(at)
    if (cookie) headers.cookie = cookie
    const req = http.get(url, { agent: this.agent, headers, timeout: this.opts.timeoutMs }, (res) => {
      const status = res.statusCode ?? 0
      const v = res.headers['x-app-version']
      const version = Array.isArray(v) ? v[0] : v
      jar?.store(res.headers['set-cookie'], Date.now())
      res.resume()
      res.on('end', () =>
        finish({
          status,
          version,
          ok: status >= 200 && status < 300,
          error: status >= 200 && status < 300 ? undefined : `HTTP ${status}`
        })
      )
      res.on('error', (e: NodeJS.ErrnoException) => finish({ status, version, ok: false, error: e.code ?? e.message }))
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
    req.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, ok: false, error: e.code ?? e.message }))
  }
}

export function startLoad(opts: LoadOptions): LoadGenerator {
  return new LoadGenerator(opts).start()
}

export function summarize(samples: LoadSample[], sent = samples.length): LoadSummary {
  const s: LoadSummary = { sent, completed: samples.length, failed: 0, byStatus: {}, byVersion: {}, errors: {} }
  for (const x of samples) {
    s.byStatus[x.status] = (s.byStatus[x.status] ?? 0) + 1
    if (x.version) s.byVersion[x.version] = (s.byVersion[x.version] ?? 0) + 1
    if (!x.ok) {
      s.failed++
      const e = x.error ?? `HTTP ${x.status}`
      s.errors[e] = (s.errors[e] ?? 0) + 1
    }
  }
  return s
}

/** Per simulated client, how many answers each version gave (clients in order). */
export function versionsByClient(samples: LoadSample[]): Array<Record<string, number>> {
  const out: Array<Record<string, number>> = []
  for (const s of samples) {
    if (s.client === undefined || !s.version) continue
    const m = (out[s.client] ??= {})
    m[s.version] = (m[s.version] ?? 0) + 1
  }
  return Array.from(out, (m) => m ?? {})
}

export interface TrafficStep {
  index: number
  from: number
  to: number
  /** Percent of the route's weight on the new fleet during the step. */
  weight: number
  requests: number
  /** Responses that named a version. */
  answered: number
  /** Percent of answered responses served by the new version. */
  newShare: number
  failures: number
}

export interface TrafficReport {
  sent: number
  failed: number
  steps: TrafficStep[]
}

export interface TrafficReportOptions {
  newTargetGroupArn: string
  newVersion: string
  /** Route whose weight changes define the steps (default: the route of the first change). */
  routeArn?: string
  /** Weight (percent) on the new fleet before the first change. Default 0. */
  initialWeight?: number
  /** Run bounds (default: first and last sample). */
  start?: number
  end?: number
}

/** Splits the samples into steps at every weight change of the route (by send time). */
export function trafficReport(
  samples: LoadSample[],
  changes: WeightChange[],
  opts: TrafficReportOptions
): TrafficReport {
  const sorted = [...samples].sort((a, b) => a.at - b.at)
  const start = opts.start ?? sorted[0]?.at ?? 0
  const end = opts.end ?? (sorted.length ? sorted[sorted.length - 1].at + 1 : start)
  const route = opts.routeArn ?? changes[0]?.routeArn
  const relevant = changes.filter((c) => c.routeArn === route).sort((a, b) => a.at - b.at)
  const bounds: Array<{ from: number; weight: number }> = [{ from: start, weight: opts.initialWeight ?? 0 }]
  for (const c of relevant) {
    const total = Object.values(c.weights).reduce((s, w) => s + w, 0)
    const weight = total > 0 ? Math.round(((c.weights[opts.newTargetGroupArn] ?? 0) / total) * 1000) / 10 : 0
    if (c.at <= start) bounds[0] = { from: start, weight }
    else bounds.push({ from: c.at, weight })
  }
  const steps: TrafficStep[] = bounds.map((b, i) => ({
    index: i,
    from: b.from,
    to: i + 1 < bounds.length ? bounds[i + 1].from : Math.max(end, b.from),
    weight: b.weight,
    requests: 0,
    answered: 0,
    newShare: 0,
    failures: 0
  }))
  const newCount = new Array<number>(steps.length).fill(0)
  let k = 0
  for (const s of sorted) {
    while (k + 1 < steps.length && s.at >= steps[k + 1].from) k++
    const st = steps[k]
    st.requests++
    if (!s.ok) st.failures++
    if (s.version) {
      st.answered++
      if (s.version === opts.newVersion) newCount[k]++
    }
  }
  steps.forEach((st, i) => (st.newShare = st.answered > 0 ? Math.round((newCount[i] / st.answered) * 1000) / 10 : 0))
  return { sent: samples.length, failed: samples.filter((s) => !s.ok).length, steps }
}

/** The report as a small text table. */
export function formatTrafficReport(r: TrafficReport, origin = r.steps[0]?.from ?? 0): string {
  const rows = [['step', 'from', 'held', 'weight on new', 'served by new', 'requests', 'failed']]
  for (const s of r.steps) {
    rows.push([
      String(s.index),
      `+${((s.from - origin) / 1000).toFixed(1)}s`,
      `${((s.to - s.from) / 1000).toFixed(1)}s`,
      `${s.weight}%`,
      s.answered ? `${s.newShare}%` : '-',
      String(s.requests),
      String(s.failures)
    ])
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)))
  const lines = rows.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd()
  )
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '))
  return `requests sent: ${r.sent}, failed: ${r.failed}\n` + lines.join('\n')
}
