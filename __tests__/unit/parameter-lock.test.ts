// The pair's lock in Parameter Store: one holder at a time, however the runs interleave; a run
// that lost it finds out before its next change; waiting, expiry and a rollback's take-over.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import {
  CLOCK_SKEW_MS,
  decodeClaim,
  describeHolder,
  encodeClaim,
  judgeLock,
  LEASE_MS,
  lockParameterName,
  lockPollMs,
  renewalDue,
  RENEW_AFTER_MS,
  TAKEOVER_SETTLE_MS,
  WRITE_WITHIN_MS
} from '../../src/records/lock-claim.js'
import { LockLostError, resumeLock, takeLock, type TakeLockOptions } from '../../src/records/parameter-lock.js'
import { BLUE, FakeClock, GREEN, ListLog } from '../__fixtures__/fake-aws.js'
import { FakeParameterStore } from '../__fixtures__/fake-parameters.js'

const NAME = '/bluegreen/pair/web-blue/lock'
const ssmMock = mockClient(SSMClient)
let clock: FakeClock
let store: FakeParameterStore
let ssm: SSMClient

beforeEach(() => {
  ssmMock.reset()
  clock = new FakeClock()
  store = new FakeParameterStore(ssmMock)
  ssm = new SSMClient({ region: 'us-east-1' })
})
afterEach(() => ssm.destroy())

function options(id: string, over: Partial<TakeLockOptions> = {}): TakeLockOptions & { log: ListLog } {
  return {
    ssm,
    name: NAME,
    run: { id, url: `https://github.com/o/r/actions/runs/${id}/attempts/1` },
    operation: 'deploy',
    clock,
    log: new ListLog(),
    waitMs: 0,
    force: false,
    ...over
  } as TakeLockOptions & { log: ListLog }
}

describe('the lock as data', () => {
  it('lives under the prefix, named for the alphabetically first group of the pair either way round', () => {
    expect(lockParameterName('/bluegreen', [GREEN, BLUE])).toBe('/bluegreen/pair/web-blue/lock')
    expect(lockParameterName('/team/web/', [BLUE, GREEN])).toBe('/team/web/pair/web-blue/lock')
  })

  it('a claim round-trips as JSON with the run, its URL, the operation and the lease end', () => {
    const claim = { runId: 'r1', runUrl: 'https://x/1', operation: 'promote', expiresAt: Date.UTC(2026, 0, 1) }
    expect(JSON.parse(encodeClaim(claim))).toEqual({
      runId: 'r1',
      runUrl: 'https://x/1',
      operation: 'promote',
      expiresAt: '2026-01-01T00:00:00.000Z'
    })
    expect(decodeClaim(encodeClaim(claim))).toEqual(claim)
    expect(decodeClaim('id=r1 expires=x')).toBeUndefined()
    expect(decodeClaim('{"runId":"","expiresAt":"2026-01-01T00:00:00Z"}')).toBeUndefined()
    expect(describeHolder(claim)).toBe('https://x/1 (promote, lease until 2026-01-01T00:00:00.000Z)')
  })

  it.each([
    [undefined, 'free'],
    ['not json', 'unreadable'],
    [encodeClaim({ runId: 'me', runUrl: '', operation: 'deploy', expiresAt: 0 }), 'mine'],
    [encodeClaim({ runId: 'other', runUrl: '', operation: 'deploy', expiresAt: 10_000 }), 'held'],
    [encodeClaim({ runId: 'other', runUrl: '', operation: 'deploy', expiresAt: 10_000 - CLOCK_SKEW_MS - 1 }), 'expired']
  ])('value %p reads as %s at t=10s', (value, kind) => {
    expect(judgeLock(value, 'me', 10_000).kind).toBe(kind)
  })

  it('renews once RENEW_AFTER_MS of the lease passed; polls a held lock at most every 5 s within lock-wait', () => {
    const claim = { runId: 'me', runUrl: '', operation: 'deploy', expiresAt: 1_000_000 }
    expect(renewalDue(claim, 1_000_000 - LEASE_MS)).toBe(false)
    expect(renewalDue(claim, 1_000_000 - LEASE_MS + RENEW_AFTER_MS)).toBe(true)
    expect([lockPollMs(0, 60_000), lockPollMs(58_000, 60_000), lockPollMs(70_000, 60_000)]).toEqual([5_000, 2_000, 0])
  })
})

