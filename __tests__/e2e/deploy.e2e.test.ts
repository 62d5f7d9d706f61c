// End to end: the bundled action (dist/), run as the Actions runner runs it (Node 24, INPUT_*,
// GITHUB_OUTPUT/STEP_SUMMARY/STATE, SIGINT on cancel), against the local sandbox: the real SDK
// over HTTP to the emulated APIs, real instances, a real weighted proxy and steady load.
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { startLoad, trafficReport, type LoadGenerator } from '../../sandbox/load/load-generator.js'
import { runAction, runPost, type RunActionResult } from '../../sandbox/run-action.js'
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/sandbox.js'
import { forwardWeights } from '../../sandbox/world.js'

jest.setTimeout(120_000)

const DEPLOY_V2 = 'echo v2 > version && echo ok > behaviour && ./restart'

let sandbox: Sandbox | undefined
let load: LoadGenerator | undefined

afterEach(async () => {
  load?.stop()
  await load?.done
  await sandbox?.stop()
  sandbox = undefined
  load = undefined
})

async function stage(opts: SandboxOptions = {}): Promise<Sandbox> {
  sandbox = await startSandbox({ healthIntervalMs: 300, ...opts })
  return sandbox
}

function run(
  sb: Sandbox,
  inputs: Record<string, string>,
  extra: Partial<Parameters<typeof runAction>[0]> = {}
): Promise<RunActionResult> {
  return runAction({
    env: sb.env,
    inputs: {
      'listener-arns': sb.listenerArn,
      version: 'v2',
      'health-timeout': '60s',
      'command-timeout': '30s',
      ...inputs
    },
    ...extra
  })
}

/** Weights on the listener now, as percent on green. */
function greenWeight(sb: Sandbox): number {
  const weights = forwardWeights(sb.world.listeners.get(sb.listenerArn)!.defaultActions)
  const total = Object.values(weights).reduce((a, b) => a + b, 0)
  return Math.round(((weights[sb.greenArn] ?? 0) / total) * 100)
}

function servedBy(version: string): number {
  return load!.samples.filter((s) => s.version === version).length
}

