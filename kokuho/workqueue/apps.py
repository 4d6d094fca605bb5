from django.apps import AppConfig


class WorkqueueConfig(AppConfig):
    name = "kokuho.workqueue"
    label = "workqueue"
    verbose_name = "作業キュー"
