// End to end with fleets that are Auto Scaling groups: the bundled action (dist/) under Node 24
// against the sandbox, whose groups launch real instances that install, at boot, the version
// Parameter Store records for their fleet. One story, under steady load: a cold idle fleet is
// scaled up, deployed and flipped while a scale-out is asked for mid-deploy; the old fleet is
// retired; a rollback brings it back.
import { afterEach, expect, it, jest } from '@jest/globals'
import { addParameter } from '../../sandbox/aws/fixtures.js'
import { startLoad, type LoadGenerator } from '../../sandbox/load/load-generator.js'
import { runAction, type RunActionResult } from '../../sandbox/run-action.js'
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js'
import { forwardWeights } from '../../sandbox/world.js'

jest.setTimeout(180_000)

const DEPLOY_V2 = 'echo v2 > version && echo ok > behaviour && ./restart'

let sandbox: Sandbox | undefined
let load: LoadGenerator | undefined

afterEach(async () => {
  load?.stop()
  await load?.done
  await sandbox?.stop()
})

function run(sb: Sandbox, inputs: Record<string, string>, extra: Partial<Parameters<typeof runAction>[0]> = {}) {
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

const until = async (cond: () => boolean, ms: number, what: string) => {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const versionsBetween = (from: number, to: number) =>
  new Set(load!.samples.filter((s) => s.at > from && s.at < to).map((s) => s.version))

it('cold idle group: scaled, deployed under load, a mid-deploy launch gets the version first; retire, then rollback', async () => {
  const sb = (sandbox = await startSandbox({
    healthIntervalMs: 200,
    autoScaling: { green: 0, bootMs: 300, gracePeriodS: 60 }
  }))
  addParameter(sb.world, '/bluegreen/fleet/web-blue/version', 'v1')
  const blue = sb.world.autoScalingGroups.get('web-blue-asg')!
  const green = sb.world.autoScalingGroups.get('web-green-asg')!
  // A team's group usually keeps a floor: retire must lower MinSize to reach zero, and a rollback put it back.
  blue.minSize = 2
  green.suspended.set('AlarmNotification', 'User suspended at 2026-01-05T09:00:00Z')
  load = startLoad({ url: sb.proxyUrl, rps: 80 })

  // 1. Deploy. Once traffic starts to move, a scaling policy asks green for one more instance.
  let scaleOutAt = 0
  const deployed = await run(
    sb,
    { strategy: 'canary', 'canary-steps': '50,100', 'step-wait': '2s', commands: DEPLOY_V2 },
    {
      abortWhen: () => {
        if (!scaleOutAt && sb.world.weightChanges.length > 0) {
          scaleOutAt = Date.now()
          green.desiredCapacity = 4
        }
        return false
      }
    }
  )
  expectResult(deployed, 'succeeded')
  const flippedAt = sb.world.weightChanges.at(-1)!.at
  expect(scaleOutAt).toBeGreaterThan(0)
  expect(deployed.summary).toMatch(/Scaled\*\* web-green-asg from 0 to 3 instances/)
  expect(sb.world.parameters.get('/bluegreen/fleet/web-green/version')?.versions.at(-1)?.value).toBe('v2')
  // What the user had suspended stays; what the action suspended is resumed.
  expect([...green.suspended.keys()]).toEqual(['AlarmNotification'])
  const resumedAt = sb.world.calls.find((c) => c.operation === 'ResumeProcesses')!.at

  // Launch was held until the deploy ended; then the group launched the fourth instance, which
  // installed v2 from Parameter Store before it turned healthy and took traffic.
  await until(() => green.instances.size === 4, 10_000, 'the scale-out')
  await sb.autoScaling!.waitForCapacity(20_000)
  const launches = sb.autoScaling!.activities.filter((a) => a.group === 'web-green-asg' && a.action === 'launch')
  expect(launches).toHaveLength(4)
  const late = launches[3]
  expect(late.at).toBeGreaterThanOrEqual(resumedAt)
  expect(sb.fleet.app(late.instanceId)?.version).toBe('v2')
  await until(() => sb.loadBalancer.records.some((r) => r.targetId === late.instanceId), 5_000, 'traffic to it')
  const servedByLate = sb.loadBalancer.records.filter((r) => r.targetId === late.instanceId)
  const installedAt = sb.autoScaling!.activities.find(
    (a) => a.instanceId === late.instanceId && a.action === 'user-data'
  )!.at
  expect(servedByLate.every((r) => r.at >= installedAt)).toBe(true)
  expect(versionsBetween(flippedAt + 100, Date.now())).toEqual(new Set(['v2']))

  // 2. Retire the previous fleet: its group goes to zero, recorded.
  const retired = await run(sb, { operation: 'retire' })
  expectResult(retired, 'succeeded')
  expect(blue.desiredCapacity).toBe(0)
  expect(blue.minSize).toBe(0)
  await until(() => blue.instances.size === 0, 15_000, 'the retired instances to stop')
  const status = await run(sb, { operation: 'status' })
  expect(status.stdout).toMatch(/web-blue is idle, retired/)

  // 3. Roll back: blue comes back at the live fleet's size (4), installs v1, is healthy, then takes traffic.
  const rolledBack = await run(sb, { operation: 'rollback' })
  expectResult(rolledBack, 'rolled-back')
  expect(rolledBack.stdout).toMatch(/web-blue-asg was scaled from 0 to 4 instances and healthy in \d/)
  expect(blue.minSize).toBe(2)
  const backAt = sb.world.weightChanges.at(-1)!.at
  expect(forwardWeights(sb.world.listeners.get(sb.listenerArn)!.defaultActions)).toEqual({
    [sb.blueArn]: 100,
    [sb.greenArn]: 0
  })
  await new Promise((r) => setTimeout(r, 500))
  load.stop()
  await load.done
  expect(versionsBetween(backAt + 100, Date.now())).toEqual(new Set(['v1']))
  expect(load.samples.filter((s) => !s.ok)).toEqual([])
})

function expectResult(run: RunActionResult, result: string): void {
  if (run.outputs.result !== result)
    throw new Error(`result ${run.outputs.result}, expected ${result}:\n${run.stdout}${run.stderr}`)
}
