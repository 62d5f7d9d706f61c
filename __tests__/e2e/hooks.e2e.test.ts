// End to end on the sandbox, the bundled action under Node 24: the preview route (a request with
// the header reaches the new version through the proxy while the weights are 100/0) and the
// contract guard (a rollback after contract-commands is refused, and allowed only when forced).
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { readFile } from 'node:fs/promises'
import { runAction, type RunActionResult } from '../../sandbox/run-action.js'
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/sandbox.js'
import { forwardWeights } from '../../sandbox/world.js'

jest.setTimeout(120_000)

// v2 needs the column schema 2 adds; v1 reads the one schema 3 drops (see sandbox/cli.ts).
const DEPLOY_V2 = 'echo v2 > version && echo 2-3 > schemas && echo ok > behaviour && ./restart'
const EXPAND = 'echo "expand: schema $(cat "$SANDBOX_DB") -> 2"; echo 2 > "$SANDBOX_DB"'
const CONTRACT = 'echo "contract: schema $(cat "$SANDBOX_DB") -> 3"; echo 3 > "$SANDBOX_DB"'
const RUN_URL = 'https://github.com/acme/web/actions/runs/1658821493/attempts/1'

let sandbox: Sandbox | undefined

afterEach(async () => {
  await sandbox?.stop()
  sandbox = undefined
})

async function stage(opts: SandboxOptions = {}): Promise<Sandbox> {
  sandbox = await startSandbox({ healthIntervalMs: 300, schemas: '1-2', ...opts })
  return sandbox
}

function run(sb: Sandbox, inputs: Record<string, string>): Promise<RunActionResult> {
  return runAction({
    env: sb.env,
    inputs: {
      'listener-arns': sb.listenerArn,
      version: 'v2',
      'health-timeout': '60s',
      'command-timeout': '30s',
      // No steady load here: the canary judge would wait out metrics-delay at every step for data
      // that never comes (it has its own tests in canary-analysis.e2e.test.ts).
      'canary-analysis': 'false',
      ...inputs
    }
  })
}

function greenWeight(sb: Sandbox): number {
  const weights = forwardWeights(sb.world.listeners.get(sb.listenerArn)!.defaultActions)
  return Math.round(((weights[sb.greenArn] ?? 0) / Object.values(weights).reduce((a, b) => a + b, 0)) * 100)
}

async function versionsServed(sb: Sandbox, headers: Record<string, string>, n = 20): Promise<string[]> {
  const seen: string[] = []
  for (let i = 0; i < n; i++) {
    const res = await fetch(sb.proxyUrl, { headers })
    await res.text()
    seen.push(`${res.status} ${res.headers.get('x-app-version')}`)
  }
  return [...new Set(seen)]
}

const schema = async (sb: Sandbox) => (await readFile(sb.databaseFile, 'utf8')).trim()

describe('preview route', () => {
  it('canary-steps 0: a request with the header reaches v2 through the proxy at 100/0; the promote closes it', async () => {
    const sb = await stage()
    const staged = await run(sb, {
      strategy: 'canary',
      'canary-steps': '0',
      'preview-header': 'X-Preview',
      commands: DEPLOY_V2,
      'before-traffic-commands': EXPAND
    })
    expect(staged.outputs.result).toBe('paused')
    expect(staged.exitCode).toBe(0)
    expect(greenWeight(sb)).toBe(0)
    expect(sb.world.weightChanges.filter((c) => c.routeArn === sb.listenerArn)).toEqual([])

    // The expand migration ran once, on one instance of the new fleet, after the deploy commands.
    const commands = [...sb.world.commands.values()]
    expect(commands.map((c) => c.instanceIds.length)).toEqual([3, 1])
    expect(sb.greenIds).toContain(commands[1].instanceIds[0])
    expect(await schema(sb)).toBe('2')

    expect(await versionsServed(sb, { 'X-Preview': 'v2' })).toEqual(['200 v2'])
    expect(await versionsServed(sb, { 'x-preview': 'V2' })).toEqual(['200 v2'])
    expect(await versionsServed(sb, {})).toEqual(['200 v1'])
    expect(await versionsServed(sb, { 'X-Preview': 'v3' })).toEqual(['200 v1'])
    const rules = [...sb.world.rules.values()]
    expect(rules.map((r) => [r.priority, r.tags.get('bluegreen:preview')])).toEqual([['50000', sb.greenArn]])
    expect(staged.summary).toMatch(/curl -H 'X-Preview: v2' http:\/\/web-\d+\.us-east-1\.elb\.amazonaws\.com:\d+\//)
    expect(staged.summary).toContain('expand: schema 1 -&gt; 2')

    const promoted = await run(sb, { operation: 'promote', 'canary-steps': '100', 'step-wait': '1s' })
    expect(promoted.outputs.result).toBe('succeeded')
    expect(greenWeight(sb)).toBe(100)
    expect(sb.world.rules.size).toBe(0)
  })
})

describe('contract guard', () => {
  it('after contract-commands a rollback is refused, naming the run; forced, it goes back and v1 fails on the data', async () => {
    const sb = await stage({ databaseSchema: 2 })
    const deployed = await run(sb, { commands: DEPLOY_V2, 'step-wait': '1s', 'contract-commands': CONTRACT })
    expect(deployed.outputs.result).toBe('succeeded')
    expect(greenWeight(sb)).toBe(100)
    expect(await schema(sb)).toBe('3')
    expect(sb.world.targetGroups.get(sb.greenArn)!.tags.get('bluegreen:contract')).toMatch(
      /^state=done at=\S+ deployed=\S+ run=/
    )
    expect(deployed.summary).toContain('contract: schema 2 -&gt; 3')

    const writes = (from: number) =>
      sb.world.calls.slice(from).filter((c) => /^(Modify|AddTags|RemoveTags|CreateRule|DeleteRule)/.test(c.operation))
    const beforeRefused = sb.world.calls.length
    const refused = await run(sb, { operation: 'rollback' })
    expect(refused.exitCode).not.toBe(0)
    expect(refused.outputs.result).toBe('failed')
    expect(refused.stdout).toMatch(
      new RegExp(
        `::error::Rollback refused: contract-commands of v2 on web-green ran at \\S+ in ${RUN_URL}, .*deploy a fix forward`
      )
    )
    expect(greenWeight(sb)).toBe(100)
    expect(writes(beforeRefused)).toEqual([])

    const callsBefore = sb.world.calls.length
    const forced = await run(sb, { operation: 'rollback', 'allow-rollback-past-contract': 'true' })
    expect(forced.outputs.result).toBe('rolled-back')
    expect(forced.exitCode).toBe(0)
    expect(forced.stdout).toMatch(/::warning::Rolling back past a contract/)
    expect(writes(callsBefore).length).toBeGreaterThan(0)
    expect(greenWeight(sb)).toBe(0)
    // What the guard was for: the old code does not work with the contracted data.
    expect(await versionsServed(sb, {}, 5)).toEqual(['500 v1'])
  })
})
