# ruff: noqa: E501 — the table quotes the messages whole; a cut line would hide what is expected
"""The corpus' expected outcomes, written down case by case (never computed from the code
under test). A case id is `<format>/<mutation>`: the mutation named in `generate.py`
applied to the format's base file (`formats.py`). The outcomes:

- `refused(*fragments)`: the file is refused whole; the message names the file and holds
  every fragment (the line, the field and the reason where the file has them), and nothing
  is written but the refusal's own ledger row where the format keeps one;
- `applied(n, held=[(line, field, code)], reported=[fragment])`: n records applied, exactly
  these rows held in quarantine (取込の保留行), and these lines in what the import reports
  to staff (unmatched, already recorded, not sent …);
- `again(...)`: the same file imported twice — the second run is judged (`applied(0)` = a
  no-op: no business table changes; or `refused("…取込済み…")`).

Base files: line 1 is the header (CSV formats) or the control record (record formats);
mutations that touch one row touch the second data row (line 3) — the record formats'
item mutations touch the data record named by the format's `item_row`.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Expect:
    refused: tuple[str, ...] = ()
    applied: int = 0
    held: tuple[tuple[int, str, str], ...] = ()
    reported: tuple[str, ...] = ()
    twice: bool = False


def refused(*fragments: str) -> Expect:
    return Expect(refused=fragments)


def applied(n: int, *, held: list[tuple[int, str, str]] = (), reported: list[str] = ()) -> Expect:  # type: ignore[assignment]
    return Expect(applied=n, held=tuple(held), reported=tuple(reported))


def again(*args, **kwargs) -> Expect:  # type: ignore[no-untyped-def]
    """The second run of the same file: `again("fragment")` refused, `again(0)` a no-op."""
    if args and isinstance(args[0], str):
        return Expect(refused=args, twice=True)
    base = applied(*args, **kwargs)
    return Expect(applied=base.applied, held=base.held, reported=base.reported, twice=True)


@dataclass(frozen=True)
class Case:
    id: str
    expect: Expect = field(compare=False)

    @property
    def format(self) -> str:
        return self.id.split("/")[0]

    @property
    def mutation(self) -> str:
        return self.id.split("/")[1]


_TABLE: list[tuple[str, Expect]] = [
    ("residents_changes/clean", applied(3)),
    ("residents_changes/empty", refused("見出し行がありません（空のファイルです）")),
    ("residents_changes/blank_lines", refused("見出し行がありません（空のファイルです）")),
    ("residents_changes/header_only", applied(0)),
    (
        "residents_changes/truncated",
        refused("ファイルの末尾が改行で終わっていません（4 行目で途切れています）"),
    ),
    (
        "residents_changes/truncated_header",
        refused("ファイルの末尾が改行で終わっていません（1 行目で途切れています）"),
    ),
    (
        "residents_changes/utf16_le",
        refused(
            "文字コードを判別できません（UTF-16 で保存されたファイルの可能性があります: UTF-8 か Shift_JIS で保存し直してくださ"
        ),
    ),
    (
        "residents_changes/utf16_bom",
        refused(
            "文字コードを判別できません（UTF-16 で保存されたファイルの可能性があります: UTF-8 か Shift_JIS で保存し直してくださ"
        ),
    ),
    ("residents_changes/cp932", applied(3)),
    ("residents_changes/bom", applied(3)),
    ("residents_changes/bom_twice", applied(3)),
    (
        "residents_changes/bom_then_cp932",
        refused("BOM 付き UTF-8 として読めません（2 行目、245 バイト目）"),
    ),
    (
        "residents_changes/mixed_encoding",
        refused(
            "文字コードが混在しています（2 行目は UTF-8、3 行目は UTF-8 として読めません）。1 つの文字コードで保存し直してください"
        ),
    ),
    (
        "residents_changes/euc_jp",
        refused(
            "文字コードを判別できません（UTF-8 でも CP932 でもありません。2 行目、247 バイト目）"
        ),
    ),
    ("residents_changes/nul", refused("制御文字（NUL）が含まれています（3 行目 7 文字目）")),
    (
        "residents_changes/escape_char",
        refused("制御文字（U+001B）が含まれています（3 行目 51 文字目）"),
    ),
    (
        "residents_changes/binary",
        refused(
            "文字コードを判別できません（UTF-8 でも CP932 でもありません。1 行目、12 バイト目）"
        ),
    ),
    (
        "residents_changes/huge_line",
        refused("CSV として読めません（2 行目: 1 つの項目が 131,072 文字を超えています）"),
    ),
    ("residents_changes/crlf_lf_mixed", applied(3)),
    ("residents_changes/cr_only", applied(3)),
    ("residents_changes/trailing_spaces", applied(3)),
    (
        "residents_changes/no_header",
        refused(
            "見出し行がありません（1 行目に住基異動の列名がありません。1 行目は record_id, change_code, change_dat"
        ),
    ),
    ("residents_changes/missing_column", refused("必須の列がありません: change_code")),
    ("residents_changes/duplicate_column", refused("見出しの列名が重複しています: change_code")),
    ("residents_changes/extra_column", applied(3)),
    ("residents_changes/reordered_columns", applied(3)),
    ("residents_changes/header_fullwidth", applied(3)),
    ("residents_changes/trailing_delimiter", applied(3)),
    ("residents_changes/short_row", applied(2, held=[(3, "", "row_shape")])),
    ("residents_changes/long_row", applied(2, held=[(3, "", "row_shape")])),
    (
        "residents_changes/unclosed_quote",
        refused('CSV として読めません（4 行目: 引用符（"）が閉じられていません）'),
    ),
    (
        "residents_changes/quote_after_quoted",
        refused('CSV として読めません（3 行目: 引用符（"）で囲んだ項目の後に区切りがありません）'),
    ),
    ("residents_changes/impossible_date", applied(2, held=[(3, "change_date", "invalid_date")])),
    ("residents_changes/impossible_era", applied(2, held=[(3, "change_date", "invalid_date")])),
    ("residents_changes/era_zero", applied(2, held=[(3, "change_date", "invalid_date")])),
    ("residents_changes/unknown_era", applied(2, held=[(3, "change_date", "invalid_date")])),
    ("residents_changes/wareki_date", applied(3)),
    ("residents_changes/date_garbage", applied(2, held=[(3, "change_date", "invalid_date")])),
    ("residents_changes/fullwidth_digits", applied(3)),
    (
        "residents_changes/halfwidth_kana_in_digits",
        applied(2, held=[(3, "atena_no", "invalid_value")]),
    ),
    ("residents_changes/halfwidth_kana", applied(3)),
    ("residents_changes/required_blank", applied(2, held=[(3, "change_code", "required")])),
    ("residents_changes/overlong_text", applied(2, held=[(3, "name", "too_long")])),
    ("residents_changes/my_number_in_free_field", applied(2, held=[(3, "name", "my_number_like")])),
    ("residents_changes/duplicate_row", applied(3)),
    ("residents_changes/duplicate_id_changed", applied(3, held=[(5, "record_id", "conflict")])),
    ("residents_changes/unknown_person", applied(2, held=[(3, "atena_no", "unknown_resident")])),
    ("residents_changes/twice", again(0)),
    ("income/clean", applied(3)),
    ("income/empty", refused("見出し行がありません（空のファイルです）")),
    ("income/header_only", applied(0)),
    (
        "income/truncated",
        refused("ファイルの末尾が改行で終わっていません（4 行目で途切れています）"),
    ),
    (
        "income/utf16_le",
        refused(
            "文字コードを判別できません（UTF-16 で保存されたファイルの可能性があります: UTF-8 か Shift_JIS で保存し直してくださ"
        ),
    ),
    ("income/cp932", applied(3)),
    ("income/bom", applied(3)),
    ("income/mixed_encoding", applied(3)),
    ("income/nul", refused("制御文字（NUL）が含まれています（3 行目 18 文字目）")),
    (
        "income/binary",
        refused(
            "文字コードを判別できません（UTF-8 でも CP932 でもありません。2 行目、42 バイト目）"
        ),
    ),
    ("income/crlf_lf_mixed", applied(3)),
    (
        "income/no_header",
        refused(
            "見出し行がありません（1 行目に所得の列名がありません。1 行目は record_id, atena_no, income_year … の"
        ),
    ),
    ("income/missing_column", refused("必須の列がありません: income_year")),
    ("income/short_row", applied(2, held=[(3, "", "row_shape")])),
    ("income/impossible_date", applied(2, held=[(3, "income_year", "invalid_number")])),
    ("income/impossible_era", applied(2, held=[(3, "income_year", "invalid_number")])),
    ("income/wareki_date", applied(2, held=[(3, "income_year", "invalid_number")])),
    ("income/fullwidth_digits", applied(3)),
    ("income/halfwidth_kana_in_digits", applied(2, held=[(3, "atena_no", "invalid_value")])),
    ("income/negative_amount", applied(2, held=[(3, "total_income", "invalid_number")])),
    ("income/huge_amount", applied(2, held=[(3, "total_income", "too_long")])),
    ("income/required_blank", applied(2, held=[(3, "income_year", "required")])),
    ("income/duplicate_row", applied(3)),
    ("income/duplicate_id_changed", applied(3, held=[(5, "record_id", "conflict")])),
    ("income/unknown_person", applied(2, held=[(3, "atena_no", "unknown_resident")])),
    ("income/twice", again(0)),
    ("claims/clean", applied(3)),
    ("claims/empty", refused("見出し行がありません（空のファイルです）")),
    ("claims/blank_lines", refused("見出し行がありません（空のファイルです）")),
    ("claims/header_only", applied(0)),
    (
        "claims/truncated",
        refused("ファイルの末尾が改行で終わっていません（4 行目で途切れています）"),
    ),
    (
        "claims/truncated_header",
        refused("ファイルの末尾が改行で終わっていません（1 行目で途切れています）"),
    ),
    (
        "claims/utf16_le",
        refused(
            "文字コードを判別できません（UTF-16 で保存されたファイルの可能性があります: UTF-8 か Shift_JIS で保存し直してくださ"
        ),
    ),
    (
        "claims/utf16_bom",
        refused(
            "文字コードを判別できません（UTF-16 で保存されたファイルの可能性があります: UTF-8 か Shift_JIS で保存し直してくださ"
        ),
    ),
    ("claims/cp932", applied(3)),
    ("claims/bom", applied(3)),
    ("claims/bom_twice", applied(3)),
    ("claims/bom_then_cp932", applied(3)),
    ("claims/mixed_encoding", applied(3)),
    ("claims/euc_jp", applied(3)),
    ("claims/nul", refused("制御文字（NUL）が含まれています（3 行目 40 文字目）")),
    ("claims/escape_char", refused("制御文字（U+001B）が含まれています（3 行目 22 文字目）")),
    (
        "claims/binary",
        refused(
            "文字コードを判別できません（UTF-8 でも CP932 でもありません。1 行目、1 バイト目）"
        ),
    ),
    ("claims/crlf_lf_mixed", applied(3)),
    ("claims/cr_only", applied(3)),
    ("claims/trailing_spaces", applied(3)),
    (
        "claims/no_header",
        refused(
            "見出し行がありません（1 行目にレセプトの列名がありません。1 行目は claim_id, service_month, insurer_n"
        ),
    ),
    ("claims/missing_column", refused("必須の列がありません: provider")),
    ("claims/duplicate_column", refused("見出しの列名が重複しています: provider")),
    ("claims/extra_column", applied(3)),
    ("claims/reordered_columns", applied(3)),
    ("claims/header_fullwidth", applied(3)),
    ("claims/trailing_delimiter", applied(3)),
    ("claims/short_row", applied(2, held=[(3, "", "row_shape")])),
    ("claims/long_row", applied(2, held=[(3, "", "row_shape")])),
    (
        "claims/unclosed_quote",
        refused('CSV として読めません（4 行目: 引用符（"）が閉じられていません）'),
    ),
    (
        "claims/quote_after_quoted",
        refused('CSV として読めません（3 行目: 引用符（"）で囲んだ項目の後に区切りがありません）'),
    ),
    ("claims/impossible_date", applied(2, held=[(3, "service_month", "invalid_date")])),
    ("claims/impossible_era", applied(2, held=[(3, "service_month", "invalid_date")])),
    ("claims/era_zero", applied(2, held=[(3, "service_month", "invalid_date")])),
    ("claims/unknown_era", applied(2, held=[(3, "service_month", "invalid_date")])),
    ("claims/wareki_date", applied(2, held=[(3, "service_month", "invalid_date")])),
    ("claims/date_garbage", applied(2, held=[(3, "service_month", "invalid_date")])),
    ("claims/fullwidth_digits", applied(3)),
    ("claims/halfwidth_kana_in_digits", applied(2, held=[(3, "insurer_no", "invalid_value")])),
    ("claims/negative_amount", applied(2, held=[(3, "points", "invalid_number")])),
    ("claims/huge_amount", applied(2, held=[(3, "points", "too_long")])),
    ("claims/decimal_amount", applied(2, held=[(3, "points", "invalid_number")])),
    ("claims/fullwidth_amount", applied(3)),
    ("claims/required_blank", applied(2, held=[(3, "provider", "required")])),
    ("claims/duplicate_row", applied(3)),
    ("claims/duplicate_id_changed", applied(3, held=[(5, "claim_id", "conflict")])),
    ("claims/unknown_person", applied(3, reported=["番号不明: 1"])),
    ("claims/twice", again(0)),
    ("myna_status/clean", applied(3)),
    ("myna_status/empty", refused("見出し行がありません（空のファイルです）")),
    ("myna_status/header_only", applied(0)),
    (
        "myna_status/truncated",
        refused("ファイルの末尾が改行で終わっていません（4 行目で途切れています）"),
    ),
    (
        "myna_status/utf16_le",
        refused(
            "文字コードを判別できません（UTF-16 で保存されたファイルの可能性があります: UTF-8 か Shift_JIS で保存し直してくださ"
        ),
    ),
    ("myna_status/cp932", applied(3)),
    ("myna_status/bom", applied(3)),
    ("myna_status/mixed_encoding", applied(3)),
    ("myna_status/nul", refused("制御文字（NUL）が含まれています（3 行目 27 文字目）")),
    (
        "myna_status/binary",
        refused(
            "文字コードを判別できません（UTF-8 でも CP932 でもありません。1 行目、5 バイト目）"
        ),
    ),
    ("myna_status/crlf_lf_mixed", applied(3)),
    (
        "myna_status/no_header",
        refused(
            "見出し行がありません（1 行目にマイナ保険証の利用登録状況の列名がありません。1 行目は record_id, insurer_no, sy"
        ),
    ),
    ("myna_status/missing_column", refused("必須の列がありません: status")),
    ("myna_status/short_row", applied(2, held=[(3, "", "row_shape")])),
    ("myna_status/impossible_date", applied(2, held=[(3, "as_of", "invalid_date")])),
    ("myna_status/impossible_era", applied(2, held=[(3, "as_of", "invalid_date")])),
    ("myna_status/wareki_date", applied(3)),
    ("myna_status/fullwidth_digits", applied(3)),
    ("myna_status/halfwidth_kana_in_digits", applied(2, held=[(3, "insurer_no", "invalid_value")])),
    ("myna_status/required_blank", applied(2, held=[(3, "status", "required")])),
    ("myna_status/duplicate_row", applied(3)),
    ("myna_status/duplicate_id_changed", applied(3, held=[(5, "record_id", "conflict")])),
    ("myna_status/unknown_person", applied(2, held=[(3, "number", "unknown_number")])),
    ("myna_status/twice", again(0)),
    ("entrusted/clean", applied(3)),
    ("entrusted/empty", refused("見出し行がありません（空のファイルです）")),
    ("entrusted/header_only", refused("明細がありません")),
    (
        "entrusted/truncated",
        refused("ファイルの末尾が改行で終わっていません（4 行目で途切れています）"),
    ),
    (
        "entrusted/utf16_le",
        refused(
            "文字コードを判別できません（UTF-16 で保存されたファイルの可能性があります: UTF-8 か Shift_JIS で保存し直してくださ"
        ),
    ),
    ("entrusted/cp932", applied(3)),
    ("entrusted/bom", applied(3)),
    (
        "entrusted/mixed_encoding",
        refused(
            "文字コードが混在しています（1 行目は UTF-8、3 行目は UTF-8 として読めません）。1 つの文字コードで保存し直してください"
        ),
    ),
    ("entrusted/nul", refused("制御文字（NUL）が含まれています（3 行目 10 文字目）")),
    (
        "entrusted/binary",
        refused(
            "文字コードを判別できません（UTF-8 でも CP932 でもありません。1 行目、4 バイト目）"
        ),
    ),
    ("entrusted/crlf_lf_mixed", applied(3)),
    (
        "entrusted/no_header",
        refused(
            "見出し行がありません（1 行目に柔整・あはき 受領委任分の列名がありません。1 行目は 処理年月, 施術区分, 施術所コード … の見出しに"
        ),
    ),
    ("entrusted/missing_column", refused("必須の列がありません: 施術所コード")),
    (
        "entrusted/short_row",
        refused("3行目: 列の数が見出しと合いません（見出し 12 列、この行 11 列）"),
    ),
    (
        "entrusted/impossible_date",
        refused("3行目 施術年月: 施術年月: YYYYMM（例: 202610）で入力してください: '2026-02-30'"),
    ),
    (
        "entrusted/impossible_era",
        refused(
            "3行目 施術年月: 施術年月: YYYYMM（例: 202610）で入力してください: '平成32年1月1日'"
        ),
    ),
    (
        "entrusted/wareki_date",
        refused("3行目 施術年月: 施術年月: YYYYMM（例: 202610）で入力してください: 'R8.10'"),
    ),
    ("entrusted/fullwidth_digits", applied(3)),
    (
        "entrusted/halfwidth_kana_in_digits",
        refused("3行目 施術日数: 施術日数: 0 以上の整数で入力してください: 'ｱｲｳ'"),
    ),
    (
        "entrusted/negative_amount",
        refused("3行目 費用額: 費用額: 8桁以内の0以上の整数（円）で入力してください: '-1'"),
    ),
    (
        "entrusted/huge_amount",
        refused(
            "3行目 費用額: 費用額: 8桁以内の0以上の整数（円）で入力してください: '999999999999999999999999999999"
        ),
    ),
    (
        "entrusted/required_blank",
        refused("3行目 施術所コード: 施術所コード（施術所コード）が入力されていません"),
    ),
    (
        "entrusted/overlong_text",
        refused("3行目 施術所名: 施術所名: 60 文字以内で入力してください（61 文字）"),
    ),
    (
        "entrusted/my_number_in_free_field",
        refused(
            "3行目 施術所名: 施術所名: 個人番号と思われる12桁の数字が含まれています。この項目には個人番号を入力できません（伏せて保留しました）"
        ),
    ),
    (
        "entrusted/duplicate_row",
        refused("5行目: 3行目と同じ施術所・施術区分・被保険者・施術年月です"),
    ),
    (
        "entrusted/duplicate_id_changed",
        refused("5行目: 3行目と同じ施術所・施術区分・被保険者・施術年月です"),
    ),
    (
        "entrusted/unknown_person",
        applied(2, reported=["3行目 被保険者不明: 記号・番号・枝番の被保険者がいません"]),
    ),
    ("entrusted/twice", again("このファイルは取込済みです")),
    ("childbirth/clean", applied(3)),
    ("childbirth/empty", refused("見出し行がありません（空のファイルです）")),
    ("childbirth/header_only", refused("明細がありません")),
    (
        "childbirth/truncated",
        refused("ファイルの末尾が改行で終わっていません（4 行目で途切れています）"),
    ),
    (
        "childbirth/utf16_le",
        refused(
            "文字コードを判別できません（UTF-16 で保存されたファイルの可能性があります: UTF-8 か Shift_JIS で保存し直してくださ"
        ),
    ),
    ("childbirth/cp932", applied(3)),
    ("childbirth/bom", applied(3)),
    (
        "childbirth/mixed_encoding",
        refused(
            "文字コードが混在しています（1 行目は UTF-8、3 行目は UTF-8 として読めません）。1 つの文字コードで保存し直してください"
        ),
    ),
    ("childbirth/nul", refused("制御文字（NUL）が含まれています（3 行目 8 文字目）")),
    (
        "childbirth/binary",
        refused(
            "文字コードを判別できません（UTF-8 でも CP932 でもありません。1 行目、4 バイト目）"
        ),
    ),
    ("childbirth/crlf_lf_mixed", applied(3)),
    (
        "childbirth/no_header",
        refused(
            "見出し行がありません（1 行目に出産育児一時金 直接支払制度の列名がありません。1 行目は 処理年月, 医療機関コード, 医療機関名 … の"
        ),
    ),
    ("childbirth/missing_column", refused("必須の列がありません: 医療機関コード")),
    (
        "childbirth/short_row",
        refused("3行目: 列の数が見出しと合いません（見出し 10 列、この行 9 列）"),
    ),
    (
        "childbirth/impossible_date",
        refused("3行目 出産日: 出産日: 存在しない日付です: 2026年2月30日"),
    ),
    (
        "childbirth/impossible_era",
        refused(
            "3行目 出産日: 出産日: 平成32年1月1日は平成の期間外です（平成は1989年1月8日から2019年4月30日まで）"
        ),
    ),
    ("childbirth/wareki_date", applied(3)),
    ("childbirth/fullwidth_digits", applied(3)),
    (
        "childbirth/halfwidth_kana_in_digits",
        refused("3行目 妊娠週数: 妊娠週数: 0 以上の整数で入力してください: 'ｱｲｳ'"),
    ),
    (
        "childbirth/negative_amount",
        refused("3行目 出産費用: 出産費用: 8桁以内の0以上の整数（円）で入力してください: '-1'"),
    ),
    (
        "childbirth/huge_amount",
        refused(
            "3行目 出産費用: 出産費用: 8桁以内の0以上の整数（円）で入力してください: '9999999999999999999999999999"
        ),
    ),
    (
        "childbirth/required_blank",
        refused("3行目 医療機関コード: 医療機関コード（医療機関コード）が入力されていません"),
    ),
    (
        "childbirth/overlong_text",
        refused("3行目 医療機関名: 医療機関名: 60 文字以内で入力してください（61 文字）"),
    ),
    (
        "childbirth/my_number_in_free_field",
        refused(
            "3行目 医療機関名: 医療機関名: 個人番号と思われる12桁の数字が含まれています。この項目には個人番号を入力できません（伏せて保留しました"
        ),
    ),
    # One line per child born: twins are two identical lines, so a repeated line is kept.
    ("childbirth/duplicate_row", applied(4)),
    ("childbirth/duplicate_id_changed", applied(4)),
    (
        "childbirth/unknown_person",
        applied(2, reported=["3行目 被保険者不明: 記号・番号・枝番の被保険者がいません"]),
    ),
    ("childbirth/twice", again("このファイルは取込済みです")),
    ("payment_returns/clean", applied(2)),
    ("payment_returns/empty", refused("見出し行がありません（空のファイルです）")),
    ("payment_returns/header_only", applied(0)),
    (
        "payment_returns/truncated",
        refused("ファイルの末尾が改行で終わっていません（3 行目で途切れています）"),
    ),
    (
        "payment_returns/utf16_le",
        refused(
            "文字コードを判別できません（UTF-16 で保存されたファイルの可能性があります: UTF-8 か Shift_JIS で保存し直してくださ"
        ),
    ),
    ("payment_returns/cp932", applied(2)),
    ("payment_returns/bom", applied(2)),
    ("payment_returns/mixed_encoding", applied(2)),
    ("payment_returns/nul", refused("制御文字（NUL）が含まれています（3 行目 23 文字目）")),
    (
        "payment_returns/binary",
        refused(
            "文字コードを判別できません（UTF-8 でも CP932 でもありません。1 行目、4 バイト目）"
        ),
    ),
    ("payment_returns/crlf_lf_mixed", applied(2)),
    (
        "payment_returns/no_header",
        refused(
            "見出し行がありません（1 行目に振込不能の結果の列名がありません。1 行目は 支払日, 顧客コード, 不能理由 … の見出しにしてください）"
        ),
    ),
    ("payment_returns/missing_column", refused("必須の列がありません: 不能理由")),
    (
        "payment_returns/short_row",
        refused("3行目: 列の数が見出しと合いません（見出し 3 列、この行 2 列）"),
    ),
    (
        "payment_returns/impossible_date",
        refused("3行目 支払日: 支払日: 存在しない日付です: 2026年2月30日"),
    ),
    (
        "payment_returns/impossible_era",
        refused(
            "3行目 支払日: 支払日: 平成32年1月1日は平成の期間外です（平成は1989年1月8日から2019年4月30日まで）"
        ),
    ),
    ("payment_returns/wareki_date", applied(2)),
    ("payment_returns/fullwidth_digits", applied(2)),
    (
        "payment_returns/halfwidth_kana_in_digits",
        refused("3行目 顧客コード: 顧客コード: 10桁の数字ではありません: 'ｱｲｳ'"),
    ),
    (
        "payment_returns/required_blank",
        refused("3行目 不能理由: 不能理由（不能理由）が入力されていません"),
    ),
    ("payment_returns/duplicate_row", applied(2, reported=["記録済み 1件"])),
    (
        "payment_returns/duplicate_id_changed",
        refused("4行目 不能理由: 3行目と同じ振込", "で不能理由が違います"),
    ),
    (
        "payment_returns/unknown_person",
        refused("3行目 顧客コード: 2026-12-18 の振込に 9999999999 はありません"),
    ),
    ("payment_returns/twice", again(0, reported=["記録済み 2件"])),
    (
        "public_accounts/clean",
        applied(1, reported=["申請の口座を優先 9500000001", "申請の口座を優先 9500000002"]),
    ),
    ("public_accounts/empty", refused("見出し行がありません（空のファイルです）")),
    ("public_accounts/header_only", applied(0)),
    (
        "public_accounts/truncated",
        refused("ファイルの末尾が途中で切れています（4 行目の最後の文字が欠けています）"),
    ),
    (
        "public_accounts/utf16_le",
        refused(
            "文字コードを判別できません（UTF-16 で保存されたファイルの可能性があります: UTF-8 か Shift_JIS で保存し直してくださ"
        ),
    ),
    (
        "public_accounts/cp932",
        applied(1, reported=["申請の口座を優先 9500000001", "申請の口座を優先 9500000002"]),
    ),
    (
        "public_accounts/bom",
        applied(1, reported=["申請の口座を優先 9500000001", "申請の口座を優先 9500000002"]),
    ),
    (
        "public_accounts/mixed_encoding",
        refused(
            "文字コードが混在しています（1 行目は UTF-8、3 行目は UTF-8 として読めません）。1 つの文字コードで保存し直してください"
        ),
    ),
    ("public_accounts/nul", refused("制御文字（NUL）が含まれています（3 行目 34 文字目）")),
    (
        "public_accounts/binary",
        refused(
            "文字コードを判別できません（UTF-8 でも CP932 でもありません。1 行目、5 バイト目）"
        ),
    ),
    (
        "public_accounts/crlf_lf_mixed",
        applied(1, reported=["申請の口座を優先 9500000001", "申請の口座を優先 9500000002"]),
    ),
    (
        "public_accounts/no_header",
        refused(
            "見出し行がありません（1 行目に公金受取口座の照会結果の列名がありません。1 行目は 宛名番号, 生年月日, 照会日 … の見出しにしてくだ"
        ),
    ),
    ("public_accounts/missing_column", refused("必須の列がありません: 金融機関コード")),
    (
        "public_accounts/short_row",
        refused("3行目: 列の数が見出しと合いません（見出し 8 列、この行 7 列）"),
    ),
    (
        "public_accounts/impossible_date",
        refused("3行目 照会日: 照会日: 存在しない日付です: 2026年2月30日"),
    ),
    (
        "public_accounts/impossible_era",
        refused(
            "3行目 照会日: 照会日: 平成32年1月1日は平成の期間外です（平成は1989年1月8日から2019年4月30日まで）"
        ),
    ),
    (
        "public_accounts/wareki_date",
        applied(1, reported=["申請の口座を優先 9500000001", "申請の口座を優先 9500000002"]),
    ),
    (
        "public_accounts/fullwidth_digits",
        applied(1, reported=["申請の口座を優先 9500000001", "申請の口座を優先 9500000002"]),
    ),
    (
        "public_accounts/halfwidth_kana_in_digits",
        refused("3行目 宛名番号: 宛名番号: 数字で入力してください: 'アイウ'"),
    ),
    (
        "public_accounts/halfwidth_kana",
        applied(1, reported=["申請の口座を優先 9500000001", "申請の口座を優先 9500000002"]),
    ),
    (
        "public_accounts/required_blank",
        refused("3行目 金融機関コード: 金融機関コード（金融機関コード）が入力されていません"),
    ),
    (
        "public_accounts/overlong_text",
        refused("3行目 口座名義: 口座名義: 60 文字以内で入力してください（61 文字）"),
    ),
    (
        "public_accounts/my_number_in_free_field",
        refused(
            "3行目 口座名義: 口座名義: 個人番号と思われる12桁の数字が含まれています。この項目には個人番号を入力できません（伏せて保留しました）"
        ),
    ),
    (
        "public_accounts/duplicate_row",
        refused("5行目 宛名番号: ファイル内で重複しています: 9500000002"),
    ),
    (
        "public_accounts/duplicate_id_changed",
        refused("5行目 宛名番号: ファイル内で重複しています: 9500000002"),
    ),
    (
        "public_accounts/unknown_person",
        refused("3行目 宛名番号: 9999999999 の住民（生年月日 1970-01-03）がいません"),
    ),
    (
        "public_accounts/twice",
        again(
            0,
            reported=["変更なし 1件", "申請の口座を優先 9500000001", "申請の口座を優先 9500000002"],
        ),
    ),
    ("care_certificates/clean", applied(3)),
    ("care_certificates/empty", refused("見出し行がありません（空のファイルです）")),
    ("care_certificates/header_only", applied(0)),
    (
        "care_certificates/truncated",
        refused("ファイルの末尾が改行で終わっていません（4 行目で途切れています）"),
    ),
    (
        "care_certificates/utf16_le",
        refused(
            "文字コードを判別できません（UTF-16 で保存されたファイルの可能性があります: UTF-8 か Shift_JIS で保存し直してくださ"
        ),
    ),
    ("care_certificates/cp932", applied(3)),
    ("care_certificates/bom", applied(3)),
    ("care_certificates/mixed_encoding", applied(3)),
    ("care_certificates/nul", refused("制御文字（NUL）が含まれています（3 行目 40 文字目）")),
    (
        "care_certificates/binary",
        refused(
            "文字コードを判別できません（UTF-8 でも CP932 でもありません。1 行目、10 バイト目）"
        ),
    ),
    ("care_certificates/crlf_lf_mixed", applied(3)),
    (
        "care_certificates/no_header",
        refused(
            "見出し行がありません（1 行目に自己負担額証明書（介護）の列名がありません。1 行目は 証明書番号, 宛名番号, 生年月日 … の見出しにし"
        ),
    ),
    ("care_certificates/missing_column", refused("必須の列がありません: 介護保険者番号")),
    (
        "care_certificates/short_row",
        refused("3行目: 列の数が見出しと合いません（見出し 6 列、この行 5 列）"),
    ),
    (
        "care_certificates/impossible_date",
        refused("3行目 生年月日: 生年月日: 存在しない日付です: 2026年2月30日"),
    ),
    (
        "care_certificates/impossible_era",
        refused(
            "3行目 生年月日: 生年月日: 平成32年1月1日は平成の期間外です（平成は1989年1月8日から2019年4月30日まで）"
        ),
    ),
    ("care_certificates/wareki_date", applied(3)),
    ("care_certificates/fullwidth_digits", applied(3)),
    (
        "care_certificates/halfwidth_kana_in_digits",
        refused("3行目 宛名番号: 宛名番号: 数字で入力してください: 'アイウ'"),
    ),
    (
        "care_certificates/negative_amount",
        refused("3行目 介護自己負担額: 介護自己負担額: 0 以上の整数で入力してください: '-1'"),
    ),
    (
        "care_certificates/huge_amount",
        refused("3行目 介護自己負担額: 介護自己負担額: 9 桁以内で入力してください（30 桁）"),
    ),
    (
        "care_certificates/required_blank",
        refused("3行目 介護保険者番号: 介護保険者番号（介護保険者番号）が入力されていません"),
    ),
    (
        "care_certificates/duplicate_row",
        refused("5行目 証明書番号: ファイル内で重複しています: K2025000002"),
    ),
    (
        "care_certificates/duplicate_id_changed",
        refused("5行目 証明書番号: ファイル内で重複しています: K2025000002"),
    ),
    (
        "care_certificates/unknown_person",
        refused("3行目 宛名番号: 9999999999 の住民（生年月日 1970-01-03）がいません"),
    ),
    ("care_certificates/twice", again(0, reported=["記録済み 3件"])),
    ("national_result/clean", applied(2)),
    ("national_result/empty", refused("空のファイルです")),
    ("national_result/utf8", refused("UTF-8 で保存されたファイルです（CP932 で送ってください）")),
    (
        "national_result/utf16_le",
        refused("UTF-16 で保存されたファイルです（CP932 で送ってください）"),
    ),
    ("national_result/binary", refused("CP932 として読めません（1行目、21バイト目）")),
    (
        "national_result/truncated",
        refused("最後の行（4行目）が CRLF で終わっていません（途中で切れています）"),
    ),
    (
        "national_result/cut_mid_record",
        refused("最後の行（2行目）が CRLF で終わっていません（途中で切れています）"),
    ),
    ("national_result/lf_only", refused("1行目の改行が CRLF ではありません（LF だけです）")),
    ("national_result/crlf_lf_mixed", refused("1行目の改行が CRLF ではありません（LF だけです）")),
    ("national_result/no_end_record", refused("エンドレコードがありません（途中で切れています）")),
    (
        "national_result/count_mismatch",
        refused("エンドレコードの件数 7 とデータ 2 件が一致しません"),
    ),
    (
        "national_result/unknown_layout",
        refused(
            "未知のレイアウト shuyaku_result 版 Z9.9 です（取り込めるのは shuyaku_result 版 C0.1）"
        ),
    ),
    ("national_result/other_insurer", refused("他の保険者（130005）のファイルです")),
    ("national_result/nul", refused("制御文字（NUL）が含まれています（2行目 2文字目）")),
    ("national_result/huge_line", refused("3行目 エラー内容: 200桁を超えています（5242880桁）")),
    ("national_result/overlong_item", refused("3行目 エラー内容: 200桁を超えています（201桁）")),
    (
        "national_result/wrong_item_count",
        refused("2行目: 項目数 6 がレイアウトの 5 と一致しません"),
    ),
    ("national_result/fullwidth_digits", refused("3行目 処理結果: 数字ではありません: '１'")),
    (
        "national_result/my_number_in_text",
        refused("3行目 エラー内容: 個人番号と思われる値があります"),
    ),
    (
        "national_result/unknown_code",
        refused("3行目 処理結果: コード表 result_kind にないコードです: '7'"),
    ),
    ("national_result/twice", again("この処理結果は取込済みです")),
    ("continuity/clean", applied(1)),
    ("continuity/empty", refused("空のファイルです")),
    ("continuity/utf8", refused("UTF-8 で保存されたファイルです（CP932 で送ってください）")),
    ("continuity/utf16_le", refused("UTF-16 で保存されたファイルです（CP932 で送ってください）")),
    ("continuity/binary", refused("CP932 として読めません（1行目、9バイト目）")),
    (
        "continuity/truncated",
        refused("最後の行（3行目）が CRLF で終わっていません（途中で切れています）"),
    ),
    (
        "continuity/cut_mid_record",
        refused("最後の行（2行目）が CRLF で終わっていません（途中で切れています）"),
    ),
    ("continuity/lf_only", refused("1行目の改行が CRLF ではありません（LF だけです）")),
    ("continuity/crlf_lf_mixed", refused("1行目の改行が CRLF ではありません（LF だけです）")),
    ("continuity/no_end_record", refused("エンドレコードがありません（途中で切れています）")),
    ("continuity/count_mismatch", refused("エンドレコードの件数 7 とデータ 1 件が一致しません")),
    (
        "continuity/unknown_layout",
        refused(
            "未知のレイアウト shuyaku_continuity 版 Z9.9 です（取り込めるのは shuyaku_continuity 版 C0."
        ),
    ),
    ("continuity/other_insurer", refused("他の保険者（130005）のファイルです")),
    ("continuity/nul", refused("制御文字（NUL）が含まれています（2行目 2文字目）")),
    ("continuity/overlong_item", refused("2行目 内容: 200桁を超えています（201桁）")),
    ("continuity/wrong_item_count", refused("2行目: 項目数 15 がレイアウトの 14 と一致しません")),
    (
        "continuity/impossible_date",
        refused("2行目 資格取得年月日（当市の送信値）: 日付ではありません: '20260230'"),
    ),
    ("continuity/fullwidth_digits", refused("2行目 枝番: 数字ではありません: '０１'")),
    ("continuity/my_number_in_text", refused("2行目 内容: 個人番号と思われる値があります")),
    ("continuity/twice", again("この資格継続チェック結果は取込済みです")),
    ("carry_candidates/clean", applied(1)),
    ("carry_candidates/empty", refused("空のファイルです")),
    ("carry_candidates/utf8", refused("UTF-8 で保存されたファイルです（CP932 で送ってください）")),
    (
        "carry_candidates/utf16_le",
        refused("UTF-16 で保存されたファイルです（CP932 で送ってください）"),
    ),
    ("carry_candidates/binary", refused("CP932 として読めません（1行目、16バイト目）")),
    (
        "carry_candidates/truncated",
        refused("最後の行（5行目）が CRLF で終わっていません（途中で切れています）"),
    ),
    (
        "carry_candidates/cut_mid_record",
        refused("最後の行（2行目）が CRLF で終わっていません（途中で切れています）"),
    ),
    ("carry_candidates/lf_only", refused("1行目の改行が CRLF ではありません（LF だけです）")),
    ("carry_candidates/crlf_lf_mixed", refused("1行目の改行が CRLF ではありません（LF だけです）")),
    ("carry_candidates/no_end_record", refused("エンドレコードがありません（途中で切れています）")),
    (
        "carry_candidates/count_mismatch",
        refused("エンドレコードの件数 7 とデータ 3 件が一致しません"),
    ),
    (
        "carry_candidates/unknown_layout",
        refused(
            "未知のレイアウト shuyaku_kogaku_candidate 版 Z9.9 です（取り込めるのは shuyaku_kogaku_can"
        ),
    ),
    ("carry_candidates/other_insurer", refused("他の保険者（130005）のファイルです")),
    ("carry_candidates/nul", refused("制御文字（NUL）が含まれています（2行目 2文字目）")),
    ("carry_candidates/overlong_item", refused("4行目 氏名: 60桁を超えています（61桁）")),
    (
        "carry_candidates/wrong_item_count",
        refused("2行目: 項目数 18 がレイアウトの 17 と一致しません"),
    ),
    ("carry_candidates/impossible_date", refused("4行目 生年月日: 日付ではありません: '20260230'")),
    ("carry_candidates/fullwidth_digits", refused("4行目 明細番号: 数字ではありません: '１'")),
    ("carry_candidates/my_number_in_text", refused("4行目 氏名: 個人番号と思われる値があります")),
    ("carry_candidates/twice", again("この高額該当引継 候補ファイルは取込済みです")),
    (
        "info_query/clean",
        applied(
            0,
            reported=[
                "2行目 処理通番 1000000000000000000001: 依頼していない照会です",
                "3行目 処理通番 1000000000000000000002: 依頼していない照会です",
            ],
        ),
    ),
    ("info_query/empty", refused("空のファイルです")),
    ("info_query/utf8", refused("UTF-8 で保存されたファイルです（CP932 で送ってください）")),
    ("info_query/utf16_le", refused("UTF-16 で保存されたファイルです（CP932 で送ってください）")),
    ("info_query/binary", refused("CP932 として読めません（1行目、10バイト目）")),
    (
        "info_query/truncated",
        refused("最後の行（4行目）が CRLF で終わっていません（途中で切れています）"),
    ),
    (
        "info_query/cut_mid_record",
        refused("最後の行（2行目）が CRLF で終わっていません（途中で切れています）"),
    ),
    ("info_query/lf_only", refused("1行目の改行が CRLF ではありません（LF だけです）")),
    ("info_query/crlf_lf_mixed", refused("1行目の改行が CRLF ではありません（LF だけです）")),
    (
        "info_query/no_end_record",
        refused("ファイルが途中で切れています（エンドレコードがありません）"),
    ),
    ("info_query/count_mismatch", refused("件数 7 がデータレコード 2 件と一致しません")),
    ("info_query/unknown_layout", refused("レイアウト info_query_result 版 Z9.9 は取り込めません")),
    ("info_query/other_insurer", refused("他の保険者（130005）あての結果です")),
    ("info_query/nul", refused("制御文字（NUL）が含まれています（2行目 2文字目）")),
    ("info_query/huge_line", refused("2行目 メッセージ: 200桁を超えています（5242880桁）")),
    ("info_query/overlong_item", refused("2行目 メッセージ: 200桁を超えています（201桁）")),
    ("info_query/wrong_item_count", refused("2行目: 項目数 8 がレイアウトの 7 と一致しません")),
    (
        "info_query/fullwidth_digits",
        refused(
            "2行目 処理通番: 数字ではありません: '１００００００００００００００００００００１'"
        ),
    ),
    ("info_query/my_number_in_text", refused("2行目 メッセージ: 個人番号と思われる値があります")),
    ("info_query/twice", again("取込済みのファイルです")),
]

CASES: list[Case] = [Case(case_id, expect) for case_id, expect in _TABLE]
assert len({c.id for c in CASES}) == len(CASES), "a case id is written twice"
