from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "kokuho.people"
    label = "people"
    verbose_name = "住民・世帯"
