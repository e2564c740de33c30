// @ts-check
// Line plots as PNG for the compaction benchmark (docs/benchmarks.md, "Compaction"): panels
// stacked vertically, each with axes, numbered ticks, one curve per series in its own colour with
// a marker at every point, and a legend. Pixels are drawn into an RGBA buffer and written with
// pngjs; text uses the 5x7 bitmap font of font5x7.mjs (no font files, no canvas library).
import { PNG } from 'pngjs';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './font5x7.mjs';

/** @typedef {readonly [number, number, number]} Rgb */
/** @typedef {{ name: string, color: Rgb, points: readonly (readonly [number, number | null])[] }} Series */
/** @typedef {{ title: string, xLabel: string, yLabel: string, series: readonly Series[] }} Panel */

/** Curve colours, in the order series are given (red, blue, green, orange, purple). */
export const COLORS = /** @type {const} */ ([
  [214, 39, 40],
  [31, 119, 180],
  [44, 160, 44],
  [255, 127, 14],
  [148, 103, 189],
]);
const WHITE = /** @type {Rgb} */ ([255, 255, 255]);
const BLACK = /** @type {Rgb} */ ([0, 0, 0]);
const GRID = /** @type {Rgb} */ ([225, 225, 225]);
/** Text is drawn at this many pixels per font pixel (a 5x7 glyph becomes 10x14). */
const TEXT_SCALE = 2;
const CHAR_ADVANCE = (GLYPH_WIDTH + 1) * TEXT_SCALE;
const TEXT_HEIGHT = GLYPH_HEIGHT * TEXT_SCALE;
/** Plot area margins inside a panel: room for the y tick labels, the title and the x label. */
const MARGIN = { left: 110, right: 24, top: 40, bottom: 56 };
const TICK_LENGTH = 6;
const MARKER_HALF = 3;

/** An RGBA image being drawn. */
class Canvas {
  /**
   * @param {number} width
   * @param {number} height
   */
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.data = Buffer.alloc(width * height * 4, 255);
  }

  /**
   * @param {number} x
   * @param {number} y
   * @param {Rgb} c
   */
  set(x, y, c) {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 4;
    this.data[i] = c[0];
    this.data[i + 1] = c[1];
    this.data[i + 2] = c[2];
    this.data[i + 3] = 255;
  }

  /**
   * @param {number} x0
   * @param {number} y0
   * @param {number} w
   * @param {number} h
   * @param {Rgb} c
   */
  fill(x0, y0, w, h, c) {
    for (let y = Math.round(y0); y < Math.round(y0 + h); y++) for (let x = Math.round(x0); x < Math.round(x0 + w); x++) this.set(x, y, c);
  }

  /**
   * A line `thickness` pixels wide (Bresenham, each point a small square).
   * @param {number} x0
   * @param {number} y0
   * @param {number} x1
   * @param {number} y1
   * @param {Rgb} c
   * @param {number} [thickness]
   */
  line(x0, y0, x1, y1, c, thickness = 1) {
    x0 = Math.round(x0);
    y0 = Math.round(y0);
    x1 = Math.round(x1);
    y1 = Math.round(y1);
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    const half = Math.floor((thickness - 1) / 2);
    let err = dx + dy;
    for (;;) {
      this.fill(x0 - half, y0 - half, thickness, thickness, c);
      if (x0 === x1 && y0 === y1) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  /**
   * Text with its top-left corner at (x, y).
   * @param {number} x
   * @param {number} y
   * @param {string} s
   * @param {Rgb} c
   */
  text(x, y, s, c) {
    [...s].forEach((ch, k) => {
      glyph(ch).forEach((row, gy) => {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if (row[gx] === '#') this.fill(x + k * CHAR_ADVANCE + gx * TEXT_SCALE, y + gy * TEXT_SCALE, TEXT_SCALE, TEXT_SCALE, c);
        }
      });
    });
  }
}

/** Pixel width of `s` in the plot's text. */
export function textWidth(/** @type {string} */ s) {
  return s.length * CHAR_ADVANCE - TEXT_SCALE;
}

/**
 * About `target` round tick values (1, 2 or 5 times a power of ten apart), from the round value at
 * or below `min` to the one at or above `max`.
 * @param {number} min
 * @param {number} max
 * @param {number} [target]
 * @returns {{ step: number, ticks: number[] }}
 */
