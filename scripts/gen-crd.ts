// `npm run gen`: writes crds/ and the Helm chart's copy from the TypeBox schema. Never edit either by hand.
import { writeFileSync } from 'node:fs'
import { chartCrdFile, crdFile, renderCrd } from '../hooks/crd/render.js'

const crd = renderCrd()
for (const file of [crdFile, chartCrdFile]) {
  writeFileSync(file, crd)
  console.log(`wrote ${file}`)
}
