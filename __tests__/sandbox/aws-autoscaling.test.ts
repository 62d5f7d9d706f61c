import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeTrafficSourcesCommand,
  ResumeProcessesCommand,
  ScalingActivityInProgressFault,
  SetDesiredCapacityCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
  paginateDescribeAutoScalingGroups
} from '@aws-sdk/client-auto-scaling'
import { addAutoScalingGroup, addTargetGroup } from '../../sandbox/aws/fixtures.js'
import type { AutoScalingGroup } from '../../sandbox/world.js'
import { clientConfig, rejection, startHarness, type Harness } from './aws-helpers.js'

let h: Harness
let asg: AutoScalingClient
let blueTg: string
let greenTg: string
let blue: AutoScalingGroup

/** Puts instances into a group's model directly (the controller is not running in these tests). */
function seat(group: AutoScalingGroup, ids: string[], state: 'Pending' | 'InService' = 'InService'): void {
  for (const id of ids) {
    group.instances.set(id, {
      id,
      availabilityZone: 'us-east-1a',
      lifecycleState: state,
      healthStatus: 'Healthy',
      launchedAt: Date.now()
    })
  }
}

beforeEach(async () => {
  h = await startHarness()
  asg = new AutoScalingClient(clientConfig(h.url))
  blueTg = addTargetGroup(h.world, { name: 'web-blue', targets: { 'i-0aaaaaaaaaaaaaaa1': { state: 'healthy' } } })
  greenTg = addTargetGroup(h.world, { name: 'web-green' })
  blue = addAutoScalingGroup(h.world, {
    name: 'web-blue-asg',
    targetGroupArns: [blueTg],
    minSize: 1,
    maxSize: 6,
    desiredCapacity: 2,
    suspended: ['AlarmNotification']
  })
  seat(blue, ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2'])
  addAutoScalingGroup(h.world, { name: 'web-green-asg', trafficSources: [greenTg], maxSize: 6 })
})

afterEach(async () => {
  asg.destroy()
  await h.close()
})

describe('Auto Scaling groups and instances', () => {
  test('DescribeAutoScalingGroups returns sizes, target groups, traffic sources, instances and suspended processes', async () => {
    const out = await asg.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web-blue-asg', 'web-green-asg', 'nope'] })
    )
    expect(out.AutoScalingGroups!.map((g) => g.AutoScalingGroupName)).toEqual(['web-blue-asg', 'web-green-asg'])
    const [b, g] = out.AutoScalingGroups!
    expect(b).toMatchObject({
      MinSize: 1,
      MaxSize: 6,
      DesiredCapacity: 2,
      TargetGroupARNs: [blueTg],
      HealthCheckType: 'ELB'
    })
    expect(b.AutoScalingGroupARN).toMatch(
      /^arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:[0-9a-f-]{36}:autoScalingGroupName\/web-blue-asg$/
    )
    expect(b.Instances!.map((i) => [i.InstanceId, i.LifecycleState, i.HealthStatus])).toEqual([
      ['i-0aaaaaaaaaaaaaaa1', 'InService', 'Healthy'],
      ['i-0aaaaaaaaaaaaaaa2', 'InService', 'Healthy']
    ])
    expect(b.SuspendedProcesses).toEqual([
      { ProcessName: 'AlarmNotification', SuspensionReason: expect.stringMatching(/^User suspended at /) }
    ])
    expect(b.CreatedTime).toBeInstanceOf(Date)
    expect(g.TargetGroupARNs).toEqual([])
    expect(g.TrafficSources).toEqual([{ Identifier: greenTg, Type: 'elbv2' }])
    expect(g.Instances).toEqual([])
  })

  test('pages at MaxRecords (at most 100) and the SDK paginator follows NextToken', async () => {
    for (let n = 0; n < 3; n++) addAutoScalingGroup(h.world, { name: `extra-${n}` })
    const first = await asg.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 2 }))
    expect(first.AutoScalingGroups).toHaveLength(2)
    expect(first.NextToken).toBeTruthy()
    const names: string[] = []
    for await (const page of paginateDescribeAutoScalingGroups({ client: asg, pageSize: 2 }, {})) {
      names.push(...page.AutoScalingGroups!.map((g) => g.AutoScalingGroupName!))
    }
    expect(names).toEqual(['web-blue-asg', 'web-green-asg', 'extra-0', 'extra-1', 'extra-2'])
    const err = await rejection(asg.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 101 })))
    expect(err.name).toBe('ValidationError')
  })

  test('DescribeAutoScalingInstances maps instances to their group, ignores unknown ids and takes at most 50', async () => {
    const out = await asg.send(
      new DescribeAutoScalingInstancesCommand({ InstanceIds: ['i-0aaaaaaaaaaaaaaa2', 'i-0bbbbbbbbbbbbbbb9'] })
    )
    expect(out.AutoScalingInstances).toEqual([
      expect.objectContaining({
        InstanceId: 'i-0aaaaaaaaaaaaaaa2',
        AutoScalingGroupName: 'web-blue-asg',
        LifecycleState: 'InService',
        HealthStatus: 'HEALTHY'
      })
    ])
    const ids = Array.from({ length: 51 }, (_, n) => `i-0${String(n).padStart(16, '0')}`)
    const err = await rejection(asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: ids })))
    expect(err.name).toBe('ValidationError')
    expect(err.message).toMatch(/instanceIds.*less than or equal to 50/)
  })
})

