import type { Clock } from '../runtime/clock.js'
import type { Log } from '../runtime/log.js'
import type { CheckLook, HoldCheck, HoldWindow } from './checks/check.js'

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
 * every second on a bad version is a second of users' requests failing; at the end of the hold,
 * checks whose evidence arrives late have the last word.
 */
export async function holdStep(checks: HoldCheck[], window: HoldWindow, options: HoldOptions): Promise<HoldFindings> {
  const { clock } = options
  const interval = options.checkIntervalMs ?? Math.min(5000, Math.max(500, window.holdMs / 4))
  let rounds = 0
  let seen: CheckLook[] = []
  for (;;) {
    rounds++
    seen = await Promise.all(checks.map((check) => check.look(window)))
    options.log?.debug(`look ${rounds} at ${window.weight}%: ${seen.map((look) => look.line).join('; ')}`)
    const failed = seen.find((look) => !look.ok)
    if (failed) return { checks: [failed.line], failure: failed.line }
    const now = clock.now()
    if (now >= options.deadline) return { checks: ['timeout passed'], failure: 'timeout passed' }
    if (now - window.startedAt >= window.holdMs) break
    await clock.sleep(
      Math.min(interval, window.holdMs - (now - window.startedAt), Math.max(0, options.deadline - now)),
      options.signal
    )
  }
  const last = await Promise.all(checks.map((check, i) => (check.conclude ? check.conclude(window) : seen[i])))
  const failed = last.find((look) => !look.ok)
  if (failed) return { checks: [failed.line], failure: failed.line }
  return { checks: [...last.map((look) => look.line), `${rounds} check${rounds === 1 ? '' : 's'}`] }
}
