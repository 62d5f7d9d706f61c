// The lock's send gate, through the real SDK stack: no attempt of a change made under the lock goes
// out later than WRITE_WITHIN_MS after a read that showed the lock as this run's, however long the
// SDK's retries of a throttled call run. Without it a throttled write was delivered 14 s after its
// read, after a rollback had taken the lock over and set its weights (chaos seed 86).
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import type { SSMClient } from '@aws-sdk/client-ssm'
import { createClients } from '../../src/aws/clients.js'
import { createElbClient } from '../../src/aws/elb-client.js'
import { DeployError } from '../../src/config/errors.js'
import { encodeClaim, LEASE_MS, RENEW_AFTER_MS, WRITE_WITHIN_MS } from '../../src/records/lock-claim.js'
import { LockLostError, takeLock, type TakeLockOptions } from '../../src/records/parameter-lock.js'
import { FakeClock, ListLog } from '../__fixtures__/fake-aws.js'
import { type Attempt, FakeWire } from '../__fixtures__/fake-wire.js'

const NAME = '/bluegreen/pair/web-blue/lock'
const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/1/2'
let clock: FakeClock
let wire: FakeWire
let ssm: SSMClient
let elb: ElasticLoadBalancingV2Client

beforeEach(() => {
  clock = new FakeClock()
  wire = new FakeWire(clock)
  ;({ ssm, elb } = wire.clients())
})
afterEach(() => {
  ssm.destroy()
  elb.destroy()
})

function options(id: string, over: Partial<TakeLockOptions> = {}): TakeLockOptions {
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
  }
}

function claimOf(id: string): string {
  return encodeClaim({ runId: id, runUrl: `https://x/${id}`, operation: 'rollback', expiresAt: clock.now() + LEASE_MS })
}

const shift = () => elb.send(new ModifyListenerCommand({ ListenerArn: LISTENER }))

/** How long before each attempt of `action` the last read of the lock went out. */
function sinceLastRead(action: string): number[] {
  return wire.of(action).map((attempt) => {
    const reads = wire.attempts.filter((a: Attempt) => a.action === 'GetParameter' && a.at <= attempt.at)
    const lastRead = reads.filter((r) => wire.attempts.indexOf(r) < wire.attempts.indexOf(attempt)).at(-1)
    return lastRead ? attempt.at - lastRead.at : Infinity
  })
}

describe('a change made under the lock, throttled', () => {
  it('is retried as the SDK would, each attempt within WRITE_WITHIN_MS of a read that showed the lock as ours', async () => {
    const lock = await takeLock(options('a'))
    wire.throttle = (action, nth) => action === 'ModifyListener' && nth <= 3

    await lock.guard('shift to 50%', shift)

    expect(wire.of('ModifyListener').map((a) => a.throttled)).toEqual([true, true, true, false])
    // 1.5 s per throttled attempt: attempts 3 and 4 are past the first read's window, so each
    // waited for a fresh read of the lock.
    expect(sinceLastRead('ModifyListener').every((ms) => ms <= WRITE_WITHIN_MS)).toBe(true)
    expect(wire.of('GetParameter').length).toBe(2)
    expect(lock.lost).toBe(false)
  })

  it('is not sent again once another run has taken the lock over between its attempts', async () => {
    const lock = await takeLock(options('a'))
    wire.throttle = (action, nth) => action === 'ModifyListener' && nth <= 2
    wire.afterAttempt = (attempt) => {
      // A rollback forces the lock while the shift is being throttled.
      if (attempt.action === 'ModifyListener' && wire.of('ModifyListener').length === 1)
        wire.store.set(NAME, claimOf('rollback'))
    }

    const error = await lock.guard('shift to 50%', shift).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(LockLostError)
    // Attempt 2 went out within the first read's window (1.5 s); attempt 3 would have been the
    // first one answered, 3 s after that read, and landed after the rollback's change.
    expect(wire.of('ModifyListener').length).toBe(2)
    expect(wire.of('ModifyListener').every((a) => a.throttled)).toBe(true)
    expect(lock.lost).toBe(true)
    expect(wire.store.json(NAME)?.runId).toBe('rollback')
  })

  it('is given up, unsent, when the lock cannot be read quickly enough to be sure', async () => {
    const lock = await takeLock(options('a'))
    wire.throttle = (action, nth) => action === 'ModifyListener' && nth === 1
    wire.throttleMs = WRITE_WITHIN_MS + 1
    // From the first attempt on, every read of the lock is answered slowly.
    wire.afterAttempt = () => {
      wire.store.beforeRead = () => {
        clock.t += WRITE_WITHIN_MS + 1
      }
    }

    const error = await lock.guard('shift to 50%', shift).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(DeployError)
    expect((error as Error).message).toMatch(
      /^shift to 50% was not sent: AWS answered 5 reads of the deploy lock too slowly/
    )
    expect(wire.of('ModifyListener').length).toBe(1)
  })

  it('passes no gate outside a guarded change: the SDK retries as it always does', async () => {
    wire.throttle = (action, nth) => action === 'ModifyListener' && nth <= 4
    await shift()
    expect(wire.of('ModifyListener').length).toBe(5)
    expect(wire.of('GetParameter').length).toBe(0)
  })
})

