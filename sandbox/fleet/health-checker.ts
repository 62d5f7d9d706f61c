// Active HTTP health checks per target group, with the ALB's target states:
//   initial (Elb.RegistrationInProgress) --healthyThreshold passes--> healthy
//   healthy/initial --unhealthyThreshold failures--> unhealthy (Target.ResponseCodeMismatch,
//     Target.Timeout, Target.FailedHealthChecks)
//   a group no listener or rule forwards to: every target unused (Target.NotInUse), not checked;
//     when it is used again its targets start over at initial.
// `draining` targets (written by the API layer on deregistration) are left alone.
// One ticker for every group and target (no timer per target) and one keep-alive agent.

import http from 'node:http'
import type { HealthCheckSettings, TargetGroup, TargetHealth, World } from '../world.js'

export interface HealthCheckerOptions {
  /** Scheduler resolution. Default 25 ms. */
  tickMs?: number
  /** Most checks in flight at once (bounded so 1,000 targets don't burst). Default 256. */
  maxInFlight?: number
  host?: string
  now?: () => number
}

interface TrackedTarget {
  tgArn: string
  id: string
  passes: number
  fails: number
  nextAt: number
  inFlight: boolean
  /** What this checker last wrote into targetGroup.targets (to spot changes made by others). */
  written?: TargetHealth
}

export type CheckOutcome = { ok: true } | { ok: false; reason: string; description: string }

/** True when a listener's default actions or any rule's actions forward to the group. */
export function isTargetGroupInUse(world: World, tgArn: string): boolean {
  const uses = (
    actions: {
      Type: string
      TargetGroupArn?: string
      ForwardConfig?: { TargetGroups?: Array<{ TargetGroupArn: string }> }
    }[]
  ): boolean =>
    actions.some(
      (a) =>
        a.Type === 'forward' &&
        (a.TargetGroupArn === tgArn || (a.ForwardConfig?.TargetGroups ?? []).some((g) => g.TargetGroupArn === tgArn))
    )
  for (const l of world.listeners.values()) if (uses(l.defaultActions)) return true
  for (const r of world.rules.values()) if (uses(r.actions)) return true
  return false
}

/** ALB matcher syntax: "200", "200,202", "200-299". */
export function matchesStatus(matcher: string, status: number): boolean {
  for (const part of (matcher || '200').split(',')) {
    const p = part.trim()
    const range = /^(\d+)-(\d+)$/.exec(p)
    if (range) {
      if (status >= Number(range[1]) && status <= Number(range[2])) return true
    } else if (Number(p) === status) return true
  }
  return false
}

