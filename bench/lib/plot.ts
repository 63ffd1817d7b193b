// Plots for the report: a Vega-Lite specification (pure, tested) compiled and rendered to SVG
// by Vega itself, headless (renderer "none": no canvas, no browser). Vega-Lite was chosen
// because it is a maintained declarative grammar with a real SVG renderer that runs in Node
// without native modules, and a plot is then data plus a few lines of spec, not drawing code.
import { compile, type TopLevelSpec } from 'vega-lite'
import { parse, View } from 'vega'

export interface Point {
  nodes: number
  /** The line this point belongs to, e.g. "hook server" or "floor (a) JSON.parse+stringify". */
  series: string
  /** e.g. "p50" or "p99": drawn as solid and dashed lines. */
  stat?: string
  value: number
}

export interface LinePlot {
  title: string
  yTitle: string
  points: Point[]
  /** Log scales, for sizes and times that span decades. */
  log?: boolean
}

export function lineSpec (plot: LinePlot): TopLevelSpec {
  const scale = plot.log === true ? { type: 'log' as const } : { zero: false }
  // p50/p99 as dashes only where the points carry a statistic; the legend then shows strokes.
  const stats = plot.points.some(p => p.stat !== undefined)
    ? { strokeDash: { field: 'stat', type: 'nominal' as const, title: null, legend: { orient: 'bottom' as const, symbolType: 'stroke' } }, detail: { field: 'stat' } }
    : {}
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: plot.title,
    width: 520,
    height: 300,
    background: 'white',
    data: { values: plot.points.filter(p => Number.isFinite(p.value) && p.value > 0).map(p => ({ ...p, stat: p.stat ?? '' })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'nodes', type: 'quantitative', title: 'nodes (each with its installer pod)', scale, axis: { format: ',d' } },
      y: { field: 'value', type: 'quantitative', title: plot.yTitle, scale },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 2, labelLimit: 400 } },
      ...stats
    }
  }
}

export async function renderSvg (spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
