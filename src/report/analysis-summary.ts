import { pct, type FleetSample, type StepAnalysis } from '../plan/canary-judgement.js'
import { escapeMarkdown } from './escape.js'
import { percent, round, table } from './markdown.js'

// The canary judge's part of the job summary: what it saw at each step and what it decided.

/** The new fleet's error rate in red beside the stable fleet's in the weight chart's blue. */
const ANALYSIS_COLOURS = '#dc2626, #2563eb'

const VERDICT: Record<StepAnalysis['verdict'], string> = {
  pass: 'pass',
  fail: '**fail**',
  inconclusive: '*inconclusive*'
}

/** The judge's evidence per step: both fleets' requests, 5xx rate and latency, the verdict and why. */
export function analysisBlocks(analysis: StepAnalysis[]): string[] {
  if (analysis.length === 0) return []
  const rate = (s: FleetSample) => (s.requests > 0 ? pct(s.errors / s.requests) : '–')
  const ms = (v?: number) => (v === undefined ? '–' : `${Math.round(v)} ms`)
  const latency = (s: FleetSample) => `${ms(s.latencyAvgMs)} · ${ms(s.latencyP99Ms)}`
  const baseline = analysis.some((a) => a.stableFromBaseline)
  const rows = analysis.map((a) => {
    const mark = a.stableFromBaseline ? ' ¹' : ''
    return [
      `${a.step === 0 ? 'paused' : a.step} (${percent(a.weight)})`,
      `${a.newFleet.requests.toLocaleString('en-US')} / ${a.stable.requests.toLocaleString('en-US')}${mark}`,
      `${rate(a.newFleet)} / ${rate(a.stable)}${mark}`,
      `${latency(a.newFleet)} / ${latency(a.stable)}${mark}`,
      `${VERDICT[a.verdict]}${a.early ? ' (early)' : ''}${a.extended ? ' (extended)' : ''}`
    ]
  })
  const why = analysis.map((a) => `- Step ${a.step === 0 ? '0 (paused canary)' : a.step}: ${escapeMarkdown(a.reason)}`)
  const notes = [
    "5xx counts the targets' 5xx answers and the connections to them that failed (the load balancer's 502s).",
    ...(baseline
      ? ['¹ At 100% on the new fleet, the stable fleet is judged on its own traffic from before the first shift.']
      : [])
  ]
  return [
    '### Canary analysis',
    analysisChart(analysis),
    table(['step', 'requests new / stable', '5xx new / stable', 'latency avg · p99 new / stable', 'verdict'], rows, [
      false,
      true,
      true,
      true
    ]),
    why.join('\n'),
    notes.map((n) => `<sub>${n}</sub>`).join('<br>')
  ]
}

/** Both fleets' 5xx rate at each judged step, labelled with the step's weight. */
export function analysisChart(analysis: StepAnalysis[]): string {
  const share = (s: FleetSample) => (s.requests > 0 ? (100 * s.errors) / s.requests : 0)
  const newRates = analysis.map((a) => share(a.newFleet))
  const stableRates = analysis.map((a) => share(a.stable))
  const top = Math.max(1, Math.ceil(Math.max(...newRates, ...stableRates) * 1.2))
  const init = { themeVariables: { xyChart: { plotColorPalette: ANALYSIS_COLOURS } } }
  const decimals = (v: number) => Math.round(v * 100) / 100
  return [
    '```mermaid',
    `%%{init: ${JSON.stringify(init)}}%%`,
    'xychart-beta',
    '  title "5xx rate (%): new fleet (red), stable fleet (blue)"',
    `  x-axis [${analysis.map((a) => JSON.stringify(`step ${a.step} at ${round(a.weight)}%`)).join(', ')}]`,
    `  y-axis "5xx rate (%)" 0 --> ${top}`,
    `  line [${newRates.map(decimals).join(', ')}]`,
    `  line [${stableRates.map(decimals).join(', ')}]`,
    '```'
  ].join('\n')
}
