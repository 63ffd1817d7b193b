import { syncPayload } from './lib/payload.js'
import { answerText } from '../hooks/server/answer.js'
import { loadConfig } from '../hooks/server/config.js'
const text = syncPayload(10).toString()
const config = loadConfig({}).hooks
for (let i = 0; i < 8000; i++) answerText('sync', text, Date.now(), config)
