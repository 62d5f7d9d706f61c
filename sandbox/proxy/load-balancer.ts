// The ALB stand-in: a real reverse proxy per listener (127.0.0.1:listener.port). Every request
// reads the live world, so a weight change applies to the very next request:
//   rules (by priority; every condition type, see rule-conditions.ts) -> else the default actions;
//   forward: pick a target group by weight, or by the AWSALBTG stickiness cookie while that group
//   is still in the forward action, weight 0 included (stickiness.ts); then round-robin over its
//   healthy targets (all targets when none is healthy: ALB fails open; 503 when the group has
//   none); fixed-response and redirect answered directly; proxy errors -> 502, timeout -> 504.
// Every request is recorded, kept in 5xx counts per target group, and handed to the world's
// CloudWatch metrics (sandbox/metrics/alb-metrics.ts) the way ALB accounts for it: the target's
// status and response time (to its response headers), or the status the load balancer made itself,
// and whether the connection to the target failed.

import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ElbAction, Listener, Rule, TargetGroup, World } from '../world.js'
import { closeServer } from '../fleet/instances.js'
import { requestFacts, ruleMatches, wildcardMatches } from './rule-conditions.js'
import { chooseTargetGroup } from './stickiness.js'

export { STICKY_COOKIE, decodeStickyCookie, encodeStickyCookie, pickWeighted } from './stickiness.js'

export interface ProxyRecord {
  at: number
  durationMs: number
  listenerArn: string
  ruleArn?: string
  targetGroupArn?: string
  targetId?: string
  status: number
  /** The version the target's app answered with (its x-app-version header). */
  version?: string
  /** Why the load balancer itself answered (no target, proxy error, ...). */
  error?: string
  /** The load balancer generated the status (no target answered). */
  elbGenerated?: boolean
  /** From sending the request to the target until its response headers (TargetResponseTime). */
  targetMs?: number
  /** The connection to the target failed or was reset before it answered (TargetConnectionErrorCount). */
  connectionError?: boolean
  /** The AWSALBTG stickiness cookie chose the group (not the weights). */
  sticky?: boolean
}

export interface LoadBalancerOptions {
  host?: string
  /** Upstream response timeout (ALB idle timeout). Default 30 s. */
  upstreamTimeoutMs?: number
  /** Most records kept (oldest dropped). Default 500,000. */
  recordLimit?: number
  now?: () => number
  /** Source of randomness for the weighted choice (a seeded one makes tests deterministic). */
  random?: () => number
}

const BUCKET_MS = 100
const STATS_KEEP_MS = 15 * 60_000

/** Responses and 5xx per target group in 100 ms buckets: what the 5xx alarms evaluate. */
export class TargetGroupStats {
  private readonly buckets = new Map<string, Map<number, { total: number; errors: number }>>()

  add(tgArn: string, status: number, at: number): void {
    let m = this.buckets.get(tgArn)
    if (!m) this.buckets.set(tgArn, (m = new Map()))
    const b = Math.floor(at / BUCKET_MS)
    let c = m.get(b)
    if (!c) {
      m.set(b, (c = { total: 0, errors: 0 }))
      if (m.size % 512 === 0) for (const k of m.keys()) if (k < b - STATS_KEEP_MS / BUCKET_MS) m.delete(k)
    }
    c.total++
    if (status >= 500 && status <= 599) c.errors++
  }

  /** Responses and 5xx of the group in the last windowMs before `now`. */
  window(tgArn: string, windowMs: number, now = Date.now()): { total: number; errors: number } {
    const m = this.buckets.get(tgArn)
    const out = { total: 0, errors: 0 }
    if (!m) return out
    const from = Math.floor((now - windowMs) / BUCKET_MS)
    const to = Math.floor(now / BUCKET_MS)
    if (to - from < m.size) {
      for (let b = from; b <= to; b++) {
        const c = m.get(b)
        if (c) {
          out.total += c.total
          out.errors += c.errors
        }
      }
    } else {
      for (const [b, c] of m) {
        if (b >= from && b <= to) {
          out.total += c.total
          out.errors += c.errors
        }
      }
    }
    return out
  }
}

/** ALB path-pattern: case-sensitive, `*` any characters, `?` one character. */
export function pathMatches(pattern: string, path: string): boolean {
  return wildcardMatches(pattern, path, false)
}

/** The rule (by priority) whose conditions all match, else undefined (default actions apply). */
export function matchRule(world: World, listenerArn: string, req: http.IncomingMessage): Rule | undefined {
  const facts = requestFacts(req)
  const rules = [...world.rules.values()]
    .filter((r) => r.listenerArn === listenerArn && r.priority !== 'default')
    .sort((a, b) => Number(a.priority) - Number(b.priority))
  return rules.find((r) => ruleMatches(r.conditions, facts))
}

