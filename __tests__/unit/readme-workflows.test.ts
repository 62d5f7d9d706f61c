// The README's workflows are what users copy: GitHub's own workflow parser must accept each of
// them, and every input they give this action must be one action.yml declares.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { parse } from 'yaml'

const README = readFileSync('README.md', 'utf8')
const ACTION = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, unknown> }

/** The README's YAML blocks that hold jobs: whole workflows, or the jobs of one shown alone. */
const workflows = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)]
  .map((m) => m[1])
  .filter((block) => /^jobs:/m.test(block))

interface Step {
  uses?: string
  with?: Record<string, unknown>
}

function stepsOf(block: string): Step[] {
  const doc = parse(block) as { jobs: Record<string, { steps?: Step[] }> }
  return Object.values(doc.jobs).flatMap((job) => job.steps ?? [])
}

describe('README workflows', () => {
  it('there are several, among them the preview-then-approve one', () => {
    expect(workflows.length).toBeGreaterThanOrEqual(4)
    const preview = workflows.find((w) => /preview-header/.test(w))
    expect(preview).toMatch(/^on:/m)
    expect(preview).toMatch(/^permissions:\n(?: {2}.*\n)*? {2}id-token: write/m)
    expect(preview).toMatch(/^concurrency:/m)
  })

  it.each(workflows.map((w, i) => [i + 1, w] as const))("GitHub's workflow parser accepts workflow %i", (_i, block) => {
    // A block that shows only the jobs is checked as the workflow it belongs in.
    const content = /^on:/m.test(block) ? block : `on: workflow_dispatch\n${block}`
    const result = parseWorkflow({ name: 'readme.yml', content }, new NoOperationTraceWriter())
    expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([])
  })

  it.each(workflows.map((w, i) => [i + 1, w] as const))(
    'workflow %i gives the action only inputs action.yml declares',
    (_i, block) => {
      const ours = stepsOf(block).filter((s) => s.uses === 'OWNER/REPO@v1')
      expect(ours.length).toBeGreaterThan(0)
      for (const step of ours) {
        for (const input of Object.keys(step.with ?? {})) expect(Object.keys(ACTION.inputs)).toContain(input)
      }
    }
  )
})
