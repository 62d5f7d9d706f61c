import { parserSchema } from './load.js'

export default parserSchema('action-v1.0.min.json')
