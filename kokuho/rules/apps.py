from django.apps import AppConfig


class RulesConfig(AppConfig):
    """法令パラメータ: dated legal parameters, loaded and validated at start."""

    name = "kokuho.rules"
    label = "rules"

    def ready(self) -> None:
        from kokuho.rules import checks  # noqa: F401  (registers the system check)
        from kokuho.rules.params import parameters

        parameters()  # a broken parameter file stops the process here, not mid-batch
