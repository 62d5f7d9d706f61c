import { formatTime, round } from './markdown.js'
import type { TimelineEntry } from './report.js'

/** The colour of the weight line: the default theme draws it nearly invisible. */
const CHART_COLOUR = '#2563eb'

/** The chart's points: where each step started, and where the last one ended. */
export function chartPoints(timeline: TimelineEntry[]): Array<{ label: string; weight: number }> {
  const points: Array<{ label: string; weight: number }> = []
  const first = timeline[0]
  // A deploy's first step starts from the idle fleet, which took no traffic.
  if (first?.step === 1) points.push({ label: 'before', weight: 0 })
  for (const entry of timeline) points.push({ label: formatTime(entry.startedAt), weight: entry.weight })
  const last = timeline.at(-1)
  if (last && last.heldMs > 0) points.push({ label: formatTime(last.startedAt + last.heldMs), weight: last.weight })
  return points
}

/** The weight on the new fleet over the run, as a mermaid line chart. */
export function weightChart(timeline: TimelineEntry[]): string {
  const points = chartPoints(timeline)
  const init = { themeVariables: { xyChart: { plotColorPalette: CHART_COLOUR } } }
  return [
    '```mermaid',
    `%%{init: ${JSON.stringify(init)}}%%`,
    'xychart-beta',
    '  title "Traffic on the new fleet (%)"',
    `  x-axis [${points.map((p) => JSON.stringify(p.label)).join(', ')}]`,
    '  y-axis "% of traffic" 0 --> 100',
    `  line [${points.map((p) => round(p.weight)).join(', ')}]`,
    '```'
  ].join('\n')
}
