// End to end, the canary judge alone (no alarm given): the bundled action under Node 24 against
// the sandbox, whose CloudWatch publishes the proxy's real per-target-group counts and latencies in
// compressed time (a report a second, published 2 s later), so the scenarios tell the action
// metrics-delay 3s as a user would tell it their account's delay.
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { startLoad, type LoadGenerator } from '../../sandbox/load/load-generator.js'
import { runAction, type RunActionResult } from '../../sandbox/run-action.js'
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js'
import { forwardWeights } from '../../sandbox/world.js'

jest.setTimeout(120_000)

let sandbox: Sandbox | undefined
let load: LoadGenerator | undefined

afterEach(async () => {
  await load?.stop()
  await sandbox?.stop()
  sandbox = undefined
  load = undefined
})

const deployAs = (behaviour: string) => `echo v2 > version && echo ${behaviour} > behaviour && ./restart`

async function canary(
  behaviour: string,
  extra: Record<string, string> = {},
  rps = 100
): Promise<{ sb: Sandbox; result: RunActionResult }> {
  const sb = (sandbox = await startSandbox({ healthIntervalMs: 300 }))
  if (rps > 0) load = startLoad({ url: sb.proxyUrl, rps })
  const result = await runAction({
    env: sb.env,
    inputs: {
      'listener-arns': sb.listenerArn,
      version: 'v2',
      strategy: 'canary',
      'canary-steps': '10,50,100',
      'step-wait': '4s',
      'health-timeout': '60s',
      'command-timeout': '30s',
      commands: deployAs(behaviour),
      'metrics-delay': '3s',
      'analysis-min-requests': '30',
      ...extra
    }
  })
  await load?.stop()
  return { sb, result }
}

function greenWeight(sb: Sandbox): number {
  const weights = forwardWeights(sb.world.listeners.get(sb.listenerArn)!.defaultActions)
  return weights[sb.greenArn] ?? 0
}

describe('the canary judge, alone', () => {
  it('a version answering one request in five with a 500 (and healthy) is rolled back on its 5xx rate', async () => {
    const { sb, result } = await canary('flaky')
    expect(result.outputs.result).toBe('rolled-back')
    expect(result.exitCode).not.toBe(0)
    expect(greenWeight(sb)).toBe(0)
    // No alarm was given: the judge's own message, naming the metric and the numbers.
    // (The runner's workflow commands escape % as %25.)
    expect(result.stdout).toMatch(
      /::error::.*canary analysis: 5xx rate \d+\.\d%25 on the new fleet \(\d+\/\d+\) vs 0%25 on the stable one/
    )
    expect(result.summary).toContain('### Canary analysis')
    expect(result.summary).toMatch(/^\| 1 \(10%\) \|.*\| \*\*fail\*\*/m)
    expect(result.summary).toMatch(/plotColorPalette":"#dc2626, #2563eb"/)
    // It was caught at the first step, not after widening.
    expect(sb.world.weightChanges.map((c) => c.weights[sb.greenArn])).toEqual([10, 0])
  })

  it('a version answering 150 ms slower is rolled back on latency', async () => {
    const { sb, result } = await canary('slow')
    expect(result.outputs.result).toBe('rolled-back')
    expect(greenWeight(sb)).toBe(0)
    expect(result.stdout).toMatch(
      /canary analysis: TargetResponseTime (avg|p99) \d+ ms on the new fleet vs \d+ ms on the stable one: \+\d+%25, over the tolerated \+25%25/
    )
  })

  it('no metric data at all (no traffic): succeeds, every step marked inconclusive, and says so', async () => {
    const { sb, result } = await canary('ok', { 'canary-steps': '10,100', 'step-wait': '1s', 'metrics-delay': '1s' }, 0)
    expect(result.outputs.result).toBe('succeeded')
    expect(result.exitCode).toBe(0)
    expect(greenWeight(sb)).toBe(100)
    expect(result.stdout).toMatch(
      /::warning::canary analysis inconclusive at step 1 \(10%25\): no requests reached the new fleet/
    )
    expect(result.stdout).toMatch(/::warning::canary analysis inconclusive at step 2 \(100%25\)/)
    expect(result.summary.match(/^\| [12] \((10|100)%\) \|.*\| \*inconclusive\* \|$/gm)).toHaveLength(2)
    expect(result.stdout).toMatch(/with no traffic to judge, set canary-analysis: false/)
  })
})
