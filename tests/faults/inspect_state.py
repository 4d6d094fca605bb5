"""A state after a job, as the harness checks it — one process for all three (JSON on
stdout): the business tables' fingerprint, the runs not closed (an import still 取込中 or
中断 without a continuation, a batch run still queued or running), and whether the audit
chain verifies."""

import json
import os


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokuho.settings")
    import django

    django.setup()
    from kokuho.audit.selectors import audit_chain_verify
    from tests.faults.fingerprint import fingerprint

    tables = fingerprint()
    audit = audit_chain_verify()
    files, broken = _files()
    from kokuho.benefits.models import KOGAKU_RUN_OPEN, KogakuResult, KogakuRun, KogakuRunStatus
    from kokuho.certificates.models import RenewalRun, RenewalStatus
    from kokuho.interfaces.interruptions import import_files_interrupted_mark
    from kokuho.interfaces.models import ImportFile, ImportFileStatus

    # What the screens and the next run do first: close the runs whose process is gone.
    import_files_interrupted_mark()
    open_runs = [
        f"取込番号 {pk} {name}: 取込中のまま"
        for pk, name in ImportFile.objects.filter(status=ImportFileStatus.RUNNING).values_list(
            "pk", "file_name"
        )
    ]
    interrupted = ImportFile.objects.filter(status=ImportFileStatus.INTERRUPTED)
    open_runs += [
        f"取込番号 {pk}: 中断のまま再開されていません"
        for pk in interrupted.filter(resumed_by__isnull=True).values_list("pk", flat=True)
    ]
    open_runs += [
        f"高額療養費の月次 {pk}: {status}のまま"
        for pk, status in KogakuRun.objects.filter(status__in=KOGAKU_RUN_OPEN).values_list(
            "pk", "status"
        )
    ]
    unfinished = KogakuResult.objects.exclude(run__status=KogakuRunStatus.DONE).count()
    if unfinished:
        open_runs.append(f"完了していない月次計算の結果が {unfinished} 件残っています")
    open_runs += [
        f"一斉更新 {pk}: {status}のまま"
        for pk, status in RenewalRun.objects.filter(
            status__in=(RenewalStatus.QUEUED, RenewalStatus.RUNNING)
        ).values_list("pk", "status")
    ]
    print(
        json.dumps(
            {
                "tables": tables,
                "open": open_runs,
                "audit_ok": audit.ok,
                "audit_checked": audit.checked,
                "files": files,
                "broken": broken,
            },
            ensure_ascii=False,
        )
    )


def _files() -> tuple[list[str], list[str]]:
    """The outbound files on disk (national feeds, payment files: their names, which carry
    the 通番 and 支払日, must be the same as after an uninterrupted run), and the files that
    are not whole: a temporary left behind, a PDF without its end, a file whose content is
    not what the export register recorded for it."""
    import hashlib
    from pathlib import Path

    from django.conf import settings

    from kokuho.interfaces.models import ExportRecord

    var = Path(settings.VAR_DIR)
    recorded: dict[str, set[str]] = {}
    for name, digest in ExportRecord.objects.values_list("file_name", "file_sha256"):
        recorded.setdefault(Path(name).name, set()).add(digest)
    outbound = [Path(settings.KOKUHO_NATIONAL_DIR), Path(settings.KOKUHO_PAYMENT_DIR)]
    files, broken = [], []
    for path in sorted(var.rglob("*")):
        if not path.is_file() or path.name.endswith((".sqlite3", "-wal", "-shm")):
            continue
        where = str(path.relative_to(var))
        if path.name.endswith((".tmp", ".part")):
            broken.append(f"{where}: 一時ファイルが残っています")
            continue
        if path.suffix == ".pdf" and b"%%EOF" not in path.read_bytes()[-1024:]:
            broken.append(f"{where}: PDF が途中で切れています")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if path.name in recorded and digest not in recorded[path.name]:
            broken.append(f"{where}: 外部出力記録の SHA-256 と一致しません")
        if any(path.is_relative_to(d) for d in outbound):
            files.append(where)
    return files, broken


if __name__ == "__main__":
    main()
