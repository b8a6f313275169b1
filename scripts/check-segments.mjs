#!/usr/bin/env node
// Checks how the sequence flows of processes/*.bpmn are routed, on a real bpmn-js render (issue 15, item 3: "flows
// routed so that no two share a segment"). Every file is imported by bpmn-js's NavigatedViewer in headless
// Chromium (scripts/lib/bpmn-render.mjs); the connections bpmn-js holds (elementRegistry, their waypoints) and
// the SVG paths it drew for them are read back, and:
//
//   shared segment   no two sequence flows share a segment: two segments are on one line when they are parallel
//                    and each end of one lies within SAME_LINE px of the other's line, and they share a segment
//                    when, on that line, they overlap by more than OVERLAP px. Flows that meet at one point (two
//                    flows into one gateway corner, a flow ending where the next starts) overlap by 0 px and pass.
//   through a node   no segment of a sequence flow enters a flow node's shape (task, event, gateway; a circle for
//                    an event, a diamond for a gateway, the bounds for the rest) deeper than INSET px -- not even
//                    its own source or target, which it may only touch at its ends.
//   orthogonal       every segment is horizontal or vertical (within SKEW px).
//   drawn            bpmn-js drew each sequence flow as a path from its first waypoint to its last (within 1 px;
//                    bpmn-js rounds inner corners with a 5 px radius, so the path is compared at its ends only).
//
// The rules read the waypoints (the file's DI, which bpmn-js draws as given: importing does not re-route), so a
// finding's coordinates are the ones to edit in the <bpmndi:BPMNEdge>.
//
// Before the files, the checker checks itself: scripts/fixtures/segments/*.bpmn are rendered in the same browser
// run, and each must give exactly the findings its expected.json lists (flagged.bpmn: one of each rule;
// clean.bpmn: near misses, none). A checker that finds nothing, or too much, fails with exit status 3.
//
// Usage: node scripts/check-segments.mjs [FILE.bpmn...]   (default: processes/*.bpmn)
// Output: one `file:flow_id: finding` line per finding, then a summary.
// Exit status: 0 clean, 1 findings, 2 no files, a file missing or not importing, or no browser; 3 the self-test failed.

import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

import { REPO, renderGeometry } from './lib/bpmn-render.mjs';

// Pixels. A sequence flow is drawn 1.5-2 px wide: two parallel lines whose centres are 4 px apart read as one.
export const SAME_LINE = 4;
// Pixels of common length on one line beyond which two flows share a segment (a touch at a point is 0 px).
export const OVERLAP = 5;
// Pixels a segment may cut into a shape's outline before it runs through the shape (the outline is ~2 px wide).
export const INSET = 2;
// Pixels a segment may lean and still count as horizontal or vertical.
export const SKEW = 1;

const FIXTURES = path.join(REPO, 'scripts', 'fixtures', 'segments');

// ---------------------------------------------------------------------------------------------------------------
// Geometry

const round = (value) => Math.round(value * 10) / 10;

function segmentsOf(points) {
  const segments = [];
  for (let i = 1; i < points.length; i += 1) {
    const a = points[i - 1];
    const b = points[i];
    if (Math.hypot(b.x - a.x, b.y - a.y) > 0) segments.push({ a, b, index: i - 1 });
  }
  return segments;
}

function describe(segment) {
  const { a, b } = segment;
  if (Math.abs(a.x - b.x) <= SKEW) return `vertical segment at x=${round(a.x)} (y ${round(Math.min(a.y, b.y))}-${round(Math.max(a.y, b.y))})`;
  if (Math.abs(a.y - b.y) <= SKEW) return `horizontal segment at y=${round(a.y)} (x ${round(Math.min(a.x, b.x))}-${round(Math.max(a.x, b.x))})`;
  return `segment (${round(a.x)}, ${round(a.y)})-(${round(b.x)}, ${round(b.y)})`;
}

