#!/usr/bin/env node
// The installer's entry point as an ES module (`node main.mjs ARGS` in the bundle): cli.ts does
// the work. The image starts the same code from a start-up snapshot (snapshot.ts) when it can.
import { main } from './cli.js'

await main(process.argv.slice(2))
