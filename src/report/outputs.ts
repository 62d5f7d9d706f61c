import * as core from '@actions/core'
import type { RunReport } from './report.js'

/** Sets every output the action declares, empty when a run did not get as far as knowing it. */
export function setOutputs(report: Pick<RunReport, 'result' | 'outputs'>): void {
  const o = report.outputs
  core.setOutput('result', report.result)
  core.setOutput('live-target-group-arn', o.live ?? '')
  core.setOutput('idle-target-group-arn', o.idle ?? '')
  core.setOutput('previous-target-group-arn', o.previous ?? '')
  core.setOutput('deployed-target-group-arn', o.deployed ?? '')
  core.setOutput('command-id', o.commandId ?? '')
  core.setOutput('instance-ids', JSON.stringify(o.instanceIds ?? []))
  core.setOutput('weights', JSON.stringify(o.weights ?? {}))
}
