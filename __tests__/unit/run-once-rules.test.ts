// The pure rules around the run-once hooks: which instance runs a hook, what the plan says, the
// contract record on AWS, when a rollback may cross a contract, and what a staged canary is.
import { describe, expect, it } from '@jest/globals'
import {
  type Contract,
  currentContract,
  describeContract,
  judgeRollbackPastContract,
  rollbackSafety
} from '../../src/plan/contract-guard.js'
import { chooseHookInstance, describeHooks, hookParameters } from '../../src/plan/run-once-plan.js'
import { refuseOverStagedCanary, stagedCanary } from '../../src/plan/staged-canary.js'
import { CONTRACT_TAG, decodeContract, encodeContract } from '../../src/records/contract-record.js'
import type { TrafficState } from '../../src/plan/traffic-state.js'

const BLUE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-blue/0123456789abcdef'
const GREEN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-green/fedcba9876543210'
const RUN = 'https://github.com/acme/web/actions/runs/77/attempts/2'
const DEPLOYED = '2026-11-27T12:00:00.000Z'
const contract = (state: Contract['state'] = 'done'): Contract => ({
  state,
  at: '2026-11-27T12:30:00.000Z',
  deployedAt: DEPLOYED,
  run: RUN
})

describe('chooseHookInstance', () => {
  it('the first healthy instance by id, whatever order they are listed in', () => {
    const health = [
      { id: 'i-0c', state: 'healthy' },
      { id: 'i-0a', state: 'unhealthy' },
      { id: 'i-0b', state: 'healthy' }
    ]
    expect(chooseHookInstance(['i-0c', 'i-0a', 'i-0b'], health)).toBe('i-0b')
    expect(chooseHookInstance(['i-0c', 'i-0a', 'i-0b'])).toBe('i-0a')
    expect(chooseHookInstance(['i-0a'], [{ id: 'i-0a', state: 'draining' }])).toBeUndefined()
  })
})

describe('hookParameters', () => {
  it("the deploy's document parameters, with the hook's lines as the commands", () => {
    expect(
      hookParameters({ commands: ['./deploy.sh'], workingDirectory: ['/srv/web'] }, ['./manage.py migrate'])
    ).toEqual({
      commands: ['./manage.py migrate'],
      workingDirectory: ['/srv/web']
    })
  })
})

describe('describeHooks', () => {
  const plan = { newFleet: GREEN, oldFleet: BLUE, instanceId: 'i-0a', pauses: false }
  it('names each hook, where it runs and when, in the order they run', () => {
    expect(
      describeHooks({ operation: 'deploy', beforeTrafficCommands: ['a', 'b'], contractCommands: ['c'] }, plan)
    ).toEqual([
      'before-traffic-commands (2 lines): once, on i-0a of web-green, after its commands and health checks, before any traffic moves; a failure moves no traffic',
      'contract-commands (1 line): once, on i-0a of web-green, after it took all traffic and the final hold passed; from then on rollback to web-blue is refused'
    ])
  })
  it('a run that pauses says its contract belongs to the promote', () => {
    expect(
      describeHooks(
        { operation: 'deploy', beforeTrafficCommands: [], contractCommands: ['c'] },
        { ...plan, pauses: true }
      )
    ).toEqual([
      'contract-commands: not run by this deploy, which pauses before 100%; give them to the promote that finishes it'
    ])
  })
  it('a promote runs no before-traffic hook; no hooks, no lines', () => {
    expect(describeHooks({ operation: 'promote', beforeTrafficCommands: ['a'], contractCommands: [] }, plan)).toEqual(
      []
    )
  })
})

describe('the contract record', () => {
  it('round-trips through a tag value, which allows only letters, digits, spaces and _ . : / = + - @', () => {
    const value = encodeContract(contract('started'))
    expect(value).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u)
    expect(decodeContract(value)).toEqual(contract('started'))
    expect(CONTRACT_TAG).toBe('bluegreen:contract')
  })
  it('a run URL with characters a tag cannot hold is kept recognisable', () => {
    const decoded = decodeContract(encodeContract({ ...contract(), run: 'local run on my laptop (x)' }))
    expect(decoded?.run).toBe('local-run-on-my-laptop--x-')
  })
  it.each([undefined, '', 'garbage', 'state=maybe at=x deployed=y run=z'])('%p is no contract', (value) => {
    expect(decodeContract(value)).toBeUndefined()
  })
  it('binds only the deploy it was recorded for: a later deploy to the fleet leaves it as history', () => {
    expect(currentContract(contract(), { deployedAt: DEPLOYED })).toEqual(contract())
    expect(currentContract(contract(), { deployedAt: '2026-12-01T00:00:00.000Z' })).toBeUndefined()
    expect(currentContract(undefined, { deployedAt: DEPLOYED })).toBeUndefined()
  })
  it.each([
    ['done', 'ran'],
    ['failed', 'failed partway'],
    ['started', 'started and never reported an end']
  ] as const)('a %s contract is described as %p', (state, how) => {
    expect(describeContract(contract(state), GREEN, 'v2')).toBe(
      `contract-commands of v2 on web-green ${how} at 2026-11-27T12:30:00.000Z in ${RUN}`
    )
  })
})

