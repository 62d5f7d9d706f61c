// Holding one traffic step while hand-made checks watch it: when a hold ends, and what it reports.
import { beforeEach, describe, expect, it } from '@jest/globals'
import type { CheckLook, HoldCheck, HoldWindow } from '../../src/traffic/checks/check.js'
import { holdStep } from '../../src/traffic/hold.js'
import { BLUE, FakeClock, GREEN } from '../__fixtures__/fake-aws.js'

let clock: FakeClock
beforeEach(() => {
  clock = new FakeClock()
})

function window(holdMs: number, extra: Partial<HoldWindow> = {}): HoldWindow {
  return {
    newFleet: GREEN,
    stableFleet: BLUE,
    instanceIds: ['i-a'],
    step: 2,
    weight: 50,
    startedAt: clock.now(),
    holdMs,
    ...extra
  }
}

/** A check that answers each look from `answer(n)` (n from 1), remembering when it was looked at. */
function check(name: string, answer: (n: number) => CheckLook, conclude?: () => CheckLook) {
  const looks: Array<{ at: number; window: HoldWindow }> = []
  const concluded: number[] = []
  const c: HoldCheck = {
    name,
    describe: [name],
    look: async (w) => {
      looks.push({ at: clock.now(), window: w })
      return answer(looks.length)
    },
    conclude: conclude
      ? async () => {
          concluded.push(clock.now())
          return conclude()
        }
      : undefined
  }
  return { check: c, looks, concluded }
}
const ok = (line: string) => (): CheckLook => ({ ok: true, line })

describe('holdStep', () => {
  it('looks at every check through the hold, and reports their last lines and the number of looks', async () => {
    const alarms = check('alarms', ok('alarm web-5xx OK'))
    const health = check('health', ok('1/1 targets healthy'))
    const start = clock.now()
    const findings = await holdStep([alarms.check, health.check], window(60_000), {
      clock,
      deadline: start + 3600_000
    })
    expect(findings).toEqual({ checks: ['alarm web-5xx OK', '1/1 targets healthy', '13 checks'] })
    // A quarter of the hold, at most 5 s apart: looks at 0, 5 s, ... 60 s.
    expect(alarms.looks.map((l) => l.at - start)).toEqual(Array.from({ length: 13 }, (_, i) => i * 5000))
    expect(health.looks).toHaveLength(13)
    expect(clock.now() - start).toBe(60_000)
  })

  it('gives each look the window: step, weight, fleets and instances', async () => {
    const c = check('c', ok('fine'))
    await holdStep([c.check], window(0, { step: 3, weight: 100 }), { clock, deadline: clock.now() + 60_000 })
    expect(c.looks[0].window).toMatchObject({ step: 3, weight: 100, newFleet: GREEN, instanceIds: ['i-a'] })
  })

  it('ends at the first failed look at once, with that line only, and without concluding', async () => {
    const alarms = check('alarms', (n) =>
      n < 3 ? { ok: true, line: 'alarm web-5xx OK' } : { ok: false, line: 'alarm web-5xx in ALARM' }
    )
    const late = check('late', ok('fine'), ok('fine at the end'))
    const start = clock.now()
    const findings = await holdStep([alarms.check, late.check], window(60_000), {
      clock,
      deadline: start + 3600_000
    })
    expect(findings).toEqual({ checks: ['alarm web-5xx in ALARM'], failure: 'alarm web-5xx in ALARM' })
    expect(clock.now() - start).toBe(10_000)
    expect(alarms.looks).toHaveLength(3)
    expect(late.concluded).toEqual([])
  })

  it('reports the first failing check in list order when several fail at the same look', async () => {
    const a = check('a', () => ({ ok: false, line: 'a failed' }))
    const b = check('b', () => ({ ok: false, line: 'b failed' }))
    const findings = await holdStep([a.check, b.check], window(60_000), { clock, deadline: clock.now() + 3600_000 })
    expect(findings.failure).toBe('a failed')
  })

  it('fails at the deadline, never sleeping past it', async () => {
    const c = check('c', ok('fine'), ok('fine at the end'))
    const start = clock.now()
    const findings = await holdStep([c.check], window(60_000), { clock, deadline: start + 12_000 })
    expect(findings).toEqual({ checks: ['timeout passed'], failure: 'timeout passed' })
    expect(clock.sleeps).toEqual([5000, 5000, 2000])
    expect(clock.now() - start).toBe(12_000)
    expect(c.concluded).toEqual([])
  })

  it('never sleeps past the end of the hold', async () => {
    const c = check('c', ok('fine'))
    const start = clock.now()
    await holdStep([c.check], window(12_000), { clock, deadline: start + 3600_000 })
    expect(clock.sleeps).toEqual([3000, 3000, 3000, 3000])
    expect(clock.now() - start).toBe(12_000)

    clock.sleeps.length = 0
    await holdStep([c.check], window(12_000), { clock, deadline: clock.now() + 3600_000, checkIntervalMs: 5000 })
    expect(clock.sleeps).toEqual([5000, 5000, 2000])
  })

  it('looks at least every half second in a short hold', async () => {
    const c = check('c', ok('fine'))
    await holdStep([c.check], window(1000), { clock, deadline: clock.now() + 60_000 })
    expect(clock.sleeps).toEqual([500, 500])
  })

  it('gives conclude the last word at the end of the hold', async () => {
    const late = check('late', ok('no errors seen yet'), () => ({ ok: false, line: '12 errors in the last minute' }))
    const start = clock.now()
    const findings = await holdStep([late.check], window(10_000), { clock, deadline: start + 3600_000 })
    expect(findings).toEqual({ checks: ['12 errors in the last minute'], failure: '12 errors in the last minute' })
    expect(late.concluded).toEqual([start + 10_000])
  })

  it("reports conclude's line for checks that have one and the last look's for the others", async () => {
    const plain = check('plain', (n) => ({ ok: true, line: `look ${n}` }))
    const late = check('late', ok('looking'), ok('0 errors over the hold'))
    const findings = await holdStep([plain.check, late.check], window(0), { clock, deadline: clock.now() + 60_000 })
    expect(findings).toEqual({ checks: ['look 1', '0 errors over the hold', '1 check'] })
    expect(clock.sleeps).toEqual([])
  })

  it('stops sleeping and throws when the run is cancelled', async () => {
    const cancel = new AbortController()
    const c = check('c', (n) => {
      if (n === 2) cancel.abort(new Error('SIGINT'))
      return { ok: true, line: 'fine' }
    })
    await expect(
      holdStep([c.check], window(60_000), { clock, signal: cancel.signal, deadline: clock.now() + 3600_000 })
    ).rejects.toThrow('SIGINT')
    expect(c.looks).toHaveLength(2)
  })
})
