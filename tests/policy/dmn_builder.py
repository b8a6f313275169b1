"""Builds small DMN documents the way dmn-js lays them out (ids on every element, cells in ``<text>``).

Conformance tests state their table in a few lines with ``dmn_xml(...)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

FIXTURES = Path(__file__).parent / "fixtures"
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def dmn_xml(
    *,
    rules: Sequence[tuple[Sequence[str], Sequence[str]]],
    inputs: Sequence[str | tuple[str, str]] = ("x",),
    outputs: Sequence[str | tuple[str, str]] = ("out",),
    hit_policy: str | None = None,
    aggregation: str | None = None,
    output_values: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
    decision_id: str = "d",
    requires: Sequence[str] = (),
    namespace: str = DMN13,
    extra_decisions: str = "",
) -> str:
    """A DMN document with one decision table; inputs/outputs are names or (name, typeRef) pairs."""
    policy = f" hitPolicy={quoteattr(hit_policy)}" if hit_policy else ""
    policy += f" aggregation={quoteattr(aggregation)}" if aggregation else ""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<definitions xmlns="{namespace}" id="Definitions_1" name="DRD" namespace="http://camunda.org/schema/1.0/dmn">',
        f'  <decision id="{decision_id}" name="Decision {decision_id}">',
    ]
    for index, required in enumerate(requires):
        parts.append(
            f'    <informationRequirement id="IR_{index}"><requiredDecision href="#{required}" />'
            "</informationRequirement>"
        )
    parts.append(f'    <decisionTable id="DecisionTable_{decision_id}"{policy}>')
    for index, spec in enumerate(inputs):
        name, type_ref = (spec, None) if isinstance(spec, str) else spec
        typed = f' typeRef="{type_ref}"' if type_ref else ""
        parts.append(
            f'      <input id="Input_{index}" label="in {index}">'
            f'<inputExpression id="InputExpression_{index}"{typed}>'
            f"<text>{escape(name)}</text></inputExpression></input>"
        )
    for index, spec in enumerate(outputs):
        name, type_ref = (spec, None) if isinstance(spec, str) else spec
        typed = f' typeRef="{type_ref}"' if type_ref else ""
        body = ""
        if output_values and name in output_values:
            body += f'<outputValues id="OV_{index}"><text>{escape(output_values[name])}</text></outputValues>'
        if defaults and name in defaults:
            text = escape(defaults[name])
            body += f'<defaultOutputEntry id="DO_{index}"><text>{text}</text></defaultOutputEntry>'
        parts.append(
            f'      <output id="Output_{index}" label="out {index}" name="{name}"{typed}>{body}</output>'
        )
    for number, (tests, values) in enumerate(rules, 1):
        parts.append(f'      <rule id="Rule_{number}">')
        for column, text in enumerate(tests):
            parts.append(
                f'        <inputEntry id="In_{number}_{column}"><text>{escape(text)}</text></inputEntry>'
            )
        for column, text in enumerate(values):
            parts.append(
                f'        <outputEntry id="Out_{number}_{column}"><text>{escape(text)}</text></outputEntry>'
            )
        parts.append("      </rule>")
    parts += ["    </decisionTable>", "  </decision>", extra_decisions, "</definitions>"]
    return "\n".join(parts)
