// Floor (b) of the hook benchmark: a bare fastify route that parses the same body (fastify's
// own JSON parser) and answers a tiny object. No pool, no checks, no decisions: what any hook
// server on fastify pays for HTTP and parsing under the same load.
import Fastify from 'fastify'

const app = Fastify({ bodyLimit: Number(process.env.BODY_LIMIT_BYTES), logger: { level: 'info' }, disableRequestLogging: true })
app.post('/sync', async (request) => ({ ok: typeof request.body === 'object' }))
app.get('/healthz', async () => ({ status: 'ok' }))
await app.listen({ port: 0, host: '127.0.0.1' })
