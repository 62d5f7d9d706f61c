import { describe, expect, it } from '@jest/globals'
import type { Route } from '../../src/aws/elbv2.js'
import type { RouteWeights } from '../../src/plan/forward-action.js'
import { planDeploy, planRestore, planSteps, splitWeights } from '../../src/plan/deploy-plan.js'
import {
  decodeLock,
  encodeLock,
  type FleetRecord,
  recordFromTags,
  TAG,
  tagsFromRecord
} from '../../src/records/fleet-records.js'

const PREFIX = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012'
const LISTENER = `${PREFIX}:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2`
const LISTENER_2 = `${PREFIX}:listener/app/web/50dc6c495c0c9188/0123456789abcdef`
const RULE = `${PREFIX}:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`
const BLUE = `${PREFIX}:targetgroup/web-blue/0123456789abcdef`
const GREEN = `${PREFIX}:targetgroup/web-green/fedcba9876543210`
const MIN = 60_000
// ELBv2 tag values: letters, digits, spaces and _ . : / = + - @, up to 256.
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u

const route = (arn: string): Route => ({ kind: arn.includes('listener-rule') ? 'rule' : 'listener', arn, actions: [] })
const at = (arn: string, blue: number, green: number): RouteWeights => ({
  route: route(arn),
  weights: { [BLUE]: blue, [GREEN]: green }
})
const steps = (...weights: number[]) => weights.map((weight) => ({ weight, holdMs: 5 * MIN }))

describe('planSteps', () => {
  it.each([
    ['deploy 10,50,100 from 0', [10, 50, 100], 0, false, [10, 50, 100]],
    ['deploy 10,50 from 0 stops (pauses) at 50', [10, 50], 0, false, [10, 50]],
    ['deploy 10 from 0 stops at 10', [10], 0, false, [10]],
    ['all-at-once', [100], 0, false, [100]],
    ['promote from 10 with 10,50,100', [10, 50, 100], 10, true, [50, 100]],
    ["promote from 10 with 10 (the paused job's steps)", [10], 10, true, [100]],
    ['promote from 50 with 10,50', [10, 50], 50, true, [100]],
    ['promote from 30 with 10,50', [10, 50], 30, true, [50, 100]],
    ['promote from 50 with 10,50,100', [10, 50, 100], 50, true, [100]],
    ['promote with all-at-once', [100], 10, true, [100]]
  ])('%s → %p', (_what, trafficSteps, current, endAtFull, expected) => {
    expect(planSteps({ trafficSteps, stepWaitMs: 5 * MIN }, current, endAtFull)).toEqual(steps(...expected))
  })
  it('holds every step, the final 100% too, for step-wait', () => {
    expect(planSteps({ trafficSteps: [10, 100], stepWaitMs: 0 }, 0, false)).toEqual([
      { weight: 10, holdMs: 0 },
      { weight: 100, holdMs: 0 }
    ])
  })
  it('does not modify the configured steps', () => {
    const config = { trafficSteps: [10, 50], stepWaitMs: MIN }
    planSteps(config, 10, true)
    expect(config.trafficSteps).toEqual([10, 50])
  })
})

describe('splitWeights', () => {
  it('puts percent on the new fleet and the rest on the old', () => {
    expect(splitWeights(GREEN, BLUE, 10)).toEqual({ [GREEN]: 10, [BLUE]: 90 })
    expect(splitWeights(GREEN, BLUE, 100)).toEqual({ [GREEN]: 100, [BLUE]: 0 })
  })
})

