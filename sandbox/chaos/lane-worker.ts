// One lane of the soak in its own process: a sandbox of its own, so that lanes use both cores and
// one lane's proxy and instances never wait on another's event loop. Driven over IPC by cli.ts.

import { monitorEventLoopDelay } from 'node:perf_hooks'
import { drawEpisode } from './episode.js'
import { episodeReport, type EpisodeReport } from './episode-report.js'
import { startLane, stopLane, type Lane } from './lane.js'
import { runEpisode } from './run-episode.js'

export type ToLane = { type: 'run'; seed: number; verbose: boolean } | { type: 'stop' }
export type FromLane =
  { type: 'ready' } | { type: 'done'; report: EpisodeReport } | { type: 'error'; seed: number; message: string }

const index = Number(process.env.CHAOS_LANE ?? '0')
let lane: Lane | undefined
const send = (message: FromLane) => process.send?.(message)

async function handle(message: ToLane): Promise<void> {
  if (message.type === 'stop') {
    if (lane) await stopLane(lane).catch(() => undefined)
    process.exit(0)
  }
  const delay = monitorEventLoopDelay({ resolution: 10 })
  try {
    lane ??= await startLane(index)
    delay.enable()
    const outcome = await runEpisode(lane, drawEpisode(message.seed))
    delay.disable()
    send({ type: 'done', report: episodeReport(outcome, Math.round(delay.max / 1e6), message.verbose) })
  } catch (e) {
    delay.disable()
    send({ type: 'error', seed: message.seed, message: (e as Error).stack ?? String(e) })
    // A sandbox that could not settle is not reused: the next episode starts a fresh one.
    if (lane) await stopLane(lane).catch(() => undefined)
    lane = undefined
  }
}

process.on('message', (message: ToLane) => void handle(message))
process.on('disconnect', () => void (lane ? stopLane(lane) : Promise.resolve()).finally(() => process.exit(0)))
send({ type: 'ready' })
