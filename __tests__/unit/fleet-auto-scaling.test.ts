// Auto Scaling fleets by intent, against a small stateful group on aws-sdk-client-mock:
// detection, the wait for a scaled group, and suspend/resume of exactly what the action suspended.
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand
} from '@aws-sdk/client-auto-scaling'
import { beforeEach, describe, expect, it } from '@jest/globals'
import type { Log } from '../../src/runtime/log.js'
import { mockClient } from 'aws-sdk-client-mock'
import {
  detectFleetGroups,
  holdStill,
  type InstanceViews,
  release,
  waitUntilReady
} from '../../src/fleet/auto-scaling.js'
import { FakeClock } from '../__fixtures__/fake-aws.js'

const BLUE = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123456789abcdef'
const GREEN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/fedcba9876543210'

interface Group {
  AutoScalingGroupName: string
  TargetGroupARNs: string[]
  MinSize: number
  MaxSize: number
  DesiredCapacity: number
  Instances: Array<{ InstanceId: string; LifecycleState: string; HealthStatus: string }>
  SuspendedProcesses: Array<{ ProcessName: string }>
}

const mock = mockClient(AutoScalingClient)
const client = new AutoScalingClient({ region: 'us-east-1' })
let groups: Group[]
const lines: string[] = []
const log: Log = {
  info: (m) => void lines.push(m),
  debug: () => undefined,
  notice: (m) => void lines.push(`notice: ${m}`),
  warning: (m) => void lines.push(`warning: ${m}`),
  error: (m) => void lines.push(`error: ${m}`),
  group: (_title, phase) => phase()
}

const inService = (...ids: string[]) =>
  ids.map((InstanceId) => ({ InstanceId, LifecycleState: 'InService', HealthStatus: 'Healthy' }))

beforeEach(() => {
  mock.reset()
  lines.length = 0
  groups = [
    {
      AutoScalingGroupName: 'web-blue-asg',
      TargetGroupARNs: [BLUE],
      MinSize: 0,
      MaxSize: 6,
      DesiredCapacity: 2,
      Instances: inService('i-b1', 'i-b2'),
      SuspendedProcesses: []
    },
    {
      AutoScalingGroupName: 'web-green-asg',
      TargetGroupARNs: [GREEN],
      MinSize: 0,
      MaxSize: 6,
      DesiredCapacity: 0,
      Instances: [],
      SuspendedProcesses: [{ ProcessName: 'AZRebalance' }]
    }
  ]
  mock.on(DescribeAutoScalingGroupsCommand).callsFake((input: { AutoScalingGroupNames?: string[] }) => ({
    AutoScalingGroups: structuredClone(
      groups.filter((g) => !input.AutoScalingGroupNames || input.AutoScalingGroupNames.includes(g.AutoScalingGroupName))
    )
  }))
  mock.on(DescribeAutoScalingInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
    AutoScalingInstances: groups.flatMap((g) =>
      g.Instances.filter((i) => input.InstanceIds.includes(i.InstanceId)).map((i) => ({
        InstanceId: i.InstanceId,
        AutoScalingGroupName: g.AutoScalingGroupName
      }))
    )
  }))
  const named = (name: string) => groups.find((g) => g.AutoScalingGroupName === name)!
  mock.on(SuspendProcessesCommand).callsFake((input: { AutoScalingGroupName: string; ScalingProcesses: string[] }) => {
    const g = named(input.AutoScalingGroupName)
    for (const p of input.ScalingProcesses)
      if (!g.SuspendedProcesses.some((s) => s.ProcessName === p)) g.SuspendedProcesses.push({ ProcessName: p })
    return {}
  })
  mock.on(ResumeProcessesCommand).callsFake((input: { AutoScalingGroupName: string; ScalingProcesses: string[] }) => {
    const g = named(input.AutoScalingGroupName)
    g.SuspendedProcesses = g.SuspendedProcesses.filter((s) => !input.ScalingProcesses.includes(s.ProcessName))
    return {}
  })
})

describe('detecting the groups behind the fleets', () => {
  it('by the fleets’ instances when both have some: no listing of every group', async () => {
    groups[1].Instances = inService('i-g1')
    groups[1].DesiredCapacity = 1
    const [blue, green] = await detectFleetGroups(client, [
      { targetGroupArn: BLUE, registeredIds: ['i-b1', 'i-b2', 'i-plain'] },
      { targetGroupArn: GREEN, registeredIds: ['i-g1'] }
    ])
    expect(blue.groups.map((g) => g.name)).toEqual(['web-blue-asg'])
    expect(blue.plainInstanceIds).toEqual(['i-plain'])
    expect(green.groups.map((g) => g.name)).toEqual(['web-green-asg'])
    expect(mock.commandCalls(DescribeAutoScalingGroupsCommand)[0].args[0].input.AutoScalingGroupNames).toEqual([
      'web-blue-asg',
      'web-green-asg'
    ])
  })

  it('a fleet with no instance (cold or retired) is found by its group’s target groups', async () => {
    const [, green] = await detectFleetGroups(client, [
      { targetGroupArn: BLUE, registeredIds: ['i-b1', 'i-b2'] },
      { targetGroupArn: GREEN, registeredIds: [] }
    ])
    expect(green.groups.map((g) => [g.name, g.desiredCapacity])).toEqual([['web-green-asg', 0]])
    expect(mock.commandCalls(DescribeAutoScalingInstancesCommand)).toHaveLength(0)
  })

  it('plain fleets stay plain', async () => {
    groups = []
    const fleets = await detectFleetGroups(client, [
      { targetGroupArn: BLUE, registeredIds: ['i-1'] },
      { targetGroupArn: GREEN, registeredIds: ['i-2'] }
    ])
    expect(fleets.map((f) => [f.groups.length, f.plainInstanceIds])).toEqual([
      [0, ['i-1']],
      [0, ['i-2']]
    ])
  })
})