describe('taking a free lock', () => {
  it('creates the parameter (Overwrite false) with the claim, and release deletes it', async () => {
    const lock = await takeLock(options('run-a'))
    expect(store.writes).toEqual([{ op: 'put', name: NAME, value: expect.any(String), overwrite: false }])
    expect(store.json(NAME)).toEqual({
      runId: 'run-a',
      runUrl: 'https://github.com/o/r/actions/runs/run-a/attempts/1',
      operation: 'deploy',
      expiresAt: new Date(clock.now() + LEASE_MS).toISOString()
    })
    expect(await lock.release()).toBe(true)
    expect(store.values.has(NAME)).toBe(false)
    expect(await lock.release()).toBe(false)
  })

  it('a release read slowly (throttling) reads again; after too many slow reads it releases anyway, and says so', async () => {
    const lock = await takeLock(options('run-a'))
    let slow = 2
    store.beforeRead = () => {
      if (slow-- > 0) clock.t += WRITE_WITHIN_MS + 1
    }
    const quiet = new ListLog()
    expect(await resumeLock({ ...options('run-a'), log: quiet }).release()).toBe(true)
    expect(store.values.has(NAME)).toBe(false)
    expect(quiet.text()).not.toMatch(/warning/)
    expect(await lock.release()).toBe(false)

    const log = new ListLog()
    const again = await takeLock({ ...options('run-b'), log })
    store.beforeRead = () => {
      clock.t += TAKEOVER_SETTLE_MS + 1
    }
    expect(await again.release()).toBe(true)
    expect(store.values.has(NAME)).toBe(false)
    expect(store.writes.filter((w) => w.op === 'delete')).toHaveLength(2)
    expect(log.text()).toMatch(/warning: Releasing the deploy lock took 4s \(AWS answered slowly\)/)
  })

  it("a release right after a guarded change deletes on that change's read; a later one reads again", async () => {
    let reads = 0
    store.beforeRead = () => {
      reads++
    }
    const lock = await takeLock(options('run-a'))
    await lock.guard('write the records', async () => undefined)
    expect(reads).toBe(1)
    clock.t += WRITE_WITHIN_MS
    expect(await lock.release()).toBe(true)
    expect(reads).toBe(1)
    expect(store.values.has(NAME)).toBe(false)

    const later = await takeLock(options('run-b'))
    await later.guard('write the records', async () => undefined)
    clock.t += WRITE_WITHIN_MS + 1
    reads = 0
    expect(await later.release()).toBe(true)
    expect(reads).toBe(1)
    expect(store.values.has(NAME)).toBe(false)
  })

  it('a release after a take-over since the last change finds the lock lost and deletes nothing', async () => {
    const lock = await takeLock(options('run-a'))
    await lock.guard('write the records', async () => undefined)
    // A rollback took the lock over; this run's next look at the lock (before a change) tells.
    store.values.set(NAME, {
      value: encodeClaim({
        runId: 'run-r',
        runUrl: 'https://x/r',
        operation: 'rollback',
        expiresAt: clock.now() + LEASE_MS
      }),
      version: 7
    })
    await expect(lock.guard('write the weights', async () => undefined)).rejects.toBeInstanceOf(LockLostError)
    expect(await lock.release()).toBe(false)
    expect(store.json(NAME)).toMatchObject({ runId: 'run-r' })
  })

  it('of two runs taking it at the same moment exactly one holds it; the other is told who and how to wait', async () => {
    const results = await Promise.allSettled([takeLock(options('run-a')), takeLock(options('run-b'))])
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect((refused.reason as Error).message).toMatch(
      /^Another run holds the deploy lock \/bluegreen\/pair\/web-blue\/lock: https:\/\/github\.com\/o\/r\/actions\/runs\/run-a\/attempts\/1 \(deploy, lease until .*\); wait for it to finish, or cancel it \(its post step releases the lock\), or set lock-wait to wait for it$/
    )
  })

  it('a create whose answer was lost and retried finds its own claim and holds the lock', async () => {
    await takeLock(options('run-a'))
    const again = await takeLock(options('run-a'))
    expect(again.lost).toBe(false)
  })
})

