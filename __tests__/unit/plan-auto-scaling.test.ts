// Pure decisions about Auto Scaling fleets: plain data in, plain data out, no mocks.
import { describe, expect, it } from '@jest/globals'
import type { ScalingGroup } from '../../src/aws/auto-scaling.js'
import {
  fleetCapacity,
  fleetGroups,
  HOLD_STILL_PROCESSES,
  needsGroupListing,
  planComeBack,
  planRetire,
  planScaleUp,
  processesToResume,
  processesToSuspend,
  readiness
} from '../../src/plan/auto-scaling.js'

const BLUE = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123456789abcdef'
const GREEN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/fedcba9876543210'

function group(name: string, over: Partial<ScalingGroup> = {}, ids: string[] = []): ScalingGroup {
  return {
    name,
    arn: `arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/${name}`,
    minSize: 0,
    maxSize: 10,
    desiredCapacity: ids.length,
    targetGroupArns: [],
    instances: ids.map((id) => ({ id, lifecycleState: 'InService', healthy: true })),
    suspendedProcesses: [],
    ...over
  }
}

const blueAsg = group('web-blue-asg', { targetGroupArns: [BLUE] }, ['i-b1', 'i-b2', 'i-b3'])
const coldGreen = group('web-green-asg', { targetGroupArns: [GREEN], desiredCapacity: 1 }, ['i-g1'])

describe('which groups back a fleet', () => {
  it('groups attached to the target group back it; registered instances they do not hold are plain', () => {
    const other = group('batch-asg', { targetGroupArns: ['arn:other'] }, ['i-x'])
    const f = fleetGroups(BLUE, ['i-b1', 'i-b2', 'i-b3', 'i-manual'], [other, blueAsg])
    expect(f.groups.map((g) => g.name)).toEqual(['web-blue-asg'])
    expect(f.plainInstanceIds).toEqual(['i-manual'])
    expect(fleetCapacity(f)).toBe(4)
  })

  it('a plain fleet has no group and all its instances are plain', () => {
    const f = fleetGroups(GREEN, ['i-1', 'i-2'], [blueAsg])
    expect(f.groups).toEqual([])
    expect(f.plainInstanceIds).toEqual(['i-1', 'i-2'])
  })

  it('only a fleet with no registered instance needs the listing of every group', () => {
    expect(needsGroupListing([3, 3])).toBe(false)
    expect(needsGroupListing([3, 0])).toBe(true)
  })
})

describe('scaling a cold idle fleet', () => {
  const live = fleetGroups(BLUE, ['i-b1', 'i-b2', 'i-b3'], [blueAsg])

  it('an idle group smaller than the live fleet is scaled to the live fleet capacity', () => {
    expect(planScaleUp(fleetGroups(GREEN, ['i-g1'], [coldGreen]), live)).toEqual({
      kind: 'scale',
      group: 'web-green-asg',
      from: 1,
      to: 3
    })
    const empty = group('web-green-asg', { targetGroupArns: [GREEN], desiredCapacity: 0 })
    expect(planScaleUp(fleetGroups(GREEN, [], [empty]), live)).toEqual({
      kind: 'scale',
      group: 'web-green-asg',
      from: 0,
      to: 3
    })
  })

  it('the live fleet may be plain instances: its instance count is its capacity', () => {
    const plainLive = fleetGroups(BLUE, ['i-1', 'i-2'], [])
    expect(planScaleUp(fleetGroups(GREEN, ['i-g1'], [coldGreen]), plainLive)).toEqual({
      kind: 'scale',
      group: 'web-green-asg',
      from: 1,
      to: 2
    })
  })

  it('nothing to do for a plain idle fleet, or one as large as the live one', () => {
    expect(planScaleUp(fleetGroups(GREEN, ['i-1'], []), live)).toEqual({ kind: 'none' })
    const warm = group('web-green-asg', { targetGroupArns: [GREEN] }, ['i-g1', 'i-g2', 'i-g3'])
    expect(planScaleUp(fleetGroups(GREEN, ['i-g1', 'i-g2', 'i-g3'], [warm]), live)).toEqual({ kind: 'none' })
  })

  it('never past MaxSize, and not when several groups back the idle fleet: says what to do', () => {
    const small = group('web-green-asg', { targetGroupArns: [GREEN], maxSize: 2 }, ['i-g1'])
    const refused = planScaleUp(fleetGroups(GREEN, ['i-g1'], [small]), live)
    expect(refused).toEqual({
      kind: 'refuse',
      message: expect.stringMatching(
        /web-green-asg can run at most 2 instances \(MaxSize\).*raise its MaxSize to at least 3/
      )
    })
    const second = group('web-green-b', { targetGroupArns: [GREEN] }, [])
    const two = planScaleUp(fleetGroups(GREEN, ['i-g1'], [coldGreen, second]), live)
    expect(two).toEqual({
      kind: 'refuse',
      message: expect.stringContaining('2 Auto Scaling groups (web-green-asg, web-green-b)')
    })
  })
})

describe('holding the new fleet still', () => {
  it('suspends Launch, Terminate, ReplaceUnhealthy and AZRebalance, except what is suspended already', () => {
    expect(HOLD_STILL_PROCESSES).toEqual(['Launch', 'Terminate', 'ReplaceUnhealthy', 'AZRebalance'])
    expect(processesToSuspend(group('g'))).toEqual(['Launch', 'Terminate', 'ReplaceUnhealthy', 'AZRebalance'])
    expect(
      processesToSuspend(group('g', { suspendedProcesses: ['AZRebalance', 'AlarmNotification', 'Launch'] }))
    ).toEqual(['Terminate', 'ReplaceUnhealthy'])
  })

  it('resumes only what the action suspended and is still suspended, never the user’s own', () => {
    // The user had AZRebalance suspended before; the action suspended the other three.
    expect(
      processesToResume(
        ['Launch', 'Terminate', 'ReplaceUnhealthy'],
        ['AZRebalance', 'Launch', 'Terminate', 'ReplaceUnhealthy']
      )
    ).toEqual(['Launch', 'Terminate', 'ReplaceUnhealthy'])
    // Someone resumed Launch meanwhile: nothing to do for it.
    expect(processesToResume(['Launch', 'Terminate'], ['Terminate'])).toEqual(['Terminate'])
    expect(processesToResume([], ['Launch'])).toEqual([])
  })
})

