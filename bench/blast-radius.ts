// Blast radius of a bad release: a version that answers every request with a 500 (and stays
// healthy) gets 10% of the traffic; how many requests fail, and how long from its first bad answer
// until the weights are restored, when the canary judge alone watches it vs when a 5xx alarm on
// its target group alone does. Both see the same published metrics (sandbox/metrics/alb-metrics.ts:
// a report every second, published `delay` later), so the floor is what any watcher of published
// metrics must let through: weight × request rate × publication delay.

import { startLoad } from '../sandbox/load/load-generator.js'
import { runAction } from '../sandbox/run-action.js'
import { startSandbox } from '../sandbox/sandbox.js'

export interface BlastOptions {
  rps: number
  weight: number
  flushMs: number
  delayMs: number
  stepWait: string
}

export const BLAST_DEFAULTS: BlastOptions = { rps: 200, weight: 10, flushMs: 1000, delayMs: 2000, stepWait: '4s' }

export interface BlastRun {
  watcher: 'judge' | 'alarm'
  result: string
  /** First failed answer of the bad version (ms since epoch). */
  firstBadAt?: number
  /** Weights back on the stable fleet (the ModifyListener that did it arrived). */
  restoredAt?: number
  failed: number
  /** Requests that reached the bad version. */
  reachedBad: number
  /** Measured request rate over the run (requests per second). */
  rate: number
  why: string
}

const BAD_DEPLOY = 'echo v2 > version && echo errors > behaviour && ./restart'

async function once(watcher: BlastRun['watcher'], o: BlastOptions): Promise<BlastRun> {
  const sb = await startSandbox({
    fleetSize: 3,
    healthIntervalMs: 300,
    metrics: { mode: 'progressive', flushMs: o.flushMs, delayMs: o.delayMs },
    // The alarm a careful user would set: 5xx share of the group's own answers over one period.
    alarm: { threshold: 0.2, windowMs: o.flushMs, minRequests: 5 }
  })
  const load = startLoad({ url: sb.proxyUrl, rps: o.rps })
  try {
    await new Promise((r) => setTimeout(r, 1000))
    const run = await runAction({
      env: sb.env,
      inputs: {
        'listener-arns': sb.listenerArn,
        strategy: 'canary',
        'canary-steps': String(o.weight),
        'step-wait': o.stepWait,
        commands: BAD_DEPLOY,
        version: 'v2',
        'health-timeout': '60s',
        'command-timeout': '30s',
        'metrics-delay': `${Math.ceil((o.delayMs + o.flushMs) / 1000)}s`,
        'analysis-min-requests': '20',
        ...(watcher === 'judge' ? { alarms: '', 'canary-analysis': 'true' } : { alarms: 'web-green-5xx', 'canary-analysis': 'false' })
      },
      hardTimeoutMs: 120_000
    })
    await new Promise((r) => setTimeout(r, 500))
    await load.stop()
    const green = sb.greenArn
    const changes = sb.world.weightChanges.filter((c) => c.routeArn === sb.listenerArn)
    const shifted = changes.find((c) => (c.weights[green] ?? 0) > 0)
    const restored = shifted ? changes.find((c) => c.at > shifted.at && (c.weights[green] ?? 0) === 0) : undefined
    const bad = load.samples.filter((s) => s.version === 'v2' || (!s.ok && shifted && s.at >= shifted.at))
    const failed = load.samples.filter((s) => !s.ok)
    const firstBad = failed.reduce<number | undefined>((m, s) => (m === undefined || s.doneAt < m ? s.doneAt : m), undefined)
    const seconds = (load.stoppedAt - load.startedAt) / 1000
    const error = /::error::(.*)/.exec(run.stdout)?.[1] ?? ''
    return {
      watcher,
      result: run.outputs.result ?? `exit ${run.exitCode}`,
      firstBadAt: firstBad,
      restoredAt: restored?.at,
      failed: failed.length,
      reachedBad: bad.length,
      rate: load.samples.length / seconds,
      why: error.replace(/%0A/g, ' ').slice(0, 160)
    }
  } finally {
    await load.stop().catch(() => undefined)
    await sb.stop()
  }
}

/** One run per watcher, on fresh sandboxes, one after the other. */
export async function blastRadius(o: BlastOptions = BLAST_DEFAULTS): Promise<BlastRun[]> {
  return [await once('judge', o), await once('alarm', o)]
}

export function blastTable(runs: BlastRun[], o: BlastOptions): string {
  const share = o.weight / 100
  const lines = [
    `### Blast radius: a version answering 500 to every request, at ${o.weight}% of ${o.rps} requests/s`,
    '',
    `Metrics reported every ${o.flushMs / 1000} s and published ${o.delayMs / 1000} s later (the sandbox's compressed time; AWS: every minute, minutes later). step-wait ${o.stepWait}.`,
    '',
    '| watcher | result | failed requests | first bad answer → restore | floor (weight × rate × delay) | failed / floor | goal: restore ≤ period + delay, failed ≤ 2 × floor |',
    '|---|---|---:|---:|---:|---:|---|'
  ]
  for (const r of runs) {
    const floor = share * r.rate * (o.delayMs / 1000)
    const seconds = r.firstBadAt !== undefined && r.restoredAt !== undefined ? (r.restoredAt - r.firstBadAt) / 1000 : NaN
    const within = Number.isFinite(seconds) && seconds <= (o.flushMs + o.delayMs) / 1000
    const ratio = r.failed / floor
    const goal = r.watcher === 'judge' ? `${within ? 'met' : 'missed'} (${Number.isFinite(seconds) ? seconds.toFixed(2) : 'n/a'} s vs ${((o.flushMs + o.delayMs) / 1000).toFixed(1)} s), ${ratio <= 2 ? 'met' : 'missed'} (${ratio.toFixed(2)} ≤ 2)` : 'for comparison'
    lines.push(
      `| ${r.watcher === 'judge' ? 'canary judge alone' : '5xx alarm on the group alone'} | ${r.result} | ${r.failed} | ${Number.isFinite(seconds) ? `${seconds.toFixed(2)} s` : 'not restored'} | ${floor.toFixed(1)} | ${ratio.toFixed(2)} | ${goal} |`
    )
  }
  lines.push('', ...runs.map((r) => `- ${r.watcher}: ${r.why || 'no error line'}`))
  return lines.join('\n')
}
