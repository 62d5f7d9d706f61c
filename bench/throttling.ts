// The throttling table of `npm run bench`: the same canary deploy (10% → 50% → 100%, each step
// held 2 s, a 5xx alarm watched, 3 instances) with 0, 10, 30 and 50% of the API calls answered
// with the service's throttling error, under each retry mode the SDK offers. The mode is chosen
// through the SDK's own AWS_RETRY_MODE and AWS_MAX_ATTEMPTS (which the action leaves to the SDK
// when they are set); the row without them is the action's own choice. Every request is counted
// from the sandbox's log, with the SDK's attempt number (its amz-sdk-request header).

import path from 'node:path'
import { MAX_ATTEMPTS, RETRY_MODE } from '../src/aws/client-config.js'
import { runAction } from '../sandbox/run-action.js'
import { startSandbox, type Sandbox } from '../sandbox/sandbox.js'
import { quantile } from './measure.js'

export interface ThrottleOptions {
  shares: number[]
  runs: number
  latencyMs: number
  /** Other builds' dist/ folders: each gets a row with the action's retry mode, run alternately with ours. */
  compareDists?: string[]
}

export const THROTTLE_DEFAULTS: ThrottleOptions = { shares: [0, 0.1, 0.3, 0.5], runs: 1, latencyMs: 20 }

interface RetryVariant {
  label: string
  env: Record<string, string>
  /** The action's own choice (src/aws/client-config.ts, which dist/ is built from). */
  ours: boolean
  /** Another build's entry point; this build's dist/ when absent. */
  entry?: string
}

const variant = (mode: 'adaptive' | 'standard', attempts: number): RetryVariant => ({
  label: `${mode}, ${attempts} attempts`,
  env: { AWS_RETRY_MODE: mode, AWS_MAX_ATTEMPTS: String(attempts) },
  ours: mode === RETRY_MODE && attempts === MAX_ATTEMPTS
})

const VARIANTS: RetryVariant[] = [variant('adaptive', 8), variant('standard', 8)]

export interface ThrottleRun {
  variant: string
  ours: boolean
  share: number
  wallMs: number
  result: string
  exitCode: number | null
  requests: number
  throttled: number
  retries: number
  mostAttempts: number
  /** Most requests that arrived within any one second. */
  peakPerSecond: number
  /** The end of the action's log, when it did not succeed. */
  logTail?: string
}

const HOLD = '2s'
let deploys = 1

/** Runs the canary once per share, variant and repetition, alternating the variants. */
export async function throttling(opts: ThrottleOptions): Promise<ThrottleRun[]> {
  const sb = await startSandbox({ fleetSize: 3 })
  const runs: ThrottleRun[] = []
  try {
    sb.world.apiFaults.latencyMs = opts.latencyMs
    // Another build runs with the action's own retry choice, so that its row differs from ours in
    // the code only.
    const others = (opts.compareDists ?? []).map((dir): RetryVariant => ({
      ...variant(RETRY_MODE, MAX_ATTEMPTS),
      label: `${RETRY_MODE}, ${MAX_ATTEMPTS} attempts, build ${dir}`,
      ours: false,
      entry: path.join(dir, 'index.js')
    }))
    for (let r = 0; r < opts.runs; r++) {
      for (const share of opts.shares) {
        for (const v of [...VARIANTS, ...others]) runs.push(await canary(sb, v, share))
      }
    }
  } finally {
    await sb.stop()
  }
  return runs
}

async function canary(sb: Sandbox, variant: RetryVariant, share: number): Promise<ThrottleRun> {
  const idle = idleColour(sb)
  const before = sb.world.calls.length
  sb.world.apiFaults.throttleShare = share
  const result = await runAction({
    entry: variant.entry,
    env: { ...sb.env, ...variant.env },
    inputs: {
      'listener-arns': sb.listenerArn,
      strategy: 'canary',
      'canary-steps': '10,50,100',
      'step-wait': HOLD,
      'health-timeout': '1m',
      'command-timeout': '1m',
      alarms: `web-${idle}-5xx`,
      // No load runs here, so the canary judge would hold every step for metrics-delay waiting
      // for requests that never come: this table times retries, the blast-radius table the judge.
      'canary-analysis': 'false',
      commands: 'echo v2 > version\n./restart',
      version: `v${++deploys}`,
      timeout: '5m'
    },
    hardTimeoutMs: 5 * 60_000
  })
  sb.world.apiFaults.throttleShare = 0
  const calls = sb.world.calls.slice(before)
  const throttled = calls.filter((c) => /Throttl/.test(c.errorCode ?? '')).length
  const attempts = calls.map((c) => c.attempt ?? 1)
  return {
    variant: variant.label,
    ours: variant.ours,
    share,
    wallMs: result.durationMs,
    result: result.outputs.result ?? 'no result',
    exitCode: result.exitCode,
    requests: calls.length,
    throttled,
    retries: attempts.filter((a) => a > 1).length,
    mostAttempts: Math.max(0, ...attempts),
    peakPerSecond: peakInWindow(
      calls.map((c) => c.at),
      1000
    ),
    ...(result.outputs.result === 'succeeded' ? {} : { logTail: (result.stdout + result.stderr).slice(-1500) })
  }
}

