// The hook benchmark's "no worker pool" comparison: the hook server's own answerHook (parse,
// envelope check, sync, serialize) called on the event loop of a fastify route, with the same
// configuration the hook server reads. What the pool costs at small sizes and saves at large
// ones (its /healthz stays answerable) is measured against this.
import Fastify from 'fastify'
import { answerHook, defaultLimits } from '../../hooks/server/answer.js'
import { logDestination } from '../../hooks/server/app.js'
import { loadConfig } from '../../hooks/server/config.js'

const config = loadConfig()
const limits = defaultLimits(config.bodyLimit)
const app = Fastify({ bodyLimit: config.bodyLimit, logger: { level: 'info', stream: logDestination() }, disableRequestLogging: true })
app.removeContentTypeParser('application/json')
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
app.post('/sync', async (request, reply) => {
  const answer = answerHook({ hook: 'sync', body: request.body as Buffer, nowMs: Date.now() }, config.hooks, limits)
  request.log.info({ hook: 'sync', parent: answer.parent, decision: answer.decision, statusCode: answer.statusCode }, 'sync hook')
  return await reply.code(answer.statusCode).type('application/json; charset=utf-8').send(answer.payload)
})
app.get('/healthz', async () => ({ status: 'ok' }))
await app.listen({ port: 0, host: '127.0.0.1' })
