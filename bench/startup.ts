// The cold-start table of `npm run bench`: spawn of `node dist/index.js` under Node 24 (as the
// runner starts it) to the first AWS request the sandbox receives, for `operation: status`, and
// the size of what the runner loads. With another build to compare (--compare-dist DIR, e.g. the
// main branch's dist/), runs alternate between the two so that a busy machine slows both alike.

import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { runAction } from '../sandbox/run-action.js'
import type { Sandbox } from '../sandbox/sandbox.js'
import { quantile } from './measure.js'

export interface StartupSample {
  dist: string
  firstRequestMs: number
}

/** Alternates `runs` status runs over the builds; the first request's arrival is the cold start. */
export async function coldStarts(sb: Sandbox, dists: string[], runs: number): Promise<StartupSample[]> {
  const samples: StartupSample[] = []
  for (let i = 0; i < runs; i++) {
    for (const dist of dists) {
      const before = sb.world.calls.length
      let spawnedAt = 0
      await runAction({
        env: sb.env,
        entry: path.join(dist, 'index.js'),
        inputs: { 'listener-arns': sb.listenerArn, operation: 'status' },
        onStart: () => (spawnedAt = Date.now())
      })
      const first = sb.world.calls[before]
      if (first) samples.push({ dist, firstRequestMs: first.at - spawnedAt })
    }
  }
  return samples
}

/** Bytes of the entry file and of every .js file of the build (the chunks loaded later too). */
export function bundleSize(dist: string): { entry: number; all: number } {
  const js = readdirSync(dist).filter((f) => f.endsWith('.js'))
  return {
    entry: statSync(path.join(dist, 'index.js')).size,
    all: js.reduce((sum, f) => sum + statSync(path.join(dist, f)).size, 0)
  }
}

/** Median spawn → first request of one build's samples. */
export function medianColdStart(samples: StartupSample[], dist: string): number {
  return quantile(
    samples
      .filter((s) => s.dist === dist)
      .map((s) => s.firstRequestMs)
      .sort((a, b) => a - b),
    0.5
  )
}

export function startupTable(samples: StartupSample[], dists: string[], nodeStartMs: number): string {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`
  const lines = [
    '### Cold start: spawn → first AWS request (operation: status, Node 24), and what the runner loads',
    '',
    `Bare \`node -e 0\` here: ${Math.round(nodeStartMs)} ms. Runs alternate between the builds.`,
    '',
    '| build | runs | spawn → first request: median (min-max) | ratio to the first | index.js | all .js |',
    '|---|---|---|---|---|---|'
  ]
  const first = medianColdStart(samples, dists[0])
  for (const dist of dists) {
    const own = samples.filter((s) => s.dist === dist).map((s) => s.firstRequestMs)
    const median = medianColdStart(samples, dist)
    const size = bundleSize(dist)
    lines.push(
      `| ${path.relative(process.cwd(), dist) || dist} | ${own.length} | ${Math.round(median)} ms (${Math.round(Math.min(...own))}-${Math.round(Math.max(...own))}) | ` +
        `${(median / first).toFixed(2)} | ${kib(size.entry)} | ${kib(size.all)} |`
    )
  }
  return lines.join('\n')
}
