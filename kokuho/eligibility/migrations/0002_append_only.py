from django.db import migrations

from kokuho.core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("eligibility", "0001_initial")]

    operations = append_only("eligibility_eligibilityversion", "eligibility_eligibilityperiod")
