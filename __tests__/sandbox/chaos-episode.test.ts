// The soak's episodes come from their seed alone (so one can be replayed), and over a soak's worth
// of seeds every operation, start and fault appears.
import {
  drawEpisode,
  type FaultKind,
  type Operation,
  undoneAtStart,
  erroringVersions
} from '../../sandbox/chaos/episode.js'

const SEEDS = Array.from({ length: 400 }, (_, i) => i + 1)

test('the same seed draws the same episode; the next seed another one', () => {
  expect(drawEpisode(42)).toEqual(drawEpisode(42))
  const distinct = new Set(SEEDS.slice(0, 50).map((s) => JSON.stringify({ ...drawEpisode(s), seed: 0 })))
  expect(distinct.size).toBeGreaterThan(45)
})

test('200 seeds cover every operation, start state and fault kind', () => {
  const episodes = SEEDS.slice(0, 200).map(drawEpisode)
  const operations = new Set(episodes.map((e) => e.primary.operation))
  const starts = new Set(episodes.map((e) => e.start.kind))
  const faults = new Set(episodes.flatMap((e) => e.faults.map((f) => f.kind)))
  expect([...operations].sort()).toEqual<Operation[]>(['deploy', 'promote', 'rollback', 'status'])
  expect(starts.size).toBe(4)
  const all: FaultKind[] = [
    'second-run',
    'rollback-mid-hold',
    'console-edit',
    'instance-joins',
    'signal',
    'throttling',
    'failing-command',
    'hanging-command',
    'unhealthy-version',
    'bad-version',
    'firing-alarm',
    'insufficient-data',
    'bad-setting'
  ]
  expect([...faults].sort()).toEqual([...all].sort())
  const signals = new Set(episodes.flatMap((e) => e.faults.flatMap((f) => (f.kind === 'signal' ? [f.signal] : []))))
  expect([...signals].sort()).toEqual(['SIGINT', 'SIGKILL', 'SIGTERM'])
})

test('faults shape the inputs they are about, and never meet a fault they exclude', () => {
  for (const seed of SEEDS) {
    const e = drawEpisode(seed)
    const kinds = e.faults.map((f) => f.kind)
    expect(new Set(kinds).size).toBe(kinds.length)
    if (kinds.includes('bad-setting')) expect(kinds).toEqual(['bad-setting'])
    expect(kinds.includes('unhealthy-version') && kinds.includes('bad-version')).toBe(false)
    if (kinds.includes('hanging-command')) expect(e.primary.inputs['command-timeout']).toBe('3s')
    if (kinds.includes('unhealthy-version')) expect(e.primary.inputs.commands).toMatch(/echo unhealthy > behaviour/)
    if (kinds.includes('bad-version')) expect(erroringVersions(e)).toHaveLength(1)
    for (const f of e.faults) {
      if (f.kind === 'bad-setting' && f.setting === 'unlisted-route') {
        expect(e.start.withRule).toBe(true)
        expect(e.primary.routes).toEqual(['listener'])
      }
      if (f.kind === 'bad-setting' && f.setting === 'default-rule') expect(e.primary.routes).toEqual(['default-rule'])
    }
    // Versions are unique to the episode, so a version undone in one cannot come back in another.
    expect(e.start.liveVersion).toContain(`s${seed}-`)
    if (e.primary.operation === 'deploy') expect(e.primary.inputs.version).toBe(`s${seed}-new`)
  }
})

test('a failed deploy waiting on the idle fleet is undone from the start; a staged canary is not', () => {
  const kinds = SEEDS.map(drawEpisode).map((e) => [e.start.kind, undoneAtStart(e.start).length] as const)
  expect(kinds.filter(([k]) => k !== 'failed-idle').every(([, n]) => n === 0)).toBe(true)
  expect(kinds.filter(([k]) => k === 'failed-idle').every(([, n]) => n === 1)).toBe(true)
})