describe('a held lock', () => {
  it('with lock-wait, waits for the holder to release, then takes it', async () => {
    const a = await takeLock(options('run-a'))
    clock.onTick = (now) => {
      if (now - start > 20_000 && !a.lost) void a.release()
    }
    const start = clock.now()
    const b = options('run-b', { waitMs: 60_000 })
    const lock = await takeLock(b)
    expect(lock.lost).toBe(false)
    expect(store.json(NAME)?.runId).toBe('run-b')
    expect(clock.now() - start).toBeGreaterThan(20_000)
    expect(clock.now() - start).toBeLessThanOrEqual(30_000)
    expect(b.log.text()).toMatch(
      /Waiting up to 60s \(lock-wait\) for the deploy lock held by https:\/\/github\.com\/o\/r\/actions\/runs\/run-a/
    )
  })

  it('gives up at the end of lock-wait, saying how long it waited', async () => {
    await takeLock(options('run-a'))
    const start = clock.now()
    await expect(takeLock(options('run-b', { waitMs: 12_000 }))).rejects.toThrow(
      /Another run holds the deploy lock .* \(waited 12s, lock-wait\)$/
    )
    expect(clock.now() - start).toBe(12_000)
  })

  it('whose lease ended is taken over after a second look, with a warning; the old holder then loses it', async () => {
    const a = await takeLock(options('run-a'))
    clock.t += LEASE_MS + CLOCK_SKEW_MS + 1
    const b = options('run-b')
    const lock = await takeLock(b)
    expect(store.json(NAME)?.runId).toBe('run-b')
    expect(b.log.text()).toMatch(/warning: Taking over the deploy lock from .*run-a.*: its lease ended/)
    expect(clock.sleeps).toContain(TAKEOVER_SETTLE_MS)
    await expect(a.guard('shift', async () => 'changed')).rejects.toThrow(LockLostError)
    expect(await a.release()).toBe(false)
    expect(store.json(NAME)?.runId).toBe('run-b')
    expect(lock.lost).toBe(false)
  })

  it('is taken by a forced rollback from a live holder, whose next change is refused and names the rollback', async () => {
    const a = await takeLock(options('run-a'))
    const rollback = options('run-r', { force: true, operation: 'rollback' })
    await takeLock(rollback)
    expect(rollback.log.text()).toMatch(/Taking the deploy lock from .*run-a.*: a rollback goes first/)
    let changed = false
    const refused = await a
      .guard('shift to 50%', async () => {
        changed = true
      })
      .catch((e: unknown) => e)
    expect(changed).toBe(false)
    expect(refused).toBeInstanceOf(LockLostError)
    expect((refused as LockLostError).message).toMatch(
      /no longer holds the deploy lock .* \(https:\/\/github\.com\/o\/r\/actions\/runs\/run-r\/attempts\/1 \(rollback, .*\) holds it now\)/
    )
    expect((refused as LockLostError).holder).toMatch(/runs\/run-r\/attempts\/1 \(rollback,/)
  })

  it('with something else in it, is refused (naming the parameter) unless forced', async () => {
    store.values.set(NAME, { value: 'hello', version: 1 })
    await expect(takeLock(options('run-a'))).rejects.toThrow(
      /^Parameter \/bluegreen\/pair\/web-blue\/lock is where this action keeps the deploy lock, but it holds something else \("hello"\); delete it or choose another parameter-prefix$/
    )
    const lock = await takeLock(options('run-r', { force: true, operation: 'rollback' }))
    expect(lock.lost).toBe(false)
  })
})

describe('races', () => {
  it('two runs taking over the same expired claim: the later overwrite holds, the earlier gives way', async () => {
    await takeLock(options('run-old'))
    clock.t += LEASE_MS + CLOCK_SKEW_MS + 1
    // Both read the expired claim before either overwrites it.
    let reads = 0
    const bothRead = new Promise<void>((resolve) => {
      store.beforeRead = async () => {
        if (++reads === 2) resolve()
      }
    })
    store.beforeWrite = async (w) => {
      if (w.op === 'put' && w.overwrite) await bothRead
    }
    const [a, b] = await Promise.allSettled([takeLock(options('run-a')), takeLock(options('run-b'))])
    const holders = [a, b]
      .filter((r) => r.status === 'fulfilled')
      .map((r) => (r as PromiseFulfilledResult<{ lost: boolean }>).value)
    expect(holders).toHaveLength(1)
    const winner = store.json(NAME)?.runId
    expect(['run-a', 'run-b']).toContain(winner)
    const loser = [a, b].find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect((loser.reason as Error).message).toMatch(new RegExp(`Another run holds the deploy lock .*${winner}`))
  })

  it('a take-over whose overwrite is answered too late gives its claim back and looks again', async () => {
    await takeLock(options('run-old'))
    clock.t += LEASE_MS + CLOCK_SKEW_MS + 1
    let slow = true
    store.beforeWrite = (w) => {
      if (w.op === 'put' && w.overwrite && slow) {
        slow = false
        clock.t += WRITE_WITHIN_MS + 1
      }
    }
    const lock = await takeLock(options('run-a'))
    expect(lock.lost).toBe(false)
    expect(store.writes.map((w) => w.op)).toEqual(['put', 'put', 'delete', 'put'])
  })

  it('a change answered too late, after another run took the lock, is reported as possibly landing after it', async () => {
    const a = await takeLock(options('run-a'))
    const taken = a.guard('write the weights', async () => {
      clock.t += WRITE_WITHIN_MS + 1
      store.values.set(NAME, {
        value: encodeClaim({
          runId: 'run-r',
          runUrl: 'https://x/r',
          operation: 'rollback',
          expiresAt: clock.now() + LEASE_MS
        }),
        version: 9
      })
    })
    const error = (await taken.catch((e: unknown) => e)) as LockLostError
    expect(error).toBeInstanceOf(LockLostError)
    expect(error.raced).toBe(true)
    expect(error.message).toMatch(
      /^write the weights took 2\.0s to be answered, and meanwhile another run took the deploy lock: this change may have landed after that run's first one/
    )
  })

  it('a renewal that a take-over wrote in front of stops the run and gives the claim back, however fast it was', async () => {
    const a = await takeLock(options('run-a'))
    clock.t += RENEW_AFTER_MS + 1
    let tookOver = false
    store.beforeWrite = (w) => {
      if (tookOver || w.op !== 'put' || !w.overwrite || !w.value.includes('run-a')) return
      tookOver = true
      // A rollback's overwrite lands between run-a's read and its renewal.
      const previous = store.values.get(NAME)!
      store.values.set(NAME, {
        value: encodeClaim({
          runId: 'run-r',
          runUrl: 'https://x/r',
          operation: 'rollback',
          expiresAt: clock.now() + LEASE_MS
        }),
        version: previous.version + 1
      })
    }
    const error = (await a.guard('shift', async () => 'changed').catch((e: unknown) => e)) as LockLostError
    expect(error).toBeInstanceOf(LockLostError)
    expect(error.raced).toBe(true)
    expect(error.message).toMatch(/Another run wrote the deploy lock while this run renewed it/)
    // The renewal replaced the rollback's claim; it is given back, so the rollback's second look finds no claim of run-a.
    expect(store.values.has(NAME)).toBe(false)
  })

  it('a slow renewal nobody wrote in front of keeps the lock (throttled calls are slow, not lost)', async () => {
    const a = await takeLock(options('run-a'))
    clock.t += RENEW_AFTER_MS + 1
    store.beforeWrite = (w) => {
      if (w.op === 'put' && w.overwrite) clock.t += 10 * WRITE_WITHIN_MS
    }
    await expect(a.guard('shift', async () => 'changed')).resolves.toBe('changed')
    expect(a.lost).toBe(false)
  })

  it('the lease is renewed while the run waits and works, so a long run keeps it', async () => {
    const a = await takeLock(options('run-a'))
    for (let i = 0; i < 20; i++) {
      await clock.sleep(10_000)
      await a.keepAlive()
    }
    await a.guard('flip', async () => undefined)
    expect(judgeLock(store.values.get(NAME)?.value, 'run-b', clock.now()).kind).toBe('held')
    expect(store.writes.filter((w) => w.op === 'put' && w.overwrite).length).toBeGreaterThanOrEqual(6)
  })
})

describe('the post step', () => {
  it("may act only while its main step's claim is still the lock", async () => {
    await takeLock(options('run-a'))
    const post = resumeLock(options('run-a'))
    await expect(post.confirm()).resolves.toBeUndefined()
    expect(await post.release()).toBe(true)
    await takeLock(options('run-r', { force: true, operation: 'rollback' }))
    const late = resumeLock(options('run-a'))
    await expect(late.guard('restore', async () => undefined)).rejects.toThrow(LockLostError)
    expect(await late.release()).toBe(false)
    expect(store.json(NAME)?.runId).toBe('run-r')
  })
})
