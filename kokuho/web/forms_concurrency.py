"""The version a counter form carries (楽観的排他制御; `kokuho.core.concurrency`).

A form that changes an existing record mixes in `VersionedForm`: two hidden fields, the
record's `version` as the page showed it and `seen`, the signed snapshot of what the page
showed. The view fills them with `edit_initial` on a page and, after a conflict, `rebase`s
the bound form on the record as it is now: the clerk's own entries stay in the form (nothing
typed is lost), the hidden fields carry the current version, so a second 保存 after reading
the message is a deliberate one.
"""

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import models

from kokuho.core.concurrency import EditSeen, Shown, StaleEdit, edit_seen, edit_token


class VersionedForm(forms.Form):
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": "画面が古いため保存できません。記録を開き直してください。",
            "invalid": "画面が古いため保存できません。記録を開き直してください。",
            "min_value": "画面が古いため保存できません。記録を開き直してください。",
        },
    )
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def full_clean(self) -> None:
        """A missing or broken version is the form's error (the field is hidden)."""
        super().full_clean()
        if "version" in self._errors:
            errors = self._errors.pop("version")
            self._errors.setdefault(NON_FIELD_ERRORS, self.error_class(error_class="nonfield"))
            self._errors[NON_FIELD_ERRORS].extend(errors)

    def edit_seen(self, instance: models.Model) -> EditSeen:
        """What the clerk saw (call once the form is valid)."""
        return edit_seen(
            version=self.cleaned_data["version"],
            token=self.cleaned_data.get("seen", ""),
            instance=instance,
        )

    def rebase(self, instance: models.Model, shown: Shown, error: StaleEdit) -> None:
        """Keep the clerk's entries, carry the record's current version, show the conflict."""
        data = self.data.copy()
        for name, value in edit_initial(instance, shown).items():
            data[name] = value  # replaces (QueryDict.update would append)
        self.data = data
        self._bound_fields_cache.clear()
        self.add_error(None, error.message)


def edit_initial(instance: models.Model, shown: Shown) -> dict[str, Any]:
    """The hidden fields' values for the record as it is now."""
    return {"version": instance.version, "seen": edit_token(instance=instance, shown=shown)}  # type: ignore[attr-defined]