function idleColour(sb: Sandbox): 'blue' | 'green' {
  const forward = sb.world.listeners.get(sb.listenerArn)?.defaultActions.find((a) => a.Type === 'forward')
  const greenWeight = forward?.ForwardConfig?.TargetGroups?.find((g) => g.TargetGroupArn === sb.greenArn)?.Weight ?? 0
  return greenWeight === 0 ? 'green' : 'blue'
}

function peakInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b)
  let peak = 0
  let lo = 0
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi] - sorted[lo] >= windowMs) lo++
    peak = Math.max(peak, hi - lo + 1)
  }
  return peak
}

const s = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'n/a')

/** The table, one row per share and variant (medians over the runs), and the verdict on the goal. */
export function throttleTable(runs: ThrottleRun[], opts: ThrottleOptions): string {
  const variants = [...new Set(runs.map((r) => r.variant))]
  const median = (values: number[]) =>
    quantile(
      [...values].sort((a, b) => a - b),
      0.5
    )
  const group = (variant: string, share: number) => runs.filter((r) => r.variant === variant && r.share === share)
  const lines = [
    `### Throttling: a canary (10% → 50% → 100%, held ${HOLD} each, 3 instances) with a share of API calls throttled`,
    '',
    `Median of ${opts.runs} run(s) each; API latency ${opts.latencyMs} ms. "× unthrottled" divides by the same mode's time with nothing throttled.`,
    '',
    '| throttled | retry mode | result | wall time | × unthrottled | requests | throttled | retries | most attempts at one call | busiest second |',
    '|---|---|---|---|---|---|---|---|---|---|'
  ]
  for (const share of opts.shares) {
    for (const variant of variants) {
      const rows = group(variant, share)
      if (rows.length === 0) continue
      const wall = median(rows.map((r) => r.wallMs))
      const base = median(group(variant, 0).map((r) => r.wallMs))
      const results = [...new Set(rows.map((r) => `${r.result} (exit ${r.exitCode})`))].join(', ')
      const label = rows[0].ours ? `${variant} (the action's)` : variant
      lines.push(
        `| ${Math.round(share * 100)}% | ${label} | ${results} | ${s(wall)} | ${share === 0 || !base ? '' : (wall / base).toFixed(2)} | ` +
          `${median(rows.map((r) => r.requests))} | ${median(rows.map((r) => r.throttled))} | ${median(rows.map((r) => r.retries))} | ` +
          `${Math.max(...rows.map((r) => r.mostAttempts))} | ${median(rows.map((r) => r.peakPerSecond))} |`
      )
    }
  }
  const failures = runs.filter((r) => r.logTail)
  if (failures.length > 0) {
    lines.push(
      '',
      `${failures.length} run(s) did not succeed; the first one's log ends:`,
      '```',
      failures[0].logTail ?? '',
      '```'
    )
  }
  const ours = runs.filter((r) => r.ours)
  const at = (share: number) => median(ours.filter((r) => r.share === share).map((r) => r.wallMs))
  if (ours.some((r) => r.share === 0.3) && ours.some((r) => r.share === 0)) {
    const factor = at(0.3) / at(0)
    const allSucceeded = ours.every((r) => r.result === 'succeeded')
    lines.push(
      '',
      `- [${factor <= 1.5 && allSucceeded ? 'x' : ' '}] the action's retry mode at 30% throttling: ${s(at(0.3))}, ${factor.toFixed(2)}× its unthrottled ${s(at(0))} (goal ≤ 1.5×)` +
        (allSucceeded ? '' : '; not every run succeeded')
    )
  }
  return lines.join('\n')
}
