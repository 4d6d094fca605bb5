"""Symbolic permissions and the roles that group them — the one place both are defined.

Permissions are names, never numbers (style.md, after Saleor). A role (職員の役割) is a
Django auth Group of the same name; what a role may do is decided here, in code, so that a
review of rights is a review of this file and its history.
"""

from enum import StrEnum

from kokuho.core.purposes import Purpose


class Perm(StrEnum):
    PEOPLE_SEARCH = "people.search_person"
    PEOPLE_VIEW = "people.view_person"
    ELIGIBILITY_VIEW = "eligibility.view_eligibility"
    ELIGIBILITY_CHANGE = "eligibility.change_eligibility"
    IMPORT_FILES = "interfaces.import_file"
    BENEFITS_VIEW = "benefits.view_benefit"
    BENEFITS_DECIDE = "benefits.decide_benefit"
    PAYMENTS_VIEW = "payments.view_runs"
    MY_NUMBER_REVEAL = "identity.reveal_my_number"
    PERSONAL_DATA_EXPORT = "personal_data.export"
    AUDIT_VIEW = "audit.view_event"
    INCIDENT_MANAGE = "audit.manage_incident"
    SELF_INSPECTION = "audit.run_self_inspection"
    SELF_INSPECTION_SIGN_OFF = "audit.sign_off_self_inspection"
    SUBJECT_REQUEST_MANAGE = "people.manage_subject_request"
    STAFF_MANAGE = "accounts.manage_staff"
    SYSTEM_STATUS_VIEW = "ops.view_system_status"
    INFO_QUERY = "intermediary.make_info_query"

    @property
    def label(self) -> str:
        return PERMISSION_LABELS[self]


PERMISSION_LABELS: dict[Perm, str] = {
    Perm.PEOPLE_SEARCH: "住民の検索",
    Perm.PEOPLE_VIEW: "住民・世帯の閲覧",
    Perm.ELIGIBILITY_VIEW: "資格の閲覧",
    Perm.ELIGIBILITY_CHANGE: "資格の異動処理",
    Perm.IMPORT_FILES: "連携ファイルの取込",
    Perm.BENEFITS_VIEW: "給付の閲覧",
    Perm.BENEFITS_DECIDE: "給付の決定",
    Perm.PAYMENTS_VIEW: "支払処理の閲覧・振込ファイルの取得",
    Perm.MY_NUMBER_REVEAL: "個人番号の表示",
    Perm.PERSONAL_DATA_EXPORT: "個人情報の外部出力",
    Perm.AUDIT_VIEW: "監査ログの閲覧",
    Perm.INCIDENT_MANAGE: "重大事故の管理",
    Perm.SELF_INSPECTION: "自己点検の実施",
    Perm.SELF_INSPECTION_SIGN_OFF: "自己点検の確認（所属長）",
    Perm.SUBJECT_REQUEST_MANAGE: "開示・訂正・利用停止請求の処理",
    Perm.STAFF_MANAGE: "職員アカウントの管理",
    Perm.INFO_QUERY: "情報照会（情報提供ネットワークシステム）の依頼・結果の閲覧",
    Perm.SYSTEM_STATUS_VIEW: "システム稼働状況の閲覧",
}


class Role(StrEnum):
    """職員の役割. The value is the Group name staff see."""

    COUNTER = "窓口担当"
    BENEFITS = "給付担当"
    ELIGIBILITY = "資格担当"
    ADMINISTRATOR = "管理者"
    AUDITOR = "監査担当"
    SUPERVISOR = "所属長"
    CONTRACTOR = "委託事業者"


_READ_PEOPLE = {Perm.PEOPLE_SEARCH, Perm.PEOPLE_VIEW}