describe('planRestore', () => {
  it('restores a route that started on the stable fleet exactly (999/0 stays 999/0)', () => {
    expect(planRestore([at(LISTENER, 999, 0)], BLUE, GREEN)).toEqual({ [LISTENER]: { [BLUE]: 999, [GREEN]: 0 } })
  })
  it('restores 1/0 as 1/0, not as 100/0', () => {
    expect(planRestore([at(RULE, 1, 0)], BLUE, GREEN)).toEqual({ [RULE]: { [BLUE]: 1, [GREEN]: 0 } })
  })
  it('a route caught mid-canary gets stable 100 / new 0', () => {
    expect(planRestore([at(LISTENER, 90, 10)], BLUE, GREEN)).toEqual({ [LISTENER]: { [BLUE]: 100, [GREEN]: 0 } })
  })
  it('a route with all traffic on the new fleet gets stable 100 / new 0', () => {
    expect(planRestore([at(LISTENER, 0, 100)], BLUE, GREEN)).toEqual({ [LISTENER]: { [BLUE]: 100, [GREEN]: 0 } })
  })
  it('plans each route on its own', () => {
    const plan = planRestore([at(LISTENER, 999, 0), at(LISTENER_2, 50, 50), at(RULE, 3, 0)], BLUE, GREEN)
    expect(plan).toEqual({
      [LISTENER]: { [BLUE]: 999, [GREEN]: 0 },
      [LISTENER_2]: { [BLUE]: 100, [GREEN]: 0 },
      [RULE]: { [BLUE]: 3, [GREEN]: 0 }
    })
  })
  it('copies the starting weights rather than sharing them', () => {
    const start = at(LISTENER, 100, 0)
    const plan = planRestore([start], BLUE, GREEN)
    start.weights[BLUE] = 1
    expect(plan[LISTENER][BLUE]).toBe(100)
  })
  it('works with green as the stable fleet', () => {
    expect(planRestore([at(LISTENER, 0, 7), at(LISTENER_2, 20, 80)], GREEN, BLUE)).toEqual({
      [LISTENER]: { [BLUE]: 0, [GREEN]: 7 },
      [LISTENER_2]: { [GREEN]: 100, [BLUE]: 0 }
    })
  })
})

describe('planDeploy', () => {
  const base = {
    pair: [BLUE, GREEN] as const,
    newFleet: GREEN,
    routes: [at(LISTENER, 999, 0), at(RULE, 100, 0)],
    instanceIds: ['i-0aaa', 'i-0bbb'],
    currentWeight: 0,
    endAtFull: false,
    checks: ['alarm web-5xx not in ALARM', 'alarm web-p99 not in ALARM', 'every target of the new fleet healthy']
  }

  it('a full canary does not pause; the plan lists the hold checks as given', () => {
    const plan = planDeploy({ ...base, config: { trafficSteps: [10, 50, 100], stepWaitMs: 5 * MIN } })
    expect(plan).toEqual({
      newFleet: GREEN,
      oldFleet: BLUE,
      instanceIds: ['i-0aaa', 'i-0bbb'],
      steps: steps(10, 50, 100),
      restore: { [LISTENER]: { [BLUE]: 999, [GREEN]: 0 }, [RULE]: { [BLUE]: 100, [GREEN]: 0 } },
      pauses: false,
      checks: ['alarm web-5xx not in ALARM', 'alarm web-p99 not in ALARM', 'every target of the new fleet healthy']
    })
  })
  it('a last step under 100 pauses', () => {
    const plan = planDeploy({
      ...base,
      checks: ['every target of the new fleet healthy'],
      config: { trafficSteps: [10, 50], stepWaitMs: 5 * MIN }
    })
    expect(plan.pauses).toBe(true)
    expect(plan.steps).toEqual(steps(10, 50))
    expect(plan.checks).toEqual(['every target of the new fleet healthy'])
  })
  it('all-at-once does not pause', () => {
    const plan = planDeploy({ ...base, config: { trafficSteps: [100], stepWaitMs: 5 * MIN } })
    expect(plan.steps).toEqual(steps(100))
    expect(plan.pauses).toBe(false)
  })
  it('a promote ends at 100 and does not pause', () => {
    const plan = planDeploy({
      ...base,
      currentWeight: 10,
      endAtFull: true,
      config: { trafficSteps: [10], stepWaitMs: 5 * MIN }
    })
    expect(plan.steps).toEqual(steps(100))
    expect(plan.pauses).toBe(false)
  })
  it('the old fleet is the other pair member, whichever way round the pair is', () => {
    const plan = planDeploy({
      ...base,
      pair: [GREEN, BLUE],
      newFleet: BLUE,
      routes: [at(LISTENER, 0, 100)],
      config: { trafficSteps: [100], stepWaitMs: 0 }
    })
    expect(plan.oldFleet).toBe(GREEN)
    expect(plan.restore).toEqual({ [LISTENER]: { [BLUE]: 0, [GREEN]: 100 } })
  })
})

