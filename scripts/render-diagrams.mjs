#!/usr/bin/env node
// Renders processes/*.bpmn to docs/diagrams/NAME.png as a designer sees them in bpmn.io or Camunda Modeler: bpmn-js
// (node_modules/bpmn-js, pinned in package.json) in headless Chromium (scripts/lib/bpmn-render.mjs), zoom 1, the
// window sized to the diagram's bounding box (labels included) plus a 20 px margin.
//
// Not run in CI: PNG bytes differ with the machine's fonts and Chromium build. Run it after changing a layout and
// commit the pictures with the diagram.
//
// Usage: node scripts/render-diagrams.mjs [FILE.bpmn...]   (default: processes/*.bpmn)
// Exit status: 0 rendered, 1 a file did not import cleanly (import warnings count), 2 no files, a missing file or no
// browser.

import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';

import { REPO, renderGeometry, screenshot } from './lib/bpmn-render.mjs';

const OUT = path.join(REPO, 'docs', 'diagrams');

async function main(argv) {
  const folder = path.join(REPO, 'processes');
  const files = argv.length
    ? argv.map((file) => path.resolve(file))
    : (await readdir(folder)).filter((name) => name.endsWith('.bpmn')).sort().map((name) => path.join(folder, name));
  const wrong = files.filter((file) => !file.endsWith('.bpmn'));
  if (!files.length || wrong.length) {
    console.error(wrong.length ? `not a .bpmn file: ${wrong.join(', ')}` : 'no .bpmn files to render');
    return 2;
  }
  await mkdir(OUT, { recursive: true });
  let failed = 0;
  for (const result of await renderGeometry(files)) {
    const shown = path.relative(process.cwd(), result.file) || result.file;
    if (result.error || result.warnings.length) {
      failed += 1;
      console.error(`${shown}: bpmn-js import ${result.error ? `failed: ${result.error}` : `warned: ${result.warnings.join('; ')}`}`);
      continue;
    }
    const png = path.join(OUT, `${path.basename(result.file, '.bpmn')}.png`);
    const { width, height } = await screenshot(result.file, png, result.box);
    console.log(`${shown} -> ${path.relative(process.cwd(), png)} (${width} x ${height})`);
  }
  return failed ? 1 : 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // no browser, a missing file, a page that did not finish: said in one line, not as a stack trace
  console.error(String((error && error.message) || error));
  process.exitCode = 2;
}
