// The demo page: course models (ONNX) run with onnxruntime-web's WebAssembly build.
//
// A board holds the canvas as the network sees it: side x side floats in [0, 1], row by
// row (0 = background, 1 = full ink), the layout of the model's input (1, side, side, 1).
// Boxes are normalised (xmin, ymin, xmax, ymax), as everywhere in the course.
"use strict";

const DIGIT_SIDE = 28;
// Brush radius in canvas pixels: a 2.2-pixel core plus a 1-pixel anti-aliased edge, close
// to the strokes of MNIST digits pasted at 28 x 28.
const BRUSH_RADIUS = 1.1;
const TRUE_COLOUR = "#2ca02c"; // matplotlib's tab:green, as in the notebooks
const PRED_COLOUR = "#d62728"; // tab:red
// The detector's decoding, as helpers.detection.postprocess does it by default.
const SCORE_THRESHOLD = 0.25;
const NMS_IOU = 0.5;
const MAX_DETECTIONS = 20;
const MAX_OVERLAP = 0.1; // dropped digits' tight boxes overlap at most this much (IoU)
const MANY_MAX_DIGITS = 5;

const EMPTY = "The canvas is empty: drop a digit or draw one first.";
const OUTSIDE = "Part of that stroke went outside the canvas: only the part inside counts.";

function iou(a, b) {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

class Board {
  constructor(canvas, side) {
    this.canvas = canvas;
    this.side = side;
    this.ink = new Float32Array(side * side);
    this.scale = canvas.width / side; // display pixels per canvas pixel
    this.small = document.createElement("canvas");
    this.small.width = this.small.height = side;
    this.boxes = []; // {box, colour, label}
    this.source = "empty"; // "empty", "drop" or "drawing"
  }

  clear() {
    this.ink.fill(0);
    this.boxes = [];
    this.source = "empty";
    this.render();
  }

  isEmpty() {
    return !this.ink.some((value) => value > 0);
  }

  // Paste a 28 x 28 uint8 digit with its top-left corner at whole pixel (x, y).
  paste(pixels, x, y) {
    for (let row = 0; row < DIGIT_SIDE; row++) {
      for (let col = 0; col < DIGIT_SIDE; col++) {
        const at = (y + row) * this.side + x + col;
        this.ink[at] = Math.max(this.ink[at], pixels[row * DIGIT_SIDE + col] / 255);
      }
    }
    this.source = "drop";
  }

  // Ink along the segment a-b (canvas pixels, continuous; pixel i spans [i, i + 1)):
  // each pixel takes full ink within BRUSH_RADIUS of the segment, fading to none over
  // one more pixel, so edges are anti-aliased as in MNIST's scans.
  stroke(a, b) {
    const reach = BRUSH_RADIUS + 0.5;
    const lo = (v) => Math.max(0, Math.floor(v - reach));
    const hi = (v) => Math.min(this.side - 1, Math.ceil(v + reach));
    const dx = b.x - a.x, dy = b.y - a.y;
    const length2 = dx * dx + dy * dy;
    for (let row = lo(Math.min(a.y, b.y)); row <= hi(Math.max(a.y, b.y)); row++) {
      for (let col = lo(Math.min(a.x, b.x)); col <= hi(Math.max(a.x, b.x)); col++) {
        const px = col + 0.5, py = row + 0.5;
        const t = length2 ? Math.max(0, Math.min(1, ((px - a.x) * dx + (py - a.y) * dy) / length2)) : 0;
        const distance = Math.hypot(px - (a.x + t * dx), py - (a.y + t * dy));
        const value = Math.max(0, Math.min(1, reach - distance));
        const at = row * this.side + col;
        if (value > this.ink[at]) this.ink[at] = value;
      }
    }
    this.source = "drawing";
  }

  // The ink (white on black, as the network sees it) shown large, then the boxes.
  render() {
    const small = this.small.getContext("2d");
    const image = small.createImageData(this.side, this.side);
    for (let i = 0; i < this.ink.length; i++) {
      const grey = Math.round(this.ink[i] * 255);
      image.data.set([grey, grey, grey, 255], 4 * i);
    }
    small.putImageData(image, 0, 0);
    const context = this.canvas.getContext("2d");
    context.imageSmoothingEnabled = false;
    context.drawImage(this.small, 0, 0, this.canvas.width, this.canvas.height);
    const size = this.canvas.width;
    context.lineWidth = 2;
    context.font = "bold 16px system-ui, sans-serif";
    for (const { box, colour, label } of this.boxes) {
      context.strokeStyle = context.fillStyle = colour;
      context.strokeRect(box[0] * size, box[1] * size, (box[2] - box[0]) * size, (box[3] - box[1]) * size);
      if (label) context.fillText(label, box[0] * size + 2, Math.max(14, box[1] * size - 3));
    }
  }

  // A pointer event's position in canvas pixels (continuous).
  position(event) {
    const rect = this.canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) / rect.width) * this.side,
      y: ((event.clientY - rect.top) / rect.height) * this.side,
    };
  }

  inside(point) {
    return point.x >= 0 && point.y >= 0 && point.x < this.side && point.y < this.side;
  }
}

