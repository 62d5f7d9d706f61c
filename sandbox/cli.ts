// `npm run sandbox [-- --scenario NAME]`: starts the local sandbox (two fleets behind a real
// weighted proxy, the emulated AWS endpoint), sends steady traffic through it, runs the bundled
// action (dist/) against it exactly as the Actions runner would, then prints the action's log, its
// job summary and a traffic report. Exits non-zero when the action's result is not what the
// scenario expects, or when a request failed in a scenario that must not lose any.

import { existsSync } from 'node:fs'
import path from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { formatTrafficReport, startLoad, trafficReport, type LoadGenerator } from './load/load-generator.js'
import { REPO_ROOT, runAction, runPost, type RunActionResult } from './run-action.js'
import { startSandbox, type Sandbox, type SandboxOptions } from './sandbox.js'
import { addParameter } from './aws/fixtures.js'
import { renderMarkdownForTerminal } from './terminal-markdown.js'
import { forwardWeights, type AppBehaviour } from './world.js'

const NEW_VERSION = 'v2'
const deployCommands = (behaviour: AppBehaviour): string =>
  [`echo ${NEW_VERSION} > version`, `echo ${behaviour} > behaviour`, './restart'].join('\n')

// The migrate scenario's two releases of one schema change, as Django would split them: v2 reads
// a new column (schema 2 adds it, nullable, so v1 keeps working), and once v1 can never serve
// again schema 3 drops the old column v1 still reads.
const MIGRATE = {
  deploy: [`echo ${NEW_VERSION} > version`, 'echo 2-3 > schemas', 'echo ok > behaviour', './restart'].join('\n'),
  expand: [
    'schema=$(cat "$SANDBOX_DB")',
    'echo "expand: schema $schema -> 2 (adds the nullable column v2 writes; v1 ignores it)"',
    'echo 2 > "$SANDBOX_DB"'
  ].join('\n'),
  contract: [
    'schema=$(cat "$SANDBOX_DB")',
    'echo "contract: schema $schema -> 3 (drops the old column only v1 reads)"',
    'echo 3 > "$SANDBOX_DB"'
  ].join('\n')
}

interface Expectation {
  /** The action's `result` output of the (last) run. */
  result: string
  exitZero: boolean
  /** No request may fail. */
  lossless: boolean
  /** Which fleet has all the traffic at the end. */
  finalLive: 'blue' | 'green'
  /** The action's log must say this (e.g. the metric that failed the canary). */
  says?: RegExp
  /** The first run's result, when later runs follow it. */
  first?: string
}

interface Scenario {
  name: string
  description: string
  inputs: Record<string, string>
  expect: Expectation
  setup?: (sb: Sandbox) => void
  /** Cancel the main step when this becomes true, then run the post step. */
  cancelWhen?: (sb: Sandbox) => boolean
  /** Signals of the cancellation (default the runner's SIGINT, SIGTERM, SIGKILL). */
  cancelSignals?: NodeJS.Signals[]
  /** A second run after the first (e.g. promote). */
  then?: Record<string, string>
  /** More runs after that, each expecting the result named. */
  andThen?: Array<{ inputs: Record<string, string>; result: string; before?: (sb: Sandbox) => Promise<void> }>
  /** Options for the sandbox (e.g. apps that read the shared database). */
  sandbox?: Partial<SandboxOptions>
  /** Looks at the sandbox after the first run; returns lines to print and problems found. */
  afterFirst?: (sb: Sandbox) => Promise<{ lines: string[]; problems: string[] }>
}

// The sandbox publishes the load balancer's metrics in compressed time (a report every second,
// published 2 s later: sandbox/metrics/alb-metrics.ts), so the scenarios tell the action so with
// metrics-delay, as a user would for their own account's delay. At 50 requests a second, a 10%
// step sees about 20 requests in 4 s: analysis-min-requests is lowered to match.
const base = (over: Record<string, string> = {}): Record<string, string> => ({
  strategy: 'canary',
  'canary-steps': '10,50,100',
  'step-wait': '4s',
  'health-timeout': '30s',
  'command-timeout': '30s',
  alarms: 'web-green-5xx',
  commands: deployCommands('ok'),
  version: NEW_VERSION,
  timeout: '5m',
  'metrics-delay': '3s',
  'analysis-min-requests': '20',
  ...over
})