describe("the lock's own writes, throttled", () => {
  it("a release's delete is not sent after a take-over; the other run's claim stays", async () => {
    const lock = await takeLock(options('a'))
    clock.t += WRITE_WITHIN_MS + 1 // so the release reads the lock afresh
    wire.throttle = (action) => action === 'DeleteParameter'
    wire.afterAttempt = (attempt) => {
      if (attempt.action === 'DeleteParameter' && wire.of('DeleteParameter').length === 1)
        wire.store.set(NAME, claimOf('rollback'))
    }

    await expect(lock.release()).resolves.toBe(false)

    expect(wire.store.json(NAME)?.runId).toBe('rollback')
    expect(wire.of('DeleteParameter').length).toBe(2)
  })

  it("a take-over's overwrite is not sent late over a newer claim; the run looks again and finds it held", async () => {
    wire.store.set(
      NAME,
      encodeClaim({ runId: 'dead', runUrl: '', operation: 'deploy', expiresAt: clock.now() - LEASE_MS })
    )
    // The create (attempt 1) fails; the overwrite's first two attempts are throttled.
    wire.throttle = (action, nth) => action === 'PutParameter' && nth >= 2 && nth <= 3
    wire.afterAttempt = (attempt) => {
      // Another run takes the expired lock over while this run's overwrite is being throttled.
      if (attempt.action === 'PutParameter' && wire.of('PutParameter').length === 2) wire.store.set(NAME, claimOf('b'))
    }

    const error = await takeLock(options('a')).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(DeployError)
    expect((error as Error).message).toMatch(/^Another run holds the deploy lock/)
    expect(wire.store.json(NAME)?.runId).toBe('b')
    // The overwrite's third attempt (3 s after its read) was never sent: the next PutParameter is
    // the create of the run's next look, which finds b's claim.
    const puts = wire.of('PutParameter').map((a) => [JSON.parse(a.body).Overwrite, a.throttled])
    expect(puts).toEqual([
      [false, false],
      [true, true],
      [true, true],
      [false, false]
    ])
  })
})

describe('renewing the lease, throttled', () => {
  it('skips a renewal the SDK could only send late, and renews at the next read instead', async () => {
    const lock = await takeLock(options('a'))
    clock.t += RENEW_AFTER_MS + 1
    // The create was PutParameter 1; the renewal's first two attempts are throttled.
    wire.throttle = (action, nth) => action === 'PutParameter' && (nth === 2 || nth === 3)

    await lock.guard('shift to 50%', shift)

    const renewals = wire.of('PutParameter').slice(1)
    expect(renewals.map((a) => a.throttled)).toEqual([true, true, false])
    // Each attempt went out within WRITE_WITHIN_MS of the read it rests on; the third attempt of
    // the first renewal (3 s after its read) was never sent: the guard's next read renewed.
    expect(
      sinceLastRead('PutParameter')
        .slice(1)
        .every((ms) => ms <= WRITE_WITHIN_MS)
    ).toBe(true)
    expect(wire.of('GetParameter').length).toBe(2)
    expect(wire.of('ModifyListener').length).toBe(1)
    expect(new Date(String(wire.store.json(NAME)?.expiresAt)).getTime()).toBe(renewals[2].at + LEASE_MS)
    expect(lock.lost).toBe(false)
  })
})

describe('the clients the action makes', () => {
  it('all pass the gate, once per attempt: right after the retry middleware', () => {
    const clients = createClients('us-east-1')
    for (const client of [...Object.values(clients), createElbClient('us-east-1')]) {
      const stack: string[] = client.middlewareStack.identify()
      const gate = stack.findIndex((name) => name.startsWith('sendGateMiddleware'))
      const retry = stack.findIndex((name) => name.startsWith('retryMiddleware'))
      expect(retry).toBeGreaterThanOrEqual(0)
      expect(gate).toBe(retry + 1)
      client.destroy()
    }
  })
})
