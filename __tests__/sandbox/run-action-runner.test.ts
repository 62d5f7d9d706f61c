import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {
  inputEnvName,
  parseActionInputDefaults,
  parseFileCommands,
  runAction,
  runPost
} from '../../sandbox/run-action.js'

// A stand-in for dist/index.js: writes outputs, state and summary the way @actions/core does.
const FAKE_MAIN = `
const fs = require('fs')
const os = require('os')
const put = (file, name, value) => {
  const d = 'ghadelimiter_' + Math.random().toString(16).slice(2)
  fs.appendFileSync(process.env[file], name + '<<' + d + os.EOL + value + os.EOL + d + os.EOL)
}
put('GITHUB_OUTPUT', 'result', 'succeeded')
put('GITHUB_OUTPUT', 'weights', JSON.stringify({ a: 0, b: 100 }))
put('GITHUB_OUTPUT', 'multi', 'line 1\\nline 2')
put('GITHUB_OUTPUT', 'inputs', [process.env['INPUT_LISTENER-ARNS'], process.env['INPUT_CANARY-STEPS'], process.env.INPUT_MY_INPUT, process.env['INPUT_STEP-WAIT']].join(' '))
put('GITHUB_OUTPUT', 'env', [process.env.GITHUB_ACTIONS, process.env.AWS_ENDPOINT_URL, process.env.GITHUB_RUN_ID, process.env.RUNNER_TEMP ? 'temp' : ''].join(' '))
put('GITHUB_STATE', 'phase', 'shifting')
put('GITHUB_STATE', 'weights', '{"a":100}')
fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, '## Deploy\\n| a | b |\\n|---|---|\\n| 1 | 2 |\\n')
console.log('log line')
if (process.env['INPUT_WAIT-FOR-SIGNAL'] === 'true') {
  process.on('SIGINT', () => { console.log('got SIGINT'); put('GITHUB_STATE', 'cancelled', 'yes'); process.exit(1) })
  console.log('waiting for a signal')
  setInterval(() => {}, 1000)
} else process.exit(Number(process.env.INPUT_EXIT || 0))
`

const FAKE_POST = `
const fs = require('fs')
console.log('post sees ' + process.env.STATE_phase + ' ' + process.env.STATE_weights + ' ' + process.env['INPUT_LISTENER-ARNS'])
fs.appendFileSync(process.env.GITHUB_OUTPUT, 'restored=true\\n')
`

describe('runAction', () => {
  let dir: string
  let main: string
  let post: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'run-action-test-'))
    main = path.join(dir, 'main.cjs')
    post = path.join(dir, 'post.cjs')
    await writeFile(main, FAKE_MAIN)
    await writeFile(post, FAKE_POST)
    await writeFile(
      path.join(dir, 'action.yml'),
      `name: x\ninputs:\n  step-wait:\n    description: "d"\n    default: 1m\n  version:\n    default: '\${{ github.sha }}'\noutputs:\n  result:\n    description: r\n`
    )
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('names inputs like the runner', () => {
    expect(inputEnvName('listener-arns')).toBe('INPUT_LISTENER-ARNS')
    expect(inputEnvName('my input')).toBe('INPUT_MY_INPUT')
  })

  it('passes inputs and env, and parses outputs, state and summary', async () => {
    const r = await runAction({
      entry: main,
      actionYml: path.join(dir, 'action.yml'),
      inputs: { 'listener-arns': 'arn:l', 'canary-steps': '10,50', 'my input': 'x' },
      env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
      node: process.execPath
    })
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toBe('log line\n')
    expect(r.outputs).toEqual({
      result: 'succeeded',
      weights: '{"a":0,"b":100}',
      multi: 'line 1\nline 2',
      inputs: 'arn:l 10,50 x 1m',
      env: 'true http://127.0.0.1:9 1658821493 temp'
    })
    expect(r.state).toEqual({ phase: 'shifting', weights: '{"a":100}' })
    expect(r.summary).toContain('| 1 | 2 |')
    expect(r.cancelled).toBe(false)
  })

  it('reports a non-zero exit code', async () => {
    const r = await runAction({ entry: main, actionYml: null, inputs: { exit: '3' }, node: process.execPath })
    expect(r.exitCode).toBe(3)
    expect(r.outputs.result).toBe('succeeded')
  })

  it('cancels like the runner (SIGINT first) and runPost gets the state as STATE_ variables', async () => {
    let started = false
    let waiting = false
    const r = await runAction({
      entry: main,
      actionYml: null,
      inputs: { 'wait-for-signal': 'true' },
      node: process.execPath,
      onStart: (child) => {
        started = true
        // Cancel once the handler is in place, however slowly a loaded machine starts the process.
        child.stdout?.on('data', (chunk: Buffer) => (waiting ||= chunk.toString().includes('waiting for a signal')))
      },
      abortWhen: () => waiting
    })
    expect(started).toBe(true)
    expect(r.cancelled).toBe(true)
    expect(r.signals.map((s) => s.signal)).toEqual(['SIGINT'])
    expect(r.stdout).toContain('got SIGINT')
    expect(r.exitCode).toBe(1)
    expect(r.state.cancelled).toBe('yes')

    const p = await runPost(
      r.state,
      { 'listener-arns': 'arn:l' },
      { entry: post, actionYml: null, node: process.execPath }
    )
    expect(p.exitCode).toBe(0)
    expect(p.stdout).toBe('post sees shifting {"a":100} arn:l\n')
    expect(p.outputs).toEqual({ restored: 'true' })
  })

  it('escalates to SIGTERM and SIGKILL when the action ignores SIGINT', async () => {
    const stubborn = path.join(dir, 'stubborn.cjs')
    await writeFile(
      stubborn,
      `process.on('SIGINT', () => {}); process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)`
    )
    let up = false
    const r = await runAction({
      entry: stubborn,
      actionYml: null,
      inputs: {},
      node: process.execPath,
      onStart: (child) => child.stdout?.on('data', () => (up = true)),
      abortWhen: () => up,
      cancelGraceMs: 150,
      killGraceMs: 150
    })
    expect(r.signals.map((s) => s.signal)).toEqual(['SIGINT', 'SIGTERM', 'SIGKILL'])
    expect(r.signal).toBe('SIGKILL')
  })
})

describe('parseFileCommands / parseActionInputDefaults', () => {
  it('reads heredoc blocks and name=value lines', () => {
    expect(parseFileCommands('a<<EOF\nx\n\ny\nEOF\nb=1=2\n')).toEqual({ a: 'x\n\ny', b: '1=2' })
    expect(() => parseFileCommands('a<<EOF\nx\n')).toThrow(/unterminated/)
  })

  it('reads input defaults from action.yml', () => {
    const yml = `name: x\ninputs:\n  operation:\n    description: "a: b"\n    default: deploy\n  max-errors:\n    default: "0"\n  q:\n    default: 'it''s'\n  none:\n    required: false\noutputs:\n  result:\n    default: nope\n`
    expect(parseActionInputDefaults(yml)).toEqual({ operation: 'deploy', 'max-errors': '0', q: "it's" })
  })
})
