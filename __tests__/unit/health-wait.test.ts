// Waiting for the new fleet's targets to be healthy on the new code, and failing fast when they
// will not be.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { DeployError } from '../../src/config/errors.js'
import { waitHealthy, type WaitHealthyOptions } from '../../src/fleet/health-wait.js'
import type { HealthCadence } from '../../src/plan/target-health.js'
import { context, FakeAws, FakeClock, GREEN } from '../__fixtures__/fake-aws.js'

let clock: FakeClock
let aws: FakeAws
let ctx: ReturnType<typeof context>
let ids: string[]
let start: number

// Checked every 10 s; unhealthy after 2 failed checks (20 s), healthy after 3 good ones (30 s).
const cadence: HealthCadence = { intervalMs: 10_000, detectUnhealthyMs: 20_000, detectHealthyMs: 30_000 }

beforeEach(() => {
  clock = new FakeClock()
  aws = new FakeAws(clock)
  ctx = context(clock)
  ids = aws.fleet(GREEN, 3, 'a')
  start = clock.now()
})
afterEach(() => aws.reset())

const wait = (extra: Partial<WaitHealthyOptions> = {}) =>
  waitHealthy(ctx.clients.elb, GREEN, {
    instanceIds: ids,
    cadence,
    timeoutMs: 5 * 60_000,
    clock,
    log: ctx.log,
    ...extra
  })

async function failure(waiting: Promise<unknown>): Promise<Error> {
  const error = await waiting.then(
    () => new Error('resolved'),
    (e: unknown) => e as Error
  )
  expect(error).toBeInstanceOf(DeployError)
  return error
}

describe('waitHealthy', () => {
  it('returns only once the load balancer had time to notice the new code failing', async () => {
    const targets = await wait()
    expect(targets.map((t) => [t.id, t.state])).toEqual(ids.map((id) => [id, 'healthy']))
    // Healthy from the first look, but not trusted before detectUnhealthyMs, and not a poll later.
    expect(clock.now() - start).toBe(20_000)
    // Progress changes at info level; every poll's states only at debug level.
    expect(ctx.log.lines.filter((l) => !l.startsWith('debug: '))).toEqual(['info: web-green: 3/3 targets healthy'])
  })

  it('polls at a quarter of the health check interval, between 250 ms and 5 s', async () => {
    await wait()
    expect(Math.max(...clock.sleeps)).toBe(2500)

    clock.sleeps.length = 0
    await wait({
      cadence: { intervalMs: 300_000, detectUnhealthyMs: 600_000, detectHealthyMs: 900_000 },
      timeoutMs: 3600_000
    })
    expect(Math.max(...clock.sleeps)).toBe(5000)
  })

  it('waits through a restart: unhealthy for a while, then healthy', async () => {
    aws.health = (_group, _id, now) =>
      now - start < 35_000 ? { state: 'unhealthy', reason: 'Target.Timeout' } : { state: 'healthy' }
    await wait()
    expect(clock.now() - start).toBeGreaterThanOrEqual(35_000)
    expect(clock.now() - start).toBeLessThan(40_000)
    expect(ctx.log.lines.filter((l) => !l.startsWith('debug: '))).toEqual([
      'info: web-green: 0/3 targets healthy',
      'info: web-green: 3/3 targets healthy'
    ])
    expect(ctx.log.lines.filter((l) => /^debug: poll: .* unhealthy/.test(l)).length).toBeGreaterThan(1)
  })

  it('fails fast on a target stuck unhealthy for longer than it would need to recover', async () => {
    aws.health = (_group, id) =>
      id === ids[1] ? { state: 'unhealthy', reason: 'Target.ResponseCodeMismatch' } : { state: 'healthy' }
    const error = await failure(wait({ timeoutMs: 30 * 60_000 }))
    expect(error.message).toBe(
      `${ids[1]} unhealthy (Target.ResponseCodeMismatch) in web-green after the deploy; fix the new version (see the command output and the app's logs) and deploy again`
    )
    // Given detectHealthy + one interval (40 s) to recover, not the 30-minute health-timeout.
    expect(clock.now() - start).toBeGreaterThan(40_000)
    expect(clock.now() - start).toBeLessThanOrEqual(42_500)
  })

  it('counts a target stuck unhealthy from when it turned so, not from the start', async () => {
    // Healthy for 30 s, then unhealthy for good: given 40 s from then, not from the start.
    aws.health = (_group, id, now) =>
      id === ids[0] && now - start >= 30_000 ? { state: 'unhealthy', reason: 'Target.Timeout' } : { state: 'initial' }
    const error = await failure(wait({ timeoutMs: 30 * 60_000 }))
    expect(error.message).toMatch(/unhealthy \(Target\.Timeout\) in web-green after the deploy/)
    expect(clock.now() - start).toBeGreaterThan(70_000)
  })

  it.each(['draining', 'unused', 'unavailable'])('fails at once on a target %s', async (state) => {
    aws.health = (_group, id) => (id === ids[2] ? { state, reason: 'Target.NotInUse' } : { state: 'healthy' })
    const error = await failure(wait())
    expect(error.message).toBe(
      `${ids[2]} ${state} (Target.NotInUse) in web-green; the new fleet cannot take traffic (health checks must be enabled and the group in the forward action)`
    )
    expect(clock.now()).toBe(start)
  })

  it('fails at once on a target that left the group', async () => {
    aws.targets.set(GREEN, [ids[0]])
    const error = await failure(wait())
    expect(error.message).toBe(
      `Instances ${ids[1]}, ${ids[2]} left target group web-green during the deploy; register the fleet again and redeploy`
    )
  })

  it('ignores targets registered since the deploy', async () => {
    aws.targets.set(GREEN, [...ids, 'i-new'])
    aws.health = (_group, id) => (id === 'i-new' ? { state: 'unhealthy' } : { state: 'healthy' })
    const targets = await wait()
    expect(targets.map((t) => t.id)).toEqual(ids)
  })

  it('gives up at health-timeout, naming the targets not healthy and what to do', async () => {
    aws.health = (_group, id) =>
      id === ids[0] ? { state: 'initial', reason: 'Elb.RegistrationInProgress' } : { state: 'healthy' }
    const error = await failure(wait({ timeoutMs: 60_000 }))
    expect(error.message).toBe(
      `Not every target of web-green was healthy after health-timeout (60s): ${ids[0]} initial (Elb.RegistrationInProgress); raise health-timeout if the app needs longer to start, or fix the new version`
    )
    expect(clock.now() - start).toBeGreaterThanOrEqual(60_000)
    expect(clock.now() - start).toBeLessThan(62_500)
  })

  it('says why when every target is healthy but health-timeout is shorter than the load balancer needs', async () => {
    const error = await failure(wait({ timeoutMs: 10_000 }))
    expect(error.message).toBe(
      'Every target of web-green is healthy, but health-timeout (10s) ends before the load balancer could have marked a failing target unhealthy (20s: 2 checks 10s apart); raise health-timeout to at least 20s'
    )
  })

  it('stops when the run is cancelled', async () => {
    const cancel = new AbortController()
    clock.onTick = (now) => {
      if (now - start >= 5000) cancel.abort(new Error('SIGINT'))
    }
    await expect(wait({ signal: cancel.signal })).rejects.toThrow('SIGINT')
    expect(clock.now() - start).toBeLessThan(20_000)
  })
})