function terminalAction(actions: ElbAction[]): ElbAction | undefined {
  return [...actions]
    .sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0))
    .find((a) => a.Type === 'forward' || a.Type === 'fixed-response' || a.Type === 'redirect')
}

function forwardGroups(action: ElbAction): Array<{ arn: string; weight: number }> {
  const groups = action.ForwardConfig?.TargetGroups
  if (groups && groups.length > 0) return groups.map((g) => ({ arn: g.TargetGroupArn, weight: g.Weight ?? 1 }))
  return action.TargetGroupArn ? [{ arn: action.TargetGroupArn, weight: 1 }] : []
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate'
])

export class LoadBalancer {
  readonly records: ProxyRecord[] = []
  readonly stats = new TargetGroupStats()
  private readonly world: World
  private readonly host: string
  private readonly upstreamTimeoutMs: number
  private readonly recordLimit: number
  private readonly now: () => number
  private readonly random: () => number
  private readonly servers = new Map<string, http.Server>()
  private readonly rr = new Map<string, number>()
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 30_000 })

  constructor(world: World, opts: LoadBalancerOptions = {}) {
    this.world = world
    this.host = opts.host ?? '127.0.0.1'
    this.upstreamTimeoutMs = opts.upstreamTimeoutMs ?? 30_000
    this.recordLimit = opts.recordLimit ?? 500_000
    this.now = opts.now ?? Date.now
    this.random = opts.random ?? Math.random
  }

  /** Starts a proxy for every listener of the world not yet served (port 0 -> a free port, written back). */
  async start(): Promise<void> {
    for (const l of this.world.listeners.values()) if (!this.servers.has(l.arn)) await this.listen(l)
  }

  /** URL of the proxy for the listener (the first one when not named). */
  url(listenerArn?: string): string {
    const l = listenerArn ? this.world.listeners.get(listenerArn) : [...this.world.listeners.values()][0]
    if (!l) throw new Error(`no listener ${listenerArn ?? ''}`)
    return `http://${this.host}:${l.port}`
  }

  async stop(): Promise<void> {
    const servers = [...this.servers.values()]
    this.servers.clear()
    await Promise.all(servers.map((s) => closeServer(s)))
    this.agent.destroy()
  }

  private async listen(l: Listener): Promise<void> {
    const server = http.createServer((req, res) => this.handle(l.arn, req, res))
    server.keepAliveTimeout = 60_000 // the ALB's default idle timeout
    server.headersTimeout = 61_000
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(l.port, this.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    l.port = (server.address() as AddressInfo).port
    this.servers.set(l.arn, server)
  }

  private record(r: ProxyRecord): void {
    if (this.records.length >= this.recordLimit) this.records.splice(0, Math.ceil(this.recordLimit / 10))
    this.records.push(r)
    if (r.targetGroupArn) this.stats.add(r.targetGroupArn, r.status, r.at)
    const loadBalancerArn = this.world.listeners.get(r.listenerArn)?.loadBalancerArn
    if (loadBalancerArn) {
      this.world.metrics.record({
        at: r.at,
        loadBalancerArn,
        targetGroupArn: r.targetGroupArn,
        ...(r.elbGenerated ? { elbStatus: r.status } : { targetStatus: r.status, targetMs: r.targetMs }),
        connectionError: r.connectionError
      })
    }
  }

  private handle(listenerArn: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const at = this.now()
    const rec: ProxyRecord = { at, durationMs: 0, listenerArn, status: 0 }
    const reply = (status: number, body: string, error?: string, headers: http.OutgoingHttpHeaders = {}): void => {
      req.resume()
      rec.status = status
      rec.error = error
      rec.elbGenerated = true
      rec.durationMs = this.now() - at
      this.record(rec)
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain', server: 'awselb/2.0', ...headers })
      res.end(body)
    }
    const listener = this.world.listeners.get(listenerArn)
    if (!listener) return reply(503, '503 Service Temporarily Unavailable\n', 'listener deleted')
    const path = (req.url ?? '/').split('?')[0]
    const rule = matchRule(this.world, listenerArn, req)
    rec.ruleArn = rule?.arn
    const action = terminalAction(rule ? rule.actions : listener.defaultActions)
    if (!action) return reply(503, '503 Service Temporarily Unavailable\n', 'no action')
    if (action.Type === 'fixed-response') {
      const f = action.FixedResponseConfig
      return reply(Number(f?.StatusCode ?? 200), f?.MessageBody ?? '', undefined, {
        'content-type': f?.ContentType ?? 'text/plain'
      })
    }
    if (action.Type === 'redirect') {
      const r = action.RedirectConfig ?? {}
      const location = `${(r.Protocol ?? 'HTTP').replace('#{protocol}', 'HTTP').toLowerCase()}://${r.Host && r.Host !== '#{host}' ? r.Host : (req.headers.host ?? '')}${r.Path && r.Path !== '/#{path}' ? r.Path : path}`
      return reply(r.StatusCode === 'HTTP_302' ? 302 : 301, '', undefined, { location })
    }

    // forward
    const choice = chooseTargetGroup({
      groups: forwardGroups(action),
      stickiness: action.ForwardConfig?.TargetGroupStickinessConfig,
      cookieHeader: req.headers.cookie,
      now: at,
      random: this.random,
      hasTargets: (arn) =>
        [...(this.world.targetGroups.get(arn)?.targets.values() ?? [])].some((t) => t.state !== 'draining')
    })
    const chosen = choice.arn
    if (!chosen) return reply(503, '503 Service Temporarily Unavailable\n', 'no target group with weight')
    rec.targetGroupArn = chosen
    if (choice.bySticky) rec.sticky = true
    const tg = this.world.targetGroups.get(chosen)
    const targetId = tg ? this.pickTarget(tg) : undefined
    const instance = targetId ? this.world.instances.get(targetId) : undefined
    if (!tg || !targetId || !instance) return reply(503, '503 Service Temporarily Unavailable\n', 'no targets')
    rec.targetId = targetId

    const extra: http.OutgoingHttpHeaders = choice.setCookie ? { 'set-cookie': [choice.setCookie] } : {}
    this.forward(req, res, rec, instance.port, listener, extra, reply, true)
  }

  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    rec: ProxyRecord,
    port: number,
    listener: Listener,
    extra: http.OutgoingHttpHeaders,
    reply: (status: number, body: string, error?: string, headers?: http.OutgoingHttpHeaders) => void,
    mayRetry: boolean
  ): void {
    const headers: http.OutgoingHttpHeaders = {}
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v
    const xff = req.headers['x-forwarded-for']
    headers['x-forwarded-for'] = (xff ? `${String(xff)}, ` : '') + (req.socket.remoteAddress ?? '127.0.0.1')
    headers['x-forwarded-proto'] = listener.protocol.toLowerCase()
    headers['x-forwarded-port'] = String(listener.port)
    headers['x-amzn-trace-id'] ??= `Root=1-${Math.floor(rec.at / 1000).toString(16)}-${randomBytes(12).toString('hex')}`
    const sentAt = this.now()
    const upstream = http.request(
      { host: this.host, port, method: req.method, path: req.url, headers, agent: this.agent },
      (up) => {
        rec.targetMs = this.now() - sentAt
        const out: http.OutgoingHttpHeaders = {}
        for (const [k, v] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v
        for (const [k, v] of Object.entries(extra)) {
          const prev = out[k]
          out[k] = prev === undefined ? v : ([] as string[]).concat(prev as string[], v as string[])
        }
        rec.status = up.statusCode ?? 502
        const version = up.headers['x-app-version']
        if (typeof version === 'string') rec.version = version
        res.writeHead(rec.status, out)
        up.pipe(res)
        up.on('end', () => {
          rec.durationMs = this.now() - rec.at
          this.record(rec)
        })
        up.on('error', () => res.destroy())
      }
    )
    upstream.setTimeout(this.upstreamTimeoutMs, () =>
      upstream.destroy(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' }))
    )
    upstream.on('error', (e: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy()
        return
      }
      // A keep-alive connection the app closed just as we reused it: not the app's failure.
      if (
        mayRetry &&
        upstream.reusedSocket &&
        e.code === 'ECONNRESET' &&
        (req.method === 'GET' || req.method === 'HEAD')
      ) {
        this.forward(req, res, rec, port, listener, extra, reply, false)
        return
      }
      if (e.code === 'ETIMEDOUT') reply(504, '504 Gateway Time-out\n', 'upstream timeout')
      else {
        // Refused, reset or closed before answering: ALB counts it against the group's
        // connections, not its 5xx answers (those are the target's own).
        rec.connectionError = true
        reply(502, '502 Bad Gateway\n', `upstream ${e.code ?? e.message}`)
      }
    })
    if (req.method === 'GET' || req.method === 'HEAD') {
      req.resume()
      upstream.end()
    } else req.pipe(upstream)
  }

  /** Round-robin over healthy targets; all (non-draining) targets when none is healthy. */
  private pickTarget(tg: TargetGroup): string | undefined {
    const healthy: string[] = []
    const all: string[] = []
    for (const [id, h] of tg.targets) {
      if (h.state === 'draining') continue
      all.push(id)
      if (h.state === 'healthy') healthy.push(id)
    }
    const pool = healthy.length > 0 ? healthy : all
    if (pool.length === 0) return undefined
    const n = this.rr.get(tg.arn) ?? 0
    this.rr.set(tg.arn, n + 1)
    return pool[n % pool.length]
  }
}
