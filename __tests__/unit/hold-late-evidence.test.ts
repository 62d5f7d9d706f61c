// holdStep with checks written as plain objects: the hold's time, the last word of late checks,
// and that every check keeps watching while one of them waits for its evidence.
import { describe, expect, it } from '@jest/globals'
import type { CheckLook, HoldCheck } from '../../src/traffic/checks/check.js'
import { holdStep } from '../../src/traffic/hold.js'
import { FakeClock } from '../__fixtures__/fake-aws.js'

const subject = { newFleet: 'green', stableFleet: 'blue', instanceIds: ['i-1'], step: 1, weight: 10 }

function counting(name: string, look: (now: number) => CheckLook): HoldCheck & { looks: number[] } {
  const looks: number[] = []
  return {
    name,
    describe: [],
    looks,
    look: async () => {
      looks.push(clock.now())
      return look(clock.now())
    }
  }
}

let clock: FakeClock

describe('holdStep', () => {
  it("holds for holdMs, looking every interval, then passes with every check's last line", async () => {
    clock = new FakeClock()
    const start = clock.now()
    const health = counting('health', () => ({ ok: true, line: '3/3 targets healthy' }))
    const findings = await holdStep(
      [health],
      { ...subject, startedAt: start, holdMs: 60_000 },
      { clock, deadline: start + 3600_000 }
    )
    expect(findings).toEqual({ checks: ['3/3 targets healthy', `${health.looks.length} checks`] })
    expect(clock.now() - start).toBe(60_000)
    expect(health.looks.length).toBe(1 + 60_000 / 5000)
  })

  it('a check that waits for late evidence keeps the step held, and the others keep looking', async () => {
    clock = new FakeClock()
    const start = clock.now()
    const health = counting('health', () => ({ ok: true, line: 'healthy' }))
    const late: HoldCheck = {
      name: 'late',
      describe: [],
      look: async () => ({ ok: true, line: 'so far so good' }),
      conclude: async () =>
        clock.now() < start + 90_000
          ? { ok: true, line: 'waiting', holdUntil: start + 90_000 }
          : { ok: true, line: 'the data is in: fine' }
    }
    const findings = await holdStep(
      [health, late],
      { ...subject, startedAt: start, holdMs: 60_000 },
      { clock, deadline: start + 3600_000 }
    )
    expect(findings.failure).toBeUndefined()
    expect(findings.checks.slice(0, 2)).toEqual(['healthy', 'the data is in: fine'])
    expect(clock.now() - start).toBe(90_000)
    expect(health.looks.filter((t) => t > start + 60_000).length).toBeGreaterThanOrEqual(5)
  })

  it('a failure of another check while one waits ends the hold at once', async () => {
    clock = new FakeClock()
    const start = clock.now()
    const health = counting('health', (now) =>
      now >= start + 70_000 ? { ok: false, line: 'i-1 unhealthy' } : { ok: true, line: 'healthy' }
    )
    const late: HoldCheck = {
      name: 'late',
      describe: [],
      look: async () => ({ ok: true, line: 'ok' }),
      conclude: async () => ({ ok: true, line: 'waiting', holdUntil: start + 600_000 })
    }
    const findings = await holdStep(
      [health, late],
      { ...subject, startedAt: start, holdMs: 60_000 },
      { clock, deadline: start + 3600_000 }
    )
    expect(findings).toEqual({ checks: ['i-1 unhealthy'], failure: 'i-1 unhealthy' })
    expect(clock.now() - start).toBeLessThan(80_000)
  })

  it('waiting never outlasts the deadline, and the window tells checks the deadline', async () => {
    clock = new FakeClock()
    const start = clock.now()
    const seen: Array<number | undefined> = []
    const late: HoldCheck = {
      name: 'late',
      describe: [],
      look: async (w) => {
        seen.push(w.deadline)
        return { ok: true, line: 'ok' }
      },
      conclude: async () => ({ ok: true, line: 'waiting', holdUntil: start + 600_000 })
    }
    const findings = await holdStep(
      [late],
      { ...subject, startedAt: start, holdMs: 60_000 },
      { clock, deadline: start + 120_000 }
    )
    expect(findings.failure).toBe('timeout passed')
    expect(clock.now()).toBe(start + 120_000)
    expect(new Set(seen)).toEqual(new Set([start + 120_000]))
  })
})
