// The thin Auto Scaling calls: batched at the API's limits, never an empty process list.
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand
} from '@aws-sdk/client-auto-scaling'
import { beforeEach, describe, expect, it } from '@jest/globals'
import { mockClient } from 'aws-sdk-client-mock'
import {
  describeAllGroups,
  describeGroups,
  groupNamesOfInstances,
  resumeProcesses,
  suspendProcesses,
  toScalingGroup
} from '../../src/aws/auto-scaling.js'

const mock = mockClient(AutoScalingClient)
const client = new AutoScalingClient({ region: 'us-east-1' })
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/fedcba9876543210'

beforeEach(() => {
  mock.reset()
})

describe('Auto Scaling calls', () => {
  it('looks instances up 50 at a time and maps each to its group', async () => {
    const ids = Array.from({ length: 120 }, (_, n) => `i-${String(n).padStart(17, '0')}`)
    mock.on(DescribeAutoScalingInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
      AutoScalingInstances: input.InstanceIds.filter((id) => Number(id.slice(2)) % 2 === 0).map((id) => ({
        InstanceId: id,
        AutoScalingGroupName: 'web-green-asg'
      }))
    }))
    const out = await groupNamesOfInstances(client, ids)
    const sizes = mock.commandCalls(DescribeAutoScalingInstancesCommand).map((c) => c.args[0].input.InstanceIds?.length)
    expect(sizes).toEqual([50, 50, 20])
    expect(out.size).toBe(60)
    expect(out.get(ids[0])).toBe('web-green-asg')
    expect(out.has(ids[1])).toBe(false)
  })

  it('follows NextToken when listing every group, and names target groups from both attachment kinds', async () => {
    mock
      .on(DescribeAutoScalingGroupsCommand, { NextToken: undefined })
      .resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'a', TargetGroupARNs: [TG] } as never], NextToken: 't1' })
      .on(DescribeAutoScalingGroupsCommand, { NextToken: 't1' })
      .resolves({
        AutoScalingGroups: [
          {
            AutoScalingGroupName: 'b',
            TrafficSources: [
              { Identifier: TG, Type: 'elbv2' },
              { Identifier: 'vpc-lattice-x', Type: 'vpc-lattice' }
            ]
          } as never
        ]
      })
    const groups = await describeAllGroups(client)
    expect(groups.map((g) => [g.name, g.targetGroupArns])).toEqual([
      ['a', [TG]],
      ['b', [TG]]
    ])
    expect(mock.commandCalls(DescribeAutoScalingGroupsCommand)[0].args[0].input).toMatchObject({ MaxRecords: 100 })
  })

  it('describes named groups in batches of 100', async () => {
    mock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] })
    await describeGroups(
      client,
      Array.from({ length: 150 }, (_, n) => `g${n}`)
    )
    expect(
      mock.commandCalls(DescribeAutoScalingGroupsCommand).map((c) => c.args[0].input.AutoScalingGroupNames?.length)
    ).toEqual([100, 50])
    expect(await describeGroups(client, [])).toEqual([])
    expect(mock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(2)
  })

  it('reads health whichever case AWS writes it in', () => {
    const g = toScalingGroup({
      AutoScalingGroupName: 'g',
      MinSize: 1,
      MaxSize: 4,
      DesiredCapacity: 2,
      Instances: [
        { InstanceId: 'i-1', LifecycleState: 'InService', HealthStatus: 'HEALTHY' } as never,
        { InstanceId: 'i-2', LifecycleState: 'InService', HealthStatus: 'Unhealthy' } as never
      ],
      SuspendedProcesses: [{ ProcessName: 'Launch', SuspensionReason: 'User suspended' }]
    } as never)
    expect(g.instances.map((i) => i.healthy)).toEqual([true, false])
    expect(g.suspendedProcesses).toEqual(['Launch'])
  })

  it('names the processes it suspends and resumes, and refuses an empty list (AWS would take it as every process)', async () => {
    mock.on(SuspendProcessesCommand).resolves({}).on(ResumeProcessesCommand).resolves({})
    await suspendProcesses(client, 'g', ['Launch', 'Terminate'])
    expect(mock.commandCalls(SuspendProcessesCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'g',
      ScalingProcesses: ['Launch', 'Terminate']
    })
    await expect(resumeProcesses(client, 'g', [])).rejects.toThrow(/every process/)
    expect(mock.commandCalls(ResumeProcessesCommand)).toHaveLength(0)
  })
})