/** Length two segments share on one line (0 when they are not on one line). */
function sharedLength(s, t) {
  const dx = s.b.x - s.a.x;
  const dy = s.b.y - s.a.y;
  const length = Math.hypot(dx, dy);
  const ux = dx / length;
  const uy = dy / length;
  // on s's line: both ends of t within SAME_LINE of it (so t is parallel to s, give or take)
  const offset = (p) => Math.abs((p.x - s.a.x) * uy - (p.y - s.a.y) * ux);
  if (offset(t.a) > SAME_LINE || offset(t.b) > SAME_LINE) return 0;
  const along = (p) => (p.x - s.a.x) * ux + (p.y - s.a.y) * uy;
  const t0 = along(t.a);
  const t1 = along(t.b);
  return Math.max(0, Math.min(length, Math.max(t0, t1)) - Math.max(0, Math.min(t0, t1)));
}

/** Whether point lies inside the shape's outline, further than INSET from it. */
function deepInside(point, shape) {
  const cx = shape.x + shape.width / 2;
  const cy = shape.y + shape.height / 2;
  const dx = Math.abs(point.x - cx);
  const dy = Math.abs(point.y - cy);
  if (/Event$/.test(shape.type)) return Math.hypot(dx, dy) < Math.min(shape.width, shape.height) / 2 - INSET;
  if (/Gateway$/.test(shape.type)) {
    const a = shape.width / 2;
    const b = shape.height / 2;
    // distance from the point to the diamond's edge line |dx|/a + |dy|/b = 1
    return (1 - dx / a - dy / b) / Math.hypot(1 / a, 1 / b) > INSET;
  }
  return dx < shape.width / 2 - INSET && dy < shape.height / 2 - INSET;
}

/** The part of segment inside the shape (deeper than INSET), as [from, to] lengths along it, or null. */
function runThrough(segment, shape) {
  const { a, b } = segment;
  const length = Math.hypot(b.x - a.x, b.y - a.y);
  const steps = Math.ceil(length * 2); // every half pixel
  let first = null;
  let last = null;
  for (let i = 0; i <= steps; i += 1) {
    const f = i / steps;
    if (deepInside({ x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f }, shape)) {
      if (first === null) first = f * length;
      last = f * length;
    }
  }
  return first === null ? null : [first, last];
}

// ---------------------------------------------------------------------------------------------------------------
// Rules

/** Parses an SVG path's absolute M/L/C commands into its points (the end of each command). */
function pathEnds(d) {
  const numbers = (d.match(/-?\d*\.?\d+(?:e[-+]?\d+)?/gi) || []).map(Number);
  const commands = d.match(/[MLC]/g) || [];
  if (!commands.length || commands[0] !== 'M' || /[^MLC\d\s,.eE+-]/.test(d)) return null;
  return { start: { x: numbers[0], y: numbers[1] }, end: { x: numbers[numbers.length - 2], y: numbers[numbers.length - 1] } };
}

/** Findings of one rendered file: [{ flow, rule, message }], in document order. */
export function check(result) {
  const findings = [];
  const flows = result.connections.filter((connection) => connection.type === 'bpmn:SequenceFlow');
  const nodes = result.shapes.filter((shape) => shape.flowNode);
  const add = (flow, rule, message) => findings.push({ flow: flow.id, rule, message });

  for (const flow of flows) {
    const first = flow.waypoints[0];
    const last = flow.waypoints[flow.waypoints.length - 1];
    const ends = flow.d && pathEnds(flow.d);
    const near = (p, q) => Math.hypot(p.x - q.x, p.y - q.y) <= 1;
    if (!ends) add(flow, 'drawn', `bpmn-js drew no path for it (d=${JSON.stringify(flow.d)})`);
    else if (!near(ends.start, first) || !near(ends.end, last)) {
      add(flow, 'drawn', `bpmn-js drew it from (${ends.start.x}, ${ends.start.y}) to (${ends.end.x}, ${ends.end.y}), not along its waypoints`);
    }
    for (const segment of segmentsOf(flow.waypoints)) {
      const { a, b } = segment;
      if (Math.abs(a.x - b.x) > SKEW && Math.abs(a.y - b.y) > SKEW) {
        add(flow, 'orthogonal', `${describe(segment)} is neither horizontal nor vertical`);
      }
      for (const node of nodes) {
        const inside = runThrough(segment, node);
        if (!inside) continue;
        const whose = node.id === flow.source ? ' (its own source)' : node.id === flow.target ? ' (its own target)' : '';
        add(flow, 'through', `its ${describe(segment)} runs ${round(inside[1] - inside[0])} px through ${node.id}${whose}`);
      }
    }
  }

  for (let j = 0; j < flows.length; j += 1) {
    for (let i = 0; i < j; i += 1) {
      for (const t of segmentsOf(flows[j].waypoints)) {
        for (const s of segmentsOf(flows[i].waypoints)) {
          const shared = sharedLength(s, t);
          if (shared > OVERLAP) {
            add(flows[j], 'shared', `its ${describe(t)} shares ${round(shared)} px with ${flows[i].id}'s ${describe(s)}`);
          }
        }
      }
    }
  }
  const order = new Map(flows.map((flow, index) => [flow.id, index]));
  return findings.sort((x, y) => order.get(x.flow) - order.get(y.flow));
}

