// Evaluates the world's alarms every ~250 ms from what the proxy saw: a metric alarm with `watch`
// goes to ALARM when the 5xx share of the responses served by its target group in the last
// windowMs is >= threshold with at least minRequests responses, else OK. The sandbox hands it the
// published metrics (world.metrics), whose window ends where publication has got to, so an alarm
// sees a bad answer as late as CloudWatch would; tests may hand it the proxy's live counts. Composite alarms (anyOf)
// are in ALARM while any named alarm is. updatedAt changes only on a state change.

import type { Alarm, World } from '../world.js'

export interface ResponseWindow {
  window(tgArn: string, windowMs: number, now?: number): { total: number; errors: number }
}

export interface AlarmEvaluatorOptions {
  intervalMs?: number
  now?: () => number
}

function stamp(ms: number): string {
  // CloudWatch's reason text format: (27/11/25 03:20:00)
  const d = new Date(ms)
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`
}

export class AlarmEvaluator {
  private readonly world: World
  private readonly stats: ResponseWindow
  private readonly intervalMs: number
  private readonly now: () => number
  private timer?: NodeJS.Timeout

  constructor(world: World, stats: ResponseWindow, opts: AlarmEvaluatorOptions = {}) {
    this.world = world
    this.stats = stats
    this.intervalMs = opts.intervalMs ?? 250
    this.now = opts.now ?? Date.now
  }

  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => this.evaluate(), this.intervalMs)
    this.evaluate()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  /** One evaluation of every alarm the sandbox can evaluate. */
  evaluate(): void {
    const now = this.now()
    for (const alarm of this.world.alarms.values()) {
      if (alarm.type !== 'MetricAlarm' || !alarm.watch) continue
      const { targetGroupArn, loadBalancerArn, threshold, windowMs, minRequests } = alarm.watch
      const watched = targetGroupArn ?? loadBalancerArn
      if (!watched) continue
      const { total, errors } = this.stats.window(watched, windowMs, now)
      const share = total > 0 ? errors / total : 0
      const breaching = total >= minRequests && total > 0 && share >= threshold
      const datapoint = `1 datapoint [${round(share)} (${stamp(now)})]`
      if (breaching) {
        this.set(
          alarm,
          'ALARM',
          now,
          `Threshold Crossed: ${datapoint} was greater than or equal to the threshold (${threshold}) (${errors} of ${total} responses were 5xx).`
        )
      } else {
        const why =
          total < minRequests
            ? `Threshold Crossed: ${datapoint} was not greater than or equal to the threshold (${threshold}) (only ${total} responses, minimum ${minRequests}).`
            : `Threshold Crossed: ${datapoint} was not greater than or equal to the threshold (${threshold}).`
        this.set(alarm, 'OK', now, why)
      }
    }
    for (const alarm of this.world.alarms.values()) {
      if (alarm.type !== 'CompositeAlarm' || !alarm.anyOf) continue
      const firing = alarm.anyOf.map((n) => this.world.alarms.get(n)).filter((a): a is Alarm => a?.state === 'ALARM')
      if (firing.length > 0) {
        this.set(
          alarm,
          'ALARM',
          now,
          `${firing[0].arn} transitioned to ALARM at ${new Date(firing[0].updatedAt).toISOString()}`
        )
      } else {
        this.set(alarm, 'OK', now, `no alarm of ${alarm.anyOf.join(', ')} is in ALARM`)
      }
    }
  }

  private set(alarm: Alarm, state: Alarm['state'], now: number, reason: string): void {
    if (alarm.state === state) return
    alarm.state = state
    alarm.reason = reason
    alarm.updatedAt = now
  }
}

function round(x: number): string {
  return String(Math.round(x * 1000) / 1000)
}
