// The chart ships the repository's CRD, byte for byte (both written by `npm run gen`). No helm needed.
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { crdFile } from '../../hooks/crd/render.js'
import { CHART_DIR } from './chart.js'

t.test('the chart\'s crds/ is the repository\'s crds/', async t => {
  t.same(readdirSync(path.join(CHART_DIR, 'crds')), [path.basename(crdFile)], 'one CRD, same file name')
  t.equal(readFileSync(path.join(CHART_DIR, 'crds', path.basename(crdFile)), 'utf8'), readFileSync(crdFile, 'utf8'), 'same bytes: run `npm run gen`')
})
