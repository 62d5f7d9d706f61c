// `npm run chaos [-- --seed N] [--runs N] [--lanes N] [--verbose]`: the chaos soak. Runs `runs`
// seeded episodes (seeds N, N+1, ...) of deploy, promote, rollback and status on the sandbox with
// the bundled action (dist/), each with faults drawn from its seed, and checks the invariants
// after every one. Prints one line per violation with the seed that replays it, the fault mix,
// and ends with `N runs, M invariant violations`. Exits 1 when any invariant was violated.

import { existsSync } from 'node:fs'
import path from 'node:path'
import { REPO_ROOT } from '../run-action.js'
import { describeEpisode, drawEpisode, type FaultKind } from './episode.js'
import { startLane, stopLane, type Lane } from './lane.js'
import { type EpisodeOutcome, runEpisode } from './run-episode.js'

interface Args {
  seed: number
  runs: number
  lanes: number
  verbose: boolean
}

function usage(): string {
  return `Usage: npm run chaos -- [--seed N] [--runs N] [--lanes N] [--verbose]

Runs seeded episodes of deploy, promote, rollback and status with the bundled action (dist/)
against the local sandbox, with faults drawn at random from each episode's seed: a second
concurrent run, a rollback dispatched mid-hold, a console weight edit, an instance joining the
new fleet, SIGINT/SIGTERM/SIGKILL then the post step, throttling, failing or hanging commands,
an unhealthy or erroring version, a firing alarm, an alarm without data, an impossible setting.
After each episode it checks the invariants (sandbox/chaos/invariants.ts).

  --seed N     first episode's seed (default 1); episode i uses seed N+i
  --runs N     number of episodes (default 200)
  --lanes N    sandboxes running episodes side by side (default 3)
  --verbose    print every episode's run logs (always printed for episodes with violations)

Replay one episode: npm run chaos -- --seed 17 --runs 1 --verbose
`
}

function parseArgs(argv: string[]): Args | 'help' {
  const args: Args = { seed: 1, runs: 200, lanes: 3, verbose: false }
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? argv[i].split(/=(.*)/s) : [argv[i], undefined]
    const int = (min: number): number => {
      const raw = inline ?? argv[++i]
      const n = Number(raw)
      if (!Number.isInteger(n) || n < min) throw new Error(`${flag}: expected an integer from ${min}, got ${raw}`)
      return n
    }
    if (flag === '-h' || flag === '--help') return 'help'
    else if (flag === '--seed') args.seed = int(0)
    else if (flag === '--runs') args.runs = int(1)
    else if (flag === '--lanes') args.lanes = int(1)
    else if (flag === '--verbose') args.verbose = true
    else throw new Error(`unknown argument ${argv[i]} (see --help)`)
  }
  return args
}

