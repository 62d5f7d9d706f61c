// The action's start-up cost on its own: spawn of `node dist/index.js` (Node 24, as the runner
// does) to the first AWS request the sandbox receives, and to the process's exit, for
// `operation: status`; and the size of what the runner loads. With several bundles (--dist A
// --dist B), runs alternate between them so that a busy machine slows them alike.
//
//   npm run bench:start -- [--runs 15] [--dist dist] [--dist /tmp/other-dist]

import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { runAction, REPO_ROOT } from '../sandbox/run-action.js'
import { startSandbox } from '../sandbox/sandbox.js'

interface Sample {
  firstRequestMs: number
  exitMs: number
}

function parseArgs(argv: string[]): { runs: number; dists: string[] } {
  const opts = { runs: 15, dists: [] as string[] }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') opts.runs = Number(argv[++i])
    else if (argv[i] === '--dist') opts.dists.push(path.resolve(argv[++i]))
    else throw new Error(`unknown flag ${argv[i]}: npm run bench:start -- [--runs 15] [--dist dir]...`)
  }
  if (opts.dists.length === 0) opts.dists.push(path.join(REPO_ROOT, 'dist'))
  return opts
}

/** Bytes of the entry file, and of every .js file of the bundle (the chunks loaded later too). */
function bundleSize(dist: string): { entry: number; all: number } {
  const js = readdirSync(dist).filter((f) => f.endsWith('.js'))
  return {
    entry: statSync(path.join(dist, 'index.js')).size,
    all: js.reduce((sum, f) => sum + statSync(path.join(dist, f)).size, 0)
  }
}

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]

async function main(): Promise<void> {
  const { runs, dists } = parseArgs(process.argv.slice(2))
  const sb = await startSandbox({ fleetSize: 1 })
  const samples = new Map<string, Sample[]>(dists.map((d) => [d, []]))
  try {
    for (let i = 0; i < runs; i++) {
      for (const dist of dists) {
        const before = sb.world.calls.length
        let spawnedAt = 0
        const result = await runAction({
          env: sb.env,
          entry: path.join(dist, 'index.js'),
          inputs: { 'listener-arns': sb.listenerArn, operation: 'status' },
          onStart: () => (spawnedAt = Date.now())
        })
        const first = sb.world.calls[before]
        if (result.exitCode !== 0 || !first) throw new Error(`${dist}: the status run failed (exit ${result.exitCode})`)
        samples.get(dist)!.push({ firstRequestMs: first.at - spawnedAt, exitMs: result.durationMs })
      }
    }
  } finally {
    await sb.stop()
  }
  console.log(`operation: status, fleets of 1 instance, ${runs} runs per bundle, Node 24; median (p25-p75)`)
  console.log('| bundle | spawn → first request | spawn → exit | index.js | all .js |')
  console.log('|---|---:|---:|---:|---:|')
  for (const dist of dists) {
    const first = samples
      .get(dist)!
      .map((s) => s.firstRequestMs)
      .sort((a, b) => a - b)
    const exit = samples
      .get(dist)!
      .map((s) => s.exitMs)
      .sort((a, b) => a - b)
    const size = bundleSize(dist)
    const range = (v: number[]) => `${quantile(v, 0.5)} ms (${quantile(v, 0.25)}-${quantile(v, 0.75)})`
    console.log(
      `| ${path.relative(process.cwd(), dist) || dist} | ${range(first)} | ${range(exit)} | ${(size.entry / 1024).toFixed(0)} KiB | ${(size.all / 1024).toFixed(0)} KiB |`
    )
  }
}

await main()
