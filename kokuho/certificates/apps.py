from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "kokuho.certificates"
    label = "certificates"
    verbose_name = "資格確認書・認定証"
