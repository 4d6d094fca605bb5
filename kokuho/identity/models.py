"""The ID-linkage vault (団体内統合宛名番号連携): 団体内統合宛名番号 ↔ 宛名番号 ↔ 個人番号.

These tables live in the `vault` database only (kokuho/dbrouter.py) and no other app
imports this module (a test checks). The business database is keyed by 宛名番号 and never
holds a My Number, not even hashed without a key.
"""

from django.db import models

from kokuho.identity.checks import IdentityCheck, NumberCheck

__all__ = ["IdentityCheck", "IdentityLink", "NumberCheck"]


class IdentityLink(models.Model):
    """One person's link: 団体内統合宛名番号, 宛名番号 and the sealed 個人番号.

    `wrapped_dek` and `ciphertext` open only with the key file (identity.keys); the number
    is bound to this row's 宛名番号, so ciphertexts moved between rows do not open.
    `blind_index` (keyed HMAC) answers exact-match look-ups."""

    integrated_no = models.CharField("団体内統合宛名番号", max_length=15, unique=True)
    atena_no = models.CharField("宛名番号", max_length=15, unique=True)
    kek_id = models.CharField("鍵ID", max_length=40, db_index=True)
    wrapped_dek = models.BinaryField("データ鍵（暗号化）")
    ciphertext = models.BinaryField("個人番号（暗号化）")
    blind_index = models.CharField("検索用索引", max_length=64, unique=True)
    purpose = models.CharField("登録時の事務", max_length=40)
    number_check = models.CharField("番号確認", max_length=30, choices=NumberCheck.choices)
    identity_checks = models.JSONField("身元確認", default=list)
    registered_at = models.DateTimeField("登録日時")
    # The vault has no relation into the business database: the actor by name and id.
    registered_by = models.CharField("登録者", max_length=150, blank=True)

    class Meta:
        verbose_name = "団体内統合宛名番号連携"

    def __str__(self) -> str:
        return f"{self.integrated_no} ↔ {self.atena_no}"  # never the number
