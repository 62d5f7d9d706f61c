// The pair's lock (a tag on one of its target groups): who may take it, when it is taken over,
// and that a run only ever removes its own.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { AddTagsCommand, RemoveTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
import { DeployError } from '../../src/config/errors.js'
import { decodeLock, encodeLock, TAG } from '../../src/records/fleet-records.js'
import { acquireLock, holdsLock, type LockHolder, lockHolderArn, releaseLock } from '../../src/records/lock.js'
import { BLUE, context, FakeAws, FakeClock, GREEN, ListLog } from '../__fixtures__/fake-aws.js'

let clock: FakeClock
let aws: FakeAws
let log: ListLog
const elb = () => context(clock).clients.elb

const ME: LockHolder = { id: 'run-1', url: 'https://github.com/o/r/actions/runs/1/attempts/1' }
const OTHER = { id: 'run-99', holder: 'https://github.com/o/r/actions/runs/99/attempts/1' }
const TTL = 40 * 60_000

beforeEach(() => {
  clock = new FakeClock()
  aws = new FakeAws(clock)
  log = new ListLog()
})
afterEach(() => aws.reset())

function heldBy(holder: { id: string; holder: string }, expiresAt: number): void {
  aws.tags.set(BLUE, { ...aws.tags.get(BLUE), [TAG.lock]: encodeLock({ ...holder, expiresAt }) })
}
const lockOn = (arn: string) => decodeLock(aws.tags.get(arn)?.[TAG.lock])

describe('acquireLock', () => {
  it('takes a free lock for the TTL, after waiting a moment and reading it back', async () => {
    const start = clock.now()
    await acquireLock(elb(), BLUE, ME, TTL, clock, log)
    expect(lockOn(BLUE)).toEqual({ id: 'run-1', holder: ME.url, expiresAt: start + TTL })
    // The settle wait comes between the write and the read-back.
    expect(clock.sleeps).toHaveLength(1)
    const names = aws.elb.calls().map((c) => c.args[0].constructor.name)
    expect(names).toEqual(['DescribeTagsCommand', 'AddTagsCommand', 'DescribeTagsCommand'])
    expect(log.lines).toEqual([])
  })

  it('leaves the other tags of the group as they were', async () => {
    aws.tags.set(BLUE, { [TAG.version]: 'v1', [TAG.role]: 'live' })
    await acquireLock(elb(), BLUE, ME, TTL, clock, log)
    expect(aws.tags.get(BLUE)).toMatchObject({ [TAG.version]: 'v1', [TAG.role]: 'live' })
  })

  it('refuses a lock held by another live run, naming the holder and the group, and writes nothing', async () => {
    const until = clock.now() + 600_000
    heldBy(OTHER, until)
    const taking = acquireLock(elb(), BLUE, ME, TTL, clock, log)
    await expect(taking).rejects.toThrow(DeployError)
    await expect(taking).rejects.toThrow(
      `Another run holds the deploy lock on web-blue until ${new Date(until).toISOString()}: ${OTHER.holder}`
    )
    expect(aws.elb.commandCalls(AddTagsCommand)).toHaveLength(0)
    expect(lockOn(BLUE)?.id).toBe('run-99')
  })

  it('takes over an expired lock with a warning naming the old holder', async () => {
    heldBy(OTHER, clock.now() - 1000)
    await acquireLock(elb(), BLUE, ME, TTL, clock, log)
    expect(lockOn(BLUE)?.id).toBe('run-1')
    expect(log.lines).toEqual([
      `warning: Taking over an expired deploy lock (expired ${new Date(clock.now() - 1100).toISOString()}) from ${OTHER.holder}`
    ])
  })

  it('with force takes the lock from a live holder, warning that the holder stops at its next step', async () => {
    heldBy(OTHER, clock.now() + 600_000)
    await acquireLock(elb(), BLUE, ME, TTL, clock, log, { force: true })
    expect(lockOn(BLUE)?.id).toBe('run-1')
    expect(log.text()).toMatch(/^warning: Taking the deploy lock from https:\/\/github.com\/o\/r\/actions\/runs\/99/)
    expect(log.text()).toMatch(/a rollback goes first; that run stops changing traffic at its next step/)
  })

  it('re-takes its own lock (a retried step) without a warning', async () => {
    heldBy({ id: ME.id, holder: ME.url }, clock.now() + 600_000)
    await acquireLock(elb(), BLUE, ME, TTL, clock, log)
    expect(lockOn(BLUE)?.expiresAt).toBe(clock.now() - 100 + TTL)
    expect(log.lines).toEqual([])
  })

  it('trusts the lock as discovery read it, and does not read it again before writing', async () => {
    // known: null means discovery saw no lock; the tag written since is found at the read-back.
    await acquireLock(elb(), BLUE, ME, TTL, clock, log, { known: null })
    expect(aws.elb.calls().map((c) => c.args[0].constructor.name)).toEqual(['AddTagsCommand', 'DescribeTagsCommand'])

    const known = { ...OTHER, expiresAt: clock.now() + 600_000 }
    await expect(acquireLock(elb(), GREEN, ME, TTL, clock, log, { known })).rejects.toThrow(/runs\/99/)
  })

  it('gives way to a run that wrote its lock at the same moment', async () => {
    const taking = acquireLock(elb(), BLUE, ME, TTL, clock, log, {
      whileSettling: async () => heldBy(OTHER, clock.now() + TTL)
    })
    await expect(taking).rejects.toThrow(
      `Another run took the deploy lock at the same moment: ${OTHER.holder}; run this one again once it has finished`
    )
    // The other run's lock stays: only a run's own lock is ever removed.
    expect(lockOn(BLUE)?.id).toBe('run-99')
  })

  it('releases its lock when the work done while settling fails, and rethrows', async () => {
    const taking = acquireLock(elb(), BLUE, ME, TTL, clock, log, {
      whileSettling: async () => {
        throw new Error('DescribeListeners throttled')
      }
    })
    await expect(taking).rejects.toThrow('DescribeListeners throttled')
    expect(aws.tags.get(BLUE)?.[TAG.lock]).toBeUndefined()
  })
})

