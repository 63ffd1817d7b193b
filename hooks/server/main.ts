// Entry point: configuration from the environment, listen, and a graceful stop on SIGTERM
// (in-flight hook calls finish; Metacontroller retries anything refused meanwhile).
import closeWithGrace from 'close-with-grace'
import { buildApp, logDestination } from './app.js'
import { loadConfig } from './config.js'

const config = loadConfig()
const { app } = buildApp({ hooks: config.hooks, bodyLimit: config.bodyLimit, limits: config.limits, logLevel: config.logLevel, logStream: logDestination() })

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'stopping after an error')
  else app.log.info({ signal }, 'stopping')
  await app.close()
})

await app.listen({ port: config.port, host: config.host })
app.log.info({ targetNamespace: config.hooks.targetNamespace, installerImage: config.hooks.installerImage, policy: config.hooks.policy }, 'gtp5g hook server ready')
