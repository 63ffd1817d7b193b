// NOTES.txt, rendered: `helm template` never prints it and `helm install --dry-run` needs a
// cluster, so a copy of the chart renders it into a ConfigMap through the same template engine.
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { CHART_DIR, helmOrSkip, KUBE_VERSION, NAMESPACE, RELEASE, runHelm } from './chart.js'

const helm = helmOrSkip()
if (helm !== undefined) {
  const notesFor = async (dir: string, set: string[]): Promise<string> => {
    const res = await runHelm(helm, ['template', RELEASE, dir, '--namespace', NAMESPACE, '--kube-version', KUBE_VERSION, '--show-only', 'templates/notes-probe.yaml', ...set.flatMap(s => ['--set', s])])
    if (res.code !== 0) throw new Error(res.stderr)
    const m = /^ {2}notes: (".*")$/m.exec(res.stdout)
    if (m?.[1] === undefined) throw new Error(`no notes in ${res.stdout}`)
    return JSON.parse(m[1]) as string
  }

  t.test('NOTES.txt tells what to do next', async t => {
    const dir = path.join(t.testdir(), 'chart')
    cpSync(CHART_DIR, dir, { recursive: true })
    const notes = readFileSync(path.join(dir, 'templates', 'NOTES.txt'), 'utf8')
    writeFileSync(path.join(dir, 'templates', '_notes-probe.tpl'), `{{- define "notes-probe" -}}\n${notes}{{- end -}}\n`)
    writeFileSync(path.join(dir, 'templates', 'notes-probe.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include "notes-probe" . | toJson }}\n')

    const inCluster = await notesFor(dir, [])
    for (const step of [
      /kubectl label node <upf-node> gtp5g\.gthulhu\.io\/enabled=true/,
      /kind: GTP5GModule/,
      /kubectl get gtp5g\n/,
      /kubectl wait --for=condition=Ready gtp5gmodule\/sample/,
      /helm test gtp5g-operator -n gtp5g-system/,
      /kubectl delete gtp5gmodules --all/,
      /kubectl apply --server-side --force-conflicts -f -/,
      /namespace gtp5g-installers/
    ]) t.match(inCluster, step, `says ${step.source}`)

    const external = await notesFor(dir, ['hooks.url=http://127.0.0.1:18080'])
    t.match(external, /http:\/\/127\.0\.0\.1:18080/, 'hooks.url: names the URL')
    t.match(external, /TARGET_NAMESPACE=gtp5g-installers/, 'hooks.url: says how to configure the external server')
    t.notMatch(external, /helm test/, 'hooks.url: no helm test to run')
  })
}
