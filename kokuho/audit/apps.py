from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kokuho.audit"
    label = "audit"
    verbose_name = "監査"
