import datetime as dt

from django.db import migrations, models


def fill(apps, schema_editor):
    Income = apps.get_model("people", "Income")
    for row in Income.objects.using(schema_editor.connection.alias).filter(applies_from=None):
        row.applies_from = dt.date(row.income_year + 1, 8, 1)
        row.save(update_fields=["applies_from"])


class Migration(migrations.Migration):
    dependencies = [("people", "0004_income_applies_from")]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="income",
            name="applies_from",
            field=models.DateField(verbose_name="適用開始日"),
        ),
    ]