describe('waiting for a scaled group', () => {
  function views(states: Map<string, string>, managed: Set<string>): InstanceViews {
    return {
      targetStates: async () => new Map(states),
      managedBySsm: async (ids) => new Set(ids.filter((id) => managed.has(id)))
    }
  }

  it('returns once every instance is InService, registered and managed by SSM', async () => {
    const clock = new FakeClock()
    const states = new Map<string, string>()
    const managed = new Set<string>()
    groups[1].DesiredCapacity = 2
    groups[1].Instances = [
      { InstanceId: 'i-g1', LifecycleState: 'Pending', HealthStatus: 'Healthy' },
      { InstanceId: 'i-g2', LifecycleState: 'Pending', HealthStatus: 'Healthy' }
    ]
    let polls = 0
    clock.onTick = () => {
      polls++
      if (polls === 2) groups[1].Instances = inService('i-g1', 'i-g2')
      if (polls === 3) for (const id of ['i-g1', 'i-g2']) states.set(id, 'initial')
      if (polls === 4) managed.add('i-g1').add('i-g2')
    }
    const ready = await waitUntilReady(client, {
      groupName: 'web-green-asg',
      targetGroupArn: GREEN,
      needs: { managedBySsm: true, healthy: false },
      views: views(states, managed),
      clock,
      log,
      timeoutMs: 60_000,
      timeoutInput: 'health-timeout'
    })
    expect(ready.instanceIds).toEqual(['i-g1', 'i-g2'])
    expect(lines).toEqual([
      'web-green-asg: 0/2 InService, 0 registered, 0 managed by SSM',
      'web-green-asg: 2/2 InService, 0 registered, 0 managed by SSM',
      'web-green-asg: 2/2 InService, 2 registered, 0 managed by SSM',
      'web-green-asg: 2/2 InService, 2 registered, 2 managed by SSM'
    ])
  })

  it('fails at the timeout naming what was missing and the input to raise', async () => {
    const clock = new FakeClock()
    groups[1].DesiredCapacity = 1
    groups[1].Instances = inService('i-g1')
    await expect(
      waitUntilReady(client, {
        groupName: 'web-green-asg',
        targetGroupArn: GREEN,
        needs: { managedBySsm: false, healthy: true },
        views: views(new Map([['i-g1', 'unhealthy']]), new Set()),
        clock,
        log,
        timeoutMs: 30_000,
        timeoutInput: 'health-timeout'
      })
    ).rejects.toThrow(
      'Auto Scaling group web-green-asg was not ready after health-timeout (30s): not healthy: i-g1 unhealthy; raise health-timeout'
    )
  })
})

describe('holding the new fleet still', () => {
  it('suspends what the user had not, and resumes exactly that, leaving the user’s own suspension', async () => {
    const [, green] = await detectFleetGroups(client, [
      { targetGroupArn: BLUE, registeredIds: ['i-b1'] },
      { targetGroupArn: GREEN, registeredIds: [] }
    ])
    const suspended = await holdStill(client, green.groups[0], log)
    expect(suspended).toEqual(['Launch', 'Terminate', 'ReplaceUnhealthy'])
    expect(groups[1].SuspendedProcesses.map((p) => p.ProcessName)).toEqual([
      'AZRebalance',
      'Launch',
      'Terminate',
      'ReplaceUnhealthy'
    ])
    expect(lines.at(-1)).toContain('left alone: AZRebalance')

    await release(client, 'web-green-asg', suspended, log)
    expect(groups[1].SuspendedProcesses.map((p) => p.ProcessName)).toEqual(['AZRebalance'])
    expect(mock.commandCalls(ResumeProcessesCommand)[0].args[0].input.ScalingProcesses).toEqual([
      'Launch',
      'Terminate',
      'ReplaceUnhealthy'
    ])
  })

  it('nothing suspended by the action: nothing resumed, no call', async () => {
    await release(client, 'web-green-asg', [], log)
    groups[1].SuspendedProcesses = []
    await release(client, 'web-green-asg', ['Launch'], log)
    expect(mock.commandCalls(ResumeProcessesCommand)).toHaveLength(0)
  })
})
