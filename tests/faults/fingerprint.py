"""What a job left behind, as comparable figures: rows and content of every business table.

`fingerprint()` (run by `inspect_state` inside a state's environment) gives
{table: [rows, digest]}. The digest is over the multiset of each row's plain values
— no primary keys, foreign keys, timestamps or JSON (a killed transaction advances
sequences and clocks, so those differ between two correct runs) — so a lost or a duplicated
record shows in the count or the digest, whichever way the run was cut.
"""

import hashlib
import json

# Tables whose rows are expected to differ between an interrupted and an uninterrupted run:
# the audit trail (a killed run's committed chunks were audited too), the runs' own ledgers
# (one row per attempt; checked separately), the task queue and login machinery.
VOLATILE_APPS = {"audit", "sessions", "axes", "django_tasks_database", "contenttypes", "admin"}
# Fields that differ between two correct runs: a batch file's name carries its run's id and
# the PDF's bytes its creation time (the documents in it are compared through their rows).
VOLATILE_FIELDS = {"certificates.mailingbatch": {"path", "sha256"}}
# A month computed again is a new run with results of its own, the newest finished one being
# the month's current (decision 352): a job killed after its commit and run again computes
# the month twice, as designed. What must be equal is the current run's results; results of
# a run that did not finish must not exist at all (`inspect_state` reports them).
CURRENT_RUN_ONLY = {
    "benefits.kogakuresult": "run_id__in",
    "benefits.kogakupersonresult": "result__run_id__in",
}
VOLATILE_MODELS = {
    "interfaces.importfile",
    "interfaces.importjob",
    "benefits.kogakurun",
    "certificates.renewalrun",
}


def fingerprint() -> dict[str, list]:
    """{table: [rows, digest]} of every business table (Django set up by the caller)."""
    from django.apps import apps
    from django.db import models, router

    current = current_kogaku_runs()
    out: dict[str, list] = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.app_label in VOLATILE_APPS or label in VOLATILE_MODELS:
            continue
        if not model._meta.managed or model._meta.proxy:
            continue
        plain = [
            f.attname
            for f in model._meta.concrete_fields
            if not f.primary_key
            and not f.is_relation
            and f.attname not in VOLATILE_FIELDS.get(label, set())
            and not isinstance(f, models.DateTimeField | models.JSONField)
        ]
        manager = model._base_manager.using(router.db_for_read(model))
        if label in CURRENT_RUN_ONLY:
            manager = manager.filter(**{CURRENT_RUN_ONLY[label]: current})
        if not plain:
            out[label] = [manager.count(), ""]
            continue
        rows = [
            json.dumps(row, default=str, ensure_ascii=False) for row in manager.values_list(*plain)
        ]
        rows.sort()
        digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
        out[label] = [len(rows), digest]
    return out


def current_kogaku_runs() -> list[int]:
    """The current (newest finished) 月次計算 of each month."""
    from kokuho.benefits.models import KogakuRun, KogakuRunStatus

    current: dict = {}
    for month, pk in (
        KogakuRun.objects.filter(status=KogakuRunStatus.DONE)
        .order_by("month", "-finished_at", "-pk")
        .values_list("month", "pk")
    ):
        current.setdefault(month, pk)
    return sorted(current.values())
