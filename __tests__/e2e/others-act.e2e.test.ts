// End to end, safe when others act (issue 9): the bundled action run as the runner runs it, on
// the sandbox under steady load, while another run, a person or an Auto Scaling group acts too.
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { ElasticLoadBalancingV2Client, ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { forwardAction } from '../../sandbox/aws/fixtures.js'
import { initialHealth } from '../../sandbox/fleet/health-checker.js'
import { type LoadGenerator, startLoad } from '../../sandbox/load/load-generator.js'
import { runAction, runPost, type RunActionResult } from '../../sandbox/run-action.js'
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js'
import { forwardWeights, parameterValue } from '../../sandbox/world.js'

jest.setTimeout(120_000)

const deployV = (v: string) => `echo ${v} > version && echo ok > behaviour && ./restart`
const LOCK = '/bluegreen/pair/web-blue/lock'

let sandbox: Sandbox | undefined
let loads: LoadGenerator[] = []

afterEach(async () => {
  await Promise.all(loads.map((l) => l.stop()))
  await sandbox?.stop()
  sandbox = undefined
  loads = []
})

async function stage(): Promise<Sandbox> {
  sandbox = await startSandbox({ healthIntervalMs: 300 })
  loads.push(startLoad({ url: sandbox.proxyUrl, rps: 50 }))
  return sandbox
}

function run(
  sb: Sandbox,
  inputs: Record<string, string>,
  extra: Partial<Parameters<typeof runAction>[0]> = {},
  who = 'AKIARUNONE000000000A'
): Promise<RunActionResult> {
  return runAction({
    env: { ...sb.env, AWS_ACCESS_KEY_ID: who, GITHUB_JOB: who },
    inputs: {
      'listener-arns': sb.listenerArn,
      version: 'v2',
      'health-timeout': '60s',
      'command-timeout': '30s',
      'step-wait': '3s',
      ...inputs
    },
    ...extra
  })
}

function greenWeight(sb: Sandbox): number {
  const weights = forwardWeights(sb.world.listeners.get(sb.listenerArn)!.defaultActions)
  return Math.round(((weights[sb.greenArn] ?? 0) / Object.values(weights).reduce((a, b) => a + b, 0)) * 100)
}

/** Requests the proxy routed to a version after a moment (plus a few ms for requests being routed). */
function servedAfter(sb: Sandbox, version: string, at: number): number {
  return sb.loadBalancer.records.filter((r) => r.version === version && r.at > at + 50).length
}

/** A paused canary as a deploy leaves it: blue v1 at 90, green v2 at 10, recorded canary. */
async function pausedCanary(sb: Sandbox): Promise<void> {
  for (const id of sb.greenIds) {
    await writeFile(path.join(sb.world.instances.get(id)!.dir, 'version'), 'v2\n')
    await sb.fleet.restart(id)
  }
  sb.world.listeners.get(sb.listenerArn)!.defaultActions = [forwardAction({ [sb.blueArn]: 90, [sb.greenArn]: 10 })]
  const tags = sb.world.targetGroups.get(sb.greenArn)!.tags
  tags.set('bluegreen:version', 'v2')
  tags.set('bluegreen:role', 'canary')
  sb.world.targetGroups.get(sb.blueArn)!.tags.set('bluegreen:role', 'live')
  await sb.healthChecker.waitFor([sb.greenArn], ['healthy'], 10_000)
}

function lastChangeAt(sb: Sandbox): number {
  return sb.world.weightChanges.at(-1)!.at
}

describe('others act while a run works', () => {
  it('1. a promote interrupted by a rollback: the rollback wins, in the main step and the post step', async () => {
    const sb = await stage()
    await pausedCanary(sb)
    let rollback: Promise<RunActionResult> | undefined
    const promote = await run(
      sb,
      { operation: 'promote', 'canary-steps': '10,50,100', 'step-wait': '8s' },
      {
        abortWhen: () => {
          if (!rollback && greenWeight(sb) === 50) {
            rollback = run(sb, { operation: 'rollback' }, {}, 'AKIAPERSON0000000000')
          }
          return false
        }
      }
    )
    const rolledBack = await rollback!
    expect(rolledBack.outputs.result).toBe('rolled-back')
    const restoredAt = sb.world.weightChanges.filter((c) => (c.weights[sb.greenArn] ?? 0) === 0).at(-1)!.at
    const post = await runPost(promote.state, { 'listener-arns': sb.listenerArn }, { env: sb.env })
    expect(post.exitCode).toBe(0)
    await new Promise((r) => setTimeout(r, 500))
    expect(greenWeight(sb)).toBe(0)
    expect(servedAfter(sb, 'v2', restoredAt)).toBe(0)
    expect(sb.world.targetGroups.get(sb.greenArn)!.tags.get('bluegreen:role')).toBe('failed')
    expect(promote.outputs.result).toBe('failed')
    expect(promote.stdout).toMatch(/no longer holds the deploy lock/)
    expect(parameterValue(sb.world, LOCK)).toBeUndefined()
  })

  it('2. a person moves traffic back during the last hold: not succeeded, outputs and records say where traffic is', async () => {
    const sb = await stage()
    const person = new ElasticLoadBalancingV2Client({
      region: sb.world.region,
      endpoint: sb.endpointUrl,
      credentials: { accessKeyId: 'AKIACONSOLEPERSON000', secretAccessKey: 'x' }
    })
    let edited: Promise<unknown> | undefined
    const result = await run(
      sb,
      { strategy: 'canary', 'canary-steps': '10,100', commands: deployV('v2') },
      {
        abortWhen: () => {
          if (!edited && greenWeight(sb) === 100) {
            edited = person.send(
              new ModifyListenerCommand({
                ListenerArn: sb.listenerArn,
                DefaultActions: [forwardAction({ [sb.blueArn]: 100, [sb.greenArn]: 0 })] as never
              })
            )
          }
          return false
        }
      }
    )
    await edited
    person.destroy()
    expect(result.outputs.result).toBe('failed')
    expect(result.exitCode).not.toBe(0)
    expect(result.stdout).toMatch(/::error::.*Traffic was changed by someone else/)
    expect(JSON.parse(result.outputs.weights)).toEqual({ [sb.blueArn]: 100, [sb.greenArn]: 0 })
    expect(greenWeight(sb)).toBe(0)
    expect(sb.world.targetGroups.get(sb.blueArn)!.tags.get('bluegreen:role')).toBe('live')
    expect(sb.world.targetGroups.get(sb.greenArn)!.tags.get('bluegreen:role')).toBe('failed')
    expect(servedAfter(sb, 'v2', lastChangeAt(sb))).toBe(0)
  })

  it('3. two deploys 15 ms apart: one takes the pair, the other changes nothing', async () => {
    const sb = await stage()
    // The second run's alarm reads are slower (the reproduction): its look at the lock comes
    // before the first run takes it, its own lock write after the first run's read-back.
    sb.world.apiFaults.callerLatencyMs = { 'AKIARUNTWO000000000B/cloudwatch': 400 }
    const both = { strategy: 'all-at-once', alarms: 'web-green-5xx' }
    const first = run(sb, { ...both, commands: deployV('v2') })
    await new Promise((r) => setTimeout(r, 15))
    const second = run(sb, { ...both, version: 'v3', commands: deployV('v3') }, {}, 'AKIARUNTWO000000000B')
    const results = await Promise.all([first, second])
    // Commands went out once, from one run: the fleet runs one version, the one its record names.
    expect(sb.world.commands.size).toBe(1)
    const version = sb.world.targetGroups.get(sb.greenArn)!.tags.get('bluegreen:version')
    for (const id of sb.greenIds) expect(sb.fleet.app(id)?.version).toBe(version)
    const outcomes = results.map((r) => r.outputs.result).sort()
    expect(outcomes).toEqual(['failed', 'succeeded'])
    const loser = results.find((r) => r.outputs.result === 'failed')!
    expect(loser.stdout).toMatch(/Another run holds the deploy lock \/bluegreen\/pair\/web-blue\/lock/)
    expect(parameterValue(sb.world, LOCK)).toBeUndefined()
  })

  it('4. an instance joins the new fleet while the commands run: it gets them before any traffic', async () => {
    const sb = await stage()
    const joiner = await sb.fleet.add({ version: 'v1' })
    sb.world.instances.set(joiner.id, joiner)
    let joined = false
    const result = await run(
      sb,
      { strategy: 'canary', 'canary-steps': '10,100', 'step-wait': '2s', commands: deployV('v2') },
      {
        abortWhen: () => {
          if (!joined && sb.world.commands.size > 0) {
            joined = true
            sb.world.targetGroups.get(sb.greenArn)!.targets.set(joiner.id, initialHealth())
          }
          return false
        }
      }
    )
    expect(result.outputs.result).toBe('succeeded')
    expect(sb.fleet.app(joiner.id)?.version).toBe('v2')
    expect(result.stdout).toMatch(new RegExp(`${joiner.id} joined web-green during the deploy`))
    const firstShift = sb.world.weightChanges[0].at
    const joinerCommand = [...sb.world.commands.values()].find((c) => c.instanceIds.includes(joiner.id))!
    expect(joinerCommand.requestedAt).toBeLessThan(firstShift)
    // Nothing from green answered with the old version once traffic moved.
    const stale = sb.loadBalancer.records.filter(
      (r) => r.targetGroupArn === sb.greenArn && r.version === 'v1' && r.at > firstShift
    )
    expect(stale).toEqual([])
  })

  it('8. a sticky canary, its restore, then the next deploy: no client is served by a fleet at weight 0', async () => {
    const sb = (sandbox = await startSandbox({
      healthIntervalMs: 300,
      alarm: { threshold: 0.2, windowMs: 2000, minRequests: 5 }
    }))
    // Visitors with cookie jars: the AWSALBTG cookie pins each to the group that served it, and on
    // an ALB it outranks the weights, 0 included, for as long as group stickiness is on.
    loads.push(startLoad({ url: sb.proxyUrl, rps: 80, clients: 24 }))
    const greenBetween = (from: number, to = Infinity) =>
      sb.loadBalancer.records.filter((r) => r.targetGroupArn === sb.greenArn && r.at > from + 50 && r.at < to)
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

    // 1. A sticky canary of a version that answers 5xx: its alarm fires and the weights are restored.
    const canary = await run(sb, {
      strategy: 'canary',
      'canary-steps': '30,100',
      'step-wait': '8s',
      stickiness: '1h',
      alarms: 'web-green-5xx',
      commands: 'echo v2 > version && echo errors > behaviour && ./restart'
    })
    expect(canary.outputs.result).toBe('rolled-back')
    const restoredAt = lastChangeAt(sb)
    const pinned = sb.loadBalancer.records.filter(
      (r) => r.sticky && r.targetGroupArn === sb.greenArn && r.at < restoredAt
    )
    expect(pinned.length).toBeGreaterThan(0)
    // Those clients still send v2's cookie; the restore turned group stickiness off, and said so.
    expect(canary.stdout).toMatch(/Group stickiness turned off .* with web-green at weight 0/)
    await pause(1500)
    expect(greenBetween(restoredAt).map((r) => r.version)).toEqual([])

    // 2. A person turns group stickiness back on in the console: the pinned clients are on v2 again.
    const editedAt = Date.now()
    sb.world.listeners.get(sb.listenerArn)!.defaultActions = [
      forwardAction({ [sb.blueArn]: 100, [sb.greenArn]: 0 }, 3600)
    ]
    await pause(1000)
    expect(greenBetween(editedAt).length).toBeGreaterThan(0)

    // 3. The next deploy turns it off before its commands change green, so no client meets them.
    const next = await run(sb, {
      strategy: 'canary',
      'canary-steps': '30,100',
      'step-wait': '2s',
      stickiness: '1h',
      version: 'v3',
      commands: deployV('v3'),
      // The judge reads whole minutes: its first one still holds v2's errors served to the clients
      // the person's edit pinned to green a moment ago, and it would blame v3 for them. What this
      // step shows is stickiness, not the judge (which has its own tests).
      'canary-analysis': 'false'
    })
    if (next.outputs.result !== 'succeeded') console.log(next.stdout)
    expect(next.outputs.result).toBe('succeeded')
    expect(next.stdout).toMatch(
      /Group stickiness was on while web-green took no traffic; turned it off before the deploy/
    )
    const sent = [...sb.world.commands.values()].filter((c) => c.requestedAt > editedAt)
    const commandsAt = Math.min(...sent.map((c) => c.requestedAt))
    const firstShift = sb.world.weightChanges.find((w) => w.at > commandsAt)!.at
    expect(greenBetween(commandsAt, firstShift)).toEqual([])
    // 4. The flip turned stickiness off as blue went to 0: blue's pinned clients left it too.
    const flippedAt = lastChangeAt(sb)
    await pause(1000)
    expect(sb.loadBalancer.records.filter((r) => r.targetGroupArn === sb.blueArn && r.at > flippedAt + 50)).toEqual([])
  })

  it("a deploy that stops before any command goes out puts the idle fleet's record back as it was", async () => {
    const sb = await stage()
    // The role may not send commands (an instance outside the policy's tag condition, say).
    sb.world.apiFaults.denied = ['ssm:SendCommand']
    const green = sb.world.targetGroups.get(sb.greenArn)!.tags
    const before = Object.fromEntries(green)
    const result = await run(sb, { commands: deployV('v2') })
    expect(result.outputs.result).toBe('failed')
    expect(result.stdout).toMatch(/Not allowed to send AWS-RunShellScript .*give the workflow's role ssm:SendCommand/)
    // Recorded 'deploying' while it could still send; put back once it knew nothing went out.
    const tagged = sb.world.calls.filter(
      (c) => c.operation === 'AddTags' && JSON.stringify(c.params).includes('deploying')
    )
    const sent = sb.world.calls.filter((c) => c.operation === 'SendCommand')
    expect(tagged[0].seq).toBeLessThan(sent[0].seq!)
    expect(Object.fromEntries(green)).toEqual(before)
    expect(sb.world.weightChanges).toEqual([])
    expect(parameterValue(sb.world, LOCK)).toBeUndefined()
  })
})
