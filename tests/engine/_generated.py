"""Small BPMN processes written by tests: a script, then a person, then a decision on the data.

``StartEvent → Script_Make (script) → Task_Look (受理员) → Gateway_Decide: condition → Task_Yes, else
Task_No``.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["script_process", "timed_process"]

_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_{pid}"
    targetNamespace="http://efficacy-flow.test/generated">
  <bpmn:process id="{pid}" name="测试：脚本" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_Clerk" name="受理员">
        <bpmn:flowNodeRef>Task_Look</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_Yes</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_No</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent" targetRef="Script_Make"/>
    <bpmn:scriptTask id="Script_Make" name="脚本" scriptFormat="python">
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Script_Make" targetRef="Task_Look"/>
    <bpmn:userTask id="Task_Look" name="查看"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_Look" targetRef="Gateway_Decide"/>
    <bpmn:exclusiveGateway id="Gateway_Decide" default="Flow_No"/>
    <bpmn:sequenceFlow id="Flow_Yes" sourceRef="Gateway_Decide" targetRef="Task_Yes">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_No" sourceRef="Gateway_Decide" targetRef="Task_No"/>
    <bpmn:userTask id="Task_Yes" name="是"/>
    <bpmn:userTask id="Task_No" name="否"/>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_Yes" targetRef="EndEvent"/>
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Task_No" targetRef="EndEvent"/>
    <bpmn:endEvent id="EndEvent"/>
  </bpmn:process>
</bpmn:definitions>
"""


def script_process(folder: Path, script: str, condition: str = "True", process_id: str = "fx_script") -> Path:
    """Write the process into ``folder`` (created) and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    text = _TEMPLATE.format(pid=process_id, script=escape(script), condition=escape(condition))
    (folder / f"{process_id}.bpmn").write_text(text, encoding="utf-8")
    return folder


_TIMED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_{pid}"
    targetNamespace="http://efficacy-flow.test/generated">
  <bpmn:process id="{pid}" name="测试：定时" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_Clerk" name="受理员">
        <bpmn:flowNodeRef>Task_After</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent" targetRef="Timer_Wait"/>
    <bpmn:intermediateCatchEvent id="Timer_Wait">
      <bpmn:timerEventDefinition id="TimerDef_Wait">
        <bpmn:timeDate>{timer}</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Timer_Wait" targetRef="Script_Late"/>
    <bpmn:scriptTask id="Script_Late" scriptFormat="python">
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Script_Late" targetRef="Task_After"/>
    <bpmn:userTask id="Task_After" name="确认"/>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_After" targetRef="EndEvent"/>
    <bpmn:endEvent id="EndEvent"/>
  </bpmn:process>
</bpmn:definitions>
"""


def timed_process(
    folder: Path, timer: str = "hours(1)", script: str = "done = True", process_id: str = "fx_timed"
) -> Path:
    """``StartEvent → Timer_Wait (timer) → Script_Late (script) → Task_After (受理员)`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    text = _TIMED.format(pid=process_id, timer=escape(timer), script=escape(script))
    (folder / f"{process_id}.bpmn").write_text(text, encoding="utf-8")
    return folder
