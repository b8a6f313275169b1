#!/usr/bin/env node
// Checks that processes/*.bpmn and processes/*.dmn open the way bpmn.io and Camunda Modeler open them, without a
// browser: every file is read with bpmn-moddle (plus Camunda's moddle extension, as Camunda Modeler does) or
// dmn-moddle -- the readers inside bpmn-js and dmn-js -- and any import warning is a failure, because the
// modelers drop what they warn about and a designer's next save would silently lose it.
//
// Beyond the import it checks the diagram interchange (DI), which the modelers need to draw anything:
//   - every flow element, lane, pool, message flow and artifact has exactly one BPMN shape or edge, and every
//     DRG element (decision, input data, ...) and requirement has exactly one DMN shape or edge;
//   - shapes have a positive size, edges at least two waypoints, an edge starts on its source and ends on its
//     target, a node is drawn inside the lane that lists it, a boundary event sits on its host's border, and no
//     two nodes overlap;
//   - attributes from namespaces no reader knows are reported (a typo in a prefix is otherwise ignored by the
//     modeler and by the engine alike);
//   - every camunda:decisionRef names a decision in one of the DMN files checked in the same run.
//
// Usage: node scripts/check-models.mjs [FILE...]   (default: processes/*.bpmn processes/*.dmn)
// Exit status: 0 all files clean, 1 a problem was found, 2 no files to check.

import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { BpmnModdle } from 'bpmn-moddle';
import { DmnModdle } from 'dmn-moddle';

const require = createRequire(import.meta.url);
const camundaPackage = require('camunda-bpmn-moddle/resources/camunda.json');
// The engine's own extension (ef:calendar on a timer, docs/processes.md §17): the same
// descriptor a designer loads into bpmn-js or Camunda Modeler so that the attribute survives editing.
const efficacyFlowPackage = require('../docs/modeler/efficacy-flow-moddle.json');

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_FOLDER = path.join(REPO, 'processes');

// Namespaces whose attributes no moddle package here describes but which are expected: Camunda Modeler writes
// modeler:executionPlatform(Version) on the definitions to pick its property panels, and xsi:type (e.g. on a
// condition, "bpmn:tFormalExpression") picks the element's type, which the reader has already applied.
const KNOWN_FOREIGN_NAMESPACES = new Set([
  'http://camunda.org/schema/modeler/1.0',
  'http://www.w3.org/2001/XMLSchema-instance',
]);

// Pixels. Modelers dock an edge on the outline of a shape's bounds (a circle or diamond touches them), so an
// endpoint further than this outside the bounds is drawn visibly detached.
const DOCKING_TOLERANCE = 2;
// A boundary event's centre sits on its host's border; Camunda Modeler snaps it there exactly.
const BOUNDARY_TOLERANCE = 5;

// ---------------------------------------------------------------------------------------------------------------
// Generic model walking

/** Yields every model element reachable from `root` by containment (not by reference), root first. */
function* walk(root) {
  const seen = new Set();
  const stack = [root];
  while (stack.length) {
    const element = stack.pop();
    if (!element || typeof element !== 'object' || !element.$type || seen.has(element)) continue;
    seen.add(element);
    yield element;
    const children = [];
    if (element.$descriptor.isGeneric) {
      children.push(...(element.$children || []));
    } else {
      for (const property of element.$descriptor.properties) {
        if (property.isReference || property.isAttr) continue;
        const value = element[property.name];
        if (Array.isArray(value)) children.push(...value);
        else if (value && typeof value === 'object') children.push(value);
      }
    }
    stack.push(...children.reverse());
  }
}

/** Maps every prefix declared anywhere in the document to its namespace URI. */
function declaredPrefixes(root) {
  const prefixes = new Map();
  for (const element of walk(root)) {
    for (const [name, value] of Object.entries(element.$attrs || {})) {
      if (name.startsWith('xmlns:')) prefixes.set(name.slice('xmlns:'.length), value);
    }
  }
  return prefixes;
}

/** Problems for attributes and extension elements in namespaces that no loaded package describes. */
function foreignNamespaceProblems(moddle, root) {
  const known = new Set(moddle.getPackages().map((pkg) => pkg.uri));
  const prefixes = declaredPrefixes(root);
  const problems = [];
  for (const element of walk(root)) {
    const where = element.id ? `<${element.$type} id="${element.id}">` : `<${element.$type}>`;
    if (element.$descriptor.isGeneric) {
      const uri = element.$descriptor.ns.uri;
      if (!known.has(uri) && !KNOWN_FOREIGN_NAMESPACES.has(uri)) {
        problems.push(`extension element ${where} is in namespace ${uri}, which no modeler or engine reads`);
      }
      continue;
    }
    for (const name of Object.keys(element.$attrs || {})) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
      const prefix = name.includes(':') ? name.split(':')[0] : '';
      const uri = prefixes.get(prefix);
      // An attribute of a known namespace that the package lacks is already an import warning.
      if (uri !== undefined && (known.has(uri) || KNOWN_FOREIGN_NAMESPACES.has(uri))) continue;
      problems.push(`attribute ${name} on ${where} is in namespace ${uri ?? '(undeclared)'}, which no modeler or engine reads`);
    }
  }
  return problems;
}