const SCENARIOS: Scenario[] = [
  {
    name: 'canary',
    description: 'canary 10% -> 50% -> 100% of a good version; no request may fail',
    inputs: base(),
    expect: { result: 'succeeded', exitZero: true, lossless: true, finalLive: 'green' }
  },
  {
    name: 'all-at-once',
    description: 'blue/green flip in one step; no request may fail',
    inputs: base({ strategy: 'all-at-once' }),
    expect: { result: 'succeeded', exitZero: true, lossless: true, finalLive: 'green' }
  },
  {
    name: 'failing-command',
    description: 'the deploy command exits 1 on one green instance: fails, no traffic moves',
    inputs: base(),
    setup: (sb) => sb.world.faults.failCommandOn.add(sb.greenIds[1]),
    expect: { result: 'failed', exitZero: false, lossless: true, finalLive: 'blue' }
  },
  {
    name: 'hung-command',
    description: 'the deploy command hangs on one green instance: cancelled at command-timeout, no traffic moves',
    inputs: base({ 'command-timeout': '5s' }),
    setup: (sb) => sb.world.faults.hangCommandOn.add(sb.greenIds[0]),
    expect: { result: 'failed', exitZero: false, lossless: true, finalLive: 'blue' }
  },
  {
    name: 'unhealthy-version',
    description: 'the new version fails its health checks: the deploy stops before any traffic moves',
    inputs: base({ commands: deployCommands('unhealthy'), 'health-timeout': '20s' }),
    expect: { result: 'failed', exitZero: false, lossless: true, finalLive: 'blue' }
  },
  {
    name: 'bad-version',
    description:
      'the new version answers one request in five with a 500 but stays healthy; no alarm is set: the canary judge rolls back on the 5xx rate',
    inputs: base({ commands: deployCommands('flaky'), alarms: '', 'step-wait': '6s' }),
    expect: { result: 'rolled-back', exitZero: false, lossless: false, finalLive: 'blue', says: /5xx rate/ }
  },
  {
    name: 'slow-version',
    description:
      'the new version answers correctly but 150 ms slower; no alarm is set: the canary judge rolls back on latency',
    inputs: base({ commands: deployCommands('slow'), alarms: '', 'step-wait': '6s' }),
    expect: { result: 'rolled-back', exitZero: false, lossless: true, finalLive: 'blue', says: /TargetResponseTime/ }
  },
  {
    name: 'alarm',
    description:
      'the new version answers every request 500; the judge is off: its 5xx alarm fires and the action rolls back',
    inputs: base({ commands: deployCommands('errors'), 'step-wait': '8s', 'canary-analysis': 'false' }),
    expect: { result: 'rolled-back', exitZero: false, lossless: false, finalLive: 'blue', says: /web-green-5xx/ }
  },
  {
    name: 'throttled',
    description: '30% of AWS API calls are throttled: the SDK retries, the canary succeeds',
    inputs: base(),
    setup: (sb) => (sb.world.apiFaults.throttleShare = 0.3),
    expect: { result: 'succeeded', exitZero: true, lossless: true, finalLive: 'green' }
  },
  {
    name: 'cancel',
    description: 'the run is cancelled (SIGINT) at the first canary step; the post step restores the weights',
    inputs: base({ 'step-wait': '20s' }),
    cancelWhen: (sb) => sb.world.weightChanges.length > 0,
    expect: { result: '', exitZero: false, lossless: true, finalLive: 'blue' }
  },
  {
    name: 'killed',
    description:
      'the main step is killed outright (SIGKILL) at the first canary step; the post step restores the weights',
    inputs: base({ 'step-wait': '20s' }),
    cancelWhen: (sb) => sb.world.weightChanges.length > 0,
    cancelSignals: ['SIGKILL'],
    expect: { result: '', exitZero: false, lossless: true, finalLive: 'blue' }
  },
  {
    name: 'migrate',
    description:
      'expand migration once before traffic, a preview through the proxy (X-Preview), promote with a contract; a later rollback is refused',
    sandbox: { schemas: '1-2' },
    inputs: base({
      'canary-steps': '0',
      'preview-header': 'X-Preview',
      commands: MIGRATE.deploy,
      'before-traffic-commands': MIGRATE.expand
    }),
    afterFirst: previewThroughTheProxy,
    then: {
      ...base({ commands: '', 'canary-steps': '50,100' }),
      operation: 'promote',
      'contract-commands': MIGRATE.contract
    },
    andThen: [{ inputs: { operation: 'rollback' }, result: 'failed' }],
    expect: { result: 'failed', exitZero: false, lossless: true, finalLive: 'green' }
  },
  {
    name: 'autoscaling',
    description:
      'Auto Scaling fleets: a cold idle group scaled up, deployed and flipped, the old fleet retired, then a rollback that brings it back; no request may fail',
    sandbox: { autoScaling: { green: 0, bootMs: 500, gracePeriodS: 20 } },
    setup: (sb) => addParameter(sb.world, '/bluegreen/fleet/web-blue/version', 'v1'),
    inputs: base({ 'canary-steps': '50,100', 'step-wait': '3s' }),
    andThen: [
      { inputs: { operation: 'retire' }, result: 'succeeded' },
      {
        inputs: { operation: 'rollback', 'health-timeout': '60s' },
        result: 'rolled-back',
        // The retired fleet's instances drain and stop before the rollback asks for them back.
        before: async (sb) => {
          const blue = sb.world.autoScalingGroups.get(sb.asgName('blue'))
          const deadline = Date.now() + 15_000
          while ((blue?.instances.size ?? 0) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
        }
      }
    ],
    expect: { first: 'succeeded', result: 'rolled-back', exitZero: true, lossless: true, finalLive: 'blue' }
  },
  {
    name: 'pause-promote',
    description: 'canary-steps 10,50 pauses at 50%; a second run with operation promote finishes it',
    inputs: base({ 'canary-steps': '10,50' }),
    then: { ...base(), operation: 'promote' },
    expect: { result: 'succeeded', exitZero: true, lossless: true, finalLive: 'green' }
  }
]

interface Args {
  scenario: string
  fleetSize: number
  rps: number
  healthIntervalMs: number
  quiet: boolean
}

function usage(): string {
  const names = SCENARIOS.map((s) => `  ${s.name.padEnd(18)} ${s.description}`).join('\n')
  return `Usage: npm run sandbox -- [--scenario NAME] [--fleet-size N] [--rps N] [--health-interval MS] [--quiet]

Runs the bundled action (dist/index.js) against the local sandbox: two fleets (web-blue live,
web-green idle) of real local instances behind a weighted reverse proxy with health checks,
the emulated AWS APIs, and steady traffic counting every failed request.

Scenarios:
${names}

Options:
  --fleet-size N        instances per fleet (default 3)
  --rps N               requests per second through the proxy (default 50)
  --health-interval MS  target health check interval (default 500)
  --quiet               do not stream the action's log while it runs (printed at the end)
`
}

function parseArgs(argv: string[]): Args | 'help' {
  const args: Args = { scenario: 'canary', fleetSize: 3, rps: 50, healthIntervalMs: 500, quiet: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const [flag, inlineValue] = a.includes('=') ? a.split(/=(.*)/s) : [a, undefined]
    const value = (): string => {
      const v = inlineValue ?? argv[++i]
      if (v === undefined) throw new Error(`${flag} needs a value`)
      return v
    }
    const num = (): number => {
      const v = value()
      const n = Number(v)
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: expected a positive number, got ${v}`)
      return n
    }
    switch (flag) {
      case '-h':
      case '--help':
        return 'help'
      case '--scenario':
        args.scenario = value()
        break
      case '--fleet-size':
        args.fleetSize = Math.floor(num())
        break
      case '--rps':
        args.rps = num()
        break
      case '--health-interval':
        args.healthIntervalMs = num()
        break
      case '--quiet':
        args.quiet = true
        break
      default:
        throw new Error(`unknown argument ${a} (see --help)`)
    }
  }
  if (!SCENARIOS.some((s) => s.name === args.scenario)) {
    throw new Error(`unknown scenario ${args.scenario}; one of: ${SCENARIOS.map((s) => s.name).join(', ')}`)
  }
  return args
}

function describePublication(sb: Sandbox): string {
  const p = sb.world.metrics.publication
  return p.mode === 'aws'
    ? `published ${p.delayMs / 1000}s after each minute closes (AWS timing)`
    : `reported every ${(p.flushMs ?? 1000) / 1000}s, published ${p.delayMs / 1000}s later into the open minute (sandbox simplification: AWS reports each minute, minutes late)`
}

function banner(text: string): void {
  process.stdout.write(`\n━━ ${text} ${'━'.repeat(Math.max(3, 76 - text.length))}\n`)
}

function printRun(label: string, run: RunActionResult, streamed: boolean): void {
  banner(
    `${label}: exit ${run.exitCode ?? run.signal}${run.cancelled ? ` (cancelled: ${run.signals.map((s) => `${s.signal} at ${(s.atMs / 1000).toFixed(1)}s`).join(', ')})` : ''}`
  )
  if (!streamed) process.stdout.write(run.stdout + (run.stderr ? `\n${run.stderr}` : ''))
  if (Object.keys(run.outputs).length > 0) {
    process.stdout.write('\noutputs:\n')
    for (const [k, v] of Object.entries(run.outputs)) process.stdout.write(`  ${k} = ${v}\n`)
  }
  if (run.summary.trim()) {
    banner(`${label}: job summary (${run.summaryPath})`)
    process.stdout.write(renderMarkdownForTerminal(run.summary))
  }
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
  const scenario = SCENARIOS.find((s) => s.name === (args as Args).scenario) as Scenario
  const entry = path.join(REPO_ROOT, 'dist', 'index.js')
  if (!existsSync(entry)) {
    process.stderr.write(`${entry} is missing: build the action first (npm run package)\n`)
    return 2
  }

  let sb: Sandbox | undefined
  let load: LoadGenerator | undefined
  let child: ChildProcess | undefined
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return
    interrupted = true
    process.stderr.write(`\n${signal}: stopping the sandbox\n`)
    if (child && child.exitCode === null) child.kill('SIGKILL')
    void (async () => {
      await load?.stop().catch(() => undefined)
      await sb?.stop().catch(() => undefined)
      process.exit(130)
    })()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  try {
    banner(`scenario ${scenario.name}: ${scenario.description}`)
    sb = await startSandbox({ fleetSize: args.fleetSize, healthIntervalMs: args.healthIntervalMs, ...scenario.sandbox })
    process.stdout.write(
      `sandbox up: proxy ${sb.proxyUrl}, AWS endpoint ${sb.endpointUrl}\n` +
        `  load balancer metrics: ${describePublication(sb)}\n` +
        `  listener ${sb.listenerArn}\n  web-blue  ${sb.blueArn} (${sb.blueIds.length} instances, live, v1)\n` +
        `  web-green ${sb.greenArn} (${sb.greenIds.length} instances, idle, v1)\n`
    )
    scenario.setup?.(sb)
    load = startLoad({ url: sb.proxyUrl, rps: args.rps })
    const sandbox = sb
    const common = {
      env: sb.env,
      echo: args.quiet ? undefined : process.stdout,
      onStart: (c: ChildProcess) => (child = c)
    }
    await new Promise((r) => setTimeout(r, 1000)) // some traffic before the deploy
    banner(`action: ${scenario.inputs.operation ?? 'deploy'} (${scenario.inputs.strategy})`)
    const runs: Array<[string, RunActionResult]> = []
    let last = await runAction({
      ...common,
      inputs: { 'listener-arns': sb.listenerArn, ...scenario.inputs },
      abortWhen: scenario.cancelWhen ? () => scenario.cancelWhen?.(sandbox) ?? false : undefined,
      cancelSignals: scenario.cancelSignals
    })
    runs.push(['main step', last])
    if (scenario.cancelWhen) {
      banner('post step (runner runs it after the cancelled main step)')
      last = await runPost(last.state, { 'listener-arns': sb.listenerArn, ...scenario.inputs }, common)
      runs.push(['post step', last])
    }
    const looked = scenario.afterFirst ? await scenario.afterFirst(sb) : { lines: [], problems: [] }
    if (looked.lines.length) {
      banner('between the runs')
      process.stdout.write(`${looked.lines.join('\n')}\n`)
    }
    if (scenario.then) {
      runs.push(['first run', runs.pop()?.[1] as RunActionResult])
      banner(`action: ${scenario.then.operation}`)
      await new Promise((r) => setTimeout(r, 1000))
      last = await runAction({ ...common, inputs: { 'listener-arns': sb.listenerArn, ...scenario.then } })
      runs.push([`second run (${scenario.then.operation})`, last])
    }
    for (const next of scenario.andThen ?? []) {
      await next.before?.(sb)
      banner(`action: ${next.inputs.operation}`)
      await new Promise((r) => setTimeout(r, 500))
      last = await runAction({ ...common, inputs: { 'listener-arns': sb.listenerArn, ...next.inputs } })
      runs.push([`run ${runs.length + 1} (${next.inputs.operation})`, last])
    }
    await new Promise((r) => setTimeout(r, 1000)) // traffic after the deploy
    await load.stop()

    for (const [label, run] of runs) printRun(label, run, !args.quiet)

    banner('traffic')
    const report = trafficReport(load.samples, sb.world.weightChanges, {
      newTargetGroupArn: sb.greenArn,
      newVersion: NEW_VERSION,
      routeArn: sb.listenerArn,
      start: load.startedAt,
      end: load.stoppedAt
    })
    process.stdout.write(formatTrafficReport(report, load.startedAt) + '\n')
    const summary = load.summary()
    if (summary.failed > 0) process.stdout.write(`failures: ${JSON.stringify(summary.errors)}\n`)

    // Verdict
    const problems: string[] = []
    const exp = scenario.expect
    const first = runs[0][1]
    const resultRun = scenario.cancelWhen ? first : last
    if (!scenario.cancelWhen && resultRun.outputs.result !== exp.result) {
      problems.push(`result is ${JSON.stringify(resultRun.outputs.result ?? '')}, expected ${exp.result}`)
    }
    problems.push(...looked.problems)
    if (scenario.then && first.outputs.result !== 'paused')
      problems.push(`first run result ${first.outputs.result}, expected paused`)
    if (scenario.andThen && runs[1]?.[1].outputs.result !== 'succeeded') {
      problems.push(`second run result ${runs[1]?.[1].outputs.result}, expected succeeded`)
    }
    if (exp.first && first.outputs.result !== exp.first)
      problems.push(`first run result ${first.outputs.result}, expected ${exp.first}`)
    const later = runs.slice(runs.length - (scenario.andThen?.length ?? 0))
    scenario.andThen?.forEach((next, i) => {
      const got = later[i]?.[1].outputs.result
      if (got !== next.result)
        problems.push(`${next.inputs.operation} result ${JSON.stringify(got ?? '')}, expected ${next.result}`)
    })
    if ((last.exitCode === 0) !== exp.exitZero && !scenario.cancelWhen) {
      problems.push(`exit code ${last.exitCode}, expected ${exp.exitZero ? '0' : 'non-zero'}`)
    }
    if (scenario.cancelWhen) {
      if (!first.cancelled) problems.push('the main step was never cancelled (no traffic moved?)')
      if (first.exitCode === 0) problems.push('the cancelled main step exited 0')
      if (last.exitCode !== 0) problems.push(`the post step exited ${last.exitCode}`)
    }
    const weights = forwardWeights(sb.world.listeners.get(sb.listenerArn)?.defaultActions ?? [])
    const liveArn = exp.finalLive === 'blue' ? sb.blueArn : sb.greenArn
    const otherArn = exp.finalLive === 'blue' ? sb.greenArn : sb.blueArn
    if (!((weights[liveArn] ?? 0) > 0 && (weights[otherArn] ?? 0) === 0)) {
      problems.push(`final weights ${JSON.stringify(weights)}: expected all traffic on web-${exp.finalLive}`)
    }
    if (exp.lossless && summary.failed > 0) problems.push(`${summary.failed} of ${summary.sent} requests failed`)
    if (exp.says && !runs.some(([, run]) => exp.says?.test(run.stdout)))
      problems.push(`the action's log never says ${exp.says}`)
    if (!exp.lossless && exp.result === 'rolled-back') {
      const after = report.steps.at(-1)
      if (after && after.failures > 0) problems.push(`${after.failures} requests failed after the rollback`)
    }

    banner('verdict')
    if (problems.length === 0) {
      process.stdout.write(
        `scenario ${scenario.name}: as expected (${exp.result || 'cancelled, restored by the post step'}; ${summary.failed} of ${summary.sent} requests failed)\n`
      )
      return 0
    }
    process.stdout.write(`scenario ${scenario.name}: NOT as expected\n${problems.map((p) => `  - ${p}`).join('\n')}\n`)
    return 1
  } finally {
    await load?.stop().catch(() => undefined)
    await sb?.stop()
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`sandbox: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    process.exit(1)
  }
)

/**
 * The staged canary seen through the load balancer: with the header, the new version answers;
 * without it, users still get the old one.
 */
async function previewThroughTheProxy(sb: Sandbox): Promise<{ lines: string[]; problems: string[] }> {
  const ask = async (headers: Record<string, string>) => {
    const res = await fetch(sb.proxyUrl, { headers })
    return `${res.status} ${res.headers.get('x-app-version')} (${await res.text()})`
  }
  const preview = await ask({ 'X-Preview': NEW_VERSION })
  const users = await ask({})
  const lines = [
    `curl -H 'X-Preview: ${NEW_VERSION}' ${sb.proxyUrl}/  ->  ${preview}`,
    `curl ${sb.proxyUrl}/  ->  ${users}`
  ]
  const problems: string[] = []
  if (!preview.startsWith(`200 ${NEW_VERSION}`))
    problems.push(`the preview answered ${preview}, expected ${NEW_VERSION}`)
  if (!users.startsWith('200 v1')) problems.push(`users got ${users}, expected v1`)
  return { lines, problems }
}