describe('holdsLock', () => {
  it.each([
    ['this run holds it', { id: 'run-1', holder: ME.url }, true],
    ['another run took it', OTHER, false],
    ['nobody holds it', undefined, false]
  ])('%s', async (_case, holder, holds) => {
    if (holder) heldBy(holder, clock.now() + 60_000)
    expect(await holdsLock(elb(), BLUE, ME)).toBe(holds)
  })
})

describe('releaseLock', () => {
  it('removes the lock this run holds and only that tag', async () => {
    aws.tags.set(BLUE, { [TAG.role]: 'live' })
    heldBy({ id: ME.id, holder: ME.url }, clock.now() + 60_000)
    expect(await releaseLock(elb(), BLUE, ME)).toBe(true)
    expect(aws.tags.get(BLUE)).toEqual({ [TAG.role]: 'live' })
  })

  it("never removes another run's lock", async () => {
    heldBy(OTHER, clock.now() + 60_000)
    expect(await releaseLock(elb(), BLUE, ME)).toBe(false)
    expect(lockOn(BLUE)?.id).toBe('run-99')
    expect(aws.elb.commandCalls(RemoveTagsCommand)).toHaveLength(0)
  })

  it('does nothing when there is no lock', async () => {
    expect(await releaseLock(elb(), BLUE, ME)).toBe(false)
    expect(aws.elb.commandCalls(RemoveTagsCommand)).toHaveLength(0)
  })
})

describe('lockHolderArn', () => {
  it('is the same pair member whichever way round the pair was found', () => {
    expect(lockHolderArn([BLUE, GREEN])).toBe(BLUE)
    expect(lockHolderArn([GREEN, BLUE])).toBe(BLUE)
  })
})
