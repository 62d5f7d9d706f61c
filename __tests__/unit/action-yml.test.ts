import { readFileSync, existsSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import { INPUT_DEFAULTS } from '../../src/config/inputs.js'

const action = parse(readFileSync('action.yml', 'utf8')) as {
  inputs: Record<string, { description: string; default?: string; required?: boolean }>
  outputs: Record<string, { description: string }>
  runs: { using: string; main: string; post: string }
  branding: { icon: string; color: string }
}

describe('action.yml', () => {
  it('declares exactly the inputs the config reads, with the same defaults', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.keys(INPUT_DEFAULTS).sort())
    for (const [name, input] of Object.entries(action.inputs)) {
      expect([name, String(input.default ?? '')]).toEqual([name, INPUT_DEFAULTS[name]])
      expect(input.description.length).toBeGreaterThan(30)
      expect(input.required).toBe(false)
    }
  })

  it('declares every output DESIGN.md lists and the code sets', () => {
    const setInCode = [...readFileSync('src/report/outputs.ts', 'utf8').matchAll(/setOutput\('([a-z-]+)'/g)].map(
      (m) => m[1]
    )
    const design = [
      'result',
      'live-target-group-arn',
      'idle-target-group-arn',
      'previous-target-group-arn',
      'deployed-target-group-arn',
      'command-id',
      'instance-ids',
      'weights'
    ]
    expect(Object.keys(action.outputs).sort()).toEqual([...design].sort())
    expect(setInCode.sort()).toEqual([...design].sort())
  })

  it('runs on node24 with main and post entries that exist in dist/', () => {
    expect(action.runs.using).toBe('node24')
    expect(action.runs.main).toBe('dist/index.js')
    expect(action.runs.post).toBe('dist/post/index.js')
    expect(existsSync(action.runs.main)).toBe(true)
    expect(existsSync(action.runs.post)).toBe(true)
  })
})
