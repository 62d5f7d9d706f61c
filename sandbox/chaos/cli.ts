// `npm run chaos [-- --seed N] [--runs N] [--lanes N] [--verbose]`: the chaos soak. Runs `runs`
// seeded episodes (seeds N, N+1, ...) of deploy, promote, rollback and status on the sandbox with
// the bundled action (dist/), each with faults drawn from its seed, and checks the invariants
// after every one. Prints one line per violation with the seed that replays it, the fault mix,
// and ends with `N runs, M invariant violations`. Exits 1 when any invariant was violated.

import { fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { REPO_ROOT } from '../run-action.js'
import type { FaultKind } from './episode.js'
import type { EpisodeReport } from './episode-report.js'
import type { FromLane, ToLane } from './lane-worker.js'

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

  let stopping = false
  process.on('SIGINT', () => {
    if (stopping) process.exit(130)
    stopping = true
    process.stderr.write('\nSIGINT: finishing the episodes in progress, then stopping (again to quit now)\n')
  })

  const reports: EpisodeReport[] = []
  const errors: Array<{ seed: number; message: string }> = []
  let next = 0
  const lane = (index: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = fork(fileURLToPath(new URL('./lane-worker.ts', import.meta.url)), [], {
        env: { ...process.env, CHAOS_LANE: String(index) }
      })
      const dispatch = () => {
        if (stopping || next >= runs) {
          worker.send({ type: 'stop' } satisfies ToLane)
          return
        }
        worker.send({ type: 'run', seed: seed + next++, verbose } satisfies ToLane)
      }
      worker.on('message', (message: FromLane) => {
        if (message.type === 'done') {
          reports.push(message.report)
          print(message.report, reports.length + errors.length, runs, verbose)
        } else if (message.type === 'error') {
          errors.push({ seed: message.seed, message: message.message })
          process.stdout.write(
            `ERROR seed ${message.seed}: the soak itself failed, not the action (${message.message.split('\n')[0]}); the lane starts a fresh sandbox\n`
          )
        }
        dispatch()
      })
      worker.on('error', reject)
      worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lane ${index} exited with ${code}`))))
    })
  await Promise.all(Array.from({ length: laneCount }, (_, i) => lane(i)))

  const violations = reports.flatMap((r) => r.violations.map((v) => ({ seed: r.seed, ...v })))
  printMix(reports)
  if (violations.length > 0) {
    process.stdout.write('\nviolations:\n')
    for (const v of violations.sort((a, b) => a.seed - b.seed))
      process.stdout.write(violationLine(v.seed, v.invariant, v.detail) + '\n')
  }
  if (errors.length > 0)
    process.stdout.write(
      `\n${errors.length} episodes could not be run (seeds ${errors.map((e) => e.seed).join(', ')})\n`
    )
  const durations = reports.map((r) => r.durationMs)
  const stalls = reports.map((r) => r.stallMs)
  process.stdout.write(
    `\nwall time ${formatMs(Date.now() - began)} on ${laneCount} lane${laneCount > 1 ? 's' : ''}; episodes took ${formatMs(avg(durations))} on average, ${formatMs(Math.max(0, ...durations))} at most; the lanes' event loops stalled ${Math.max(0, ...stalls)} ms at most\n`
  )
  process.stdout.write(`${reports.length} runs, ${violations.length} invariant violations\n`)
  return violations.length > 0 || errors.length > 0 ? 1 : 0
}

function violationLine(seed: number, invariant: string, detail: string): string {
  return `VIOLATION seed ${seed} ${invariant}: ${detail} (replay: npm run chaos -- --seed ${seed} --runs 1 --verbose)`
}

function print(report: EpisodeReport, done: number, total: number, verbose: boolean): void {
  const verdict = report.violations.length === 0 ? 'ok  ' : 'FAIL'
  const lines = [
    `[${String(done).padStart(String(total).length)}/${total}] seed ${String(report.seed).padEnd(6)} ${verdict} ${formatMs(report.durationMs).padStart(6)}  ${report.description} | ${report.results.join(', ')}`
  ]
  for (const v of report.violations) lines.push(`  ${violationLine(report.seed, v.invariant, v.detail)}`)
  if (report.stallMs > 1000)
    lines.push(
      `    (the lane's event loop stalled up to ${report.stallMs} ms in this episode: the machine was overloaded)`
    )
  lines.push(...report.timeline.map((l) => `    ${l}`))
  // The logs come with every episode that broke an invariant (and with all of them under --verbose).
  if (verbose || report.violations.length > 0)
    for (const log of report.logs)
      lines.push(
        `    ── ${log.label} ──`,
        ...log.text
          .trimEnd()
          .split('\n')
          .map((l) => `    ${l}`)
      )
  process.stdout.write(lines.join('\n') + '\n')
}

function printMix(reports: EpisodeReport[]): void {
  const drawn = new Map<FaultKind, number>()
  const fired = new Map<FaultKind, number>()
  for (const r of reports) {
    for (const k of r.drawn) drawn.set(k, (drawn.get(k) ?? 0) + 1)
    for (const k of r.fired) fired.set(k, (fired.get(k) ?? 0) + 1)
  }
  const count = <T extends string>(values: T[]) => {
    const m = new Map<T, number>()
    for (const v of values) m.set(v, (m.get(v) ?? 0) + 1)
    return [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')
  }
  const lines = ['', 'fault mix (drawn / fired at their moment):']
  for (const [kind, n] of [...drawn].sort((a, b) => b[1] - a[1]))
    lines.push(`  ${kind.padEnd(18)} ${String(n).padStart(4)} / ${fired.get(kind) ?? 0}`)
  lines.push(`  episodes without a fault: ${reports.filter((r) => r.drawn.length === 0).length}`)
  lines.push(`operations: ${count(reports.map((r) => r.operation))}`)
  lines.push(`start states: ${count(reports.map((r) => r.start))}`)
  lines.push(
    `results of the workflow's run: ${count(reports.map((r) => r.results.find((x) => x.startsWith('primary'))?.replace('primary ', '') ?? 'none'))}`
  )
  const byInvariant = count(reports.flatMap((r) => r.violations.map((v) => v.invariant)))
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