async function main(): Promise<number> {
  let args: Args | 'help'
  try {
    args = parseArgs(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`)
    return 2
  }
  if (args === 'help') {
    process.stdout.write(usage())
    return 0
  }
  for (const entry of ['index.js', 'post/index.js']) {
    if (!existsSync(path.join(REPO_ROOT, 'dist', entry))) {
      process.stderr.write(`dist/${entry} is missing: build the action first (npm run package)\n`)
      return 2
    }
  }
  const { seed, runs, verbose } = args
  const laneCount = Math.min(args.lanes, runs)
  const began = Date.now()
  process.stdout.write(`chaos: ${runs} episodes from seed ${seed} on ${laneCount} lane${laneCount > 1 ? 's' : ''}\n`)

  const lanes: Lane[] = []
  let stopping = false
  process.on('SIGINT', () => {
    if (stopping) process.exit(130)
    stopping = true
    process.stderr.write('\nSIGINT: finishing the episodes in progress, then stopping (again to quit now)\n')
  })

  const outcomes: EpisodeOutcome[] = []
  const errors: Array<{ seed: number; message: string }> = []
  let next = 0
  let done = 0
  const worker = async (index: number): Promise<void> => {
    let lane = await startLane(index)
    lanes.push(lane)
    while (!stopping && next < runs) {
      const episodeSeed = seed + next++
      const episode = drawEpisode(episodeSeed)
      try {
        const outcome = await runEpisode(lane, episode)
        outcomes.push(outcome)
        done++
        report(outcome, done, runs, verbose)
      } catch (e) {
        done++
        errors.push({ seed: episodeSeed, message: (e as Error).message })
        process.stdout.write(`ERROR seed ${episodeSeed}: the soak itself failed (${(e as Error).message}); starting a fresh sandbox for this lane\n`)
        await stopLane(lane).catch(() => undefined)
        lanes.splice(lanes.indexOf(lane), 1)
        lane = await startLane(index)
        lanes.push(lane)
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: laneCount }, (_, i) => worker(i)))
  } finally {
    await Promise.all(lanes.map((l) => stopLane(l).catch(() => undefined)))
  }

  const violations = outcomes.flatMap((o) => o.violations.map((v) => ({ seed: o.episode.seed, ...v })))
  printMix(outcomes)
  if (violations.length > 0) {
    process.stdout.write('\nviolations:\n')
    for (const v of violations.sort((a, b) => a.seed - b.seed)) process.stdout.write(violationLine(v.seed, v.invariant, v.detail) + '\n')
  }
  if (errors.length > 0) process.stdout.write(`\n${errors.length} episodes could not be run (seeds ${errors.map((e) => e.seed).join(', ')})\n`)
  const durations = outcomes.map((o) => o.durationMs)
  process.stdout.write(
    `\nwall time ${formatMs(Date.now() - began)} on ${laneCount} lane${laneCount > 1 ? 's' : ''}; episodes took ${formatMs(avg(durations))} on average, ${formatMs(Math.max(0, ...durations))} at most\n`
  )
  process.stdout.write(`${outcomes.length} runs, ${violations.length} invariant violations\n`)
  return violations.length > 0 || errors.length > 0 ? 1 : 0
}

function violationLine(seed: number, invariant: string, detail: string): string {
  return `VIOLATION seed ${seed} ${invariant}: ${detail} (replay: npm run chaos -- --seed ${seed} --runs 1 --verbose)`
}

function report(outcome: EpisodeOutcome, done: number, total: number, verbose: boolean): void {
  const { episode, violations } = outcome
  const verdict = violations.length === 0 ? 'ok  ' : `FAIL`
  const lines = [
    `[${String(done).padStart(String(total).length)}/${total}] seed ${String(episode.seed).padEnd(6)} ${verdict} ${formatMs(outcome.durationMs).padStart(6)}  ${describeEpisode(episode)} | ${outcome.results.join(', ')}`
  ]
  for (const v of violations) lines.push(`  ${violationLine(episode.seed, v.invariant, v.detail)}`)
  if (verbose || violations.length > 0) {
    lines.push(...timeline(outcome).map((l) => `    ${l}`))
    if (verbose) for (const log of outcome.logs) lines.push(`    ── ${log.label} ──`, ...log.text.trimEnd().split('\n').map((l) => `    ${l}`))
  }
  process.stdout.write(lines.join('\n') + '\n')
}

/** What happened when, for reading a violation: weight changes with who made them, and the runs. */
function timeline(outcome: EpisodeOutcome): string[] {
  const o = outcome.observed
  const rel = (at: number) => `+${((at - o.startedAt) / 1000).toFixed(2)}s`
  const who = (caller?: string) => (caller === o.consoleCaller ? 'console' : (o.runs.find((r) => r.caller === caller)?.label ?? caller ?? '?'))
  const name = (arn: string) => (arn === o.arns.blue ? 'blue' : 'green')
  const events: Array<[number, string]> = []
  for (const r of o.runs) {
    events.push([r.startedAt, `${r.label} (${r.operation}) starts`])
    events.push([r.endedAt, `${r.label} ends: ${r.outputs.result || '-'} exit ${r.exitCode ?? r.signal}`])
  }
  for (const c of o.weightChanges) {
    const route = c.routeArn === o.arns.listener ? 'listener' : 'rule'
    events.push([c.at, `${who(c.caller)} sets ${route} ${Object.entries(c.weights).map(([arn, w]) => `${name(arn)} ${w}`).join('/')}`])
  }
  for (const c of o.calls) {
    if (c.status === 200 && /^(SendCommand|AddTags|RemoveTags|PutParameter|DeleteParameter)$/.test(c.operation)) {
      events.push([c.answeredAt ?? c.at, `${who(c.caller)} ${c.operation} ${summarizeParams(c.params)}`])
    }
  }
  return events.sort((a, b) => a[0] - b[0]).map(([at, text]) => `${rel(at)} ${text}`)
}

function summarizeParams(params: unknown): string {
  const p = (params ?? {}) as Record<string, unknown>
  if (p.Tags) return JSON.stringify(p.Tags).slice(0, 160)
  if (p.TagKeys) return JSON.stringify(p.TagKeys)
  if (p.Name) return String(p.Name)
  if (p.InstanceIds) return JSON.stringify(p.InstanceIds)
  return ''
}

function printMix(outcomes: EpisodeOutcome[]): void {
  const drawn = new Map<FaultKind, number>()
  const fired = new Map<FaultKind, number>()
  for (const o of outcomes) {
    for (const f of o.episode.faults) drawn.set(f.kind, (drawn.get(f.kind) ?? 0) + 1)
    for (const k of o.fired) fired.set(k, (fired.get(k) ?? 0) + 1)
  }
  const count = <T extends string>(values: T[]) => {
    const m = new Map<T, number>()
    for (const v of values) m.set(v, (m.get(v) ?? 0) + 1)
    return [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')
  }
  const lines = ['', 'fault mix (drawn / fired at their moment):']
  for (const [kind, n] of [...drawn].sort((a, b) => b[1] - a[1])) lines.push(`  ${kind.padEnd(18)} ${String(n).padStart(4)} / ${fired.get(kind) ?? 0}`)
  lines.push(`  episodes without a fault: ${outcomes.filter((o) => o.episode.faults.length === 0).length}`)
  lines.push(`operations: ${count(outcomes.map((o) => o.episode.primary.operation))}`)
  lines.push(`start states: ${count(outcomes.map((o) => o.episode.start.kind))}`)
  lines.push(`results of the workflow's run: ${count(outcomes.map((o) => o.results.find((r) => r.startsWith('primary'))?.replace('primary ', '') ?? 'none'))}`)
  const byInvariant = count(outcomes.flatMap((o) => o.violations.map((v) => v.invariant)))
  lines.push(`violations by invariant: ${byInvariant || 'none'}`)
  process.stdout.write(lines.join('\n') + '\n')
}

function avg(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length
}

function formatMs(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  return `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`chaos: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    process.exit(1)
  }
)
