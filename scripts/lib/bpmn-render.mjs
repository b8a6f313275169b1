// Renders BPMN files with bpmn-js (node_modules/bpmn-js, the NavigatedViewer bundle that bpmn.io and Camunda
// Modeler draw with) in a real headless Chromium, for scripts/check-segments.mjs and scripts/render-diagrams.mjs.
//
// renderGeometry(files) builds one throwaway HTML page that imports every file in turn with importXML and writes,
// per file, what was drawn as JSON into the DOM: the import warnings, every connection with its DI waypoints and
// the `d` of the SVG path bpmn-js drew for it, every shape with its bounds, and the diagram's bounding box.
// Chromium prints the DOM (--dump-dom) once the page's virtual time has run out, and the JSON is read back.
//
// screenshot(file, png, box) renders one file at zoom 1 in a window sized to `box` and saves the PNG.
//
// The browser is $CHROMIUM, else the first of chromium, chromium-browser, google-chrome on PATH; it runs with a
// fresh --user-data-dir and loads nothing but file:// URLs under the temporary folder and node_modules/bpmn-js.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUNDLE = path.join(REPO, 'node_modules', 'bpmn-js', 'dist', 'bpmn-navigated-viewer.production.min.js');
const ASSETS = path.join(REPO, 'node_modules', 'bpmn-js', 'dist', 'assets');

/** Where the diagram is drawn, in page pixels: room around the diagram's bounding box. */
export const MARGIN = 20;

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

async function findChromium() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of CANDIDATES) {
    for (const dir of (process.env.PATH || '').split(path.delimiter)) {
      const candidate = path.join(dir, name);
      try {
        await run(candidate, ['--version']);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  throw new Error(`no Chromium found (tried $CHROMIUM, ${CANDIDATES.join(', ')}); on Debian: apt-get install chromium fonts-noto-cjk`);
}

async function chromium(args, tmp) {
  const binary = await findChromium();
  const base = [
    '--headless',
    '--disable-gpu',
    '--no-sandbox',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-extensions',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    '--force-device-scale-factor=1',
    '--allow-file-access-from-files',
    `--user-data-dir=${path.join(tmp, 'profile')}`,
  ];
  return run(binary, [...base, ...args], { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
}

/** JSON safe inside a <script> element (no "</script>", no "<!--"). */
const scriptJson = (value) => JSON.stringify(value).replace(/</g, '\\u003c');

// Runs in the page: imports each model with a fresh NavigatedViewer and collects what it drew.
const PAGE_SCRIPT = String.raw`
(async () => {
  const models = JSON.parse(document.getElementById('models').textContent);
  const results = [];
  const container = document.getElementById('canvas');
  for (const model of models) {
    const viewer = new BpmnJS({ container });
    const result = { file: model.file, warnings: [], connections: [], shapes: [] };
    try {
      const { warnings } = await viewer.importXML(model.xml);
      result.warnings = warnings.map((warning) => String(warning.message || warning));
      const registry = viewer.get('elementRegistry');
      const canvas = viewer.get('canvas');
      for (const element of registry.getAll()) {
        const bo = element.businessObject;
        if (!bo || element.type === 'label' || element === canvas.getRootElement()) continue;
        if (element.waypoints) {
          const gfx = registry.getGraphics(element);
          const visual = gfx && gfx.querySelector('.djs-visual > path, .djs-visual > polyline');
          result.connections.push({
            id: element.id,
            type: element.type,
            source: element.source && element.source.id,
            target: element.target && element.target.id,
            waypoints: element.waypoints.map((point) => ({ x: point.x, y: point.y })),
            d: visual ? visual.getAttribute('d') : null,
          });
        } else {
          result.shapes.push({
            id: element.id,
            type: element.type,
            flowNode: bo.$instanceOf('bpmn:FlowNode'),
            host: element.host ? element.host.id : null,
            x: element.x, y: element.y, width: element.width, height: element.height,
          });
        }
      }
      const box = canvas.getActiveLayer().getBBox();
      result.box = { x: box.x, y: box.y, width: box.width, height: box.height };
      const inner = canvas.viewbox().inner;
      result.inner = { x: inner.x, y: inner.y, width: inner.width, height: inner.height };
    } catch (error) {
      result.error = String((error && error.message) || error);
    }
    viewer.destroy();
    results.push(result);
  }
  const out = document.createElement('pre');
  out.id = 'result';
  // base64 of the UTF-8 JSON, so nothing in it is touched by the DOM serialiser
  out.textContent = btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(results))));
  document.body.appendChild(out);
})().catch((error) => {
  const out = document.createElement('pre');
  out.id = 'failure';
  out.textContent = String((error && error.stack) || error);
  document.body.appendChild(out);
});
`;

function page(body, script) {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="${pathToFileURL(path.join(ASSETS, 'diagram-js.css'))}">
<link rel="stylesheet" href="${pathToFileURL(path.join(ASSETS, 'bpmn-js.css'))}">
<style>html, body { margin: 0; padding: 0; background: #fff; overflow: hidden; }</style>
<script src="${pathToFileURL(BUNDLE)}"></script>
</head><body>
${body}
<script>${script}</script>
</body></html>
`;
}

/**
 * Renders every file and returns one result per file:
 * { file, warnings, error?, connections: [{id, type, source, target, waypoints, d}], shapes: [...], box, inner }.
 */
export async function renderGeometry(files) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bpmn-render-'));
  try {
    const models = [];
    for (const file of files) models.push({ file, xml: await readFile(file, 'utf8') });
    const html = page(
      `<div id="canvas" style="width: 4000px; height: 3000px"></div>\n<script type="application/json" id="models">${scriptJson(models)}</script>`,
      PAGE_SCRIPT,
    );
    const pageFile = path.join(tmp, 'geometry.html');
    await writeFile(pageFile, html);
    const { stdout } = await chromium(['--virtual-time-budget=60000', '--dump-dom', pathToFileURL(pageFile).href], tmp);
    const failure = /<pre id="failure">([\s\S]*?)<\/pre>/.exec(stdout);
    if (failure) throw new Error(`the page failed: ${failure[1]}`);
    const match = /<pre id="result">([A-Za-z0-9+/=]*)<\/pre>/.exec(stdout);
    if (!match) throw new Error('Chromium printed no result: the page did not finish rendering within its time budget');
    return JSON.parse(Buffer.from(match[1], 'base64').toString('utf8'));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Renders `file` at zoom 1 and saves `png`, the window sized to `box` (from renderGeometry) plus MARGIN. */
export async function screenshot(file, png, box) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bpmn-render-'));
  try {
    const width = Math.ceil(box.width + 2 * MARGIN);
    const height = Math.ceil(box.height + 2 * MARGIN);
    const script = String.raw`
(async () => {
  const viewer = new BpmnJS({ container: document.getElementById('canvas') });
  await viewer.importXML(JSON.parse(document.getElementById('model').textContent));
  viewer.get('canvas').viewbox({ x: ${box.x - MARGIN}, y: ${box.y - MARGIN}, width: ${width}, height: ${height} });
})();`;
    const html = page(
      `<div id="canvas" style="width: ${width}px; height: ${height}px"></div>\n<script type="application/json" id="model">${scriptJson(await readFile(file, 'utf8'))}</script>`,
      script,
    );
    const pageFile = path.join(tmp, 'screenshot.html');
    await writeFile(pageFile, html);
    await chromium(
      ['--virtual-time-budget=30000', `--window-size=${width},${height}`, `--screenshot=${path.resolve(png)}`, pathToFileURL(pageFile).href],
      tmp,
    );
    return { width, height };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