export function niceTicks(min, max, target = 5) {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks = [];
  const last = Math.ceil(max / step - 1e-9) * step; // the first round value at or above max
  for (let v = Math.floor(min / step + 1e-9) * step; v <= last + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return { step, ticks };
}

/** A tick label: whole numbers as is, others with the decimals the step needs. */
export function tickLabel(/** @type {number} */ v, /** @type {number} */ step) {
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
  return v.toFixed(decimals);
}

/**
 * The axes' ranges of a panel: x over the points, y from 0 to a round value above the highest.
 * @param {Panel} panel
 */
export function panelRanges(panel) {
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMax = 0;
  for (const s of panel.series) {
    for (const [x, y] of s.points) {
      xMin = Math.min(xMin, x);
      xMax = Math.max(xMax, x);
      if (y !== null && Number.isFinite(y)) yMax = Math.max(yMax, y);
    }
  }
  if (!Number.isFinite(xMin)) [xMin, xMax] = [0, 1];
  if (xMin > 0) xMin = 0;
  const x = niceTicks(xMin, xMax);
  const y = niceTicks(0, yMax > 0 ? yMax : 1);
  const xTicks = x.ticks;
  const yTicks = y.ticks;
  return {
    x: { min: /** @type {number} */ (xTicks[0]), max: /** @type {number} */ (xTicks.at(-1)), step: x.step, ticks: xTicks },
    y: { min: 0, max: /** @type {number} */ (yTicks.at(-1)), step: y.step, ticks: yTicks },
  };
}

/**
 * @param {Canvas} canvas
 * @param {Panel} panel
 * @param {number} top the panel's first row
 * @param {number} height the panel's rows
 */
function drawPanel(canvas, panel, top, height) {
  const left = MARGIN.left;
  const right = canvas.width - MARGIN.right;
  const plotTop = top + MARGIN.top;
  const plotBottom = top + height - MARGIN.bottom;
  const r = panelRanges(panel);
  /** @param {number} x */
  const px = (x) => left + ((x - r.x.min) / (r.x.max - r.x.min)) * (right - left);
  /** @param {number} y */
  const py = (y) => plotBottom - ((y - r.y.min) / (r.y.max - r.y.min)) * (plotBottom - plotTop);

  canvas.text(left, top + 12, panel.title, BLACK);
  for (const v of r.y.ticks) {
    const y = py(v);
    canvas.line(left, y, right, y, GRID);
    canvas.line(left - TICK_LENGTH, y, left, y, BLACK);
    const label = tickLabel(v, r.y.step);
    canvas.text(left - TICK_LENGTH - 4 - textWidth(label), y - TEXT_HEIGHT / 2, label, BLACK);
  }
  for (const v of r.x.ticks) {
    const x = px(v);
    canvas.line(x, plotBottom, x, plotBottom + TICK_LENGTH, BLACK);
    const label = tickLabel(v, r.x.step);
    canvas.text(x - textWidth(label) / 2, plotBottom + TICK_LENGTH + 4, label, BLACK);
  }
  canvas.line(left, plotTop, left, plotBottom, BLACK, 2);
  canvas.line(left, plotBottom, right, plotBottom, BLACK, 2);
  canvas.text(right - textWidth(panel.xLabel), plotBottom + TICK_LENGTH + 8 + TEXT_HEIGHT, panel.xLabel, BLACK);
  canvas.text(8, plotTop - TEXT_HEIGHT - 6, panel.yLabel, BLACK);

  for (const s of panel.series) {
    /** @type {[number, number] | null} */
    let prev = null;
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y)) {
        prev = null; // a gap: no sample
        continue;
      }
      const p = /** @type {[number, number]} */ ([px(x), py(y)]);
      if (prev) canvas.line(prev[0], prev[1], p[0], p[1], s.color, 2);
      canvas.fill(p[0] - MARKER_HALF, p[1] - MARKER_HALF, 2 * MARKER_HALF + 1, 2 * MARKER_HALF + 1, s.color);
      prev = p;
    }
  }
  drawLegend(canvas, panel.series, left, plotTop);
}

/**
 * A framed legend in the plot area's top-left corner (rising curves end top right): a colour
 * swatch and the name per series.
 * @param {Canvas} canvas
 * @param {readonly Series[]} series
 * @param {number} left
 * @param {number} top
 */
function drawLegend(canvas, series, left, top) {
  const swatch = 24;
  const rowHeight = TEXT_HEIGHT + 8;
  const width = Math.max(0, ...series.map((s) => textWidth(s.name))) + swatch + 24;
  const height = series.length * rowHeight + 8;
  const x0 = left + 12;
  const y0 = top + 8;
  canvas.fill(x0, y0, width, height, WHITE);
  canvas.line(x0, y0, x0 + width, y0, BLACK);
  canvas.line(x0, y0 + height, x0 + width, y0 + height, BLACK);
  canvas.line(x0, y0, x0, y0 + height, BLACK);
  canvas.line(x0 + width, y0, x0 + width, y0 + height, BLACK);
  series.forEach((s, i) => {
    const y = y0 + 8 + i * rowHeight;
    canvas.fill(x0 + 8, y + TEXT_HEIGHT / 2 - 2, swatch, 5, s.color);
    canvas.text(x0 + 16 + swatch, y, s.name, BLACK);
  });
}

/**
 * A PNG of `panels` stacked top to bottom, each `panelHeight` pixels high.
 * @param {readonly Panel[]} panels
 * @param {{ width?: number, panelHeight?: number }} [size]
 * @returns {Buffer}
 */
export function renderPlot(panels, size = {}) {
  const width = size.width ?? 900;
  const panelHeight = size.panelHeight ?? 420;
  if (panels.length === 0) throw new Error('renderPlot: no panel');
  if (width < MARGIN.left + MARGIN.right + 100 || panelHeight < MARGIN.top + MARGIN.bottom + 60) {
    throw new Error(`renderPlot: ${width}x${panelHeight} is too small for a panel`);
  }
  const canvas = new Canvas(width, panelHeight * panels.length);
  panels.forEach((panel, i) => drawPanel(canvas, panel, i * panelHeight, panelHeight));
  const png = new PNG({ width, height: canvas.height });
  canvas.data.copy(png.data);
  return PNG.sync.write(png);
}

/**
 * Width, height and RGBA pixels of a PNG (for tests and checks of a written plot).
 * @param {Buffer} buf
 * @returns {{ width: number, height: number, data: Buffer }}
 */
export function decodePng(buf) {
  const png = PNG.sync.read(buf);
  return { width: png.width, height: png.height, data: png.data };
}
