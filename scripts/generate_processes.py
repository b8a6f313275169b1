"""Draft processes/*.bpmn from compact descriptions (a one-off bootstrap, kept for the record).

The committed ``.bpmn`` files are the source: process designers edit them in Camunda Modeler or bpmn.io, and
re-running this script would overwrite their edits, so it refuses to unless given ``--force``. Time limits are
names in processes/time_limits.yaml; completion data is declared in processes/schemas.yaml.

    python scripts/generate_processes.py --force [--only PROCESS_ID ...] [OUT_DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bpmn_layout import Lane, Process

S_JINAN_24 = "济南市12345市民服务热线条例 第二十四条"
S_ANYANG_50 = "安阳市政务服务条例 第五十条"
S_003_LOOP = "003_e63eaf9f19ff150c.txt §二(四)"
S_003_WINDOW = "003_e63eaf9f19ff150c.txt §三 优化办理流程"
S_000_SERVICE = "000_187e340a21ee818c.txt §三(二)"
S_000_LADDER = "000_187e340a21ee818c.txt §二(三)"
S_001_CONSEQ = "001_a86978e3ab2b148c.txt §四(五)"
S_001_OUTCOMES = "001_a86978e3ab2b148c.txt §五(五)"
S_004_LEDGER = "004_9e2da4449c83c106.txt §二(一)"
S_004_REPORT = "004_9e2da4449c83c106.txt §二(五)"


def complaint_closure() -> Process:
    p = Process(
        "complaint_closure",
        "12345诉求办理闭环",
        [
            Lane("Lane_Intake", "受理员"),
            Lane("Lane_Unit", "承办单位", rows=2),
            Lane("Lane_Reviewer", "审核员"),
            Lane("Lane_Requester", "诉求人", rows=2),
            Lane("Lane_Unsatisfied", "办理不满意专区"),
            Lane("Lane_Supervisor", "督办员", rows=2),
        ],
        doc=(
            "受理—转办(派单)—签收—办理—审核—反馈—回访评价—办结的闭环。"
            f"来源：{S_000_SERVICE}；{S_003_LOOP}；{S_JINAN_24}"
            f"；{S_ANYANG_50}；北京市接诉即办工作条例 第十四条、第二十三条"
        ),
    )
    L0, L1, L2, L3, L4, L5 = (lane.id for lane in p.lanes)
    p.start(
        "StartEvent_Received",
        "诉求受理",
        L0,
        0,
        doc=(
            "受理员登记诉求；调用 engine.start 的受理员记为首接负责人（首接负责制）。"
            "来源：北京市接诉即办工作条例 第十四条"
        ),
    )
    p.script(
        "Script_Init",
        "建立工单",
        L0,
        1,
        "rework_count = 0\noverdue_count = 0\nrating_defaulted = False\n"
        "deemed_acknowledged = False\naccountability_requested = False",
    )
    p.rule(
        "Rule_Urgency",
        "确定办理时限",
        L0,
        2,
        "complaint_urgency",
        doc=(
            "按紧急程度查 complaint_urgency 决策表，"
            "写入 handling_limit、handling_limit_label、acceptance_limit。"
            f"来源：{S_JINAN_24}（一般诉求5个工作日）；"
            "[secondary] 北京 DB11/T 12345 分级时限（征求意见稿，2021）；"
            "[secondary] 天津 12345 受理时限"
        ),
    )
    p.xor("Gateway_DispatchMerge", "", L0, 3)
    p.user("Task_Dispatch", "转办派单", L0, 4, doc="受理员选定承办单位（unit）并派单。来源：" + S_003_LOOP)
    p.user(
        "Task_Acknowledge",
        "签收",
        L1,
        5,
        doc="承办单位签收，或认为不属本单位职责的，在24小时内说明理由退单。来源：" + S_ANYANG_50,
    )
    p.boundary_timer(
        "Timer_ReturnWindow",
        "退单期满",
        "Task_Acknowledge",
        'time_limit("complaint_return_window")',
        doc="派单后24小时内未签收也未退单的，视为签收，不得再退单。来源：" + S_ANYANG_50,
    )
    p.xor("Gateway_Acknowledge", "是否退单？", L1, 6)
    p.script(
        "Script_DeemAcknowledged",
        "视为签收",
        L1,
        6,
        'ack_decision = "签收"\ndeemed_acknowledged = True',
        row=1,
    )
    p.user(
        "Task_ReviewReturn", "退单审核", L0, 7, doc="受理员审核退单理由；成立的重新派单。来源：" + S_ANYANG_50
    )
    p.xor("Gateway_ReturnApproved", "退单是否成立？", L0, 8)
    p.xor("Gateway_HandleMerge", "", L1, 9)
    p.user(
        "Task_Handle",
        "办理",
        L1,
        10,
        doc=(
            "承办单位在时限内办理并拟写答复。时限按紧急程度取 time_limits.yaml 的 complaint_handling："
            f"一般5个工作日（{S_JINAN_24}）。经批准可延期5个工作日（"
            f"{S_ANYANG_50}），由宿主调用 engine.extend。"
        ),
    )
    p.boundary_timer(
        "Timer_HandlingWarning",
        "办理预警",
        "Task_Handle",
        'time_limit("complaint_handling_warning", urgency=urgency)',
        interrupting=False,
        slot=0,
        doc="到期前预警（不中断办理）。来源：[setting] 预警提前量为本地配置；时限本身见 " + S_JINAN_24,
    )
    p.boundary_timer(
        "Timer_HandlingLimit",
        "办理时限届满",
        "Task_Handle",
        'time_limit("complaint_handling", urgency=urgency)',
        slot=1,
        doc=(
            f"办理时限届满未答复的转督办。来源：{S_JINAN_24}；{S_000_SERVICE}（按时办理，杜绝逾期）；"
            "紧急/较急/复杂分级见 [secondary] 北京 DB11/T 12345 分级时限（征求意见稿，2021）"
        ),
    )
    p.end(
        "EndEvent_Warned",
        "预警已发出",
        L1,
        11,
        row=1,
        doc="预警记入历史（timer_fired: Timer_HandlingWarning）；非中断分支的变量不回主流程，故不设标志。",
    )
    p.user(
        "Task_Review",
        "审核答复",
        L2,
        11,
        doc="审核答复质量；答非所问、避重就轻、敷衍应付的退回重办。来源：" + S_000_SERVICE,
    )
    p.xor("Gateway_Review", "答复是否合格？", L2, 12)
    p.script("Script_Overdue", "记录逾期", L5, 11, "overdue_count = overdue_count + 1")
    p.user(
        "Task_Supervise",
        "逾期督办",
        L5,
        12,
        doc="督办员对逾期工单督办，工单退回承办单位继续办理（重新计时）。来源："
        + S_003_LOOP
        + "（受理—交办—督办）",
    )
    p.user("Task_Reply", "反馈诉求人", L0, 13, doc="将审核通过的答复反馈诉求人。来源：" + S_000_SERVICE)
    p.receive(
        "Receive_Rating",
        "回访评价",
        L3,
        14,
        "rating",
        doc="等待诉求人评价（消息 rating）。来源：北京市接诉即办工作条例 第二十三条（回访）；" + S_003_LOOP,
    )
    p.boundary_timer(
        "Timer_RatingPeriod",
        "评价期满",
        "Receive_Rating",
        'time_limit("rating_period")',
        doc="期满未评价的，按 default_rating（默认“满意”）计。来源：[setting] 评价期限与默认评价为本地配置",
    )
    p.script(
        "Script_DefaultRating",
        "默认评价",
        L3,
        15,
        "rating = default_rating\nrating_defaulted = True",
        row=1,
    )
    p.xor("Gateway_RatingMerge", "", L3, 15)
    p.xor("Gateway_Rating", "评价结果？", L3, 16)
    p.script("Script_CountRework", "计入重办次数", L4, 17, "rework_count = rework_count + 1")
    p.user(
        "Task_ReworkDispatch",
        "不满意件再次转办",
        L4,
        18,
        doc=(
            "“办理不满意”专区将不满意件继续转交承办单位再次办理，至多 max_rework 次（[setting]，默认2次）。"
            f"来源：{S_003_LOOP}；济南市12345市民服务热线条例 第二十七条"
        ),
    )
    p.user(
        "Task_EscalateUnsatisfied",
        "不满意督办",
        L5,
        17,
        doc=(
            "重办次数用尽仍不满意的，转督办，必要时启动效能问责。"
            f"来源：{S_003_LOOP}（必要时启动舆论监督等程序）；003_e63eaf9f19ff150c.txt §二(五)（追责问责）"
        ),
    )
    p.xor("Gateway_Refer", "是否启动效能问责？", L5, 18)
    p.script(
        "Script_RequestAccountability",
        "提请效能问责",
        L5,
        19,
        "accountability_requested = True",
        row=1,
        doc=(
            "置 accountability_requested=True；宿主据此启动 accountability 流程。"
            "来源：003_e63eaf9f19ff150c.txt §二(五)"
        ),
    )
    p.xor("Gateway_CloseMerge", "", L0, 20)
    p.end("EndEvent_Closed", "办结", L0, 21)

    p.flow("StartEvent_Received", "Script_Init")
    p.flow("Script_Init", "Rule_Urgency")
    p.flow("Rule_Urgency", "Gateway_DispatchMerge")
    p.flow("Gateway_DispatchMerge", "Task_Dispatch")
    p.flow("Task_Dispatch", "Task_Acknowledge")
    p.flow("Task_Acknowledge", "Gateway_Acknowledge")
    p.flow("Timer_ReturnWindow", "Script_DeemAcknowledged")
    p.flow("Gateway_Acknowledge", "Task_ReviewReturn", "退单", 'ack_decision == "退单"')
    p.flow("Gateway_Acknowledge", "Gateway_HandleMerge", "签收", default=True)
    p.flow("Script_DeemAcknowledged", "Gateway_HandleMerge")
    p.flow("Task_ReviewReturn", "Gateway_ReturnApproved")
    p.flow("Gateway_ReturnApproved", "Gateway_DispatchMerge", "成立，重新派单", "return_approved")
    p.flow("Gateway_ReturnApproved", "Gateway_HandleMerge", "不成立", default=True)
    p.flow("Gateway_HandleMerge", "Task_Handle")
    p.flow("Timer_HandlingWarning", "EndEvent_Warned")
    p.flow("Timer_HandlingLimit", "Script_Overdue")
    p.flow("Script_Overdue", "Task_Supervise")
    p.flow("Task_Supervise", "Gateway_HandleMerge")
    p.flow("Task_Handle", "Task_Review")
    p.flow("Task_Review", "Gateway_Review")
    p.flow("Gateway_Review", "Gateway_HandleMerge", "答非所问，退回", "not review_passed")
    p.flow("Gateway_Review", "Task_Reply", "合格", default=True)
    p.flow("Task_Reply", "Receive_Rating")
    p.flow("Receive_Rating", "Gateway_RatingMerge")
    p.flow("Timer_RatingPeriod", "Script_DefaultRating")
    p.flow("Script_DefaultRating", "Gateway_RatingMerge")
    p.flow("Gateway_RatingMerge", "Gateway_Rating")
    p.flow(
        "Gateway_Rating",
        "Script_CountRework",
        "不满意，再次办理",
        'rating == "不满意" and rework_count < max_rework',
    )
    p.flow(
        "Gateway_Rating",
        "Task_EscalateUnsatisfied",
        "不满意，重办次数已满",
        'rating == "不满意" and rework_count >= max_rework',
    )
    p.flow("Gateway_Rating", "Gateway_CloseMerge", "满意或基本满意", default=True)
    p.flow("Script_CountRework", "Task_ReworkDispatch")
    p.flow("Task_ReworkDispatch", "Gateway_HandleMerge")
    p.flow("Task_EscalateUnsatisfied", "Gateway_Refer")
    p.flow("Gateway_Refer", "Script_RequestAccountability", "启动问责", "refer_accountability")
    p.flow("Gateway_Refer", "Gateway_CloseMerge", "不启动", default=True)
    p.flow("Script_RequestAccountability", "Gateway_CloseMerge")
    p.flow("Gateway_CloseMerge", "EndEvent_Closed")
    return p


def window_escalation() -> Process:
    p = Process(
        "window_escalation",
        "“办不成事”反映窗口",
        [
            Lane("Lane_Coordinator", "窗口协调员", rows=2),
            Lane("Lane_ServiceAdmin", "政务服务管理部门", rows=2),
            Lane("Lane_TaskForceLead", "协调专班组长"),
            Lane("Lane_EfficiencyOffice", "效能办"),
        ],
        doc=(
            "统一登记、一口受理、交办分办、效能督办全流程闭环：现场解决→窗口协调员3个工作日内反馈→"
            "一事一议5个工作日内反馈→特别复杂的再延长10个工作日→"
            f"推诿扯皮、办事拖拉的效能问责。来源：{S_003_WINDOW}"
        ),
    )
    L0, L1, L2, L3 = (lane.id for lane in p.lanes)
    p.start(
        "StartEvent_Registered",
        "登记“办不成事”问题",
        L0,
        0,
        doc="统一登记、一口受理；登记人记为首接负责人（首席代表首问负责制）。来源：" + S_003_WINDOW,
    )
    p.script(
        "Script_Init",
        "建立台账",
        L0,
        1,
        "coordination_overdue = False\nconference_overdue = False\ncomplex_overdue = False\n"
        "accountability_requested = False",
    )
    p.user("Task_OnSpot", "现场协调办理", L0, 2, doc="能现场解决的，立即办理。来源：" + S_003_WINDOW)
    p.xor("Gateway_OnSpot", "能否现场解决？", L0, 3)
    p.user(
        "Task_Coordinate",
        "协调部门窗口并反馈",
        L0,
        4,
        doc="窗口协调员协调相关部门窗口、跟踪督办，3个工作日内向企业和群众反馈进展或结果。来源："
        + S_003_WINDOW,
    )
    p.boundary_timer(
        "Timer_CoordinationLimit",
        "3个工作日届满",
        "Task_Coordinate",
        'time_limit("window_coordination")',
        doc="协调反馈时限3个工作日；届满转“一事一议”并记录逾期。来源：" + S_003_WINDOW,
    )
    p.xor("Gateway_Coordinate", "协调结果？", L0, 5)
    p.script("Script_CoordinationOverdue", "记录协调逾期", L0, 4, "coordination_overdue = True", row=1)
    p.xor("Gateway_ConferenceMerge", "", L1, 6)
    p.user(
        "Task_CaseConference",
        "一事一议研究处理",
        L1,
        7,
        doc="窗口协调员难以协调的，提交政务服务管理部门会同相关部门研究处理，5个工作日内反馈。来源："
        + S_003_WINDOW,
    )
    p.boundary_timer(
        "Timer_ConferenceLimit",
        "5个工作日届满",
        "Task_CaseConference",
        'time_limit("window_case_conference")',
        doc="一事一议反馈时限5个工作日；届满转效能督办并记录逾期。来源：" + S_003_WINDOW,
    )
    p.xor("Gateway_Conference", "是否特别复杂？", L1, 8)
    p.script("Script_ConferenceOverdue", "记录一事一议逾期", L1, 7, "conference_overdue = True", row=1)
    p.user(
        "Task_ApproveExtension",
        "特别复杂延期审批",
        L2,
        9,
        doc="特别复杂的，经协调专班组长批准可再延长10个工作日。来源：" + S_003_WINDOW,
    )
    p.xor("Gateway_Extension", "是否批准延期？", L2, 10)
    p.user(
        "Task_ComplexHandling",
        "延期办理并反馈",
        L1,
        11,
        doc="批准延期后10个工作日内办理并反馈。来源：" + S_003_WINDOW,
    )
    p.boundary_timer(
        "Timer_ComplexLimit",
        "延长期届满",
        "Task_ComplexHandling",
        'time_limit("window_complex_extension")',
        doc="特别复杂事项延长10个工作日；届满转效能督办并记录逾期。来源：" + S_003_WINDOW,
    )
    p.script("Script_ComplexOverdue", "记录延期逾期", L1, 11, "complex_overdue = True", row=1)
    p.xor("Gateway_VerifyMerge", "", L3, 13)
    p.user(
        "Task_EfficiencyCheck",
        "效能督办核查",
        L3,
        14,
        doc="效能办核查是否存在推诿扯皮、办事拖拉（逾期标记供参考）。来源：" + S_003_WINDOW,
    )
    p.xor("Gateway_Accountability", "推诿扯皮或办事拖拉？", L3, 15)
    p.script(
        "Script_RequestAccountability",
        "提请效能问责",
        L3,
        16,
        "accountability_requested = True",
        doc="置 accountability_requested=True；宿主据此启动 accountability 流程。来源：" + S_003_WINDOW,
    )
    p.end("EndEvent_Accountability", "转效能问责", L3, 17)
    p.xor("Gateway_ClosedMerge", "", L0, 16)
    p.end("EndEvent_Closed", "办结", L0, 17)

    p.flow("StartEvent_Registered", "Script_Init")
    p.flow("Script_Init", "Task_OnSpot")
    p.flow("Task_OnSpot", "Gateway_OnSpot")
    p.flow("Gateway_OnSpot", "Gateway_ClosedMerge", "现场解决", "solved_on_spot")
    p.flow("Gateway_OnSpot", "Task_Coordinate", "不能现场解决", default=True)
    p.flow("Task_Coordinate", "Gateway_Coordinate")
    p.flow("Gateway_Coordinate", "Gateway_ClosedMerge", "已解决", 'coordination_result == "已解决"')
    p.flow("Gateway_Coordinate", "Gateway_ConferenceMerge", "难以协调", default=True)
    p.flow("Timer_CoordinationLimit", "Script_CoordinationOverdue")
    p.flow("Script_CoordinationOverdue", "Gateway_ConferenceMerge")
    p.flow("Gateway_ConferenceMerge", "Task_CaseConference")
    p.flow("Task_CaseConference", "Gateway_Conference")
    p.flow("Gateway_Conference", "Task_ApproveExtension", "特别复杂", 'conference_result == "特别复杂"')
    p.flow("Gateway_Conference", "Gateway_VerifyMerge", "已办理或依规不予办理", default=True)
    p.flow("Timer_ConferenceLimit", "Script_ConferenceOverdue")
    p.flow("Script_ConferenceOverdue", "Gateway_VerifyMerge")
    p.flow("Task_ApproveExtension", "Gateway_Extension")
    p.flow("Gateway_Extension", "Task_ComplexHandling", "批准延长", "extension_approved")
    p.flow("Gateway_Extension", "Gateway_VerifyMerge", "不批准", default=True)
    p.flow("Task_ComplexHandling", "Gateway_VerifyMerge")
    p.flow("Timer_ComplexLimit", "Script_ComplexOverdue")
    p.flow("Script_ComplexOverdue", "Gateway_VerifyMerge")
    p.flow("Gateway_VerifyMerge", "Task_EfficiencyCheck")
    p.flow("Task_EfficiencyCheck", "Gateway_Accountability")
    p.flow("Gateway_Accountability", "Script_RequestAccountability", "是", "shirking_found or delay_found")
    p.flow("Gateway_Accountability", "Gateway_ClosedMerge", "否", default=True)
    p.flow("Script_RequestAccountability", "EndEvent_Accountability")
    p.flow("Gateway_ClosedMerge", "EndEvent_Closed")
    return p


def accountability() -> Process:
    p = Process(
        "accountability",
        "效能告诫与问责",
        [
            Lane("Lane_EfficiencyOffice", "效能办", rows=2),
            Lane("Lane_Subject", "被问责对象", rows=2),  # row 0: rectification; row 1: review and appeal
            Lane("Lane_LeadingGroup", "效能建设领导小组", rows=2),
            Lane("Lane_AppealBody", "申诉受理机关", rows=2),
        ],
        doc=(
            "线索登记→调查核实→告知事实、陈述申辩→"
            "处理决定（不予追究、监察建议、效能告诫、组织处理、立案查处；"
            "效能告诫按告诫对象（个人、单位）分别确定告诫后果）→送达→复核、申诉（不停止执行）→限期整改并核验。"
            f"来源：{S_001_CONSEQ}；{S_001_OUTCOMES}；公务员法 第六十三条、第九十五条、第九十六条"
        ),
    )
    L0, L1, L2, L3 = (lane.id for lane in p.lanes)
    p.start(
        "StartEvent_Clue",
        "问题线索登记",
        L0,
        0,
        doc=(
            "效能督查发现或群众举报的问题线索登记。"
            "来源：001_a86978e3ab2b148c.txt §四(五)（及时调查核实）、§五(四)（有诉必查）"
        ),
    )
    p.script(
        "Script_Init",
        "建立案卷",
        L0,
        1,
        "defence_waived = False\ngrade_cap = None\npublic_criticism = False\nhonours_revoked = False",
    )
    p.user("Task_Investigate", "调查核实", L0, 2, doc="调查核实线索反映的问题。来源：" + S_001_CONSEQ)
    p.xor("Gateway_Found", "问题是否查实？", L0, 3)
    p.user(
        "Task_NotifyFacts",
        "告知事实和依据",
        L0,
        4,
        doc="将查明的事实、处理依据告知当事人，告知其有陈述和申辩的权利。来源：公务员法 第六十三条",
    )
    p.user(
        "Task_StateDefence",
        "陈述申辩",
        L1,
        5,
        doc="当事人陈述和申辩。来源：公务员法 第六十三条（期限为本地配置 [setting]）",
    )
    p.boundary_timer(
        "Timer_StatementPeriod",
        "陈述申辩期满",
        "Task_StateDefence",
        'time_limit("accountability_statement")',
        doc="期满未陈述申辩的视为放弃。来源：[setting] 公务员法 第六十三条规定权利，未规定期限",
    )
    p.script("Script_DefenceWaived", "视为放弃陈述申辩", L1, 6, "defence_waived = True", row=1)
    p.xor("Gateway_DecideMerge", "", L2, 6)
    p.user(
        "Task_Decide",
        "作出处理决定",
        L2,
        7,
        doc=(
            "不予追究、监察建议（普遍性、倾向性问题）、效能告诫、组织处理（停职、调整、免职）或立案查处。"
            "来源：" + S_001_OUTCOMES
        ),
    )
    p.xor("Gateway_Decision", "处理决定？", L2, 8)
    p.script(
        "Script_CountAdmonition",
        "计入年度告诫次数",
        L2,
        9,
        "admonitions_this_year = admonitions_this_year + 1",
        doc="“一年”按 settings.yaml 的 admonition_year 计（默认公历年），由宿主提供已告诫次数。来源："
        + S_001_CONSEQ,
    )
    p.xor("Gateway_SubjectType", "告诫对象？", L2, 10)
    p.rule(
        "Rule_IndividualConsequence",
        "确定个人告诫后果",
        L2,
        11,
        "admonition_consequence",
        doc=(
            "查 admonition_consequence（个人效能告诫后果）决策表：告诫一次当年考核不得评为称职以上"
            "（grade_cap 基本称职），一年内两次以上定为不称职。来源：" + S_001_CONSEQ
        ),
    )
    p.rule(
        "Rule_UnitConsequence",
        "确定单位告诫后果",
        L2,
        11,
        "unit_admonition_consequence",
        row=1,
        doc=(
            "查 unit_admonition_consequence（单位效能告诫后果）决策表：通报批评（public_criticism），"
            "取消领导班子当年评优评先资格（honours_revoked）。来源：" + S_001_CONSEQ
        ),
    )
    p.xor("Gateway_ConsequenceMerge", "", L2, 12)
    p.xor("Gateway_NoActionMerge", "", L2, 9, row=1)
    p.end("EndEvent_NoAction", "不予追究", L2, 10, row=1)
    p.user(
        "Task_Transfer",
        "移送立案查处",
        L0,
        9,
        row=1,
        doc="严重违法违纪问题移送监察机关立案查处。来源：" + S_001_OUTCOMES,
    )
    p.end("EndEvent_Transferred", "已移送立案", L0, 10, row=1)
    p.xor("Gateway_ServeMerge", "", L0, 13)
    p.user(
        "Task_Serve",
        "送达处理决定",
        L0,
        14,
        doc="书面送达处理决定，告知复核、申诉权利。来源：公务员法 第九十五条",
    )
    p.parallel("Gateway_Fork", L0, 15)
    # Branch A: review and appeal; the decision stays in force meanwhile (公务员法 第九十六条).
    p.receive(
        "Receive_Objection",
        "复核申诉期",
        L1,
        16,
        "objection",
        row=1,
        doc=(
            "自知道处理之日起30日内可申请复核，或直接申诉（消息 objection）；复核、申诉期间不停止执行。"
            "来源：公务员法 第九十五条、第九十六条"
        ),
    )
    p.boundary_timer(
        "Timer_ObjectionWindow",
        "复核申诉期满",
        "Receive_Objection",
        'time_limit("accountability_objection_window")',
        doc="30日内未申请复核或申诉的，不再受理。来源：公务员法 第九十五条",
    )
    p.xor("Gateway_ObjectionType", "复核还是申诉？", L1, 17, row=1)
    p.user("Task_Review", "复核", L2, 18, doc="原处理机关30日内作出复核决定。来源：公务员法 第九十六条")
    p.boundary_timer(
        "Timer_ReviewDecision",
        "复核期限届满",
        "Task_Review",
        'time_limit("accountability_review_decision")',
        interrupting=False,
        doc="复核决定期限30日；届满记录逾期（不中断：复核机关仍须作出决定）。来源：公务员法 第九十六条",
    )
    p.end(
        "EndEvent_ReviewOverdue",
        "复核逾期已记录",
        L2,
        19,
        row=1,
        doc="逾期记入历史（timer_fired: Timer_ReviewDecision）；复核任务不中断。来源：公务员法 第九十六条",
    )
    p.receive(
        "Receive_Appeal",
        "申诉期",
        L1,
        19,
        "appeal",
        row=1,
        doc="对复核结果不服的，自接到复核决定之日起15日内申诉（消息 appeal）。来源：公务员法 第九十五条",
    )
    p.boundary_timer(
        "Timer_AppealWindow",
        "申诉期满",
        "Receive_Appeal",
        'time_limit("accountability_appeal_window")',
        doc="15日内未申诉的，复核决定生效。来源：公务员法 第九十五条",
    )
    p.xor("Gateway_AppealMerge", "", L3, 20)
    p.user(
        "Task_Appeal",
        "申诉处理",
        L3,
        21,
        doc=(
            "受理申诉的机关60日内作出处理决定；"
            "案情复杂的可延长不超过30日（engine.extend）。来源：公务员法 第九十六条"
        ),
    )
    p.boundary_timer(
        "Timer_AppealDecision",
        "申诉期限届满",
        "Task_Appeal",
        'time_limit("accountability_appeal_decision")',
        interrupting=False,
        doc="申诉处理期限60日；届满记录逾期（不中断）。来源：公务员法 第九十六条",
    )
    p.end(
        "EndEvent_AppealOverdue",
        "申诉逾期已记录",
        L3,
        22,
        row=1,
        doc="逾期记入历史（timer_fired: Timer_AppealDecision）；申诉处理不中断。来源：公务员法 第九十六条",
    )
    p.xor("Gateway_ObjectionDone", "", L1, 22, row=1)
    # Branch B: rectification by a deadline, verified.
    p.xor("Gateway_RectifyMerge", "", L1, 16)
    p.user(
        "Task_Rectify",
        "限期整改",
        L1,
        17,
        doc=(
            "责成限期整改。"
            "来源：001_a86978e3ab2b148c.txt §五(三)、§五(六)（限期整改、限期改正）；期限为 [setting]"
        ),
    )
    p.boundary_timer(
        "Timer_RectificationLimit",
        "整改期满",
        "Task_Rectify",
        'time_limit("accountability_rectification")',
        doc=(
            "整改期限届满未完成的督办。"
            "来源：[setting] 001_a86978e3ab2b148c.txt §五(三) 要求限期整改，未定期限"
        ),
    )
    p.user(
        "Task_UrgeRectification",
        "整改督办",
        L0,
        18,
        row=1,
        doc="督促逾期未整改的对象整改。来源：" + S_001_OUTCOMES,
    )
    p.user(
        "Task_VerifyRectification", "整改核验", L0, 20, row=1, doc="核验整改是否到位。来源：" + S_001_OUTCOMES
    )
    p.xor("Gateway_Verified", "整改是否到位？", L0, 21, row=1)
    p.parallel("Gateway_Join", L0, 23)
    p.end("EndEvent_Closed", "结案", L0, 24)

    p.flow("StartEvent_Clue", "Script_Init")
    p.flow("Script_Init", "Task_Investigate")
    p.flow("Task_Investigate", "Gateway_Found")
    p.flow("Gateway_Found", "Task_NotifyFacts", "查实", "violation_found")
    p.flow("Gateway_Found", "Gateway_NoActionMerge", "未查实", default=True)
    p.flow("Task_NotifyFacts", "Task_StateDefence")
    p.flow("Task_StateDefence", "Gateway_DecideMerge")
    p.flow("Timer_StatementPeriod", "Script_DefenceWaived")
    p.flow("Script_DefenceWaived", "Gateway_DecideMerge")
    p.flow("Gateway_DecideMerge", "Task_Decide")
    p.flow("Task_Decide", "Gateway_Decision")
    p.flow("Gateway_Decision", "Script_CountAdmonition", "效能告诫", 'decision == "效能告诫"')
    p.flow("Gateway_Decision", "Gateway_NoActionMerge", "不予追究", 'decision == "不予追究"')
    p.flow("Gateway_Decision", "Task_Transfer", "立案查处", 'decision == "立案查处"')
    p.flow("Gateway_Decision", "Gateway_ServeMerge", "监察建议或组织处理", default=True)
    p.flow("Script_CountAdmonition", "Gateway_SubjectType")
    p.flow("Gateway_SubjectType", "Rule_UnitConsequence", "单位", 'subject_type == "单位"')
    p.flow("Gateway_SubjectType", "Rule_IndividualConsequence", "个人", default=True)
    p.flow("Rule_IndividualConsequence", "Gateway_ConsequenceMerge")
    p.flow("Rule_UnitConsequence", "Gateway_ConsequenceMerge")
    p.flow("Gateway_ConsequenceMerge", "Gateway_ServeMerge")
    p.flow("Gateway_NoActionMerge", "EndEvent_NoAction")
    p.flow("Task_Transfer", "EndEvent_Transferred")
    p.flow("Gateway_ServeMerge", "Task_Serve")
    p.flow("Task_Serve", "Gateway_Fork")
    p.flow("Gateway_Fork", "Receive_Objection")
    p.flow("Gateway_Fork", "Gateway_RectifyMerge")
    p.flow("Receive_Objection", "Gateway_ObjectionType")
    p.flow("Timer_ObjectionWindow", "Gateway_ObjectionDone")
    p.flow("Gateway_ObjectionType", "Task_Review", "申请复核", 'objection_type == "复核"')
    p.flow("Gateway_ObjectionType", "Gateway_AppealMerge", "直接申诉", default=True)
    p.flow("Timer_ReviewDecision", "EndEvent_ReviewOverdue")
    p.flow("Task_Review", "Receive_Appeal")
    p.flow("Receive_Appeal", "Gateway_AppealMerge")
    p.flow("Timer_AppealWindow", "Gateway_ObjectionDone")
    p.flow("Gateway_AppealMerge", "Task_Appeal")
    p.flow("Timer_AppealDecision", "EndEvent_AppealOverdue")
    p.flow("Task_Appeal", "Gateway_ObjectionDone")
    p.flow("Gateway_ObjectionDone", "Gateway_Join")
    p.flow("Gateway_RectifyMerge", "Task_Rectify")
    p.flow("Timer_RectificationLimit", "Task_UrgeRectification")
    p.flow("Task_UrgeRectification", "Gateway_RectifyMerge")
    p.flow("Task_Rectify", "Task_VerifyRectification")
    p.flow("Task_VerifyRectification", "Gateway_Verified")
    p.flow("Gateway_Verified", "Gateway_RectifyMerge", "未到位，继续整改", "not rectification_verified")
    p.flow("Gateway_Verified", "Gateway_Join", "整改到位", default=True)
    p.flow("Gateway_Join", "EndEvent_Closed")
    return p


def supervision_ladder() -> Process:
    p = Process(
        "supervision_ladder",
        "常态化督查问题处置",
        [
            Lane("Lane_Inspector", "效能督查员"),
            Lane("Lane_EfficiencyOffice", "效能办", rows=3),
            Lane("Lane_ResponsibleUnit", "责任单位"),
        ],
        doc=(
            "对常态化督查发现的问题，按责任单位在考评期内的发现次数，首次“告知提醒”、二次“通报预警”、"
            f"三次“考评运用”（绩效考评扣分）。来源：{S_000_LADDER}"
        ),
    )
    L0, L1, L2 = (lane.id for lane in p.lanes)
    p.start(
        "StartEvent_Finding",
        "登记督查发现问题",
        L0,
        0,
        doc="每个问题对应一个责任单位（unit）；findings_in_period 由引擎按 counters.yaml 的 "
        "supervision_findings 按单位和考评期持久计数（含本次）并审计后写入。来源：" + S_000_LADDER,
    )
    p.rule(
        "Rule_Ladder",
        "确定处置方式",
        L0,
        1,
        "supervision_ladder",
        doc="查 supervision_ladder 决策表，写入 ladder_step、score_deduction、step_label。来源："
        + S_000_LADDER,
    )
    p.xor("Gateway_Step", "处置方式？", L1, 2)
    p.user("Task_Remind", "告知提醒", L1, 3, doc="首次发现：告知提醒。来源：" + S_000_LADDER)
    p.user("Task_Circulate", "通报预警", L1, 3, row=1, doc="二次发现：通报预警。来源：" + S_000_LADDER)
    p.user(
        "Task_Deduct",
        "考评运用（扣分）",
        L1,
        3,
        row=2,
        doc=(
            "三次及以上：考评运用，在绩效考评中予以扣分（分值见决策表，[setting]）。"
            "来源：000_187e340a21ee818c.txt §二(三)"
        ),
    )
    p.xor("Gateway_StepMerge", "", L1, 4)
    p.xor("Gateway_RectifyMerge", "", L2, 5)
    p.user(
        "Task_Rectify",
        "整改落实",
        L2,
        6,
        doc="责任单位整改并反馈。来源：" + S_000_LADDER + "（以“督”促“改”）",
    )
    p.boundary_timer(
        "Timer_RectificationLimit",
        "整改期满",
        "Task_Rectify",
        'time_limit("supervision_rectification")',
        doc="整改反馈期限届满的督办。来源：[setting] " + S_000_LADDER + " 未定整改期限",
    )
    p.user("Task_Urge", "整改督办", L1, 7, row=1, doc="建立事项跟踪督办反馈机制。来源：" + S_000_LADDER)
    p.user("Task_Verify", "整改核验", L1, 8, doc="核验整改是否到位。来源：" + S_000_LADDER)
    p.xor("Gateway_Verified", "整改是否到位？", L1, 9)
    p.end("EndEvent_Closed", "处置完毕", L1, 10)

    p.flow("StartEvent_Finding", "Rule_Ladder")
    p.flow("Rule_Ladder", "Gateway_Step")
    p.flow("Gateway_Step", "Task_Remind", "首次", 'ladder_step == "告知提醒"')
    p.flow("Gateway_Step", "Task_Circulate", "二次", 'ladder_step == "通报预警"')
    p.flow("Gateway_Step", "Task_Deduct", "三次及以上", default=True)
    p.flow("Task_Remind", "Gateway_StepMerge")
    p.flow("Task_Circulate", "Gateway_StepMerge")
    p.flow("Task_Deduct", "Gateway_StepMerge")
    p.flow("Gateway_StepMerge", "Gateway_RectifyMerge")
    p.flow("Gateway_RectifyMerge", "Task_Rectify")
    p.flow("Timer_RectificationLimit", "Task_Urge")
    p.flow("Task_Urge", "Gateway_RectifyMerge")
    p.flow("Task_Rectify", "Task_Verify")
    p.flow("Task_Verify", "Gateway_Verified")
    p.flow("Gateway_Verified", "Gateway_RectifyMerge", "未到位", "not rectification_verified")
    p.flow("Gateway_Verified", "EndEvent_Closed", "到位", default=True)
    return p


def task_ledger() -> Process:
    p = Process(
        "task_ledger",
        "抓落实台账",
        [
            Lane("Lane_LeadUnit", "牵头单位"),
            Lane("Lane_ResponsibleUnit", "责任单位", rows=2),
            Lane("Lane_Inspection", "督查室", rows=2),
        ],
        doc=(
            "逐项明确时间表、路线图、责任人；定期报告推进情况；可能滞后的提前预警、制定改进措施；"
            f"办结后5个工作日内报告落实情况；逐一现场核验后销号。来源：{S_004_LEDGER}；{S_004_REPORT}"
        ),
    )
    L0, L1, L2 = (lane.id for lane in p.lanes)
    p.start(
        "StartEvent_Entry",
        "建立台账事项",
        L0,
        0,
        doc="台账事项：任务、时间表（due_date、milestones）、责任单位（unit）和责任人。来源：" + S_004_LEDGER,
    )
    p.xor("Gateway_CycleMerge", "", L0, 1)
    p.catch_timer(
        "Timer_ReportCycle",
        "报告周期到",
        L0,
        2,
        'time_limit("ledger_progress_cycle", report_cycle=report_cycle)',
        doc="常规工作实行季报告，重要任务实行月报告。来源：" + S_004_REPORT,
    )
    p.user("Task_ProgressReport", "报送推进情况", L1, 3, doc="责任单位报送推进情况。来源：" + S_004_REPORT)
    p.xor("Gateway_Progress", "推进情况？", L1, 4)
    p.user(
        "Task_LagWarning",
        "滞后预警",
        L2,
        5,
        doc="对研判认为可能滞后的任务提前预警。来源：" + S_004_LEDGER,
    )
    p.user(
        "Task_Improve", "制定改进措施", L1, 5, row=1, doc="制定改进措施、全力追赶进度。来源：" + S_004_LEDGER
    )
    p.xor("Gateway_ReportMerge", "", L1, 6)
    p.user(
        "Task_CompletionReport",
        "报告办理落实情况",
        L1,
        7,
        doc="在任务事项办结的5个工作日内报告办理落实情况。来源：" + S_004_REPORT,
    )
    p.boundary_timer(
        "Timer_CompletionReport",
        "5个工作日届满",
        "Task_CompletionReport",
        'time_limit("ledger_completion_report")',
        doc="办结后5个工作日内未报告的催报督办。来源：" + S_004_REPORT,
    )
    p.user("Task_UrgeReport", "催报督办", L2, 7, row=1, doc="督促报告办理落实情况。来源：" + S_004_REPORT)
    p.user("Task_Verify", "现场核验", L2, 8, doc="对上报已落实事项逐一现场核验。来源：" + S_004_LEDGER)
    p.xor("Gateway_Verified", "核验是否无误？", L2, 9)
    p.end("EndEvent_Closed", "销号", L2, 10, doc="确认无误后销号。来源：" + S_004_LEDGER)

    p.flow("StartEvent_Entry", "Gateway_CycleMerge")
    p.flow("Gateway_CycleMerge", "Timer_ReportCycle")
    p.flow("Timer_ReportCycle", "Task_ProgressReport")
    p.flow("Task_ProgressReport", "Gateway_Progress")
    p.flow("Gateway_Progress", "Gateway_ReportMerge", "已办结", "completed")
    p.flow("Gateway_Progress", "Task_LagWarning", "可能滞后", "not completed and at_risk")
    p.flow("Gateway_Progress", "Gateway_CycleMerge", "正常推进", default=True)
    p.flow("Task_LagWarning", "Task_Improve")
    p.flow("Task_Improve", "Gateway_CycleMerge")
    p.flow("Gateway_ReportMerge", "Task_CompletionReport")
    p.flow("Timer_CompletionReport", "Task_UrgeReport")
    p.flow("Task_UrgeReport", "Gateway_ReportMerge")
    p.flow("Task_CompletionReport", "Task_Verify")
    p.flow("Task_Verify", "Gateway_Verified")
    p.flow("Gateway_Verified", "Gateway_CycleMerge", "未落实，继续推进", "not verified")
    p.flow("Gateway_Verified", "EndEvent_Closed", "无误", default=True)
    return p


PROCESSES = [complaint_closure, window_escalation, accountability, supervision_ladder, task_ledger]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(Path(__file__).resolve().parents[1] / "processes"))
    parser.add_argument("--force", action="store_true", help="overwrite the committed .bpmn files")
    parser.add_argument(
        "--only",
        action="append",
        choices=[build.__name__ for build in PROCESSES],
        metavar="PROCESS_ID",
        help="write only this process (repeatable); the other files are left untouched",
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    for build in PROCESSES:
        if args.only and build.__name__ not in args.only:
            continue
        process = build()
        path = out / f"{process.id}.bpmn"
        if path.exists() and not args.force:
            print(f"{path} exists; designers edit it now (use --force to overwrite)", file=sys.stderr)
            return 1
        process.write(path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
