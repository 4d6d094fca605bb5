"""自己点検 (self-inspection): the month's findings from the accounts and the audit trail,
a stored snapshot of them, and the 所属長's sign-off (privacy.md §2 監査).

Each kind of finding is one selector: a fixed number of set-based queries whatever the size
of the month, returning frozen dataclasses. `self_inspection_run` computes them all and
stores the snapshot (`SelfInspection.findings`); the screens, the PDF and the command show
that snapshot, never a recomputation — the supervisor signs what was run. The snapshot names
staff and holds 宛名番号・世帯番号 only: no resident's name, no My Number, and no free text
from the trail (a reveal's reason may name people).

The thresholds are the city's policy, not law: dated parameters
`rules/parameters/privacy/self_inspection_*.yaml`. Off-hours means before or after the
office hours on a weekday, or any time on a Saturday or Sunday; public holidays (祝日) and
the year-end closure are not known to the system and count as working days.
"""

from kokuho.audit.inspection.findings import (
    AccountFinding,
    BulkReveal,
    ConcentratedViews,
    EventCount,
    ExportFinding,
    InspectionFindings,
    LoginFailureBurst,
    OffHoursReveal,
    OwnHouseholdView,
    account_findings,
    concentrated_views,
    event_counts,
    exports_in_month,
    inspection_findings,
    login_failure_bursts,
    own_household_views,
    reveals_in_bulk,
    reveals_off_hours,
)
from kokuho.audit.inspection.report import (
    FindingTable,
    inspection_checklist_rows,
    inspection_meta,
    inspection_page,
    inspection_report,
    inspection_rules_text,
    inspection_tables,
)
from kokuho.audit.inspection.rules import (
    CHECKLIST_LABELS,
    FINDING_LABELS,
    PAGE_TEXT_WIDTH,
    SCHEMA_VERSION,
    ChecklistAnswer,
    ChecklistItem,
    FindingKind,
    InspectionRules,
    InspectionWindow,
    inspection_rules,
    inspection_window,
    month_first,
)
from kokuho.audit.inspection.services import (
    InspectionMonth,
    SelfInspectionError,
    SelfInspectionErrorCode,
    month_label,
    self_inspection_run,
    self_inspection_runs,
    self_inspection_sign_off,
    self_inspections_by_month,
)

__all__ = [
    "CHECKLIST_LABELS",
    "FINDING_LABELS",
    "PAGE_TEXT_WIDTH",
    "SCHEMA_VERSION",
    "AccountFinding",
    "BulkReveal",
    "ChecklistAnswer",
    "ChecklistItem",
    "ConcentratedViews",
    "EventCount",
    "ExportFinding",
    "FindingKind",
    "FindingTable",
    "InspectionFindings",
    "InspectionMonth",
    "InspectionRules",
    "InspectionWindow",
    "LoginFailureBurst",
    "OffHoursReveal",
    "OwnHouseholdView",
    "SelfInspectionError",
    "SelfInspectionErrorCode",
    "account_findings",
    "concentrated_views",
    "event_counts",
    "exports_in_month",
    "inspection_checklist_rows",
    "inspection_findings",
    "inspection_meta",
    "inspection_page",
    "inspection_report",
    "inspection_rules",
    "inspection_rules_text",
    "inspection_tables",
    "inspection_window",
    "login_failure_bursts",
    "month_first",
    "month_label",
    "own_household_views",
    "reveals_in_bulk",
    "reveals_off_hours",
    "self_inspection_run",
    "self_inspection_runs",
    "self_inspection_sign_off",
    "self_inspections_by_month",
]
