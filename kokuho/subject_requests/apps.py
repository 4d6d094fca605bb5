from django.apps import AppConfig


class SubjectRequestsConfig(AppConfig):
    name = "kokuho.subject_requests"
    label = "subject_requests"
    verbose_name = "開示等請求"
