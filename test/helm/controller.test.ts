// One source of truth: metacontroller/composite-controller.yaml is the chart's default rendering
// of the CompositeController, and `helm show crds` is the generated CRD.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse, parseAllDocuments } from 'yaml'
import { crdFile } from '../../hooks/crd/render.js'
import { CHART_DIR, helmOrSkip, type Manifest, one, render, runHelm } from './chart.js'

const plain = parse(readFileSync(new URL('../../metacontroller/composite-controller.yaml', import.meta.url), 'utf8')) as Manifest & { spec: unknown }

const helm = helmOrSkip()
if (helm !== undefined) {
  t.test('the plain CompositeController is the chart\'s default rendering (release gtp5g-operator in gtp5g-system)', async t => {
    const rendered = one<Manifest & { spec: unknown }>(await render(helm), 'CompositeController')
    t.equal(rendered.apiVersion, plain.apiVersion)
    t.equal(rendered.kind, plain.kind)
    t.equal(rendered.metadata.name, plain.metadata.name)
    t.same(rendered.spec, plain.spec, 'same spec, same hooks: edit the template and the plain file together')
    t.match(rendered.metadata.labels, plain.metadata.labels ?? {}, 'the plain labels are a subset of the chart\'s')
  })

  t.test('`helm show crds` gives the CRD as generated', async t => {
    const res = await runHelm(helm, ['show', 'crds', CHART_DIR])
    t.equal(res.code, 0, res.stderr)
    const docs = parseAllDocuments(res.stdout).map(d => d.toJS() as unknown).filter(d => d !== null)
    t.same(docs, [parse(readFileSync(crdFile, 'utf8'))])
  })
}