describe('capacity', () => {
  test('SetDesiredCapacity within [min, max]; outside it and on an unknown group, AWS errors', async () => {
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web-blue-asg', DesiredCapacity: 4 }))
    expect(blue.desiredCapacity).toBe(4)
    const above = await rejection(
      asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web-blue-asg', DesiredCapacity: 7 }))
    )
    expect(above.name).toBe('ValidationError')
    expect(above.message).toBe('New SetDesiredCapacity value 7 is above max value 6 for the AutoScalingGroup.')
    const below = await rejection(
      asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web-blue-asg', DesiredCapacity: 0 }))
    )
    expect(below.message).toBe('New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup.')
    const missing = await rejection(
      asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'nope', DesiredCapacity: 1 }))
    )
    expect(missing.name).toBe('ValidationError')
    expect(missing.message).toMatch(/AutoScalingGroup name not found/)
    expect(blue.desiredCapacity).toBe(4)
  })

  test('HonorCooldown refuses a change inside the cooldown with ScalingActivityInProgress', async () => {
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web-blue-asg', DesiredCapacity: 3 }))
    const err = await rejection(
      asg.send(
        new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web-blue-asg', DesiredCapacity: 4, HonorCooldown: true })
      )
    )
    expect(err).toBeInstanceOf(ScalingActivityInProgressFault)
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web-blue-asg', DesiredCapacity: 4 }))
    expect(blue.desiredCapacity).toBe(4)
  })

  test('UpdateAutoScalingGroup checks the new bounds and moves the desired capacity into them', async () => {
    const bad = await rejection(
      asg.send(
        new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web-blue-asg', MaxSize: 3, DesiredCapacity: 5 })
      )
    )
    expect(bad.message).toBe('Desired capacity:5 must be between the specified min size:1 and max size:3')
    const inverted = await rejection(
      asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web-blue-asg', MinSize: 8 }))
    )
    expect(inverted.message).toMatch(/must be greater than or equal to min bound/)
    expect(blue).toMatchObject({ minSize: 1, maxSize: 6, desiredCapacity: 2 })
    await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web-blue-asg', MinSize: 3 }))
    expect(blue).toMatchObject({ minSize: 3, desiredCapacity: 3 })
    await asg.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web-blue-asg', MinSize: 0, DesiredCapacity: 0 })
    )
    expect(blue).toMatchObject({ minSize: 0, desiredCapacity: 0 })
  })
})

describe('processes', () => {
  test('SuspendProcesses adds to what is suspended; ResumeProcesses removes only what it names', async () => {
    await asg.send(
      new SuspendProcessesCommand({
        AutoScalingGroupName: 'web-blue-asg',
        ScalingProcesses: ['Launch', 'Terminate', 'AlarmNotification']
      })
    )
    expect([...blue.suspended.keys()]).toEqual(['AlarmNotification', 'Launch', 'Terminate'])
    const described = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web-blue-asg'] }))
    expect(described.AutoScalingGroups![0].SuspendedProcesses!.map((p) => p.ProcessName)).toEqual([
      'AlarmNotification',
      'Launch',
      'Terminate'
    ])
    await asg.send(
      new ResumeProcessesCommand({ AutoScalingGroupName: 'web-blue-asg', ScalingProcesses: ['Launch', 'Terminate'] })
    )
    expect([...blue.suspended.keys()]).toEqual(['AlarmNotification'])
  })

  test('a process name AWS does not list is refused; an empty list means every process', async () => {
    const err = await rejection(
      asg.send(
        new SuspendProcessesCommand({ AutoScalingGroupName: 'web-blue-asg', ScalingProcesses: ['Launch', 'Reboot'] })
      )
    )
    expect(err.name).toBe('ValidationError')
    expect([...blue.suspended.keys()]).toEqual(['AlarmNotification'])
    await asg.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'web-green-asg' }))
    expect(h.world.autoScalingGroups.get('web-green-asg')!.suspended.size).toBe(9)
    await asg.send(new ResumeProcessesCommand({ AutoScalingGroupName: 'web-blue-asg' }))
    expect(blue.suspended.size).toBe(0)
  })

  test('DescribeTrafficSources lists attached target groups with their state', async () => {
    const b = await asg.send(new DescribeTrafficSourcesCommand({ AutoScalingGroupName: 'web-blue-asg' }))
    // One instance is registered and healthy: InService.
    expect(b.TrafficSources).toEqual([{ TrafficSource: blueTg, Identifier: blueTg, Type: 'elbv2', State: 'InService' }])
    const g = await asg.send(
      new DescribeTrafficSourcesCommand({ AutoScalingGroupName: 'web-green-asg', TrafficSourceType: 'elbv2' })
    )
    expect(g.TrafficSources!.map((s) => [s.Identifier, s.State])).toEqual([[greenTg, 'Added']])
    const calls = h.world.calls.filter((c) => c.service === 'autoscaling').map((c) => c.operation)
    expect(calls).toEqual(['DescribeTrafficSources', 'DescribeTrafficSources'])
  })
})