// Draw on a board with mouse, pen or finger; onStroke(leftCanvas) after every stroke.
function enableDrawing(board, onStart, onStroke) {
  let last = null, left = false;
  board.canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    board.canvas.setPointerCapture(event.pointerId);
    onStart();
    last = board.position(event);
    left = false;
    board.stroke(last, last);
    board.render();
  });
  board.canvas.addEventListener("pointermove", (event) => {
    if (!last) return;
    const point = board.position(event);
    left = left || !board.inside(point);
    board.stroke(last, point);
    last = point;
    board.render();
  });
  const end = () => {
    if (!last) return;
    last = null;
    demo.afterStroke = Promise.resolve(onStroke(left)); // the prediction after this stroke
  };
  board.canvas.addEventListener("pointerup", end);
  board.canvas.addEventListener("pointercancel", end);
}

function decodeDigits(json) {
  const bytes = Uint8Array.from(atob(json.pixels), (c) => c.charCodeAt(0));
  const size = json.side * json.side;
  return json.labels.map((label, i) => ({ label, pixels: bytes.subarray(i * size, (i + 1) * size) }));
}

// The ink extent of a 28 x 28 digit, in its own pixels: [xmin, ymin, xmax, ymax) or null.
function inkExtent(pixels) {
  let box = null;
  for (let row = 0; row < DIGIT_SIDE; row++) {
    for (let col = 0; col < DIGIT_SIDE; col++) {
      if (!pixels[row * DIGIT_SIDE + col]) continue;
      box = box ? [Math.min(box[0], col), Math.min(box[1], row), Math.max(box[2], col + 1), Math.max(box[3], row + 1)]
        : [col, row, col + 1, row + 1];
    }
  }
  return box;
}

// Objectness x best class probability per cell, boxes back on the canvas, then
// class-agnostic NMS: helpers.detection.postprocess with its defaults.
function decodeGrid(grid, cells) {
  const channels = grid.length / (cells * cells);
  const candidates = [];
  for (let row = 0; row < cells; row++) {
    for (let col = 0; col < cells; col++) {
      const at = (row * cells + col) * channels;
      let best = 0;
      for (let k = 1; k <= 10; k++) if (grid[at + k] > grid[at + 1 + best]) best = k - 1;
      const score = grid[at] * grid[at + 1 + best];
      if (score < SCORE_THRESHOLD) continue;
      const cx = (col + grid[at + 11]) / cells, cy = (row + grid[at + 12]) / cells;
      const w = grid[at + 13] / 2, h = grid[at + 14] / 2;
      const box = [cx - w, cy - h, cx + w, cy + h].map((v) => Math.max(0, Math.min(1, v)));
      candidates.push({ box, label: best, score });
    }
  }
  candidates.sort((a, b) => b.score - a.score);
  const kept = [];
  for (const candidate of candidates) {
    if (kept.length === MAX_DETECTIONS) break;
    if (kept.every((other) => iou(other.box, candidate.box) <= NMS_IOU)) kept.push(candidate);
  }
  return kept;
}

function randomInt(n) {
  return Math.floor(Math.random() * n);
}

function say(id, text) {
  document.getElementById(id).textContent = text;
}

const demo = {
  last: null, // the latest prediction, for readers of the page's state (and its tests)
  afterStroke: null, // a promise of the prediction after the latest stroke
  firstPredictionAt: null, // ms after navigation start
  sessions: {},
  digits: [],
};
window.demo = demo;

