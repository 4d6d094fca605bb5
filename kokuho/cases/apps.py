from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "kokuho.cases"
    label = "cases"
    verbose_name = "調査・求償の案件"

    def ready(self) -> None:
        from kokuho.cases.after_loss import after_loss_changed, after_loss_changed_many
        from kokuho.eligibility.listeners import periods_change_listen

        # A loss recorded late makes the claims we paid for the months after it
        # 資格喪失後受診: the case opens with the change, in its transaction.
        periods_change_listen(after_loss_changed, many=after_loss_changed_many)