function importWarningProblems(warnings) {
  return warnings.map((warning) => {
    const element = warning.element;
    const where = element && element.$type ? ` on <${element.$type}${element.id ? ` id="${element.id}"` : ''}>` : '';
    return `import warning: ${warning.message.replace(/\s*\n\s*/g, '; ')}${where}`;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Geometry

const label = (element) => (element.name ? `${element.id} "${element.name}"` : element.id);

function centre(bounds) {
  return { x: bounds.x + bounds.width / 2, y: bounds.y + bounds.height / 2 };
}

/** Whether point lies in bounds grown by `slack` on every side (the bounds' outline counts as inside). */
function inside(point, bounds, slack = 0) {
  return (
    point.x >= bounds.x - slack &&
    point.x <= bounds.x + bounds.width + slack &&
    point.y >= bounds.y - slack &&
    point.y <= bounds.y + bounds.height + slack
  );
}

/** Distance from point to the outline of bounds (0 on the outline, positive inside and outside). */
function distanceToOutline(point, bounds) {
  const left = bounds.x;
  const right = bounds.x + bounds.width;
  const top = bounds.y;
  const bottom = bounds.y + bounds.height;
  if (inside(point, bounds)) {
    return Math.min(point.x - left, right - point.x, point.y - top, bottom - point.y);
  }
  const dx = Math.max(left - point.x, 0, point.x - right);
  const dy = Math.max(top - point.y, 0, point.y - bottom);
  return Math.hypot(dx, dy);
}

/** Whether two bounds share interior area (touching edges do not overlap). */
function overlaps(a, b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function shapeProblems(shapes, isNode) {
  const problems = [];
  for (const [element, shape] of shapes) {
    const { width, height } = shape.bounds || {};
    if (!(width > 0 && height > 0)) problems.push(`shape of ${label(element)} has no positive size`);
  }
  const nodes = [...shapes].filter(([element, shape]) => isNode(element) && shape.bounds);
  for (let i = 0; i < nodes.length; i += 1) {
    for (let j = i + 1; j < nodes.length; j += 1) {
      const [a, shapeA] = nodes[i];
      const [b, shapeB] = nodes[j];
      if (a.attachedToRef === b || b.attachedToRef === a) continue;
      if (overlaps(shapeA.bounds, shapeB.bounds)) problems.push(`shapes of ${label(a)} and ${label(b)} overlap`);
    }
  }
  return problems;
}

function edgeProblems(edges, shapes, ends) {
  const problems = [];
  for (const [element, edge] of edges) {
    const points = edge.waypoint || [];
    if (points.length < 2) {
      problems.push(`edge of ${label(element)} has ${points.length} waypoint(s), needs at least 2`);
      continue;
    }
    const [source, target] = ends(element);
    const sourceShape = source && shapes.get(source);
    const targetShape = target && shapes.get(target);
    if (sourceShape && !inside(points[0], sourceShape.bounds, DOCKING_TOLERANCE)) {
      problems.push(`edge of ${label(element)} starts at (${points[0].x}, ${points[0].y}), away from ${label(source)}`);
    }
    const last = points[points.length - 1];
    if (targetShape && !inside(last, targetShape.bounds, DOCKING_TOLERANCE)) {
      problems.push(`edge of ${label(element)} ends at (${last.x}, ${last.y}), away from ${label(target)}`);
    }
  }
  return problems;
}

/**
 * Indexes the DI of a file: element -> shape and element -> edge, with problems for DI that references nothing or
 * an element drawn twice (bpmn-js and dmn-js draw only the first and warn).
 */
function indexDi(diElements, refName) {
  const shapes = new Map();
  const edges = new Map();
  const problems = [];
  for (const di of diElements) {
    const element = di[refName];
    if (!element) {
      problems.push(`<${di.$type} id="${di.id}"> references no model element`);
      continue;
    }
    const index = di.$instanceOf('di:Edge') ? edges : shapes;
    if (shapes.has(element) || edges.has(element)) {
      problems.push(`${label(element)} is drawn more than once (again by ${di.id})`);
      continue;
    }
    index.set(element, di);
  }
  return { shapes, edges, problems };
}

// ---------------------------------------------------------------------------------------------------------------
// BPMN

/** The elements bpmn-js draws, each with the kind of DI it needs. */
function drawableBpmnElements(definitions) {
  const needed = [];
  const addContainer = (container) => {
    for (const element of container.flowElements || []) {
      if (element.$instanceOf('bpmn:DataObject')) continue; // drawn through its DataObjectReference
      needed.push(element);
      if (element.$instanceOf('bpmn:SubProcess')) addContainer(element);
    }
    needed.push(...(container.artifacts || []));
  };
  const addLanes = (laneSet) => {
    for (const lane of (laneSet && laneSet.lanes) || []) {
      needed.push(lane);
      addLanes(lane.childLaneSet);
    }
  };
  for (const root of definitions.rootElements || []) {
    if (root.$instanceOf('bpmn:Collaboration')) {
      needed.push(...(root.participants || []), ...(root.messageFlows || []), ...(root.artifacts || []));
    } else if (root.$instanceOf('bpmn:Process')) {
      for (const laneSet of root.laneSets || []) addLanes(laneSet);
      addContainer(root);
      const io = root.ioSpecification;
      if (io) needed.push(...(io.dataInputs || []), ...(io.dataOutputs || []));
    }
  }
  return needed;
}

const isBpmnEdgeElement = (element) =>
  ['bpmn:SequenceFlow', 'bpmn:MessageFlow', 'bpmn:Association', 'bpmn:DataInputAssociation', 'bpmn:DataOutputAssociation'].some(
    (type) => element.$instanceOf(type),
  );

function checkBpmn(definitions, decisionIds) {
  const diagrams = definitions.diagrams || [];
  const planes = diagrams.map((diagram) => diagram.plane).filter(Boolean);
  const problems = [];
  if (!planes.length) return ['has no BPMN diagram (bpmndi:BPMNDiagram): the modelers would draw nothing'];
  for (const plane of planes) {
    if (!plane.bpmnElement) problems.push(`plane ${plane.id} references no collaboration, process or sub-process`);
  }
  const index = indexDi(planes.flatMap((plane) => plane.planeElement || []), 'bpmnElement');
  problems.push(...index.problems);
  const { shapes, edges } = index;

  const needed = drawableBpmnElements(definitions);
  for (const element of needed) {
    const has = isBpmnEdgeElement(element) ? edges.has(element) : shapes.has(element);
    if (!has) problems.push(`${label(element)} (${element.$type}) has no ${isBpmnEdgeElement(element) ? 'edge' : 'shape'}`);
  }

  const isNode = (element) => element.$instanceOf('bpmn:FlowNode') || element.$instanceOf('bpmn:DataObjectReference');
  problems.push(...shapeProblems(shapes, isNode));
  problems.push(...edgeProblems(edges, shapes, (element) => [element.sourceRef, element.targetRef]));

  for (const element of needed) {
    const shape = shapes.get(element);
    if (!shape || !shape.bounds) continue;
    if (element.$instanceOf('bpmn:Lane')) {
      for (const node of element.flowNodeRef || []) {
        const nodeShape = shapes.get(node);
        if (nodeShape && !inside(centre(nodeShape.bounds), shape.bounds)) {
          problems.push(`${label(node)} is listed in lane ${label(element)} but drawn outside it`);
        }
      }
    }
    if (element.$instanceOf('bpmn:BoundaryEvent') && element.attachedToRef) {
      const host = shapes.get(element.attachedToRef);
      if (host && distanceToOutline(centre(shape.bounds), host.bounds) > BOUNDARY_TOLERANCE) {
        problems.push(`boundary event ${label(element)} is not drawn on the border of ${label(element.attachedToRef)}`);
      }
    }
  }
  if (decisionIds) {
    for (const element of needed.filter((candidate) => candidate.$instanceOf('bpmn:BusinessRuleTask'))) {
      const ref = element.get('camunda:decisionRef');
      if (ref && !decisionIds.has(ref)) problems.push(`${label(element)} calls decision "${ref}", which no DMN file defines`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// DMN

function checkDmn(definitions, elementsById) {
  const diagrams = (definitions.dmnDI && definitions.dmnDI.diagrams) || [];
  if (!diagrams.length) return ['has no DMN diagram (dmndi:DMNDiagram): dmn-js would show an empty requirements graph'];
  const index = indexDi(diagrams.flatMap((diagram) => diagram.diagramElements || []), 'dmnElementRef');
  const problems = [...index.problems];
  const { shapes, edges } = index;

  const needShape = [...(definitions.drgElement || []), ...(definitions.artifact || [])].filter(
    (element) => !element.$instanceOf('dmn:Association'),
  );
  const needEdge = (definitions.artifact || []).filter((element) => element.$instanceOf('dmn:Association'));
  for (const element of definitions.drgElement || []) {
    for (const property of ['informationRequirement', 'knowledgeRequirement', 'authorityRequirement']) {
      needEdge.push(...(element[property] || []));
    }
  }
  for (const element of needShape) {
    if (!shapes.has(element)) problems.push(`${label(element)} (${element.$type}) has no DMN shape`);
  }
  for (const element of needEdge) {
    if (!element.id) problems.push(`a ${element.$type} has no id, so no DMN edge can draw it`);
    else if (!edges.has(element)) problems.push(`${element.id} (${element.$type}) has no DMN edge`);
  }
  problems.push(...shapeProblems(shapes, (element) => element.$instanceOf('dmn:DRGElement')));
  // A requirement points at its source by href ("#id", or another file's namespace + "#id"); only local ones resolve.
  const requirementEnds = (element) => {
    const required = element.requiredDecision || element.requiredInput || element.requiredKnowledge || element.requiredAuthority;
    const href = (required && required.href) || '';
    return [href.startsWith('#') ? elementsById[href.slice(1)] : undefined, element.$parent];
  };
  problems.push(
    ...edgeProblems(edges, shapes, (element) =>
      element.$instanceOf('dmn:Association') ? [element.sourceRef, element.targetRef] : requirementEnds(element),
    ),
  );
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Driver

async function readModel(moddle, file, rootType) {
  const xml = await readFile(file, 'utf8');
  try {
    const { rootElement, warnings, elementsById } = await moddle.fromXML(xml, rootType);
    return { definitions: rootElement, elementsById, problems: importWarningProblems(warnings) };
  } catch (error) {
    return { definitions: undefined, problems: [`does not import: ${String(error.message).replace(/\s*\n\s*/g, '; ')}`] };
  }
}

async function defaultFiles() {
  const names = (await readdir(DEFAULT_FOLDER)).filter((name) => /\.(bpmn|dmn)$/.test(name)).sort();
  return names.map((name) => path.join(DEFAULT_FOLDER, name));
}

function count(items, what) {
  return `${items} ${what}${items === 1 ? '' : 's'}`;
}

async function main(argv) {
  const files = argv.length ? argv.map((file) => path.resolve(file)) : await defaultFiles();
  const dmnFiles = files.filter((file) => file.endsWith('.dmn'));
  const bpmnFiles = files.filter((file) => file.endsWith('.bpmn'));
  const others = files.filter((file) => !file.endsWith('.dmn') && !file.endsWith('.bpmn'));
  if (!files.length || others.length) {
    console.error(others.length ? `not a .bpmn or .dmn file: ${others.join(', ')}` : 'no .bpmn or .dmn files to check');
    return 2;
  }

  const results = [];
  const decisionIds = new Set();
  for (const file of dmnFiles) {
    const moddle = new DmnModdle();
    const { definitions, elementsById, problems } = await readModel(moddle, file, 'dmn:Definitions');
    if (definitions) {
      problems.push(...foreignNamespaceProblems(moddle, definitions), ...checkDmn(definitions, elementsById));
      for (const element of definitions.drgElement || []) {
        if (element.$instanceOf('dmn:Decision')) decisionIds.add(element.id);
      }
    }
    const decisions = definitions ? (definitions.drgElement || []).length : 0;
    results.push({ file, problems, summary: count(decisions, 'DRG element') });
  }
  for (const file of bpmnFiles) {
    const moddle = new BpmnModdle({ camunda: camundaPackage, ef: efficacyFlowPackage });
    const { definitions, problems } = await readModel(moddle, file, 'bpmn:Definitions');
    let summary = '';
    if (definitions) {
      problems.push(...foreignNamespaceProblems(moddle, definitions));
      problems.push(...checkBpmn(definitions, dmnFiles.length ? decisionIds : undefined));
      summary = count(drawableBpmnElements(definitions).length, 'drawn element');
    }
    results.push({ file, problems, summary });
  }

  let failed = 0;
  for (const { file, problems, summary } of results) {
    const shown = path.relative(process.cwd(), file) || file;
    if (problems.length) {
      failed += 1;
      console.log(`FAIL ${shown}`);
      for (const problem of problems) console.log(`  - ${problem}`);
    } else {
      console.log(`ok   ${shown} (${summary})`);
    }
  }
  if (bpmnFiles.length && !dmnFiles.length) console.log('note: no .dmn file given, camunda:decisionRef not checked');
  console.log(`${count(results.length, 'file')} checked, ${failed} with problems`);
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
