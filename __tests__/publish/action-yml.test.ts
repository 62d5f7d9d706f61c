// action.yml against the action schema GitHub publishes (@actions/workflow-parser, which knows
// runs.using: node24), and the Marketplace's limits on what it shows.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import { actionErrors } from '../__fixtures__/github-parser.js'
import { REPO_ROOT } from '../__fixtures__/readme.js'

const text = readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8')
const action = parse(text) as {
  description: string
  runs: { using: string }
  inputs: Record<string, { description: string; default?: string }>
}

describe('action.yml', () => {
  it("passes GitHub's action schema", () => {
    expect(actionErrors('action.yml', text)).toEqual([])
  })

  it('the schema check catches what GitHub rejects: an unknown runtime, a misspelt key', () => {
    const broken = text.replace('using: node24', 'using: node99').replace(/^description:/m, 'descripton:')
    expect(actionErrors('action.yml', broken)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/node99/),
        expect.stringMatching(/descripton/),
        expect.stringMatching(/Required property is missing: description/)
      ])
    )
  })

  it('runs on node24', () => {
    expect(action.runs.using).toBe('node24')
  })

  it('has a Marketplace description under 125 characters', () => {
    expect(action.description.length).toBeLessThan(125)
  })

  it.each(
    Object.entries(action.inputs).filter(
      ([, i]) => /^\d+[smh]$|^\d+$/.test(i.default ?? '') && !/^\d+%?$/.test(i.default ?? '')
    )
  )('duration input %s gives the format and its range', (_name, input) => {
    expect(input.description).toMatch(/90s|30m|1h/)
    expect(input.description).toMatch(/from \S+ (\(no hold\) )?to \d+h/)
  })
})
