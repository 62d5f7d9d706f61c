// Reading the API calls recorded by record-calls.ts during this Jest run.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

export interface RecordedCall {
  service: string
  operation: string
  status: number
  errorCode?: string
  userAgent?: string
}

export interface RecordedScenario {
  testFile: string
  scenario: string
  calls: RecordedCall[]
}

export function doneMarker(dir: string, testFile: string): string {
  return path.join(dir, `${createHash('sha1').update(testFile).digest('hex').slice(0, 12)}.done`)
}

/** The end-to-end test files of this run, as the sequencer listed them. */
export function runManifest(dir: string): { e2eFiles: string[] } {
  return JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { e2eFiles: string[] }
}

/** Waits until every listed test file has finished recording; returns those that did not in time. */
export async function waitForRecordings(dir: string, testFiles: string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  let missing = testFiles.filter((f) => !existsSync(doneMarker(dir, f)))
  while (missing.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    missing = missing.filter((f) => !existsSync(doneMarker(dir, f)))
  }
  return missing
}

export function recordedScenarios(dir: string): RecordedScenario[] {
  return readdirSync(dir)
    .filter((f) => /^[0-9a-f]{12}-\d+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RecordedScenario)
}