async function predict(slot, board) {
  const session = demo.sessions[slot];
  const input = new ort.Tensor("float32", board.ink.slice(), [1, board.side, board.side, 1]);
  const start = performance.now();
  const outputs = await session.run({ image: input });
  const milliseconds = performance.now() - start;
  if (demo.firstPredictionAt === null) demo.firstPredictionAt = performance.now();
  return { outputs, milliseconds };
}

// ---- one digit --------------------------------------------------------------------------
const one = { board: null, trueBox: null };

async function boxOne(leftCanvas = false) {
  const board = one.board;
  say("one-message", leftCanvas ? OUTSIDE : "");
  if (board.isEmpty()) {
    board.boxes = [];
    board.render();
    say("one-answer", "");
    document.getElementById("one-probabilities").replaceChildren();
    say("one-message", (leftCanvas ? OUTSIDE + " " : "") + EMPTY);
    demo.last = { tab: "one", empty: true };
    return demo.last;
  }
  // A frame box is defined for a pasted 28 x 28 digit only; a drawing gets the tight-box
  // model, which boxes the ink itself.
  const slot = board.source === "drop" ? "localizer" : "tight";
  const { outputs, milliseconds } = await predict(slot, board);
  const probabilities = Array.from(outputs.classification.data);
  const box = Array.from(outputs.bounding_box.data);
  const label = probabilities.indexOf(Math.max(...probabilities));
  board.boxes = [{ box, colour: PRED_COLOUR, label: String(label) }];
  if (slot === "localizer" && one.trueBox) board.boxes.unshift({ box: one.trueBox, colour: TRUE_COLOUR });
  board.render();
  const probability = (100 * probabilities[label]).toFixed(1);
  say("one-answer", `A ${label} (${probability}%), box (${box.map((v) => v.toFixed(2)).join(", ")})`);
  const rows = probabilities.map((p, digit) => {
    const item = document.createElement("li");
    item.className = digit === label ? "best" : "";
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${(10 * p).toFixed(2)}rem`;
    item.append(`${digit}`, bar, `${(100 * p).toFixed(1)}%`);
    return item;
  });
  document.getElementById("one-probabilities").replaceChildren(...rows);
  demo.last = { tab: "one", slot, label, probabilities, box, trueBox: slot === "localizer" ? one.trueBox : null, milliseconds };
  return demo.last;
}

// Drop digit number `index` of the page's digits at (x, y), or a random one at a random spot.
demo.dropDigit = async function (index = randomInt(demo.digits.length), x, y) {
  const board = one.board;
  const limit = board.side - DIGIT_SIDE + 1;
  x = x ?? randomInt(limit);
  y = y ?? randomInt(limit);
  board.clear();
  board.paste(demo.digits[index].pixels, x, y);
  const side = board.side;
  one.trueBox = [x / side, y / side, (x + DIGIT_SIDE) / side, (y + DIGIT_SIDE) / side];
  const result = await boxOne();
  result.index = index;
  result.trueLabel = demo.digits[index].label;
  say("one-answer", `${document.getElementById("one-answer").textContent}; it is a ${result.trueLabel}`);
  return result;
};

// ---- many digits ------------------------------------------------------------------------
const many = { board: null };

async function findMany(leftCanvas = false) {
  const board = many.board;
  say("many-message", leftCanvas ? OUTSIDE : "");
  const list = document.getElementById("many-detections");
  if (board.isEmpty()) {
    board.boxes = [];
    board.render();
    list.replaceChildren();
    say("many-message", (leftCanvas ? OUTSIDE + " " : "") + EMPTY);
    demo.last = { tab: "many", empty: true };
    return demo.last;
  }
  const session = demo.sessions.detector;
  const { outputs, milliseconds } = await predict("detector", board);
  const grid = outputs[session.outputNames[0]];
  const detections = decodeGrid(grid.data, grid.dims[1]);
  board.boxes = detections.map(({ box, label }) => ({ box, colour: PRED_COLOUR, label: String(label) }));
  board.render();
  list.replaceChildren(
    ...detections.map(({ box, label, score }) => {
      const item = document.createElement("li");
      item.textContent = `${label} (score ${score.toFixed(2)}) at (${box.map((v) => v.toFixed(2)).join(", ")})`;
      return item;
    }),
  );
  if (!detections.length) say("many-message", "No digit found with a score of at least 0.25.");
  demo.last = { tab: "many", detections, milliseconds };
  return demo.last;
}

// Drop digits {index, x, y} (whole pixels), or 1 to 5 random ones whose ink boxes barely overlap.
demo.dropDigits = async function (placements) {
  const board = many.board;
  board.clear();
  if (!placements) {
    placements = [];
    const boxes = [];
    const wanted = 1 + randomInt(MANY_MAX_DIGITS);
    for (let attempt = 0; attempt < 200 && placements.length < wanted; attempt++) {
      const index = randomInt(demo.digits.length);
      const x = randomInt(board.side - DIGIT_SIDE + 1), y = randomInt(board.side - DIGIT_SIDE + 1);
      const ink = inkExtent(demo.digits[index].pixels);
      if (!ink) continue;
      const box = [x + ink[0], y + ink[1], x + ink[2], y + ink[3]];
      if (boxes.some((other) => iou(other, box) > MAX_OVERLAP)) continue;
      boxes.push(box);
      placements.push({ index, x, y });
    }
  }
  for (const { index, x, y } of placements) board.paste(demo.digits[index].pixels, x, y);
  return findMany();
};

// ---- start-up ---------------------------------------------------------------------------
function showTab(name) {
  for (const tab of ["one", "many"]) {
    document.getElementById(tab).hidden = tab !== name;
    document.getElementById(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
  }
}

function withMessage(id, action) {
  return () =>
    action().catch((error) => {
      say(id, `Something went wrong: ${error.message}`);
    });
}

async function start() {
  if (typeof ort === "undefined") {
    throw new Error("onnxruntime-web did not load: build the page with python -m helpers export-demo.");
  }
  ort.env.wasm.wasmPaths = new URL("ort/", document.baseURI).href; // served beside this page
  ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, which static hosts rarely give
  const manifest = await (await fetch("manifest.json")).json();
  demo.manifest = manifest;
  demo.digits = decodeDigits(await (await fetch("digits.json")).json());
  for (const [slot, entry] of Object.entries(manifest.models)) {
    demo.sessions[slot] = await ort.InferenceSession.create(entry.file);
  }
  one.board = new Board(document.getElementById("one-canvas"), manifest.models.localizer.input_side);
  many.board = new Board(document.getElementById("many-canvas"), manifest.models.detector.input_side);
  say("about", `onnxruntime-web ${manifest.onnxruntime_web}; models: ` +
    Object.entries(manifest.models).map(([slot, e]) => `${slot} (${(e.bytes / 1024).toFixed(0)} kB, ${e.source})`).join(", "));

  document.getElementById("tab-one").addEventListener("click", () => showTab("one"));
  document.getElementById("tab-many").addEventListener("click", () => {
    showTab("many");
    if (many.board.isEmpty()) withMessage("many-message", () => demo.dropDigits())();
  });
  document.getElementById("one-drop").addEventListener("click", withMessage("one-message", () => demo.dropDigit()));
  document.getElementById("one-predict").addEventListener("click", withMessage("one-message", () => boxOne()));
  document.getElementById("one-clear").addEventListener("click", () => {
    one.board.clear();
    boxOne();
  });
  document.getElementById("many-drop").addEventListener("click", withMessage("many-message", () => demo.dropDigits()));
  document.getElementById("many-predict").addEventListener("click", withMessage("many-message", () => findMany()));
  document.getElementById("many-clear").addEventListener("click", () => {
    many.board.clear();
    findMany();
  });
  enableDrawing(
    one.board,
    () => {
      if (one.board.source === "drop") one.board.clear(); // a drawing starts on a clean canvas
      one.trueBox = null;
    },
    (left) => withMessage("one-message", () => boxOne(left))(),
  );
  enableDrawing(many.board, () => {}, (left) => withMessage("many-message", () => findMany(left))());
  await demo.dropDigit();
}

demo.ready = start().then(
  () => true,
  (error) => {
    say("one-message", `The demo could not start: ${error.message}`);
    return false;
  },
);
