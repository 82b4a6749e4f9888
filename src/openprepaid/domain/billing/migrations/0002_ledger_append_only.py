from django.db import migrations

from openprepaid.domain.audit import append_only

TABLE = "billing_ledgerentry"


def install(apps, schema_editor):
    append_only.install(schema_editor.connection, TABLE)


def uninstall(apps, schema_editor):
    append_only.uninstall(schema_editor.connection, TABLE)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
