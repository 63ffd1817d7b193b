// `npm run gen`: writes crds/ from the TypeBox schema. Never edit crds/ by hand.
import { writeFileSync } from 'node:fs'
import { crdFile, renderCrd } from '../hooks/crd/render.js'

writeFileSync(crdFile, renderCrd())
console.log(`wrote ${crdFile}`)
