from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "kokuho.retention"
    label = "retention"
    verbose_name = "保管・消去"