# Separation of duties: the administrator manages accounts but reads no resident data;
# the auditor reads logs, not records; the contractor (運用支援) sees system status only —
# the seed's 委託 is for keeping the system running, not for handling residents' data.
ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.COUNTER: frozenset(_READ_PEOPLE | {Perm.ELIGIBILITY_VIEW, Perm.BENEFITS_VIEW}),
    # 資格担当 imports the registry and income files: the role that resolves their 保留行.
    Role.ELIGIBILITY: frozenset(
        _READ_PEOPLE
        | {
            Perm.ELIGIBILITY_VIEW,
            Perm.ELIGIBILITY_CHANGE,
            Perm.IMPORT_FILES,
            Perm.MY_NUMBER_REVEAL,
            # The linkage feeds (副本, オンライン資格確認) are 資格担当's work; nobody else
            # takes personal data out of the system (委託事業者 never: privacy.md 委託先).
            Perm.PERSONAL_DATA_EXPORT,
            # 開示・訂正・利用停止 of NHI records are answered by the section that keeps them.
            Perm.SUBJECT_REQUEST_MANAGE,
            # The national links' status (連携状況): 資格担当 sends the feeds.
            Perm.SYSTEM_STATUS_VIEW,
        }
    ),
    # 支払処理 (the runs, their 全銀 files with every payee's account, the held payments) is
    # 給付担当's work only: 窓口担当 reads benefits but never the bank files.
    Role.BENEFITS: frozenset(
        _READ_PEOPLE
        | {
            Perm.ELIGIBILITY_VIEW,
            Perm.BENEFITS_VIEW,
            Perm.BENEFITS_DECIDE,
            Perm.PAYMENTS_VIEW,
            # 情報照会 is asked for 保険給付の支給 only (the seed's Ⅰ-4 ②: other insurers'
            # 給付関係情報, 他法給付, 地方税関係情報, 公金受取口座); 資格 asks nothing.
            Perm.INFO_QUERY,
        }
    ),
    Role.ADMINISTRATOR: frozenset({Perm.STAFF_MANAGE, Perm.SYSTEM_STATUS_VIEW}),
    # The incident register (重大事故・漏えい等報告) is kept by the auditor, who sees the trail
    # the incidents are found in and is independent of the sections whose data leaked.
    Role.AUDITOR: frozenset({Perm.AUDIT_VIEW, Perm.INCIDENT_MANAGE, Perm.SELF_INSPECTION}),
    # 所属長 confirms the month's 自己点検 — a different person from the auditor who ran it.
    Role.SUPERVISOR: frozenset({Perm.SELF_INSPECTION_SIGN_OFF}),
    Role.CONTRACTOR: frozenset({Perm.SYSTEM_STATUS_VIEW}),
}


# Rights that let an account see, change or take out residents' personal data. A view that
# needs one of them is closed to an account whose 特定個人情報の取扱い研修 has lapsed
# (従業者に対する教育・啓発; enforced in accounts.middleware, not per view).
PERSONAL_DATA_PERMISSIONS: frozenset[Perm] = frozenset(
    {
        Perm.PEOPLE_SEARCH,
        Perm.PEOPLE_VIEW,
        Perm.ELIGIBILITY_VIEW,
        Perm.ELIGIBILITY_CHANGE,
        Perm.IMPORT_FILES,
        Perm.BENEFITS_VIEW,
        Perm.BENEFITS_DECIDE,
        Perm.PAYMENTS_VIEW,
        Perm.MY_NUMBER_REVEAL,
        Perm.PERSONAL_DATA_EXPORT,
        Perm.SUBJECT_REQUEST_MANAGE,
        Perm.INFO_QUERY,
    }
)

# Rights whose misuse is the worst case (a number in clear, personal data leaving the
# system): an account holding one must pass a second factor (TOTP) in every session —
# the policy guideline's 二要素認証 for マイナンバー利用事務系.
# Managing accounts is on the list too: whoever holds it can create an account with any right,
# record the training that opens personal data, and lift a lockout.
MFA_PERMISSIONS: frozenset[Perm] = frozenset(
    {Perm.MY_NUMBER_REVEAL, Perm.PERSONAL_DATA_EXPORT, Perm.STAFF_MANAGE}
)


def permissions_for_roles(role_names: set[str]) -> frozenset[Perm]:
    granted: set[Perm] = set()
    for name in role_names:
        try:
            granted |= ROLE_PERMISSIONS[Role(name)]
        except ValueError:
            continue  # a group that is not a role grants nothing
    return frozenset(granted)


# The 事務 each role may handle specific personal information for (privacy.md §1: a call
# without an allowed purpose for the actor's role is refused and logged). A role that
# reads no resident data has none.
ROLE_PURPOSES: dict[Role, frozenset[Purpose]] = {
    Role.COUNTER: frozenset({Purpose.NHI_ELIGIBILITY, Purpose.NHI_BENEFITS}),
    Role.ELIGIBILITY: frozenset(
        {
            Purpose.NHI_ELIGIBILITY,
            Purpose.INFO_LINKAGE_PROVIDE,
            Purpose.INFO_LINKAGE_QUERY,
            Purpose.ONLINE_ELIGIBILITY,
        }
    ),
    Role.BENEFITS: frozenset({Purpose.NHI_BENEFITS, Purpose.INFO_LINKAGE_QUERY}),
}


def purposes_for_roles(role_names: set[str]) -> frozenset[Purpose]:
    allowed: set[Purpose] = set()
    for name in role_names:
        try:
            allowed |= ROLE_PURPOSES.get(Role(name), frozenset())
        except ValueError:
            continue
    return frozenset(allowed)
