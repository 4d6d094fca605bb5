from django.db import migrations

from kokuho.core.append_only import append_only

GENESIS_HASH = "0" * 64


def create_head(apps, schema_editor):
    apps.get_model("audit", "AuditChainHead").objects.using(schema_editor.connection.alias).create(
        id=1, last_seq=0, last_hash=GENESIS_HASH
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        *append_only("audit_auditevent"),
    ]
