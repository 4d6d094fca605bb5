from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0012_edit_versions"),
    ]

    operations = [
        migrations.AddField(
            model_name="kogakurun",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="最終進捗日時"),
        ),
        migrations.AddField(
            model_name="kogakurun",
            name="worker",
            field=models.CharField(blank=True, max_length=80, verbose_name="実行プロセス"),
        ),
    ]
