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

/** What every plot of the report shares: the schema, its title, size and a white background. */
const frame = (title: string): { $schema: string, title: string, width: number, height: number, background: string } =>
  ({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: 520, height: 300, background: 'white' })

export function lineSpec (plot: LinePlot): TopLevelSpec {
  const scale = plot.log === true ? { type: 'log' as const } : { zero: false }
  // p50/p99 as dashes only where the points carry a statistic; the legend then shows strokes.
  const stats = plot.points.some(p => p.stat !== undefined)
    ? { strokeDash: { field: 'stat', type: 'nominal' as const, title: null, legend: { orient: 'bottom' as const, symbolType: 'stroke' } }, detail: { field: 'stat' } }
    : {}
  return {
    ...frame(plot.title),
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

export interface Bar {
  /** The group on the x axis, e.g. "warm install". */
  group: string
  /** The bar within its group, e.g. "floor: insmod by hand". */
  series: string
  value: number
}

/** Grouped bars (one bar per series within each group), for figures beside their floors. */
export function barSpec (plot: { title: string, yTitle: string, bars: Bar[], log?: boolean }): TopLevelSpec {
  const groups = [...new Set(plot.bars.map(b => b.group))]
  const series = [...new Set(plot.bars.map(b => b.series))]
  const values = plot.bars.map(b => b.value).filter(v => Number.isFinite(v) && v > 0)
  // A log axis has no zero for bars to stand on: whole decades around the data instead.
  const decades = values.length === 0 ? undefined : [10 ** Math.floor(Math.log10(Math.min(...values))), 10 ** Math.ceil(Math.log10(Math.max(...values)))]
  const scale = plot.log === true ? { type: 'log' as const, ...(decades === undefined ? {} : { domain: decades }) } : {}
  return {
    ...frame(plot.title),
    data: { values: plot.bars.filter(b => Number.isFinite(b.value) && b.value > 0) },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'group', type: 'nominal', title: null, sort: groups, axis: { labelAngle: 0 } },
      xOffset: { field: 'series', type: 'nominal', sort: series },
      y: { field: 'value', type: 'quantitative', title: plot.yTitle, scale, stack: null },
      color: { field: 'series', type: 'nominal', title: null, sort: series, legend: { orient: 'bottom', columns: 1, labelLimit: 400 } }
    }
  }
}

/** One horizontal bar per run, split into its consecutive parts (where the time of a run goes). */
export function stackSpec (plot: { title: string, xTitle: string, parts: Array<{ run: string, part: string, order: number, value: number }> }): TopLevelSpec {
  const runs = [...new Set(plot.parts.map(p => p.run))]
  return {
    ...frame(plot.title),
    height: { step: 28 },
    data: { values: plot.parts.filter(p => Number.isFinite(p.value) && p.value > 0) },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'run', type: 'nominal', title: null, sort: runs, axis: { labelLimit: 300 } },
      x: { field: 'value', type: 'quantitative', title: plot.xTitle, stack: 'zero' },
      color: { field: 'part', type: 'nominal', title: null, sort: { field: 'order' }, legend: { orient: 'bottom', columns: 4, labelLimit: 300 } },
      order: { field: 'order', type: 'quantitative' }
    }
  }
}