export class HealthChecker {
  private readonly world: World
  private readonly tickMs: number
  private readonly maxInFlight: number
  private readonly host: string
  private readonly now: () => number
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4, maxFreeSockets: 4, timeout: 30_000 })
  private readonly tracked = new Map<string, TrackedTarget>() // `${tgArn} ${id}`
  private readonly unusedGroups = new Set<string>()
  private timer?: NodeJS.Timeout
  private inFlight = 0
  private generation = 0

  constructor(world: World, opts: HealthCheckerOptions = {}) {
    this.world = world
    this.tickMs = opts.tickMs ?? 25
    this.maxInFlight = opts.maxInFlight ?? 256
    this.host = opts.host ?? '127.0.0.1'
    this.now = opts.now ?? Date.now
  }

  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => this.tick(), this.tickMs)
    this.tick()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.generation++
    this.agent.destroy()
  }

  /** One scheduling pass: updates unused groups and starts every check that is due. */
  tick(): void {
    const now = this.now()
    const seen = new Set<string>()
    for (const tg of this.world.targetGroups.values()) {
      const inUse = isTargetGroupInUse(this.world, tg.arn)
      if (!inUse) this.unusedGroups.add(tg.arn)
      const wasUnused = inUse && this.unusedGroups.delete(tg.arn)
      for (const [id, health] of tg.targets) {
        const key = `${tg.arn} ${id}`
        seen.add(key)
        let t = this.tracked.get(key)
        if (!t) {
          t = { tgArn: tg.arn, id, passes: 0, fails: 0, nextAt: now, inFlight: false }
          this.tracked.set(key, t)
        }
        if (health.state === 'draining') {
          t.written = undefined
          continue
        }
        if (!inUse) {
          if (health.state !== 'unused' || health !== t.written) {
            this.write(tg, t, {
              state: 'unused',
              reason: 'Target.NotInUse',
              description: 'Target group is not configured to receive traffic from the load balancer'
            })
          }
          t.passes = t.fails = 0
          t.nextAt = now
          continue
        }
        if (wasUnused || health !== t.written) {
          // New registration, a change made by someone else, or the group just came into use.
          if (wasUnused || health.state === 'unused' || health.state === 'initial') {
            t.passes = t.fails = 0
            t.nextAt = now
            this.write(tg, t, initialHealth())
          } else {
            t.written = health
          }
        }
        if (!t.inFlight && now >= t.nextAt && this.inFlight < this.maxInFlight) this.check(tg, t, now)
      }
    }
    for (const key of this.tracked.keys()) if (!seen.has(key)) this.tracked.delete(key)
  }

  /** Resolves once every target of the groups is in one of the states (or rejects after timeoutMs). */
  async waitFor(tgArns: string[], states: TargetHealth['state'][] = ['healthy'], timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const ok = tgArns.every((arn) => {
        const tg = this.world.targetGroups.get(arn)
        return !!tg && [...tg.targets.values()].every((h) => states.includes(h.state))
      })
      if (ok) return
      if (Date.now() > deadline)
        throw new Error(`targets of ${tgArns.join(', ')} not ${states.join('/')} after ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  private check(tg: TargetGroup, t: TrackedTarget, now: number): void {
    const settings = tg.healthCheck
    t.inFlight = true
    t.nextAt = now + settings.intervalMs
    this.inFlight++
    const gen = this.generation
    const instance = this.world.instances.get(t.id)
    const done = (outcome: CheckOutcome): void => {
      this.inFlight--
      t.inFlight = false
      if (gen !== this.generation) return
      const current = this.world.targetGroups.get(t.tgArn)
      const health = current?.targets.get(t.id)
      // Ignore results that raced with a deregistration, an unuse or someone else's write.
      if (!current || !health || health !== t.written || health.state === 'draining' || health.state === 'unused')
        return
      this.apply(current, t, health, outcome)
    }
    if (!instance) {
      done({ ok: false, reason: 'Target.InvalidState', description: 'Target is in the stopped state' })
      return
    }
    probe(this.agent, this.host, instance.port, settings).then(done, () =>
      done({ ok: false, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' })
    )
  }

  private apply(tg: TargetGroup, t: TrackedTarget, health: TargetHealth, outcome: CheckOutcome): void {
    const s = tg.healthCheck
    if (outcome.ok) {
      t.passes++
      t.fails = 0
      if (health.state !== 'healthy' && t.passes >= s.healthyThreshold) this.write(tg, t, { state: 'healthy' })
    } else {
      t.fails++
      t.passes = 0
      if (t.fails >= s.unhealthyThreshold) {
        if (
          health.state !== 'unhealthy' ||
          health.reason !== outcome.reason ||
          health.description !== outcome.description
        ) {
          this.write(tg, t, { state: 'unhealthy', reason: outcome.reason, description: outcome.description })
        }
      }
    }
  }

  private write(tg: TargetGroup, t: TrackedTarget, health: TargetHealth): void {
    tg.targets.set(t.id, health)
    t.written = health
  }
}

export function initialHealth(): TargetHealth {
  return { state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' }
}

/** One HTTP health check against 127.0.0.1:port. */
export function probe(agent: http.Agent, host: string, port: number, s: HealthCheckSettings): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    let settled = false
    const finish = (o: CheckOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(o)
    }
    const req = http.request(
      { host, port, path: s.path || '/', method: 'GET', agent, headers: { 'user-agent': 'ELB-HealthChecker/2.0' } },
      (res) => {
        res.resume()
        const code = res.statusCode ?? 0
        res.on('end', () =>
          finish(
            matchesStatus(s.matcher, code)
              ? { ok: true }
              : {
                  ok: false,
                  reason: 'Target.ResponseCodeMismatch',
                  description: `Health checks failed with these codes: [${code}]`
                }
          )
        )
        res.on('error', () =>
          finish({ ok: false, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' })
        )
      }
    )
    const timer = setTimeout(() => {
      finish({ ok: false, reason: 'Target.Timeout', description: 'Request timed out' })
      req.destroy()
    }, s.timeoutMs)
    req.on('error', () =>
      finish({ ok: false, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' })
    )
    req.end()
  })
}
