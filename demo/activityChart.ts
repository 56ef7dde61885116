/**
 * The live chart of the "All tabs" panel, drawn with uPlot: two panels on one time axis.
 * - Mints over the window: tabtoken's, measured at the origin (a step line, and a mark on the time
 *   axis for every mint), beside the mints a per-tab SDK would have made with the same tabs and the
 *   same token lifetime (computed, dashed). Refused token requests are red marks.
 * - Tabs open (a step line) and reads per second across all tabs.
 * Periods of outage (`degraded`) are shaded amber and sign-outs grey in both.
 * The measured line counts what the page's origin counts as a mint: the development origin's
 * token mints, or the OpenID provider's refresh-token grants (`unit: 'refreshes'`).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { perTabSdkMints, sampleAt, statusBands, type StatusBand } from './ActivityHistory.ts';
import { HISTORY_WINDOW_MS, type Sample } from './demoMessages.ts';

/** The chart never shows less than this, so a page that just loaded is not all zoomed in. */
const MIN_SPAN_MS = 90_000;

const COLOR = {
  tabtoken: '#3ecf8e',
  perTab: '#f0506e',
  refused: '#f5a524',
  tabs: '#6aa1ff',
  reads: '#b48cff',
  axis: '#8b95a3',
  grid: '#262c35',
  degraded: 'rgba(245, 165, 36, 0.16)',
  signedOut: 'rgba(139, 149, 163, 0.16)',
  bandText: '#8b95a3',
};

export interface ChartInput {
  /** Page clock, ms. */
  now: number;
  samples: readonly Sample[];
  /** When the origin answered each mint (page clock, ms), in order. */
  mints: readonly number[];
  /** When the origin refused or failed a token request (page clock, ms), in order. */
  refused: readonly number[];
}

/** What the chart drew last, for the page's readers (the end-to-end test reads it). */
export interface ChartDrawn {
  /** The window shown, page clock, ms. */
  from: number;
  to: number;
  /** Mint marks drawn on the time axis. */
  mintMarks: number;
  /** Refused-request marks drawn. */
  refusedMarks: number;
  /** The last values of the two mint lines. */
  tabtokenMints: number;
  perTabSdkMints: number;
  /** Shaded periods. */
  bands: StatusBand[];
}

interface View {
  from: number;
  to: number;
  mints: number[];
  refused: number[];
  bands: StatusBand[];
}

