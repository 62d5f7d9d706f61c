import type { Clock } from '../runtime/clock.js'
import type { Log } from '../runtime/log.js'
import type { HoldCheck, HoldWindow } from './checks/check.js'

export interface HoldOptions {
  clock: Clock
  signal?: AbortSignal
  /** The operation's deadline (epoch ms); passing it is a failure like any other check. */
  deadline: number
  checkIntervalMs?: number
  /** Each round's looks go to its debug level. */
  log?: Pick<Log, 'debug'>
}

export interface HoldFindings {
  /** What the checks saw, one line each, for the timeline. */
  checks: string[]
  /** Set when a check failed: what, in the user's words. */
  failure?: string
}

/**
 * Holds a traffic step while every check watches it. Returns at the first failed look, because
 * every second on a bad version is a second of users' requests failing. At the end of the hold,
 * checks whose evidence arrives late have the last word; while one of them still waits for its
 * evidence the step stays held and every check keeps watching, since the traffic is still there.
 */
export async function holdStep(checks: HoldCheck[], subject: HoldWindow, options: HoldOptions): Promise<HoldFindings> {
  const { clock } = options
  const window: HoldWindow = { ...subject, deadline: options.deadline }
  const interval = options.checkIntervalMs ?? Math.min(5000, Math.max(500, window.holdMs / 4))
  let rounds = 0
  for (;;) {
    rounds++
    const seen = await Promise.all(checks.map((check) => check.look(window)))
    options.log?.debug(`look ${rounds} at ${window.weight}%: ${seen.map((look) => look.line).join('; ')}`)
    const failed = seen.find((look) => !look.ok)
    if (failed) return { checks: [failed.line], failure: failed.line }
    const now = clock.now()
    if (now >= options.deadline) return { checks: ['timeout passed'], failure: 'timeout passed' }
    let until = window.startedAt + window.holdMs
    if (now >= until) {
      const last = await Promise.all(checks.map((check, i) => (check.conclude ? check.conclude(window) : seen[i])))
      const failedLast = last.find((look) => !look.ok)
      if (failedLast) return { checks: [failedLast.line], failure: failedLast.line }
      until = Math.max(...last.map((look) => look.holdUntil ?? 0))
      if (until <= clock.now()) {
        return { checks: [...last.map((look) => look.line), `${rounds} check${rounds === 1 ? '' : 's'}`] }
      }
    }
    const at = clock.now()
    await clock.sleep(Math.max(1, Math.min(interval, until - at, options.deadline - at)), options.signal)
  }
}
