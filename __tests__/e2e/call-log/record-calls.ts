// Set up before every end-to-end test file: records, for the IAM completeness test, each API call
// the sandbox received in each scenario (test), tagged with whether the action made it (its user
// agent) or the test itself. One JSON file per scenario, and a marker when the file is done, so
// that the completeness test can tell when every scenario of the run has been recorded.
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, expect } from '@jest/globals'
import { observeSandboxes, type Sandbox } from '../../../sandbox/sandbox.js'
import { doneMarker, type RecordedScenario } from './call-log.js'

const dir = process.env.ACTION_CALL_LOG_DIR

if (dir) {
  const testFile = expect.getState().testPath ?? 'unknown'
  const fileKey = createHash('sha1').update(testFile).digest('hex').slice(0, 12)
  const seen: Array<{ sandbox: Sandbox; recorded: number }> = []
  const stopObserving = observeSandboxes((sandbox) => seen.push({ sandbox, recorded: 0 }))
  let scenarios = 0

  const record = (scenario: string): void => {
    const calls = seen.flatMap((s) => {
      const fresh = s.sandbox.world.calls.slice(s.recorded)
      s.recorded += fresh.length
      return fresh.map(({ service, operation, status, errorCode, userAgent }) => ({
        service,
        operation,
        status,
        errorCode,
        userAgent
      }))
    })
    if (calls.length === 0) return
    const entry: RecordedScenario = { testFile, scenario, calls }
    writeFileSync(path.join(dir, `${fileKey}-${++scenarios}.json`), JSON.stringify(entry))
  }

  afterEach(() => record(expect.getState().currentTestName ?? 'unnamed'))
  afterAll(() => {
    record('after all')
    stopObserving()
    writeFileSync(doneMarker(dir, testFile), testFile)
  })
}
