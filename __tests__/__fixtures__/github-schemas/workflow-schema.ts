import { parserSchema } from './load.js'

export default parserSchema('workflow-v1.0.min.json')
