import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { LocalCommandExecutor, resolveConcurrency, resolveMaxErrors } from '../../sandbox/fleet/command-executor.js'
import { isAlive, newCommand, startFleet, until, type FleetHarness } from './fleet-helpers.js'

describe('LocalCommandExecutor', () => {
  let h: FleetHarness
  let executor: LocalCommandExecutor
  beforeEach(async () => {
    h = await startFleet()
    executor = new LocalCommandExecutor(h.world)
  })
  afterEach(async () => {
    executor.stop()
    await h.close()
  })

  it('runs the commands with bash in the instance directory with its environment', async () => {
    const [a, b] = await h.add([{ version: 'v1' }, { version: 'v1' }])
    const cmd = newCommand([a.id, b.id], ['echo "id=$INSTANCE_ID port=$INSTANCE_PORT"', 'pwd', 'cat version'])
    executor.start(cmd)
    await executor.idle()
    for (const inst of [a, b]) {
      const inv = cmd.invocations.get(inst.id)!
      expect(inv).toMatchObject({ status: 'Success', statusDetails: 'Success', responseCode: 0 })
      expect(inv.stdout).toBe(`id=${inst.id} port=${inst.port}\n${inst.dir}\nv1\n`)
      expect(inv.startedAt).toBeGreaterThanOrEqual(cmd.requestedAt)
      expect(inv.finishedAt).toBeGreaterThanOrEqual(inv.startedAt!)
    }
    expect(cmd.status).toBe('Success')
  })

  it('deploys a version: the documented deploy command changes what the instance serves', async () => {
    const [a] = await h.add([{ version: 'v1' }])
    const cmd = newCommand([a.id], ['echo v2 > version && echo errors > behaviour && ./restart'])
    executor.start(cmd)
    await executor.idle()
    expect(cmd.invocations.get(a.id)).toMatchObject({ status: 'Success', responseCode: 0 })
    expect(cmd.invocations.get(a.id)!.stdout).toContain('version=v2 behaviour=errors')
    const res = await fetch(`http://127.0.0.1:${a.port}/`)
    expect(res.status).toBe(500)
    expect(res.headers.get('x-app-version')).toBe('v2')
    expect((await fetch(`http://127.0.0.1:${a.port}/health`)).status).toBe(200)
  })

  it('reports a failing command with its exit code and output', async () => {
    const [a] = await h.add([{ version: 'v1' }])
    const cmd = newCommand([a.id], ['echo starting', 'echo "disk full" >&2', 'exit 3'])
    executor.start(cmd)
    await executor.idle()
    const inv = cmd.invocations.get(a.id)!
    expect(inv).toMatchObject({ status: 'Failed', statusDetails: 'Failed', responseCode: 3, stdout: 'starting\n' })
    expect(inv.stderr).toContain('disk full')
    expect(inv.stderr).toContain('failed to run commands: exit status 3')
    expect(cmd.status).toBe('Failed')
  })

  it('caps the kept output at 24,000 characters', async () => {
    const [a] = await h.add([{ version: 'v1' }])
    const cmd = newCommand([a.id], ['head -c 100000 /dev/zero | tr "\\0" x'])
    executor.start(cmd)
    await executor.idle()
    expect(cmd.invocations.get(a.id)!.stdout).toHaveLength(24_000)
  })

  it('times out at executionTimeout and kills the shell and its children', async () => {
    const [a] = await h.add([{ version: 'v1' }])
    // A second is long enough for the shell to start its child even on a loaded machine.
    const cmd = newCommand(
      [a.id],
      ['echo $$ > pid', 'sleep 30 & echo $! > child', 'wait'],
      {},
      { executionTimeout: ['1'] }
    )
    const t0 = Date.now()
    executor.start(cmd)
    await executor.idle()
    // Far below the 30 s the child would sleep: the timeout, not the child, ended the command.
    expect(Date.now() - t0).toBeLessThan(15_000)
    expect(cmd.invocations.get(a.id)).toMatchObject({ status: 'TimedOut', statusDetails: 'ExecutionTimedOut' })
    const child = Number(await readFile(path.join(a.dir, 'child'), 'utf8'))
    await until(() => !isAlive(child), 2000, 'the backgrounded sleep to be killed')
    expect(cmd.status).toBe('TimedOut')
  })

  it('cancel kills the process group and marks the invocation Cancelled', async () => {
    const [a] = await h.add([{ version: 'v1' }])
    const cmd = newCommand([a.id], ['echo $$ > pid', 'echo started', 'sleep 30'])
    executor.start(cmd)
    await until(() => cmd.invocations.get(a.id)!.stdout.includes('started'), 3000, 'the command to start')
    const pid = Number(await readFile(path.join(a.dir, 'pid'), 'utf8'))
    expect(isAlive(pid)).toBe(true)
    executor.cancel(cmd)
    expect(cmd.invocations.get(a.id)!.status).toBe('Cancelled')
    await until(() => !isAlive(pid), 2000, 'the shell to die')
    await executor.idle()
    expect(cmd.invocations.get(a.id)!.status).toBe('Cancelled')
    expect(cmd.status).toBe('Cancelled')
  })

  it('never runs more than MaxConcurrency invocations at once', async () => {
    const insts = await h.add(Array.from({ length: 6 }, () => ({ version: 'v1' })))
    const cmd = newCommand(
      insts.map((i) => i.id),
      ['sleep 0.15'],
      { maxConcurrency: '2' }
    )
    let peak = 0
    const timer = setInterval(() => {
      const running = [...cmd.invocations.values()].filter((i) => i.status === 'InProgress').length
      peak = Math.max(peak, running)
    }, 5)
    executor.start(cmd)
    await executor.idle()
    clearInterval(timer)
    expect(peak).toBe(2)
    expect([...cmd.invocations.values()].every((i) => i.status === 'Success')).toBe(true)
    // Started in waves: the last one cannot start before two rounds finished.
    const starts = [...cmd.invocations.values()].map((i) => i.startedAt!).sort((x, y) => x - y)
    expect(starts[5] - starts[0]).toBeGreaterThanOrEqual(250)
  })

  it('stops sending once more than MaxErrors invocations failed; the rest are Cancelled', async () => {
    const insts = await h.add(Array.from({ length: 4 }, () => ({ version: 'v1' })))
    const cmd = newCommand(
      insts.map((i) => i.id),
      ['exit 1'],
      { maxConcurrency: '1', maxErrors: '1' }
    )
    executor.start(cmd)
    await executor.idle()
    const statuses = insts.map((i) => cmd.invocations.get(i.id)!.status)
    expect(statuses).toEqual(['Failed', 'Failed', 'Cancelled', 'Cancelled'])
  })

  it('applies the world faults: fail exits 1, hang runs until cancelled', async () => {
    const [ok, bad, hung] = await h.add([{ version: 'v1' }, { version: 'v1' }, { version: 'v1' }])
    h.world.faults.failCommandOn.add(bad.id)
    h.world.faults.hangCommandOn.add(hung.id)
    const cmd = newCommand([ok.id, bad.id, hung.id], ['echo fine'], { maxErrors: '3' })
    executor.start(cmd)
    await until(
      () => cmd.invocations.get(bad.id)!.status === 'Failed' && cmd.invocations.get(ok.id)!.status === 'Success',
      3000,
      'two results'
    )
    expect(cmd.invocations.get(bad.id)).toMatchObject({ responseCode: 1 })
    expect(cmd.invocations.get(bad.id)!.stderr).toContain('sandbox fault')
    await new Promise((r) => setTimeout(r, 200))
    expect(cmd.invocations.get(hung.id)!.status).toBe('InProgress')
    expect(cmd.status).toBe('InProgress')
    executor.cancel(cmd, [hung.id])
    await executor.idle()
    expect(cmd.invocations.get(hung.id)!.status).toBe('Cancelled')
    expect(executor.runningShells).toBe(0)
  })

  it('keeps the number of shells under maxShells across commands', async () => {
    const insts = await h.add(Array.from({ length: 8 }, () => ({ version: 'v1' })))
    const small = new LocalCommandExecutor(h.world, { maxShells: 3 })
    let peak = 0
    const timer = setInterval(() => (peak = Math.max(peak, small.runningShells)), 2)
    const c1 = newCommand(
      insts.slice(0, 4).map((i) => i.id),
      ['sleep 0.1']
    )
    const c2 = newCommand(
      insts.slice(4).map((i) => i.id),
      ['sleep 0.1']
    )
    small.start(c1)
    small.start(c2)
    await small.idle()
    clearInterval(timer)
    expect(peak).toBeLessThanOrEqual(3)
    expect(peak).toBeGreaterThan(1)
    expect([...c1.invocations.values(), ...c2.invocations.values()].every((i) => i.status === 'Success')).toBe(true)
  })

  it('fails an invocation whose workingDirectory does not exist inside the instance', async () => {
    const [a] = await h.add([{ version: 'v1' }])
    const cmd = newCommand([a.id], ['pwd'], {}, { workingDirectory: ['/srv/app'] })
    executor.start(cmd)
    await executor.idle()
    expect(cmd.invocations.get(a.id)).toMatchObject({ status: 'Failed' })
    expect(cmd.invocations.get(a.id)!.stderr).toContain('workingDirectory')
  })
})

describe('rate controls', () => {
  it('resolves numbers and percentages like SSM', () => {
    expect(resolveConcurrency('100%', 3)).toBe(3)
    expect(resolveConcurrency('10%', 3)).toBe(1)
    expect(resolveConcurrency('7', 3)).toBe(7)
    expect(resolveMaxErrors('0', 10)).toBe(0)
    expect(resolveMaxErrors('10%', 50)).toBe(5)
    expect(resolveMaxErrors('2', 50)).toBe(2)
  })
})