describe('when a scaled group is ready', () => {
  const scaling = group('web-green-asg', { desiredCapacity: 3 }, ['i-1', 'i-2'])
  scaling.instances.push({ id: 'i-3', lifecycleState: 'Pending', healthy: true })
  const all = new Set(['i-1', 'i-2', 'i-3'])

  it('not while an instance is Pending, and it says what is missing', () => {
    const r = readiness(
      scaling,
      new Map([
        ['i-1', 'initial'],
        ['i-2', 'initial']
      ]),
      all,
      { managedBySsm: true, healthy: false }
    )
    expect(r.ready).toBe(false)
    expect(r.missing).toEqual(['2 of 3 instances InService'])
    expect(r.summary).toBe('web-green-asg: 2/3 InService, 2 registered, 2 managed by SSM')
  })

  it('InService, registered and managed by SSM is ready for the commands; a rollback also needs healthy', () => {
    const done = group('web-green-asg', { desiredCapacity: 3 }, ['i-1', 'i-2', 'i-3'])
    const states = new Map([
      ['i-1', 'initial'],
      ['i-2', 'healthy'],
      ['i-3', 'unhealthy']
    ])
    expect(readiness(done, states, all, { managedBySsm: true, healthy: false })).toMatchObject({
      ready: true,
      instanceIds: ['i-1', 'i-2', 'i-3']
    })
    const forRollback = readiness(done, states, new Set(), { managedBySsm: false, healthy: true })
    expect(forRollback.ready).toBe(false)
    expect(forRollback.missing).toEqual(['not healthy: i-1 initial, i-3 unhealthy'])
    const unmanaged = readiness(done, states, new Set(['i-1']), { managedBySsm: true, healthy: false })
    expect(unmanaged.missing).toEqual(['not managed by SSM yet: i-2, i-3'])
  })

  it('an instance not registered, or draining, is not ready; a terminating one does not count', () => {
    const g = group('web-green-asg', { desiredCapacity: 2 }, ['i-1', 'i-2'])
    g.instances.push({ id: 'i-old', lifecycleState: 'Terminating', healthy: false })
    const r = readiness(
      g,
      new Map([
        ['i-1', 'healthy'],
        ['i-2', 'draining']
      ]),
      new Set(),
      { managedBySsm: false, healthy: false }
    )
    expect(r.missing).toEqual(['not registered in the target group: i-2'])
    expect(r.instanceIds).toEqual(['i-1', 'i-2'])
  })
})

describe('retire and bring back', () => {
  it('retire scales the one group to zero, MinSize included, remembering the size', () => {
    const g = group('web-blue-asg', { targetGroupArns: [BLUE], minSize: 2 }, ['i-b1', 'i-b2', 'i-b3'])
    expect(planRetire(fleetGroups(BLUE, ['i-b1', 'i-b2', 'i-b3'], [g]), 'web-blue')).toEqual({
      kind: 'retire',
      group: 'web-blue-asg',
      before: { minSize: 2, desiredCapacity: 3 },
      after: { minSize: 0, desiredCapacity: 0 }
    })
  })

  it('refuses a plain fleet, a mixed one and one of several groups; an empty group is already retired', () => {
    expect(planRetire(fleetGroups(BLUE, ['i-1'], []), 'web-blue')).toMatchObject({
      kind: 'refuse',
      message: expect.stringContaining('not an Auto Scaling group')
    })
    expect(planRetire(fleetGroups(BLUE, ['i-b1', 'i-b2', 'i-b3', 'i-manual'], [blueAsg]), 'web-blue')).toMatchObject({
      kind: 'refuse',
      message: expect.stringContaining('i-manual')
    })
    const second = group('web-blue-b', { targetGroupArns: [BLUE] })
    expect(planRetire(fleetGroups(BLUE, ['i-b1', 'i-b2', 'i-b3'], [blueAsg, second]), 'web-blue')).toMatchObject({
      kind: 'refuse'
    })
    const empty = group('web-blue-asg', { targetGroupArns: [BLUE], desiredCapacity: 0 })
    expect(planRetire(fleetGroups(BLUE, [], [empty]), 'web-blue')).toEqual({ kind: 'already', group: 'web-blue-asg' })
  })

  it('a retired fleet comes back at the live fleet capacity with its recorded MinSize', () => {
    const retired = fleetGroups(
      BLUE,
      [],
      [group('web-blue-asg', { targetGroupArns: [BLUE], desiredCapacity: 0, maxSize: 6 })]
    )
    expect(planComeBack(retired, 4, { minSize: 2, desiredCapacity: 3 })).toEqual({
      kind: 'scale',
      group: 'web-blue-asg',
      from: 0,
      to: { minSize: 2, desiredCapacity: 4 }
    })
    expect(planComeBack(retired, 7, undefined)).toMatchObject({
      kind: 'refuse',
      message: expect.stringContaining('MaxSize')
    })
    const running = fleetGroups(BLUE, ['i-b1', 'i-b2', 'i-b3'], [blueAsg])
    expect(planComeBack(running, 3, undefined)).toEqual({ kind: 'none' })
  })
})