describe('lock encoding', () => {
  const lock = {
    id: '12345-1',
    holder: 'https://github.com/acme/web/actions/runs/12345/attempts/1',
    expiresAt: Date.UTC(2025, 4, 1, 12, 30, 0)
  }

  it('round-trips', () => {
    const value = encodeLock(lock)
    expect(value).toBe(
      'id=12345-1 expires=2025-05-01T12:30:00.000Z holder=https://github.com/acme/web/actions/runs/12345/attempts/1'
    )
    expect(decodeLock(value)).toEqual(lock)
  })
  it('is a valid tag value: only tag-safe characters', () => {
    const value = encodeLock({
      ...lock,
      holder: 'https://github.com/acme/web/actions/runs/1?check_suite_focus=true#step:3:7 "quoted" <x> & %20'
    })
    expect(value).toMatch(TAG_VALUE)
    expect(decodeLock(value)?.holder).toBe(
      'https://github.com/acme/web/actions/runs/1-check_suite_focus=true-step:3:7 -quoted- -x- - -20'
    )
  })
  it('fits in 256 characters whatever the holder, and still decodes', () => {
    const value = encodeLock({ ...lock, holder: `https://github.com/${'a'.repeat(400)}` })
    expect(value.length).toBeLessThanOrEqual(256)
    expect(value).toMatch(TAG_VALUE)
    const decoded = decodeLock(value)
    expect(decoded?.id).toBe(lock.id)
    expect(decoded?.expiresAt).toBe(lock.expiresAt)
    expect(decoded?.holder.startsWith('https://github.com/aaa')).toBe(true)
  })
  it.each([
    undefined,
    '',
    'garbage',
    'id=1 expires=not-a-date holder=x',
    'id= expires=2025-05-01T12:30:00.000Z holder=x'
  ])('decodes %p as no lock', (value) => {
    expect(decodeLock(value)).toBeUndefined()
  })
  it('decodes an empty holder', () => {
    expect(decodeLock('id=a expires=2025-05-01T12:30:00.000Z holder=')).toEqual({
      id: 'a',
      expiresAt: lock.expiresAt,
      holder: ''
    })
  })
})

describe('fleet records', () => {
  it.each(['live', 'previous', 'canary', 'failed', 'deploying'] as const)('reads role %s', (role) => {
    expect(recordFromTags({ [TAG.role]: role }).role).toBe(role)
  })
  it.each(['active', 'LIVE', '', 'blue'])('ignores unknown role %p', (role) => {
    expect(recordFromTags({ [TAG.role]: role, [TAG.version]: 'v1' })).toEqual({
      version: 'v1',
      role: undefined,
      deployedAt: undefined,
      deployedBy: undefined
    })
  })
  it('reads every field and ignores unrelated tags', () => {
    const tags = {
      [TAG.version]: 'v1.5.0',
      [TAG.role]: 'live',
      [TAG.deployedAt]: '2025-05-01T12:00:00.000Z',
      [TAG.deployedBy]: 'https://github.com/acme/web/actions/runs/42',
      [TAG.lock]: 'id=x expires=2025-05-01T12:30:00.000Z holder=y',
      Name: 'web-green'
    }
    expect(recordFromTags(tags)).toEqual({
      version: 'v1.5.0',
      role: 'live',
      deployedAt: '2025-05-01T12:00:00.000Z',
      deployedBy: 'https://github.com/acme/web/actions/runs/42'
    })
  })
  it('an untagged group has an empty record', () => {
    expect(recordFromTags({})).toEqual({
      version: undefined,
      role: undefined,
      deployedAt: undefined,
      deployedBy: undefined
    })
  })
  it('writes only the fields set, and round-trips', () => {
    const record: FleetRecord = {
      version: 'v2',
      role: 'canary',
      deployedAt: '2025-05-01T12:00:00.000Z',
      deployedBy: 'https://github.com/acme/web/actions/runs/42'
    }
    expect(tagsFromRecord(record)).toEqual({
      'bluegreen:version': 'v2',
      'bluegreen:role': 'canary',
      'bluegreen:deployed-at': '2025-05-01T12:00:00.000Z',
      'bluegreen:deployed-by': 'https://github.com/acme/web/actions/runs/42'
    })
    expect(recordFromTags(tagsFromRecord(record))).toEqual(record)
    expect(tagsFromRecord({ role: 'previous' })).toEqual({ 'bluegreen:role': 'previous' })
  })
  it('makes deployed-by tag-safe', () => {
    const tags = tagsFromRecord({ deployedBy: 'https://example.com/runs/1?x=1#y' })
    expect(tags[TAG.deployedBy]).toBe('https://example.com/runs/1-x=1-y')
    expect(tags[TAG.deployedBy]).toMatch(TAG_VALUE)
  })
})
