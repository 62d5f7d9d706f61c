import { runPost } from './post-main.js'

await runPost()