// ---------------------------------------------------------------------------------------------------------------
// Driver

async function selfTest(results) {
  const expected = JSON.parse(await readFile(path.join(FIXTURES, 'expected.json'), 'utf8'));
  const problems = [];
  for (const [name, wanted] of Object.entries(expected)) {
    const result = results.find((candidate) => candidate.file === path.join(FIXTURES, name));
    if (!result || result.error || result.warnings.length) {
      problems.push(`${name}: did not render cleanly (${result ? result.error || result.warnings.join('; ') : 'missing'})`);
      continue;
    }
    const got = check(result).map((finding) => `${finding.flow} ${finding.rule}`).sort();
    const want = wanted.map(([flow, rule]) => `${flow} ${rule}`).sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      problems.push(`${name}: expected [${want.join(', ')}], got [${got.join(', ')}]`);
    }
  }
  return { problems, count: Object.keys(expected).length };
}

async function main(argv) {
  const folder = path.join(REPO, 'processes');
  const files = argv.length
    ? argv.map((file) => path.resolve(file))
    : (await readdir(folder)).filter((name) => name.endsWith('.bpmn')).sort().map((name) => path.join(folder, name));
  const wrong = files.filter((file) => !file.endsWith('.bpmn'));
  if (!files.length || wrong.length) {
    console.error(wrong.length ? `not a .bpmn file: ${wrong.join(', ')}` : 'no .bpmn files to check');
    return 2;
  }
  const fixtures = Object.keys(JSON.parse(await readFile(path.join(FIXTURES, 'expected.json'), 'utf8'))).map((name) =>
    path.join(FIXTURES, name),
  );
  const results = await renderGeometry([...fixtures, ...files]);

  const test = await selfTest(results);
  if (test.problems.length) {
    for (const problem of test.problems) console.error(`self-test failed: ${problem}`);
    console.error('the segment checker no longer finds what its fixtures (scripts/fixtures/segments/) hold: fix the checker');
    return 3;
  }

  let total = 0;
  let broken = 0;
  for (const file of files) {
    const result = results.find((candidate) => candidate.file === file);
    const shown = path.relative(process.cwd(), file) || file;
    if (result.error || result.warnings.length) {
      broken += 1;
      console.log(`${shown}: bpmn-js import ${result.error ? `failed: ${result.error}` : `warned: ${result.warnings.join('; ')}`}`);
      continue;
    }
    const findings = check(result);
    for (const finding of findings) console.log(`${shown}:${finding.flow}: ${finding.message}`);
    total += findings.length;
    const flows = result.connections.filter((connection) => connection.type === 'bpmn:SequenceFlow').length;
    console.error(`${findings.length ? 'FAIL' : 'ok  '} ${shown} (${flows} sequence flows, ${findings.length} finding${findings.length === 1 ? '' : 's'})`);
  }
  console.error(
    `${files.length} file${files.length === 1 ? '' : 's'} checked on a bpmn-js render, ${total} finding${total === 1 ? '' : 's'}` +
      ` (self-test: ${test.count} fixtures as expected)`,
  );
  return broken ? 2 : total ? 1 : 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // no browser, a missing file, a page that did not finish: said in one line, not as a stack trace
  console.error(String((error && error.message) || error));
  process.exitCode = 2;
}
