from django.db import migrations

from kokuho.core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    operations = append_only("people_personhistory", "people_householdhistory")
