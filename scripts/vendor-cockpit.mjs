#!/usr/bin/env node
// Copies the cockpit's browser libraries from node_modules (pinned exactly in package.json, locked in
// package-lock.json) into src/efficacy_flow/service/static/vendor/, where the service serves them at /static/vendor/:
// the cockpit loads nothing from a CDN, so it works on an intranet without internet access (docs/dependencies.md).
//
// Run after `npm ci` whenever bpmn-js or echarts is upgraded, and commit the copied files with package.json.
//
// Usage: npm run vendor:cockpit      Exit status: 0 copied, 1 a file is missing (run npm ci first).

import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODULES = path.join(REPO, 'node_modules');
const OUT = path.join(REPO, 'src', 'efficacy_flow', 'service', 'static', 'vendor');

// package → [file in the package, name in vendor/<package>/]
const FILES = {
  'bpmn-js': [
    ['dist/bpmn-navigated-viewer.production.min.js', 'bpmn-navigated-viewer.production.min.js'],
    ['dist/assets/bpmn-js.css', 'bpmn-js.css'],
    ['dist/assets/diagram-js.css', 'diagram-js.css'],
    ['LICENSE', 'LICENSE'],
  ],
  echarts: [
    ['dist/echarts.min.js', 'echarts.min.js'],
    ['LICENSE', 'LICENSE'],
    ['NOTICE', 'NOTICE'],
  ],
};

async function main() {
  await rm(OUT, { recursive: true, force: true });
  const versions = {};
  for (const [name, files] of Object.entries(FILES)) {
    const root = path.join(MODULES, name);
    const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
    versions[name] = manifest.version;
    await mkdir(path.join(OUT, name), { recursive: true });
    for (const [from, to] of files) {
      await copyFile(path.join(root, from), path.join(OUT, name, to));
    }
  }
  await writeFile(path.join(OUT, 'VERSIONS.json'), JSON.stringify(versions, null, 2) + '\n');
  console.log(`vendored ${Object.entries(versions).map(([n, v]) => `${n} ${v}`).join(', ')} into ${path.relative(REPO, OUT)}`);
}

main().catch((error) => {
  console.error(`vendor-cockpit: ${error.message} (run npm ci first)`);
  process.exit(1);
});
