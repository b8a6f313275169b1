"""A tiny BPMN 2.0 writer with a grid layout, used to draft processes/*.bpmn.

The committed ``.bpmn`` files are the source process designers edit in Camunda Modeler or bpmn.io; this module
only drafted them (see scripts/generate_processes.py). Each flow node is placed on a grid cell
``(lane, column, row)`` inside a horizontal pool; the writer emits the process, a collaboration with one
participant whose lanes are the roles (conventions §2), and BPMN DI with orthogonal edges.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
MODELER = "http://camunda.org/schema/modeler/1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

for _prefix, _uri in {
    "bpmn": BPMN,
    "bpmndi": BPMNDI,
    "dc": DC,
    "di": DI,
    "camunda": CAMUNDA,
    "modeler": MODELER,
    "xsi": XSI,
}.items():
    ET.register_namespace(_prefix, _uri)

# Grid geometry (pixels). Sizes are bpmn-js defaults so bpmnlint's standard-size checks stay quiet.
POOL_X = 160
POOL_Y = 80
POOL_HEADER = 30  # the participant's vertical name band
COL_W = 150
FIRST_COL = 90  # distance from the lane's left edge to the centre of column 0
ROW_H = 130
LANE_PAD = 65  # lane top to the centre of row 0
SIZES = {"task": (100, 80), "event": (36, 36), "gateway": (50, 50)}


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


@dataclass
class Node:
    id: str
    kind: str  # bpmn tag: userTask, scriptTask, ...
    name: str
    lane: str
    col: int
    row: int = 0
    doc: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    script: str | None = None
    timer: str | None = None
    message: str | None = None
    attached_to: str | None = None
    slot: int = 0
    default: str | None = None
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)

    @property
    def shape(self) -> str:
        if self.kind.endswith("Gateway"):
            return "gateway"
        if self.kind.endswith("Event"):
            return "event"
        return "task"


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None


@dataclass
class Lane:
    id: str
    name: str
    rows: int = 1


class Process:
    """Collects the elements of one executable process and writes it as a .bpmn file."""

    def __init__(self, process_id: str, name: str, lanes: list[Lane], doc: str | None = None) -> None:
        self.id = process_id
        self.name = name
        self.doc = doc
        self.lanes = lanes
        self.nodes: dict[str, Node] = {}
        self.flows: dict[str, Flow] = {}
        self.messages: dict[str, str] = {}  # message name -> id

    # -- element builders ---------------------------------------------------------------------------------
    def _add(self, node: Node) -> Node:
        if node.id in self.nodes:
            raise ValueError(f"duplicate id {node.id}")
        self.nodes[node.id] = node
        return node

    def start(self, id: str, name: str, lane: str, col: int, row: int = 0, doc: str | None = None) -> Node:
        return self._add(Node(id, "startEvent", name, lane, col, row, doc))

    def end(self, id: str, name: str, lane: str, col: int, row: int = 0, doc: str | None = None) -> Node:
        return self._add(Node(id, "endEvent", name, lane, col, row, doc))

    def user(self, id: str, name: str, lane: str, col: int, row: int = 0, doc: str | None = None) -> Node:
        return self._add(Node(id, "userTask", name, lane, col, row, doc))

    def script(
        self, id: str, name: str, lane: str, col: int, script: str, row: int = 0, doc: str | None = None
    ) -> Node:
        node = Node(id, "scriptTask", name, lane, col, row, doc, script=script)
        node.attrs["scriptFormat"] = "python"
        return self._add(node)

    def rule(
        self, id: str, name: str, lane: str, col: int, decision: str, row: int = 0, doc: str | None = None
    ) -> Node:
        node = Node(id, "businessRuleTask", name, lane, col, row, doc)
        node.attrs[q(CAMUNDA, "decisionRef")] = decision
        return self._add(node)

    def receive(
        self, id: str, name: str, lane: str, col: int, message: str, row: int = 0, doc: str | None = None
    ) -> Node:
        self._message(message)
        return self._add(Node(id, "receiveTask", name, lane, col, row, doc, message=message))

    def xor(self, id: str, name: str, lane: str, col: int, row: int = 0) -> Node:
        return self._add(Node(id, "exclusiveGateway", name, lane, col, row))

    def parallel(self, id: str, lane: str, col: int, row: int = 0) -> Node:
        return self._add(Node(id, "parallelGateway", "", lane, col, row))

    def catch_timer(
        self, id: str, name: str, lane: str, col: int, expr: str, row: int = 0, doc: str | None = None
    ) -> Node:
        return self._add(Node(id, "intermediateCatchEvent", name, lane, col, row, doc, timer=expr))

    def boundary_timer(
        self,
        id: str,
        name: str,
        host: str,
        expr: str,
        *,
        interrupting: bool = True,
        slot: int = 0,
        doc: str | None = None,
    ) -> Node:
        h = self.nodes[host]
        node = Node(
            id, "boundaryEvent", name, h.lane, h.col, h.row, doc, timer=expr, attached_to=host, slot=slot
        )
        if not interrupting:
            node.attrs["cancelActivity"] = "false"
        return self._add(node)

    def flow(
        self,
        source: str,
        target: str,
        name: str | None = None,
        cond: str | None = None,
        default: bool = False,
    ) -> Flow:
        fid = f"Flow_{source.split('_', 1)[1]}_{target.split('_', 1)[1]}"
        if fid in self.flows:
            raise ValueError(f"duplicate flow {fid}")
        f = Flow(fid, source, target, name, cond)
        self.flows[fid] = f
        self.nodes[source].outgoing.append(fid)
        self.nodes[target].incoming.append(fid)
        if default:
            self.nodes[source].default = fid
        return f

    def _message(self, name: str) -> str:
        if name not in self.messages:
            self.messages[name] = "Message_" + "".join(p.capitalize() for p in name.split("_"))
        return self.messages[name]

    # -- geometry -----------------------------------------------------------------------------------------
    def _lane_top(self) -> dict[str, float]:
        tops: dict[str, float] = {}
        y = float(POOL_Y)
        for lane in self.lanes:
            tops[lane.id] = y
            y += self._lane_height(lane)
        return tops

    @staticmethod
    def _lane_height(lane: Lane) -> float:
        return LANE_PAD * 2 + (lane.rows - 1) * ROW_H + 20

    def _centre(self, node: Node, tops: dict[str, float]) -> tuple[float, float]:
        x = POOL_X + POOL_HEADER + FIRST_COL + node.col * COL_W
        y = tops[node.lane] + LANE_PAD + node.row * ROW_H
        return float(x), float(y)

    def _bounds(self, node: Node, tops: dict[str, float]) -> tuple[float, float, float, float]:
        if node.attached_to:
            hx, hy, _hw, hh = self._bounds(self.nodes[node.attached_to], tops)
            return hx + 12 + node.slot * 44, hy + hh - 18, 36.0, 36.0
        cx, cy = self._centre(node, tops)
        w, h = SIZES[node.shape]
        return cx - w / 2, cy - h / 2, float(w), float(h)

    def _waypoints(self, flow: Flow, tops: dict[str, float]) -> list[tuple[float, float]]:
        """Orthogonal waypoints: the first candidate route that crosses no other shape (else the first)."""
        candidates = self._routes(flow, tops)
        s, t = self.nodes[flow.source], self.nodes[flow.target]
        ignore = {s.id, t.id, s.attached_to, t.attached_to}
        obstacles = [
            self._bounds(n, tops)
            for n in self.nodes.values()
            if n.id not in ignore and n.attached_to not in {s.id, t.id}
        ]
        for route in candidates:
            if not any(_crosses(route, box) for box in obstacles):
                return route
        return candidates[0]

    def _routes(self, flow: Flow, tops: dict[str, float]) -> list[list[tuple[float, float]]]:
        s, t = self.nodes[flow.source], self.nodes[flow.target]
        sx, sy, sw, sh = self._bounds(s, tops)
        tx, ty, tw, th = self._bounds(t, tops)
        scx, scy = sx + sw / 2, sy + sh / 2
        tcx, tcy = tx + tw / 2, ty + th / 2
        t_edge = ty if tcy > scy else ty + th  # the target side facing the source vertically
        if s.attached_to:  # leave a boundary event downwards
            start = (scx, sy + sh)
            if tx <= scx <= tx + tw and ty > start[1]:
                return [[start, (scx, ty)]]
            lane_y = sy + sh + 20
            routes = []
            if tcy > start[1] and tx > scx:
                routes.append([start, (scx, tcy), (tx, tcy)])
            routes.append([start, (scx, lane_y), (tcx, lane_y), (tcx, ty + th if tcy < lane_y else ty)])
            return routes
        if abs(scx - tcx) < 1:  # same column: straight up or down
            return [[(scx, sy), (tcx, ty + th)] if tcy < scy else [(scx, sy + sh), (tcx, ty)]]
        if tx >= sx + sw:  # forward
            if abs(scy - tcy) < 1:
                top = tops[s.lane] + 12
                bottom = tops[s.lane] + self._lane_height(self._lane(s.lane)) - 12
                return [
                    [(sx + sw, scy), (tx, tcy)],
                    [(scx, sy), (scx, top), (tcx, top), (tcx, ty)],
                    [(scx, sy + sh), (scx, bottom), (tcx, bottom), (tcx, ty + th)],
                ]
            s_edge = sy + sh if tcy > scy else sy
            mid = (sx + sw + tx) / 2
            routes = []
            if s.shape == "gateway":
                routes.append([(scx, s_edge), (scx, tcy), (tx, tcy)])
            if t.shape == "gateway":
                routes.append([(sx + sw, scy), (tcx, scy), (tcx, t_edge)])
            routes.append([(sx + sw, scy), (mid, scy), (mid, tcy), (tx, tcy)])
            routes.append([(sx + sw, scy), (tx - 20, scy), (tx - 20, tcy), (tx, tcy)])
            routes.append([(sx + sw, scy), (sx + sw + 20, scy), (sx + sw + 20, tcy), (tx, tcy)])
            if s.shape == "gateway":
                routes.append(
                    [
                        (scx, s_edge),
                        (scx, (s_edge + tcy) / 2),
                        (mid, (s_edge + tcy) / 2),
                        (mid, tcy),
                        (tx, tcy),
                    ]
                )
            return routes
        # Backward flows run in a channel along a lane edge, so they cross lanes only at the target's column.
        s_top, t_top = tops[s.lane], tops[t.lane]
        s_bottom = s_top + self._lane_height(self._lane(s.lane))
        if s.lane == t.lane:
            top, bottom = s_top + 12, s_bottom - 12
            return [
                [(scx, sy), (scx, top), (tcx, top), (tcx, ty)],
                [(scx, sy + sh), (scx, bottom), (tcx, bottom), (tcx, ty + th)],
            ]
        if t_top < s_top:  # target in a lane above: along the bottom of the source's lane
            ch = s_bottom - 12
            return [
                [(scx, sy + sh), (scx, ch), (tcx, ch), (tcx, ty + th)],
                [(scx, sy), (scx, s_top + 12), (tcx, s_top + 12), (tcx, ty + th)],
            ]
        ch = t_top + 12  # target in a lane below: along the top of the target's lane
        return [[(scx, sy + sh), (scx, ch), (tcx, ch), (tcx, ty)]]

    def _lane(self, lane_id: str) -> Lane:
        return next(lane for lane in self.lanes if lane.id == lane_id)

    # -- writing ------------------------------------------------------------------------------------------
    def write(self, path: Path) -> None:
        tops = self._lane_top()
        cols = max(n.col for n in self.nodes.values()) + 1
        pool_w = POOL_HEADER + FIRST_COL + (cols - 1) * COL_W + FIRST_COL
        pool_h = sum(self._lane_height(lane) for lane in self.lanes)

        defs = ET.Element(
            q(BPMN, "definitions"),
            {
                "id": f"Definitions_{self.id}",
                "targetNamespace": "http://bpmn.io/schema/bpmn",
                "exporter": "Camunda Modeler",
                "exporterVersion": "5.28.0",
                q(MODELER, "executionPlatform"): "Camunda Platform",
                q(MODELER, "executionPlatformVersion"): "7.21.0",
            },
        )
        collab = ET.SubElement(defs, q(BPMN, "collaboration"), {"id": f"Collaboration_{self.id}"})
        ET.SubElement(
            collab,
            q(BPMN, "participant"),
            {"id": f"Participant_{self.id}", "name": self.name, "processRef": self.id},
        )
        proc = ET.SubElement(
            defs, q(BPMN, "process"), {"id": self.id, "name": self.name, "isExecutable": "true"}
        )
        if self.doc:
            ET.SubElement(proc, q(BPMN, "documentation")).text = self.doc
        lane_set = ET.SubElement(proc, q(BPMN, "laneSet"), {"id": f"LaneSet_{self.id}"})
        for lane in self.lanes:
            el = ET.SubElement(lane_set, q(BPMN, "lane"), {"id": lane.id, "name": lane.name})
            for node in self.nodes.values():
                if node.lane == lane.id:
                    ET.SubElement(el, q(BPMN, "flowNodeRef")).text = node.id

        for node in self.nodes.values():
            attrs = {"id": node.id}
            if node.name:
                attrs["name"] = node.name
            if node.attached_to:
                attrs["attachedToRef"] = node.attached_to
            if node.default:
                attrs["default"] = node.default
            attrs.update(node.attrs)
            if node.message:
                attrs["messageRef"] = self.messages[node.message]
            el = ET.SubElement(proc, q(BPMN, node.kind), attrs)
            if node.doc:
                ET.SubElement(el, q(BPMN, "documentation")).text = node.doc
            for fid in node.incoming:
                ET.SubElement(el, q(BPMN, "incoming")).text = fid
            for fid in node.outgoing:
                ET.SubElement(el, q(BPMN, "outgoing")).text = fid
            if node.timer is not None:
                ted = ET.SubElement(el, q(BPMN, "timerEventDefinition"), {"id": f"TimerDef_{node.id}"})
                td = ET.SubElement(ted, q(BPMN, "timeDate"), {q(XSI, "type"): "bpmn:tFormalExpression"})
                td.text = node.timer
            if node.script is not None:
                ET.SubElement(el, q(BPMN, "script")).text = node.script

        for flow in self.flows.values():
            attrs = {"id": flow.id, "sourceRef": flow.source, "targetRef": flow.target}
            if flow.name:
                attrs["name"] = flow.name
            el = ET.SubElement(proc, q(BPMN, "sequenceFlow"), attrs)
            if flow.condition is not None:
                ce = ET.SubElement(
                    el, q(BPMN, "conditionExpression"), {q(XSI, "type"): "bpmn:tFormalExpression"}
                )
                ce.text = flow.condition

        for name, mid in self.messages.items():
            ET.SubElement(defs, q(BPMN, "message"), {"id": mid, "name": name})

        diagram = ET.SubElement(defs, q(BPMNDI, "BPMNDiagram"), {"id": f"BPMNDiagram_{self.id}"})
        plane = ET.SubElement(
            diagram,
            q(BPMNDI, "BPMNPlane"),
            {"id": f"BPMNPlane_{self.id}", "bpmnElement": f"Collaboration_{self.id}"},
        )

        def shape(element_id: str, x: float, y: float, w: float, h: float, **extra: str) -> None:
            s = ET.SubElement(
                plane, q(BPMNDI, "BPMNShape"), {"id": f"{element_id}_di", "bpmnElement": element_id, **extra}
            )
            ET.SubElement(s, q(DC, "Bounds"), {"x": _n(x), "y": _n(y), "width": _n(w), "height": _n(h)})

        shape(f"Participant_{self.id}", POOL_X, POOL_Y, pool_w, pool_h, isHorizontal="true")
        for lane in self.lanes:
            shape(
                lane.id,
                POOL_X + POOL_HEADER,
                tops[lane.id],
                pool_w - POOL_HEADER,
                self._lane_height(lane),
                isHorizontal="true",
            )
        hosts = [n for n in self.nodes.values() if not n.attached_to]
        boundaries = [n for n in self.nodes.values() if n.attached_to]
        for node in hosts + boundaries:  # boundary shapes after their hosts, as bpmn-js saves them
            x, y, w, h = self._bounds(node, tops)
            extra = {"isMarkerVisible": "true"} if node.kind == "exclusiveGateway" else {}
            shape(node.id, x, y, w, h, **extra)
        for flow in self.flows.values():
            e = ET.SubElement(plane, q(BPMNDI, "BPMNEdge"), {"id": f"{flow.id}_di", "bpmnElement": flow.id})
            for x, y in self._waypoints(flow, tops):
                ET.SubElement(e, q(DI, "waypoint"), {"x": _n(x), "y": _n(y)})

        self._check_grid()
        ET.indent(defs, space="  ")
        path.parent.mkdir(parents=True, exist_ok=True)
        body = ET.tostring(defs, encoding="unicode")
        for prefix, uri in (("camunda", CAMUNDA), ("xsi", XSI)):  # conventions §1: always declared
            if f"xmlns:{prefix}=" not in body:
                body = body.replace("<bpmn:definitions ", f'<bpmn:definitions xmlns:{prefix}="{uri}" ', 1)
        path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n', encoding="utf-8")

    def _check_grid(self) -> None:
        seen: dict[tuple[str, int, int], str] = {}
        for node in self.nodes.values():
            if node.attached_to:
                continue
            key = (node.lane, node.col, node.row)
            if key in seen:
                raise ValueError(f"{node.id} and {seen[key]} share grid cell {key}")
            seen[key] = node.id
        for lane in self.lanes:
            for node in self.nodes.values():
                if node.lane == lane.id and node.row >= lane.rows:
                    raise ValueError(f"{node.id} row {node.row} outside lane {lane.id}")


def _crosses(route: list[tuple[float, float]], box: tuple[float, float, float, float]) -> bool:
    """Whether an orthogonal polyline passes through a shape's bounds (shrunk by a pixel)."""
    bx, by, bw, bh = box
    left, top, right, bottom = bx + 1, by + 1, bx + bw - 1, by + bh - 1
    for (x1, y1), (x2, y2) in itertools.pairwise(route):
        lo_x, hi_x, lo_y, hi_y = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
        if lo_x <= right and hi_x >= left and lo_y <= bottom and hi_y >= top:
            return True
    return False


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
