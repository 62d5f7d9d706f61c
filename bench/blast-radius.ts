// Blast radius of a bad release: a version that answers every request with a 500 (and stays
// healthy) gets 10% of the traffic. How many requests fail, and how long from its first bad answer
// until the weights are restored, when the canary judge alone watches it, when a 5xx alarm on its
// own target group alone does, and when the alarm most teams have, on the whole load balancer,
// does. All three see the same published metrics (sandbox/metrics/alb-metrics.ts: a report every
// second, published `delay` later), so the floor is what any watcher of published metrics must let
// through: weight × request rate × publication delay.

import { startLoad } from '../sandbox/load/load-generator.js'
import { runAction } from '../sandbox/run-action.js'
import { startSandbox } from '../sandbox/sandbox.js'

export interface BlastOptions {
  rps: number
  weight: number
  flushMs: number
  delayMs: number
  stepWait: string
  /** Runs per watcher (fresh sandbox each). */
  runs: number
}

export const BLAST_DEFAULTS: BlastOptions = {
  rps: 200,
  weight: 10,
  flushMs: 1000,
  delayMs: 2000,
  stepWait: '4s',
  runs: 3
}

type Watcher = 'judge' | 'group-alarm' | 'lb-alarm'

const WATCHERS: Record<Watcher, { label: string; inputs: Record<string, string> }> = {
  judge: { label: 'canary judge alone', inputs: { alarms: '', 'canary-analysis': 'true' } },
  'group-alarm': {
    label: '5xx alarm on the new group alone',
    inputs: { alarms: 'web-green-5xx', 'canary-analysis': 'false' }
  },
  'lb-alarm': {
    label: '5xx alarm on the whole load balancer alone',
    inputs: { alarms: 'web-5xx', 'canary-analysis': 'false' }
  }
}

export interface BlastRun {
  watcher: Watcher
  result: string
  /** First failed answer after the shift (ms since epoch). */
  firstBadAt?: number
  /** Weights back on the stable fleet (the ModifyListener that did it arrived), if they were. */
  restoredAt?: number
  /** Requests sent after the shift that failed. */
  failed: number
  /** Requests that failed before the shift (load or machine trouble, not the release). */
  failedBefore: number
  /** The bad version was still serving when the run ended: how long it had served. */
  exposedMs: number
  /** Measured request rate over the run (requests per second). */
  rate: number
  why: string
}

const BAD_DEPLOY = 'echo v2 > version && echo errors > behaviour && ./restart'

async function once(watcher: Watcher, o: BlastOptions): Promise<BlastRun> {
  const sb = await startSandbox({
    fleetSize: 3,
    healthIntervalMs: 300,
    metrics: { mode: 'progressive', flushMs: o.flushMs, delayMs: o.delayMs },
    // The alarms a careful team would set: 5xx share over one period of published data.
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
        ...WATCHERS[watcher].inputs
      },
      hardTimeoutMs: 120_000
    })
    await new Promise((r) => setTimeout(r, 500))
    await load.stop()
    const green = sb.greenArn
    const changes = sb.world.weightChanges.filter((c) => c.routeArn === sb.listenerArn)
    const shifted = changes.find((c) => (c.weights[green] ?? 0) > 0)
    const restored = shifted ? changes.find((c) => c.at > shifted.at && (c.weights[green] ?? 0) === 0) : undefined
    const shiftAt = shifted?.at ?? Infinity
    const after = load.samples.filter((s) => !s.ok && s.at >= shiftAt)
    const firstBad = after.reduce<number | undefined>(
      (m, s) => (m === undefined || s.doneAt < m ? s.doneAt : m),
      undefined
    )
    const seconds = (load.stoppedAt - load.startedAt) / 1000
    const error = /::error::(.*)/.exec(run.stdout)?.[1] ?? ''
    return {
      watcher,
      result: run.outputs.result ?? `exit ${run.exitCode}`,
      firstBadAt: firstBad,
      restoredAt: restored?.at,
      failed: after.length,
      failedBefore: load.samples.filter((s) => !s.ok && s.at < shiftAt).length,
      exposedMs: shifted ? (restored?.at ?? load.stoppedAt) - shifted.at : 0,
      rate: load.samples.length / seconds,
      why: error.replace(/%25/g, '%').slice(0, 170)
    }
  } finally {
    await load.stop().catch(() => undefined)
    await sb.stop()
  }
}

