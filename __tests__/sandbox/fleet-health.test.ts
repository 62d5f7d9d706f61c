import { HealthChecker, matchesStatus } from '../../sandbox/fleet/health-checker.js'
import { forwardAction } from '../../sandbox/aws/fixtures.js'
import { addPair, startFleet, until, type FleetHarness } from './fleet-helpers.js'

describe('HealthChecker', () => {
  let h: FleetHarness
  let checker: HealthChecker
  beforeEach(async () => {
    h = await startFleet()
    checker = new HealthChecker(h.world, { tickMs: 10 })
  })
  afterEach(async () => {
    checker.stop()
    await h.close()
  })

  const state = (tgArn: string, id: string) => h.world.targetGroups.get(tgArn)!.targets.get(id)

  it('takes a new target from initial to healthy after healthyThreshold passes', async () => {
    const [a] = await h.add([{ version: 'v1' }])
    const [g] = await h.add([{ version: 'v1' }])
    const { blueArn } = addPair(h.world, [a.id], [g.id])
    const tg = h.world.targetGroups.get(blueArn)!
    tg.healthCheck.intervalMs = 100
    checker.start()
    expect(state(blueArn, a.id)).toMatchObject({ state: 'initial', reason: 'Elb.RegistrationInProgress' })
    // One pass is not enough (threshold 2, 100 ms apart).
    await new Promise((r) => setTimeout(r, 50))
    expect(state(blueArn, a.id)!.state).toBe('initial')
    await until(() => state(blueArn, a.id)!.state === 'healthy', 2000, 'healthy')
    expect(state(blueArn, a.id)!.reason).toBeUndefined()
  })

  it('marks a target unhealthy with the ALB reason: response code, timeout, connection refused', async () => {
    const [bad, slow, down] = await h.add([
      { version: 'v1', behaviour: 'unhealthy' },
      { version: 'v1' },
      { version: 'v1' }
    ])
    const { blueArn } = addPair(h.world, [bad.id, slow.id, down.id], [])
    checker.start()
    await until(
      () => state(blueArn, slow.id)!.state === 'healthy' && state(blueArn, down.id)!.state === 'healthy',
      2000,
      'healthy'
    )
    expect(state(blueArn, bad.id)).toEqual({
      state: 'unhealthy',
      reason: 'Target.ResponseCodeMismatch',
      description: 'Health checks failed with these codes: [503]'
    })
    // slow: the instance stops answering in time
    h.world.instances.get(slow.id)!.port = await blackholePort()
    await until(() => state(blueArn, slow.id)!.state === 'unhealthy', 2000, 'timeout')
    expect(state(blueArn, slow.id)!.reason).toBe('Target.Timeout')
    // down: the app is stopped (connections reset)
    h.fleet.setUp(down.id, false)
    await until(() => state(blueArn, down.id)!.state === 'unhealthy', 2000, 'down')
    expect(state(blueArn, down.id)!.reason).toBe('Target.FailedHealthChecks')
    // and it recovers after healthyThreshold passes
    h.fleet.setUp(down.id, true)
    await until(() => state(blueArn, down.id)!.state === 'healthy', 2000, 'recovered')
  })

  it('reports every target of a group no forward action uses as unused, and restarts at initial when used again', async () => {
    const [a] = await h.add([{ version: 'v1' }])
    const [g] = await h.add([{ version: 'v1' }])
    const { blueArn, greenArn, listenerArn } = addPair(h.world, [a.id], [g.id])
    checker.start()
    await until(() => state(greenArn, g.id)!.state === 'healthy', 2000, 'green healthy')
    // Remove green from the forward action altogether.
    h.world.listeners.get(listenerArn)!.defaultActions = [forwardAction({ [blueArn]: 100 })]
    await until(() => state(greenArn, g.id)!.state === 'unused', 1000, 'unused')
    expect(state(greenArn, g.id)!.reason).toBe('Target.NotInUse')
    expect(state(blueArn, a.id)!.state).toBe('healthy')
    // A group at weight 0 is still used (and checked).
    h.world.listeners.get(listenerArn)!.defaultActions = [forwardAction({ [blueArn]: 100, [greenArn]: 0 })]
    await until(() => state(greenArn, g.id)!.state !== 'unused', 1000, 'used again')
    expect(state(greenArn, g.id)!.state).toBe('initial')
    await until(() => state(greenArn, g.id)!.state === 'healthy', 2000, 'healthy again')
  })

  it('leaves draining targets alone and picks up newly registered ones', async () => {
    const [a, b] = await h.add([{ version: 'v1' }, { version: 'v1' }])
    const { blueArn } = addPair(h.world, [a.id], [])
    checker.start()
    await until(() => state(blueArn, a.id)!.state === 'healthy', 2000, 'healthy')
    const tg = h.world.targetGroups.get(blueArn)!
    tg.targets.set(a.id, { state: 'draining', reason: 'Target.DeregistrationInProgress' })
    tg.targets.set(b.id, { state: 'initial', reason: 'Elb.RegistrationInProgress' })
    await until(() => state(blueArn, b.id)!.state === 'healthy', 2000, 'new target healthy')
    expect(state(blueArn, a.id)!.state).toBe('draining')
  })

  it('matches status codes like the ALB matcher', () => {
    expect(matchesStatus('200', 200)).toBe(true)
    expect(matchesStatus('200', 204)).toBe(false)
    expect(matchesStatus('200-299', 204)).toBe(true)
    expect(matchesStatus('200,302', 302)).toBe(true)
    expect(matchesStatus('200,302', 301)).toBe(false)
  })
})

/** A port that accepts connections and never answers. */
async function blackholePort(): Promise<number> {
  const net = await import('node:net')
  const server = net.createServer(() => undefined)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  server.unref()
  return (server.address() as import('node:net').AddressInfo).port
}
