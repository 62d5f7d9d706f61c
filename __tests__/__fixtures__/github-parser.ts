// GitHub's own parsers for workflows and action.yml (@actions/workflow-parser, the library behind
// the Actions language service): what they report is what GitHub would reject.
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { parseAction } from '@actions/workflow-parser/actions/index'

/** The parser's errors for a workflow file's content (empty: GitHub accepts it). */
export function workflowErrors(name: string, content: string): string[] {
  const result = parseWorkflow({ name, content }, new NoOperationTraceWriter())
  return result.context.errors.getErrors().map((e) => e.message)
}

/** The parser's errors for an action.yml's content, against the action schema GitHub publishes. */
export function actionErrors(name: string, content: string): string[] {
  const result = parseAction({ name, content }, new NoOperationTraceWriter())
  return result.context.errors.getErrors().map((e) => e.message)
}
