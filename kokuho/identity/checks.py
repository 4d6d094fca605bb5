"""番号確認 and 身元確認: the documents recorded with a registration (importable anywhere:
they are vocabulary, not vault data)."""

from django.db import models


class NumberCheck(models.TextChoices):
    """番号確認 — how the number was confirmed to be the person's (番号法16条)."""

    MY_NUMBER_CARD = "my_number_card", "個人番号カード"
    NOTIFICATION_CARD = "notification_card", "通知カード（記載事項に変更がないもの）"
    RESIDENT_RECORD_COPY = "resident_record_copy", "個人番号付きの住民票の写し"
    REGISTRY_MATCH = "registry_match", "住民基本台帳との照合（団体内統合宛名システム）"


class IdentityCheck(models.TextChoices):
    """身元確認 — how the person presenting was confirmed to be that person (番号法16条)."""

    MY_NUMBER_CARD = "my_number_card", "個人番号カード"
    DRIVERS_LICENSE = "drivers_license", "運転免許証"
    PASSPORT = "passport", "旅券"
    RESIDENCE_CARD = "residence_card", "在留カード・特別永住者証明書"
    TWO_DOCUMENTS = "two_documents", "写真のない書類2点（資格確認書・年金手帳 等）"
    OFFICIAL_RECORD = "official_record", "本人の届出によらない職権登録（住民記録との照合）"