describe('judgeRollbackPastContract', () => {
  const from = { arn: GREEN, version: 'v2', contract: contract() }
  const target = { arn: BLUE, version: 'v1' }
  it('refuses, naming the run, the time and what to do instead', () => {
    expect(() => judgeRollbackPastContract(from, target, false)).toThrow(
      `Rollback refused: contract-commands of v2 on web-green ran at 2026-11-27T12:30:00.000Z in ${RUN}, so web-blue (v1) may no longer work with the data; deploy a fix forward instead (a new version goes to web-blue), or set allow-rollback-past-contract: true if you know web-blue (v1) still works`
    )
  })
  it('with the override, allows it and says what was overridden', () => {
    expect(judgeRollbackPastContract(from, target, true).warning).toMatch(
      /^Rolling back past a contract, as allow-rollback-past-contract asks: contract-commands of v2 .* web-blue \(v1\) may fail on the data it changed$/
    )
  })
  it('no contract, nothing to say', () => {
    expect(judgeRollbackPastContract({ arn: GREEN }, target, false)).toEqual({})
  })
})

describe('rollbackSafety', () => {
  const traffic = (live: string, idle: string): TrafficState => ({
    pair: [BLUE, GREEN],
    routes: [],
    percent: { [live]: 100, [idle]: 0 },
    live,
    idle,
    mixed: false
  })
  const healthy = [{ id: 'i-1', state: 'healthy' }]
  const fleets = (greenContract?: Contract, blueRole = 'previous') => ({
    [BLUE]: { record: { role: blueRole, version: 'v1' }, instances: healthy },
    [GREEN]: {
      record: { role: 'live', version: 'v2', deployedAt: DEPLOYED },
      instances: healthy,
      contract: greenContract
    }
  })
  it.each([
    [
      undefined,
      'previous',
      true,
      'web-blue (v1) is a safe rollback target: back to the previous release, healthy, no contract since'
    ],
    [
      contract(),
      'previous',
      false,
      `web-blue (v1) is NOT a safe rollback target: contract-commands of v2 on web-green ran at 2026-11-27T12:30:00.000Z in ${RUN}; deploy a fix forward`
    ],
    [
      contract('failed'),
      'previous',
      false,
      'web-blue (v1) is NOT a safe rollback target: contract-commands of v2 on web-green failed partway'
    ],
    [undefined, 'failed', false, 'No safe rollback target: web-blue holds a failed deploy of v1']
  ] as const)('contract %p, previous fleet recorded %p: safe %p', (c, role, safe, line) => {
    const result = rollbackSafety({ traffic: traffic(GREEN, BLUE), fleets: fleets(c, role) })
    expect(result.safe).toBe(safe)
    expect(result.line.startsWith(line)).toBe(true)
  })
})

describe('staged canary (canary-steps 0)', () => {
  const traffic = { live: BLUE, idle: GREEN, mixed: false }
  it('is the idle fleet recorded as the canary while all traffic is on the other', () => {
    expect(stagedCanary(traffic, { [GREEN]: { record: { role: 'canary' } } })).toBe(GREEN)
    expect(stagedCanary(traffic, { [GREEN]: { record: { role: 'previous' } } })).toBeUndefined()
    expect(stagedCanary({ mixed: true }, { [GREEN]: { record: { role: 'canary' } } })).toBeUndefined()
  })
  it('refuses a deploy over it, naming its version', () => {
    expect(() => refuseOverStagedCanary(traffic, { [GREEN]: { record: { role: 'canary', version: 'v2' } } })).toThrow(
      'A canary of v2 is staged at 0% on web-green; run promote to finish it or rollback to drop it, then deploy'
    )
    expect(() => refuseOverStagedCanary(traffic, { [GREEN]: { record: { role: 'live' } } })).not.toThrow()
  })
})
