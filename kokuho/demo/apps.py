from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "kokuho.demo"
    label = "demo"
