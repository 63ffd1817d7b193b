// `helm lint --strict` with the default values and with each ci/*-values.yaml.
import t from 'tap'
import { CHART_DIR, ciFiles, ciPath, helmOrSkip, KUBE_VERSION, runHelm } from './chart.js'

const helm = helmOrSkip()
if (helm !== undefined) {
  for (const file of [undefined, ...ciFiles]) {
    t.test(`helm lint --strict ${file ?? '(default values)'}`, async t => {
      const res = await runHelm(helm, ['lint', '--strict', CHART_DIR, '--kube-version', KUBE_VERSION, ...(file === undefined ? [] : ['--values', ciPath(file)])])
      t.equal(res.code, 0, `${res.stdout}${res.stderr}`)
      t.match(res.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/)
      t.notMatch(res.stdout, /\[(WARNING|ERROR)\]/, 'no warnings')
    })
  }
}