describe('deploys under steady load', () => {
  it('canary 10/50/100: no failed request, and each step serves the new version at its weight', async () => {
    const sb = await stage()
    load = startLoad({ url: sb.proxyUrl, rps: 100 })
    const result = await run(sb, {
      strategy: 'canary',
      'canary-steps': '10,50,100',
      'step-wait': '5s',
      alarms: 'web-green-5xx',
      commands: DEPLOY_V2,
      'metrics-delay': '3s',
      'analysis-min-requests': '30'
    })
    load.stop()
    await load.done

    // A good version must pass every check, the canary judge's too: when it does not, say why.
    if (result.outputs.result !== 'succeeded') console.log(result.stdout)
    expect(result.outputs.result).toBe('succeeded')
    expect(result.exitCode).toBe(0)
    expect(greenWeight(sb)).toBe(100)
    const report = trafficReport(load.samples, sb.world.weightChanges, {
      newTargetGroupArn: sb.greenArn,
      newVersion: 'v2'
    })
    expect(report.failed).toBe(0)
    const steps = report.steps.filter((s) => s.weight > 0)
    expect(steps.map((s) => s.weight)).toEqual([10, 50, 100])
    for (const step of steps) {
      expect(step.answered).toBeGreaterThan(200)
      // The proxy picks each request's fleet at random: allow four standard deviations of a binomial
      // share on this many requests (about 5.4 points at 10%, 8.9 at 50% on 500 requests), never less than the 5 points
      // that requests in flight across a weight change can account for.
      const p = step.weight / 100
      const allowed = Math.max(5, 400 * Math.sqrt((p * (1 - p)) / step.answered))
      expect(Math.abs(step.newShare - step.weight)).toBeLessThanOrEqual(allowed)
    }
    expect(JSON.parse(result.outputs.weights)).toEqual({ [sb.blueArn]: 0, [sb.greenArn]: 100 })
    expect(result.outputs['deployed-target-group-arn']).toBe(sb.greenArn)
    expect(JSON.parse(result.outputs['instance-ids']).sort()).toEqual([...sb.greenIds].sort())
    expect(result.summary).toMatch(/xychart-beta/)
    // The canary judge passed every step on the load balancer's own numbers.
    expect(result.summary).toContain('### Canary analysis')
    expect(result.summary.match(/^\| [123] \((10|50|100)%\) \|.*\| pass( \(extended\))? \|$/gm)).toHaveLength(3)
    // The log reads as phases, and the result is an annotation on the run's page.
    expect(result.stdout.match(/^::group::.*$/gm)?.map((l) => l.replace(/ \(.*|: .*|,.*$/g, ''))).toEqual([
      '::group::Commands on web-green',
      '::group::Health of web-green',
      '::group::Step 1',
      '::group::Step 2',
      '::group::Step 3'
    ])
    expect(result.stdout).toMatch(/^::notice title=deploy%3A succeeded::Deployed v2/m)
    // The lock is gone and the records say who is live.
    const blueTags = sb.world.targetGroups.get(sb.blueArn)!.tags
    expect(blueTags.has('bluegreen:lock')).toBe(false)
    expect(sb.world.targetGroups.get(sb.greenArn)!.tags.get('bluegreen:role')).toBe('live')
  })

  it('all at once: no failed request, one flip, then only the new version answers', async () => {
    const sb = await stage()
    load = startLoad({ url: sb.proxyUrl, rps: 100 })
    const result = await run(sb, { 'step-wait': '3s', commands: DEPLOY_V2 })
    const flippedAt = sb.world.weightChanges.at(-1)!.at
    await new Promise((r) => setTimeout(r, 300))
    load.stop()
    await load.done

    expect(result.outputs.result).toBe('succeeded')
    expect(sb.world.weightChanges).toHaveLength(1)
    expect(load.samples.filter((s) => !s.ok)).toEqual([])
    const after = load.samples.filter((s) => s.at > flippedAt + 50)
    expect(after.length).toBeGreaterThan(100)
    expect(after.every((s) => s.version === 'v2')).toBe(true)
  })
})

describe('deploys that must not move traffic', () => {
  it.each([
    ['a failing command', { commands: `${DEPLOY_V2} && exit 7` }, {}, /exit|failed/i],
    ['a hung command', { commands: 'sleep 600', 'command-timeout': '3s' }, {}, /timed out|TimedOut/i],
    [
      'a version that fails its health check',
      { commands: 'echo v2 > version && echo unhealthy > behaviour && ./restart' },
      {},
      /unhealthy|health/i
    ]
  ])(
    '%s: the step fails, no request reaches the new version, the summary says why',
    async (_name, inputs, opts, why) => {
      const sb = await stage(opts)
      load = startLoad({ url: sb.proxyUrl, rps: 50 })
      const result = await run(sb, { strategy: 'canary', 'step-wait': '2s', ...inputs })
      load.stop()
      await load.done

      expect(result.outputs.result).toBe('failed')
      expect(result.exitCode).not.toBe(0)
      expect(sb.world.weightChanges).toEqual([])
      expect(servedBy('v2')).toBe(0)
      expect(load.samples.filter((s) => !s.ok)).toEqual([])
      expect(result.summary).toMatch(why)
      expect(result.stdout).toMatch(/::error::/)
    }
  )

  it('a failing command shows the instance, its exit code and its output tail in the summary', async () => {
    const sb = await stage()
    const target = sb.greenIds[1]
    const result = await run(sb, {
      commands: `if [ "$INSTANCE_ID" = "${target}" ]; then echo "boom | <b>not bold</b>"; exit 7; fi; ${DEPLOY_V2}`
    })
    expect(result.outputs.result).toBe('failed')
    expect(result.summary).toContain(target)
    expect(result.summary).toMatch(/\b7\b/)
    expect(result.summary).toContain('boom')
    expect(result.summary).not.toContain('<b>not bold</b>')
  })
})

describe('rollback on a bad version', () => {
  it('answers 5xx: its alarm fires during the canary, weights are restored, then nothing reaches it', async () => {
    const sb = await stage({ alarm: { threshold: 0.2, windowMs: 2000, minRequests: 5 } })
    load = startLoad({ url: sb.proxyUrl, rps: 100 })
    const result = await run(sb, {
      strategy: 'canary',
      'canary-steps': '10,50,100',
      'step-wait': '8s',
      alarms: 'web-green-5xx',
      // The alarm alone: the canary judge (tested in canary-analysis.e2e.test.ts) would be first.
      'canary-analysis': 'false',
      commands: 'echo v2 > version && echo errors > behaviour && ./restart'
    })
    const restoredAt = sb.world.weightChanges.at(-1)!.at
    await new Promise((r) => setTimeout(r, 500))
    load.stop()
    await load.done

    expect(result.outputs.result).toBe('rolled-back')
    expect(result.exitCode).not.toBe(0)
    expect(greenWeight(sb)).toBe(0)
    expect(result.summary).toMatch(/web-green-5xx/)
    const late = load.samples.filter((s) => s.at > restoredAt + 50)
    expect(late.length).toBeGreaterThan(20)
    expect(late.some((s) => s.version === 'v2')).toBe(false)
    expect(late.every((s) => s.ok)).toBe(true)
  })
})

describe('cancellation', () => {
  it('SIGINT mid-canary, then the post step: weights restored, lock released', async () => {
    const sb = await stage()
    load = startLoad({ url: sb.proxyUrl, rps: 50 })
    const main = await run(
      sb,
      { strategy: 'canary', 'canary-steps': '10,50,100', 'step-wait': '20s', commands: DEPLOY_V2 },
      { abortWhen: () => greenWeight(sb) === 10 }
    )
    expect(main.cancelled).toBe(true)
    expect(main.signals[0].signal).toBe('SIGINT')
    const post = await runPost(main.state, { 'listener-arns': sb.listenerArn }, { env: sb.env })
    load.stop()
    await load.done

    expect(post.exitCode).toBe(0)
    expect(greenWeight(sb)).toBe(0)
    expect(sb.world.targetGroups.get(sb.blueArn)!.tags.has('bluegreen:lock')).toBe(false)
    expect(sb.world.targetGroups.get(sb.greenArn)!.tags.has('bluegreen:lock')).toBe(false)
    expect(load.samples.filter((s) => !s.ok)).toEqual([])
  })

  it('a main step killed outright mid-canary is undone by the post step', async () => {
    const sb = await stage()
    const main = await run(
      sb,
      { strategy: 'canary', 'canary-steps': '10,50,100', 'step-wait': '20s', commands: DEPLOY_V2 },
      { abortWhen: () => greenWeight(sb) === 10, cancelSignals: ['SIGKILL'] }
    )
    expect(main.signal).toBe('SIGKILL')
    expect(greenWeight(sb)).toBe(10)
    const post = await runPost(main.state, { 'listener-arns': sb.listenerArn }, { env: sb.env })
    expect(post.exitCode).toBe(0)
    expect(post.stdout).toMatch(/restored/i)
    expect(greenWeight(sb)).toBe(0)
    expect(sb.world.targetGroups.get(sb.blueArn)!.tags.has('bluegreen:lock')).toBe(false)
  })
})

describe('operations and faults', () => {
  it('30% of API calls throttled: the deploy still succeeds', async () => {
    const sb = await stage()
    sb.world.apiFaults.throttleShare = 0.3
    // No load here: the canary judge would only find every step inconclusive (canary-analysis.e2e.test.ts).
    const result = await run(sb, {
      strategy: 'canary',
      'canary-steps': '50,100',
      'step-wait': '2s',
      commands: DEPLOY_V2,
      'canary-analysis': 'false'
    })
    expect(result.outputs.result).toBe('succeeded')
    const throttled = sb.world.calls.filter((c) => /Throttl/.test(c.errorCode ?? ''))
    expect(throttled.length).toBeGreaterThan(3)
    expect(greenWeight(sb)).toBe(100)
  })

  it('pause at 10%, then promote in a later run reading the state from AWS', async () => {
    const sb = await stage()
    const paused = await run(sb, {
      strategy: 'canary',
      'canary-steps': '10',
      'step-wait': '1s',
      commands: DEPLOY_V2,
      'canary-analysis': 'false'
    })
    expect(paused.outputs.result).toBe('paused')
    expect(paused.exitCode).toBe(0)
    expect(greenWeight(sb)).toBe(10)
    const promoted = await run(sb, {
      operation: 'promote',
      strategy: 'canary',
      'canary-steps': '10,50,100',
      'step-wait': '1s',
      'canary-analysis': 'false'
    })
    expect(promoted.outputs.result).toBe('succeeded')
    expect(greenWeight(sb)).toBe(100)
    const rolledBack = await run(sb, { operation: 'rollback' })
    expect(rolledBack.outputs.result).toBe('rolled-back')
    expect(rolledBack.exitCode).toBe(0)
    expect(greenWeight(sb)).toBe(0)
  })

  it('status and dry-run print the facts and change nothing', async () => {
    const sb = await stage()
    const status = await run(sb, { operation: 'status' })
    expect(status.outputs).toMatchObject({
      result: 'unchanged',
      'live-target-group-arn': sb.blueArn,
      'idle-target-group-arn': sb.greenArn
    })
    expect(JSON.parse(status.outputs.weights)).toEqual({ [sb.blueArn]: 100, [sb.greenArn]: 0 })
    for (const id of sb.greenIds) expect(status.summary).toContain(id)
    const dry = await run(sb, { 'dry-run': 'true', strategy: 'canary', commands: DEPLOY_V2 })
    expect(dry.outputs.result).toBe('unchanged')
    expect(dry.stdout).toMatch(/step 3: 100% of traffic on web-green/)
    const mutating = sb.world.calls.filter((c) =>
      /^(Modify|AddTags|RemoveTags|SendCommand|CancelCommand)/.test(c.operation)
    )
    expect(mutating).toEqual([])
  })

  it('a bad input fails with one line naming it, before any AWS call', async () => {
    const sb = await stage()
    const result = await run(sb, { 'canary-steps': '50,10', strategy: 'canary', commands: DEPLOY_V2 })
    expect(result.exitCode).not.toBe(0)
    expect(result.stdout).toMatch(/::error::Input canary-steps: "50,10" is not valid; accepted: /)
    expect(sb.world.calls).toEqual([])
  })

  it('several bad inputs fail with one error line each, before any AWS call', async () => {
    const sb = await stage()
    const result = await run(sb, {
      'canary-steps': '50,10',
      strategy: 'fast',
      'max-errors': 'some',
      commands: DEPLOY_V2
    })
    expect(result.exitCode).not.toBe(0)
    expect(result.stdout.match(/^::error::.*$/gm)).toEqual([
      expect.stringMatching(/^::error::Input strategy: "fast" is not valid; accepted: /),
      expect.stringMatching(/^::error::Input canary-steps: "50,10" is not valid; accepted: /),
      expect.stringMatching(/^::error::Input max-errors: "some" is not valid; accepted: /)
    ])
    expect(sb.world.calls).toEqual([])
  })
})
