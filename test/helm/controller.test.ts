// One source of truth: metacontroller/composite-controller.yaml is the chart's default rendering
// of the CompositeController, and `helm show crds` is the generated CRD.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse, parseAllDocuments } from 'yaml'
import { crdFile } from '../../hooks/crd/render.js'
import { loadConfig } from '../../hooks/server/config.js'
import { CHART_DIR, helmOrSkip, type Manifest, one, render, runHelm } from './chart.js'

const plain = parse(readFileSync(new URL('../../metacontroller/composite-controller.yaml', import.meta.url), 'utf8')) as Manifest & { spec: unknown }
const plainDecorator = parse(readFileSync(new URL('../../metacontroller/decorator-controller.yaml', import.meta.url), 'utf8')) as Manifest & { spec: unknown }

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

  t.test('the plain Node DecoratorController is the chart\'s default rendering, and nodeLabels.enabled=false leaves it out', async t => {
    const rendered = one<Manifest & { spec: unknown }>(await render(helm), 'DecoratorController')
    t.equal(rendered.metadata.name, plainDecorator.metadata.name)
    t.same(rendered.spec, plainDecorator.spec, 'same spec, same hooks: edit the template and the plain file together')
    const off = await render(helm, { set: ['nodeLabels.enabled=false'] })
    t.notOk(off.some(m => m.kind === 'DecoratorController'))
    // Nor do modules keep their node lists, which only the decorator reads (hooks/core/nodelabels.ts).
    const hookEnv = (objects: Manifest[]): Record<string, string> => Object.fromEntries(
      (one<Manifest & { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string, value: string }> }> } } } }>(objects, 'Deployment')
        .spec.template.spec.containers[0]?.env ?? []).map(e => [e.name, e.value]))
    t.equal(loadConfig(hookEnv(off)).hooks.nodeLabels, false, 'the hook server is told the decorator is off')
    t.equal(loadConfig(hookEnv(await render(helm))).hooks.nodeLabels, true)
    const external = one<Manifest & { spec: { hooks: { sync: { webhook: { url: string } } } } }>(await render(helm, { set: ['hooks.url=http://127.0.0.1:18080/'] }), 'DecoratorController')
    t.equal(external.spec.hooks.sync.webhook.url, 'http://127.0.0.1:18080/node-sync')
  })

  t.test('`helm show crds` gives the CRD as generated', async t => {
    const res = await runHelm(helm, ['show', 'crds', CHART_DIR])
    t.equal(res.code, 0, res.stderr)
    const docs = parseAllDocuments(res.stdout).map(d => d.toJS() as unknown).filter(d => d !== null)
    t.same(docs, [parse(readFileSync(crdFile, 'utf8'))])
  })
}
