import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def statuses_from_history(apps, schema_editor):
    """Runs recorded before the status existed: a finish time means done (or refused, with a
    reason); an open run that had caught its own error is 中断 at once; any other open run
    stays `running` until the interruption check looks at its process."""
    ImportFile = apps.get_model("interfaces", "ImportFile")
    files = ImportFile.objects.using(schema_editor.connection.alias)
    files.filter(finished_at__isnull=False).exclude(rejected_reason="").update(status="refused")
    files.filter(finished_at__isnull=False, rejected_reason="").update(status="done")
    files.filter(finished_at__isnull=True, counts__has_key="aborted").update(
        status="interrupted", interrupted_at=models.F("started_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("interfaces", "0007_quarantine_my_number_like"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="importfile",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="最終進捗日時"),
        ),
        migrations.AddField(
            model_name="importfile",
            name="interrupted_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="中断検知日時"),
        ),
        migrations.AddField(
            model_name="importfile",
            name="resumed_from",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="resumed_by",
                to="interfaces.importfile",
                verbose_name="再開元の取込",
            ),
        ),
        migrations.AddField(
            model_name="importfile",
            name="status",
            field=models.CharField(
                choices=[
                    ("running", "取込中"),
                    ("done", "完了"),
                    ("refused", "取込拒否"),
                    ("interrupted", "中断"),
                ],
                default="running",
                max_length=12,
                verbose_name="状態",
            ),
        ),
        migrations.AddField(
            model_name="importfile",
            name="worker",
            field=models.CharField(blank=True, max_length=80, verbose_name="実行プロセス"),
        ),
        migrations.AddField(
            model_name="importjob",
            name="resumes",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="resumed_by",
                to="interfaces.importjob",
                verbose_name="再開元の取込依頼",
            ),
        ),
        migrations.AlterField(
            model_name="importjob",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "待機中"),
                    ("running", "取込中"),
                    ("done", "完了"),
                    ("failed", "失敗"),
                    ("rejected", "取込拒否"),
                    ("interrupted", "中断"),
                ],
                default="queued",
                max_length=12,
                verbose_name="状態",
            ),
        ),
        migrations.RunPython(statuses_from_history, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="importfile",
            index=models.Index(
                condition=models.Q(("status__in", ["running", "interrupted"])),
                fields=["status"],
                name="import_file_unfinished",
            ),
        ),
        migrations.AddConstraint(
            model_name="importfile",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("finished_at__isnull", False), ("status__in", ("done", "refused"))),
                    models.Q(
                        models.Q(("status__in", ("done", "refused")), _negated=True),
                        ("finished_at__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="import_file_finished_when_done",
            ),
        ),
        migrations.AddConstraint(
            model_name="importfile",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "interrupted"), _negated=True),
                    ("interrupted_at__isnull", False),
                    _connector="OR",
                ),
                name="import_file_interrupted_when",
            ),
        ),
    ]