const font = (px: number) => `${Math.round(px * uPlot.pxRatio)}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;

function axis(o: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return { stroke: COLOR.axis, grid: { stroke: COLOR.grid, width: 1 }, ticks: { stroke: COLOR.grid, width: 1 }, font: font(11), labelFont: font(11), ...o };
}

/** The time axis: clock times only (uPlot's default adds a date line the window never needs). */
function timeAxis(): uPlot.Axis {
  const two = (n: number) => String(n).padStart(2, '0');
  return axis({
    space: 64,
    values: (_u, splits) =>
      splits.map((s) => {
        const d = new Date(s * 1000);
        return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
      }),
  });
}

/** The shaded periods, behind everything else. */
function drawBands(u: uPlot, view: View, withLabels: boolean): void {
  const { ctx, bbox } = u;
  ctx.save();
  for (const band of view.bands) {
    const left = Math.max(bbox.left, u.valToPos(band.from / 1000, 'x', true));
    const right = Math.min(bbox.left + bbox.width, u.valToPos(band.to / 1000, 'x', true));
    if (right <= left) continue;
    ctx.fillStyle = band.status === 'degraded' ? COLOR.degraded : COLOR.signedOut;
    ctx.fillRect(left, bbox.top, right - left, bbox.height);
    if (withLabels && right - left > 40 * uPlot.pxRatio) {
      const text = band.status === 'degraded' ? 'outage (degraded)' : 'signed out';
      const px = uPlot.pxRatio;
      ctx.font = font(11);
      ctx.textBaseline = 'top';
      const w = Math.min(ctx.measureText(text).width, right - left - 10 * px);
      // On a plate of the panel's colour, so grid lines do not run through the words.
      ctx.fillStyle = '#171b21';
      ctx.fillRect(left + 3 * px, bbox.top + 3 * px, w + 6 * px, 15 * px);
      ctx.fillStyle = band.status === 'degraded' ? COLOR.refused : COLOR.bandText;
      ctx.fillText(text, left + 6 * px, bbox.top + 5 * px, w);
    }
  }
  ctx.restore();
}

/** Short vertical marks standing on the time axis; returns how many were drawn. */
function drawMarks(u: uPlot, times: readonly number[], color: string, height: number, width: number): number {
  const { ctx, bbox } = u;
  const bottom = bbox.top + bbox.height;
  let drawn = 0;
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = width * uPlot.pxRatio;
  ctx.beginPath();
  for (const t of times) {
    const x = u.valToPos(t / 1000, 'x', true);
    if (x < bbox.left - 0.5 || x > bbox.left + bbox.width + 0.5) continue;
    ctx.moveTo(x, bottom);
    ctx.lineTo(x, bottom - height * uPlot.pxRatio);
    drawn += 1;
  }
  ctx.stroke();
  ctx.restore();
  return drawn;
}

/** Names each mint line at its right end, so the picture reads without the legend. */
function drawLineLabels(u: uPlot, labels: { text: string; value: number; color: string }[]): void {
  const { ctx, bbox } = u;
  const right = bbox.left + bbox.width - 6 * uPlot.pxRatio;
  const gap = 15 * uPlot.pxRatio;
  const placed = labels.map((l) => ({ ...l, y: u.valToPos(l.value, 'mints', true) - 6 * uPlot.pxRatio })).sort((a, b) => a.y - b.y);
  for (let i = 1; i < placed.length; i++) placed[i]!.y = Math.max(placed[i]!.y, placed[i - 1]!.y + gap);
  ctx.save();
  ctx.font = font(12);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'bottom';
  for (const label of placed) {
    const y = Math.max(bbox.top + gap, Math.min(bbox.top + bbox.height - 12 * uPlot.pxRatio, label.y));
    ctx.fillStyle = '#171b21';
    const w = ctx.measureText(label.text).width;
    ctx.fillRect(right - w - 4 * uPlot.pxRatio, y - gap + 2 * uPlot.pxRatio, w + 8 * uPlot.pxRatio, gap);
    ctx.fillStyle = label.color;
    ctx.fillText(label.text, right, y);
  }
  ctx.restore();
}

/**
 * Both panels, redrawn by `update`.
 *
 * @example
 * const chart = new ActivityChart(document.getElementById('chart-mints')!, document.getElementById('chart-tabs')!, { unit: 'mints' });
 * chart.update({ now: Date.now(), samples, mints, refused });
 */
export class ActivityChart {
  readonly #mints: uPlot;
  readonly #tabs: uPlot;
  #view: View = { from: Date.now() - MIN_SPAN_MS, to: Date.now(), mints: [], refused: [], bands: [] };
  #last = { tabtoken: 0, perTab: 0 };
  /** What was drawn last. */
  drawn: ChartDrawn = { from: 0, to: 0, mintMarks: 0, refusedMarks: 0, tabtokenMints: 0, perTabSdkMints: 0, bands: [] };

  constructor(mintsRoot: HTMLElement, tabsRoot: HTMLElement, o: { unit?: 'mints' | 'refreshes' } = {}) {
    const xRange = (): uPlot.Range.MinMax => [this.#view.from / 1000, this.#view.to / 1000];
    const cursor: uPlot.Cursor = { sync: { key: 'tabtoken-demo' }, points: { size: 6 }, drag: { x: false, y: false } };
    const width = Math.max(320, mintsRoot.clientWidth);
    this.#mints = new uPlot(
      {
        width,
        height: 230,
        legend: { show: false },
        cursor,
        scales: {
          x: { time: true, auto: false, range: xRange },
          mints: { auto: true, range: (_u, _min, max) => [0, Math.max(6, Math.ceil(max * 1.18))] },
        },
        // The right axis only keeps both panels' plot areas (and so their time axes) the same width.
        axes: [
          timeAxis(),
          axis({ scale: 'mints', label: `${o.unit ?? 'mints'} in window`, labelSize: 18, size: 44 }),
          axis({ scale: 'mints', side: 1, size: 62, stroke: 'transparent', grid: { show: false }, ticks: { show: false } }),
        ],
        series: [
          {},
          {
            label: 'tabtoken (measured at the origin)',
            scale: 'mints',
            stroke: COLOR.tabtoken,
            width: 2.5,
            paths: uPlot.paths.stepped!({ align: 1 }),
            points: { show: false },
          },
          { label: 'per-tab SDK (computed)', scale: 'mints', stroke: COLOR.perTab, width: 2, dash: [7, 5], points: { show: false } },
        ],
        hooks: {
          drawClear: [(u) => drawBands(u, this.#view, true)],
          draw: [
            (u) => {
              const mintMarks = drawMarks(u, this.#view.mints, COLOR.tabtoken, 12, 2);
              const refusedMarks = drawMarks(u, this.#view.refused, COLOR.perTab, 6, 1.5);
              drawLineLabels(u, [
                { text: `per-tab SDK, computed: ${Math.round(this.#last.perTab)}`, value: this.#last.perTab, color: COLOR.perTab },
                { text: `tabtoken, measured: ${this.#last.tabtoken}`, value: this.#last.tabtoken, color: COLOR.tabtoken },
              ]);
              this.drawn = {
                from: this.#view.from,
                to: this.#view.to,
                mintMarks,
                refusedMarks,
                tabtokenMints: this.#last.tabtoken,
                perTabSdkMints: this.#last.perTab,
                bands: this.#view.bands.map((b) => ({ ...b })),
              };
            },
          ],
        },
      },
      [[], [], []],
      mintsRoot,
    );
    this.#tabs = new uPlot(
      {
        width,
        height: 130,
        legend: { show: false },
        cursor,
        scales: {
          x: { time: true, auto: false, range: xRange },
          tabs: { auto: true, range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max) + 1)] },
          reads: { auto: true, range: (_u, _min, max) => [0, Math.max(10, Math.ceil(max * 1.2))] },
        },
        axes: [
          timeAxis(),
          axis({ scale: 'tabs', label: 'tabs', labelSize: 18, size: 44, incrs: [1, 2, 5, 10, 20, 50] }),
          axis({ scale: 'reads', side: 1, label: 'reads / s', labelSize: 18, size: 44, grid: { show: false } }),
        ],
        series: [
          {},
          { label: 'reads per second, all tabs', scale: 'reads', stroke: COLOR.reads, width: 1.5, fill: 'rgba(180, 140, 255, 0.12)', points: { show: false } },
          { label: 'tabs open', scale: 'tabs', stroke: COLOR.tabs, width: 2.5, paths: uPlot.paths.stepped!({ align: 1 }), points: { show: false } },
        ],
        hooks: { drawClear: [(u) => drawBands(u, this.#view, false)] },
      },
      [[], [], []],
      tabsRoot,
    );
    new ResizeObserver(() => {
      const w = Math.max(320, mintsRoot.clientWidth);
      if (w !== this.#mints.width) {
        this.#mints.setSize({ width: w, height: 230 });
        this.#tabs.setSize({ width: w, height: 130 });
      }
    }).observe(mintsRoot);
  }

  /** Recomputes the window and redraws both panels. */
  update(input: ChartInput): void {
    const { now, samples } = input;
    const first = Math.min(samples[0]?.t ?? now, input.mints[0] ?? now, input.refused[0] ?? now);
    const from = Math.min(Math.max(now - HISTORY_WINDOW_MS, first), now - MIN_SPAN_MS);
    const inWindow = (t: number) => t >= from && t <= now;
    const mints = input.mints.filter(inWindow);
    const refused = input.refused.filter(inWindow);
    this.#view = { from, to: now, mints, refused, bands: statusBands(samples, now).filter((b) => b.to > from) };

    const xs = [...new Set([from, ...samples.map((s) => s.t).filter(inWindow), ...mints, now])].sort((a, b) => a - b);
    let m = 0;
    const tabtoken = xs.map((x) => {
      while (m < mints.length && mints[m]! <= x) m += 1;
      return m;
    });
    const perTab = perTabSdkMints(samples, from, xs);
    const state = xs.map((x) => sampleAt(samples, x));
    this.#last = { tabtoken: tabtoken[tabtoken.length - 1] ?? 0, perTab: perTab[perTab.length - 1] ?? 0 };

    const seconds = xs.map((x) => x / 1000);
    this.#mints.setData([seconds, tabtoken, perTab]);
    this.#tabs.setData([seconds, state.map((s) => s?.readsPerSec ?? null), state.map((s) => s?.tabs ?? null)]);
  }
}
