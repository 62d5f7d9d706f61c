// The group controller with real local instances: launches really start apps, user data really
// runs, terminations really stop them, and suspended processes really hold the group still.
import { AutoScalingClient, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling'
import { jest } from '@jest/globals'
import { addAutoScalingGroup, addParameter } from '../../sandbox/aws/fixtures.js'
import { AutoScalingController } from '../../sandbox/fleet/auto-scaling.js'
import { HealthChecker } from '../../sandbox/fleet/health-checker.js'
import { startSandbox } from '../../sandbox/sandbox.js'
import type { AutoScalingGroup } from '../../sandbox/world.js'
import { addPair, startFleet, until, type FleetHarness } from './fleet-helpers.js'

jest.setTimeout(30_000)

let f: FleetHarness
let checker: HealthChecker
let controller: AutoScalingController
let blueArn: string
let group: AutoScalingGroup

const INSTALL = 'echo "$AUTO_SCALING_GROUP_NAME-build" > version && echo ok > behaviour && ./restart'

function start(spec: Partial<Parameters<typeof addAutoScalingGroup>[1]> = {}): void {
  ;({ blueArn } = addPair(f.world, [], []))
  group = addAutoScalingGroup(f.world, {
    name: 'web-blue-asg',
    targetGroupArns: [blueArn],
    desiredCapacity: 2,
    healthCheckGracePeriodS: 2,
    userData: INSTALL,
    ...spec
  })
  f.world.targetGroups.get(blueArn)!.attributes = { 'deregistration_delay.timeout_seconds': '1' }
  checker = new HealthChecker(f.world)
  checker.start()
  controller = new AutoScalingController(f.world, f.fleet, { bootMs: 100, drainMs: 200 })
  controller.start()
}

const targets = () => f.world.targetGroups.get(blueArn)!.targets
const states = () => [...group.instances.values()].map((i) => i.lifecycleState)

beforeEach(async () => {
  f = await startFleet()
})

afterEach(async () => {
  controller?.stop()
  checker?.stop()
  await f.close()
})

describe('a group keeps its desired capacity with real instances', () => {
  test('launch: Pending, then InService, registered, managed by SSM, user data installs the app before it serves', async () => {
    start()
    await until(() => group.instances.size === 2, 2000, 'two launches')
    expect(states()).toEqual(['Pending', 'Pending'])
    expect(targets().size).toBe(0)
    await controller.waitForCapacity(10_000)
    for (const i of group.instances.values()) {
      expect(i.userData?.exitCode).toBe(0)
      expect(f.world.instances.get(i.id)!.managedBySsm).toBe(true)
      expect(f.fleet.app(i.id)).toMatchObject({ version: 'web-blue-asg-build', up: true })
      expect(targets().get(i.id)!.state).toBe('healthy')
    }
    const seq = controller.activities
      .filter((a) => a.instanceId === [...group.instances.keys()][0])
      .map((a) => a.action)
    expect(seq).toEqual(['launch', 'in-service', 'user-data'])
  })

  test('an instance whose user data fails never serves: its app stays down and its target unhealthy', async () => {
    start({ desiredCapacity: 1, userData: 'echo "cannot reach the parameter" >&2; exit 3', healthCheckType: 'EC2' })
    await until(() => [...group.instances.values()].some((i) => i.userData !== undefined), 5000, 'user data')
    const [i] = group.instances.values()
    expect(i.userData).toEqual({ exitCode: 3, output: expect.stringContaining('cannot reach the parameter') })
    await until(() => targets().get(i.id)?.state === 'unhealthy', 5000, 'unhealthy target')
    expect(f.fleet.app(i.id)!.up).toBe(false)
  })

  test('scale-in drains, deregisters and stops the instances; scale-out launches more', async () => {
    start({ desiredCapacity: 3 })
    await controller.waitForCapacity(10_000)
    const before = [...group.instances.keys()]
    group.desiredCapacity = 1
    await until(() => [...targets().values()].filter((t) => t.state === 'draining').length === 2, 2000, 'draining')
    expect(states().filter((s) => s === 'Terminating')).toHaveLength(2)
    await until(() => group.instances.size === 1 && targets().size === 1, 3000, 'terminated')
    const gone = before.filter((id) => !group.instances.has(id))
    for (const id of gone) {
      expect(f.fleet.app(id)).toBeUndefined()
      expect(f.world.instances.has(id)).toBe(false)
    }
    group.desiredCapacity = 2
    await controller.waitForCapacity(10_000)
    expect(group.instances.size).toBe(2)
  })
})

describe('suspended processes', () => {
  test('Launch suspended: no scale-out until it is resumed; Terminate suspended: no scale-in', async () => {
    start({ desiredCapacity: 1 })
    await controller.waitForCapacity(10_000)
    group.suspended.set('Launch', 'User suspended')
    group.desiredCapacity = 3
    await new Promise((r) => setTimeout(r, 400))
    expect(group.instances.size).toBe(1)
    group.suspended.delete('Launch')
    await controller.waitForCapacity(10_000)
    expect(group.instances.size).toBe(3)

    group.suspended.set('Terminate', 'User suspended')
    group.desiredCapacity = 1
    await new Promise((r) => setTimeout(r, 400))
    expect(states()).toEqual(['InService', 'InService', 'InService'])
    group.suspended.delete('Terminate')
    await until(() => group.instances.size === 1, 3000, 'scale-in after resume')
  })

  test('an unhealthy instance is marked Unhealthy and replaced; with ReplaceUnhealthy suspended it stays', async () => {
    start({ desiredCapacity: 2 })
    await controller.waitForCapacity(10_000)
    const [sick, well] = group.instances.keys()
    group.suspended.set('ReplaceUnhealthy', 'User suspended')
    f.fleet.setApp(sick, { behaviour: 'unhealthy' })
    await until(() => group.instances.get(sick)?.healthStatus === 'Unhealthy', 5000, 'marked unhealthy')
    await new Promise((r) => setTimeout(r, 300))
    expect(group.instances.get(sick)!.lifecycleState).toBe('InService')

    group.suspended.delete('ReplaceUnhealthy')
    await until(() => !group.instances.has(sick), 5000, 'replaced')
    await controller.waitForCapacity(10_000)
    expect(group.instances.has(well)).toBe(true)
    expect(group.instances.size).toBe(2)
    const actions = controller.activities.filter((a) => a.instanceId === sick).map((a) => a.action)
    expect(actions).toEqual(expect.arrayContaining(['unhealthy', 'terminate', 'terminated']))
  })

  test('AddToLoadBalancer suspended: launched instances are not registered', async () => {
    start({ desiredCapacity: 1, suspended: ['AddToLoadBalancer'] })
    await until(() => [...group.instances.values()].some((i) => i.lifecycleState === 'InService'), 5000, 'in service')
    expect(targets().size).toBe(0)
  })
})

describe('the sandbox with Auto Scaling fleets', () => {
  it('instances launched later install the version Parameter Store records for their fleet, through the emulated API', async () => {
    const sb = await startSandbox({
      fleetSize: 2,
      healthIntervalMs: 100,
      autoScaling: { blue: 2, green: 0, bootMs: 50 }
    })
    try {
      const blue = sb.world.autoScalingGroups.get('web-blue-asg')!
      expect(sb.blueIds).toHaveLength(2)
      expect(sb.greenIds).toEqual([])
      // Nothing recorded yet: the image's build.
      for (const id of sb.blueIds) expect(sb.fleet.app(id)?.version).toBe('v1')
      addParameter(sb.world, '/bluegreen/fleet/web-green/version', 'v7')
      const asg = new AutoScalingClient({
        region: 'us-east-1',
        endpoint: sb.endpointUrl,
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' }
      })
      await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web-green-asg', DesiredCapacity: 1 }))
      asg.destroy()
      await sb.autoScaling!.waitForCapacity(10_000)
      const [id] = sb.world.autoScalingGroups.get('web-green-asg')!.instances.keys()
      expect(sb.fleet.app(id)?.version).toBe('v7')
      expect(sb.world.targetGroups.get(sb.greenArn)!.targets.get(id)?.state).toBe('healthy')
      const reads = sb.world.calls.filter((c) => c.service === 'ssm' && c.operation === 'GetParameter')
      expect(reads.map((c) => (c.params as { Name: string }).Name)).toContain('/bluegreen/fleet/web-green/version')
      expect(blue.instances.size).toBe(2)
    } finally {
      await sb.stop()
    }
  })
})