/** `runs` runs per watcher, each on a fresh sandbox, one after the other. */
export async function blastRadius(o: BlastOptions = BLAST_DEFAULTS): Promise<BlastRun[]> {
  const runs: BlastRun[] = []
  for (const watcher of Object.keys(WATCHERS) as Watcher[]) {
    for (let i = 0; i < o.runs; i++) runs.push(await once(watcher, o))
  }
  return runs
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

export function blastTable(runs: BlastRun[], o: BlastOptions): string {
  const share = o.weight / 100
  const goalS = (o.flushMs + o.delayMs) / 1000
  const lines = [
    `### Blast radius: a version answering 500 to every request (healthy), at ${o.weight}% of ${o.rps} requests/s`,
    '',
    `Metrics reported every ${o.flushMs / 1000} s and published ${o.delayMs / 1000} s later (the sandbox's compressed time; AWS: every minute, a few minutes later), step-wait ${o.stepWait}, metrics-delay ${Math.ceil((o.delayMs + o.flushMs) / 1000)}s, alarms: 5xx share ≥ 20% over ${o.flushMs / 1000} s of published data. ${o.runs} run${o.runs > 1 ? 's' : ''} per watcher, each on a fresh sandbox; the median, then every run.`,
    '',
    '| watcher | result | failed requests | first bad answer → restore | floor (weight × rate × delay) | failed / floor | goal: restore ≤ period + delay, failed ≤ 2 × floor |',
    '|---|---|---:|---:|---:|---:|---|'
  ]
  for (const watcher of Object.keys(WATCHERS) as Watcher[]) {
    const mine = runs.filter((r) => r.watcher === watcher)
    if (mine.length === 0) continue
    const floors = mine.map((r) => share * r.rate * (o.delayMs / 1000))
    const times = mine.map((r) =>
      r.firstBadAt !== undefined && r.restoredAt !== undefined ? (r.restoredAt - r.firstBadAt) / 1000 : NaN
    )
    const restoredAll = times.every(Number.isFinite)
    const failed = median(mine.map((r) => r.failed))
    const floor = median(floors)
    const ratio = median(mine.map((r, i) => r.failed / floors[i]))
    const time = median(times)
    const each = (xs: Array<number | string>) => xs.join(', ')
    const goal =
      watcher !== 'judge'
        ? 'for comparison'
        : `${restoredAll && time <= goalS ? 'met' : 'missed'} (${Number.isFinite(time) ? time.toFixed(2) : 'n/a'} s vs ${goalS.toFixed(1)} s), ${ratio <= 2 ? 'met' : 'missed'} (${ratio.toFixed(2)} ≤ 2)`
    lines.push(
      `| ${WATCHERS[watcher].label} | ${each([...new Set(mine.map((r) => r.result))])} | ${failed} (${each(mine.map((r) => r.failed))}) | ${
        restoredAll
          ? `${time.toFixed(2)} s (${each(times.map((t) => t.toFixed(2)))})`
          : `not restored: the bad version kept ${o.weight}% for the whole step (${each(mine.map((r) => `${(r.exposedMs / 1000).toFixed(1)} s`))})`
      } | ${floor.toFixed(1)} | ${ratio.toFixed(2)} (${each(mine.map((r, i) => (r.failed / floors[i]).toFixed(2)))}) | ${goal} |`
    )
  }
  const before = runs.reduce((n, r) => n + r.failedBefore, 0)
  lines.push('')
  if (before > 0)
    lines.push(
      `Requests that failed before any shift (load or machine, not the release; not counted above): ${before}.`,
      ''
    )
  for (const watcher of Object.keys(WATCHERS) as Watcher[]) {
    const r = runs.find((x) => x.watcher === watcher)
    if (r) lines.push(`- ${WATCHERS[watcher].label}: ${r.why || `no error (result ${r.result})`}`)
  }
  return lines.join('\n')
}
