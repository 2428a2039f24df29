// Charts redraw on the animation frame, a few per frame within a time budget, and each at most every
// MIN_INTERVAL_MS: a step's events never trigger a dozen uPlot redraws in one long task. While training on
// a shared machine one redraw can take 20-30 ms (the GPU process and the worker hold the cores), so the
// budget is small enough that a frame usually draws one chart.
const MIN_INTERVAL_MS = 300;
const FRAME_BUDGET_MS = 4;

const queue = new Map<object, () => void>();
const lastDraw = new WeakMap<object, number>();
const timers = new WeakMap<object, number>();
let frameRequested = false;

function frame() {
  frameRequested = false;
  const start = performance.now();
  for (const [owner, draw] of queue) {
    queue.delete(owner);
    lastDraw.set(owner, performance.now());
    draw();
    if (performance.now() - start > FRAME_BUDGET_MS) break;
  }
  if (queue.size > 0) request();
}

function request() {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(frame);
}

/**
 * Asks for `draw` to run soon; repeated requests from one owner coalesce. `draw` must read the newest state
 * itself (a request waiting on its timer keeps the function it was first given).
 */
export function scheduleDraw(owner: object, draw: () => void): void {
  const wait = (lastDraw.get(owner) ?? 0) + MIN_INTERVAL_MS - performance.now();
  if (wait > 0) {
    if (!timers.has(owner)) {
      timers.set(
        owner,
        window.setTimeout(() => {
          timers.delete(owner);
          queue.set(owner, draw);
          request();
        }, wait),
      );
    }
    return;
  }
  queue.set(owner, draw);
  request();
}

export function cancelDraws(owner: object): void {
  queue.delete(owner);
  const t = timers.get(owner);
  if (t !== undefined) window.clearTimeout(t);
  timers.delete(owner);
}
