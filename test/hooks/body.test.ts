// The hook bodies' reader (hooks/server/body.ts): a body with a Content-Length lands in one
// Buffer of that size, owning its memory (the pool moves it to a worker without a copy), and
// every way a body can go wrong ends as fastify's own reader would end it.
import { PassThrough } from 'node:stream'
import t from 'tap'
import { readBody } from '../../hooks/server/body.js'

interface Read { error: (Error & { code?: string, statusCode?: number }) | null, body?: Buffer }

async function read (headers: Record<string, string>, chunks: Array<Buffer | Error>, limit = 1024): Promise<Read> {
  const payload = new PassThrough()
  const result = new Promise<Read>(resolve => { readBody(headers, payload, limit, (error, body) => { resolve({ error, body }) }) })
  for (const chunk of chunks) {
    if (chunk instanceof Error) payload.destroy(chunk)
    else payload.write(chunk)
  }
  if (!chunks.some(c => c instanceof Error)) payload.end()
  return await result
}

t.test('a body with a Content-Length: one Buffer of that size, with its own memory', async t => {
  const { error, body } = await read({ 'content-length': '10' }, [Buffer.from('{"a":'), Buffer.from('1}'), Buffer.from('   ')])
  t.equal(error, null)
  t.equal(body?.toString(), '{"a":1}   ')
  t.equal(body?.byteOffset, 0)
  t.equal(body?.buffer.byteLength, 10, 'not a slice of a shared pool')
})

t.test('a chunked body (no Content-Length) is joined at the end', async t => {
  const { error, body } = await read({ 'transfer-encoding': 'chunked' }, [Buffer.from('{"a":'), Buffer.from('1}')])
  t.equal(error, null)
  t.equal(body?.toString(), '{"a":1}')
})

t.test('an empty body is an empty Buffer (answered 400 "body: required" by the hook)', async t => {
  const { error, body } = await read({ 'content-length': '0' }, [])
  t.equal(error, null)
  t.equal(body?.byteLength, 0)
})

t.test('refusals are fastify\'s own errors', async t => {
  const announced = await read({ 'content-length': '2048' }, [Buffer.from('{}')])
  t.match(announced.error, { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }, 'a Content-Length over the limit, before a byte is read')
  const chunked = await read({}, [Buffer.alloc(600, 32), Buffer.alloc(600, 32)])
  t.match(chunked.error, { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }, 'a chunked body that grows past the limit')
  const short = await read({ 'content-length': '10' }, [Buffer.from('{}')])
  t.match(short.error, { code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', statusCode: 400 }, 'fewer bytes than announced')
  const long = await read({ 'content-length': '2' }, [Buffer.from('{}  ')])
  t.match(long.error, { code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', statusCode: 400 }, 'more bytes than announced')
  const aborted = await read({ 'content-length': '10' }, [Buffer.from('{'), new Error('aborted')])
  t.match(aborted.error, { message: 'aborted', statusCode: 400 }, 'a stream error is the client\'s: 400')
})
