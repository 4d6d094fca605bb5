"""Tests for 和暦 parsing and formatting (kokuho.core.wareki)."""

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kokuho.core.wareki import (
    ERAS,
    Era,
    WarekiError,
    era_of,
    format_both,
    format_wareki,
    format_wareki_short,
    parse_date,
    to_wareki_year,
)

D = dt.date
MEIJI_START = D(1868, 10, 23)
wareki_dates = st.dates(min_value=MEIJI_START, max_value=D(2100, 12, 31))


def era_named(name: str) -> Era:
    return next(era for era in ERAS if era.name == name)


# --- era table --------------------------------------------------------------------------------


class TestEraTable:
    def test_names_letters_and_starts(self) -> None:
        assert [(e.name, e.letter, e.kanji, e.start) for e in ERAS] == [
            ("明治", "M", "明", D(1868, 10, 23)),
            ("大正", "T", "大", D(1912, 7, 30)),
            ("昭和", "S", "昭", D(1926, 12, 25)),
            ("平成", "H", "平", D(1989, 1, 8)),
            ("令和", "R", "令", D(2019, 5, 1)),
        ]

    def test_each_era_ends_the_day_before_the_next_starts(self) -> None:
        for era, following in itertools.pairwise(ERAS):
            assert era.end == following.start - dt.timedelta(days=1)
        assert ERAS[-1].end is None

    def test_known_ends(self) -> None:
        assert era_named("明治").end == D(1912, 7, 29)
        assert era_named("大正").end == D(1926, 12, 24)
        assert era_named("昭和").end == D(1989, 1, 7)
        assert era_named("平成").end == D(2019, 4, 30)

    def test_era_is_immutable(self) -> None:
        with pytest.raises(AttributeError):
            ERAS[0].name = "慶応"  # type: ignore[misc]


class TestEraOf:
    @pytest.mark.parametrize(
        ("d", "name"),
        [
            (D(1868, 10, 23), "明治"),
            (D(1912, 7, 29), "明治"),
            (D(1912, 7, 30), "大正"),
            (D(1926, 12, 24), "大正"),
            (D(1926, 12, 25), "昭和"),
            (D(1989, 1, 7), "昭和"),
            (D(1989, 1, 8), "平成"),
            (D(2019, 4, 30), "平成"),
            (D(2019, 5, 1), "令和"),
            (D(2100, 12, 31), "令和"),
        ],
    )
    def test_boundaries(self, d: dt.date, name: str) -> None:
        era = era_of(d)
        assert era is not None
        assert era.name == name

    def test_before_meiji_is_none(self) -> None:
        assert era_of(D(1868, 10, 22)) is None
        assert era_of(D(1, 1, 1)) is None

    @given(wareki_dates)
    def test_era_of_contains_the_date(self, d: dt.date) -> None:
        era = era_of(d)
        assert era is not None
        assert era.contains(d)
        assert [e for e in ERAS if e.contains(d)] == [era]


class TestToWarekiYear:
    @pytest.mark.parametrize(
        ("d", "name", "year"),
        [
            (D(1960, 5, 10), "昭和", 35),
            (D(1989, 1, 7), "昭和", 64),
            (D(1989, 1, 8), "平成", 1),
            (D(2019, 4, 30), "平成", 31),
            (D(2019, 5, 1), "令和", 1),
            (D(2020, 1, 1), "令和", 2),
            (D(1868, 10, 23), "明治", 1),
            (D(1912, 7, 29), "明治", 45),
            (D(1926, 12, 25), "昭和", 1),
        ],
    )
    def test_values(self, d: dt.date, name: str, year: int) -> None:
        era, era_year = to_wareki_year(d)
        assert (era.name, era_year) == (name, year)

    def test_before_meiji_raises(self) -> None:
        with pytest.raises(WarekiError, match="明治より前"):
            to_wareki_year(D(1868, 10, 22))


# --- formatting -------------------------------------------------------------------------------


class TestFormatting:
    @pytest.mark.parametrize(
        ("d", "long", "short"),
        [
            (D(1960, 5, 10), "昭和35年5月10日", "S35.05.10"),
            (D(2019, 5, 1), "令和元年5月1日", "R01.05.01"),
            (D(2019, 4, 30), "平成31年4月30日", "H31.04.30"),
            (D(1989, 1, 8), "平成元年1月8日", "H01.01.08"),
            (D(1989, 1, 7), "昭和64年1月7日", "S64.01.07"),
            (D(1926, 12, 25), "昭和元年12月25日", "S01.12.25"),
            (D(1926, 12, 24), "大正15年12月24日", "T15.12.24"),
            (D(1912, 7, 30), "大正元年7月30日", "T01.07.30"),
            (D(1868, 10, 23), "明治元年10月23日", "M01.10.23"),
            (D(2024, 12, 31), "令和6年12月31日", "R06.12.31"),
        ],
    )
    def test_long_and_short(self, d: dt.date, long: str, short: str) -> None:
        assert format_wareki(d) == long
        assert format_wareki_short(d) == short

    def test_both(self) -> None:
        assert format_both(D(1960, 5, 10)) == "昭和35年5月10日（1960-05-10）"
        assert format_both(D(2019, 5, 1)) == "令和元年5月1日（2019-05-01）"

    def test_before_meiji_falls_back_to_western(self) -> None:
        d = D(1868, 10, 22)
        assert format_wareki(d) == "1868年10月22日"
        assert format_wareki_short(d) == "1868-10-22"
        assert format_both(d) == "1868-10-22"


# --- parsing: accepted forms ------------------------------------------------------------------


class TestParseAccepted:
    @pytest.mark.parametrize(
        "text",
        [
            "1960-05-10",
            "1960/5/10",
            "1960.5.10",
            "1960-5-10",
            "19600510",
            "1960年5月10日",
            "1960年05月10日",
            "1960 年 5 月 10 日",
            "S35.5.10",
            "s35.5.10",
            "S35/5/10",
            "S35-5-10",
            "S35.05.10",
            "S350510",
            "s350510",
            "昭和35年5月10日",
            "昭和 35年5月10日",
            "昭和35.5.10",
            "昭35.5.10",
            "昭35年5月10日",
            "S35年5月10日",
            # full-width input (NFKC)
            "１９６０－０５－１０",
            "１９６０／５／１０",
            "１９６０年５月１０日",
            "Ｓ３５．５．１０",
            "ｓ３５．５．１０",
            "昭和３５年５月１０日",
            "Ｓ３５０５１０",
            "㍼35年5月10日",  # square era ligature U+337C
            # surrounding whitespace, including U+3000
            "  1960-05-10  ",
            "\u3000S35.5.10\u3000",
            "\tS35.5.10\n",
        ],
    )
    def test_1960_05_10(self, text: str) -> None:
        assert parse_date(text) == D(1960, 5, 10)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("令和元年5月1日", D(2019, 5, 1)),
            ("令和1年5月1日", D(2019, 5, 1)),
            ("R1.5.1", D(2019, 5, 1)),
            ("R01.05.01", D(2019, 5, 1)),
            ("R010501", D(2019, 5, 1)),
            ("R元.5.1", D(2019, 5, 1)),
            ("令元年5月1日", D(2019, 5, 1)),
            ("㋿元年5月1日", D(2019, 5, 1)),
            ("H1.1.8", D(1989, 1, 8)),
            ("平成元年1月8日", D(1989, 1, 8)),
            ("㍻31年4月30日", D(2019, 4, 30)),
            ("H31.4.30", D(2019, 4, 30)),
            ("S64.1.7", D(1989, 1, 7)),
            ("昭和元年12月25日", D(1926, 12, 25)),
            ("T15.12.24", D(1926, 12, 24)),
            ("大正元年7月30日", D(1912, 7, 30)),
            ("大1.7.30", D(1912, 7, 30)),
            ("M45.7.29", D(1912, 7, 29)),
            ("明治元年10月23日", D(1868, 10, 23)),
            ("明1.10.23", D(1868, 10, 23)),
            ("m01.10.23", D(1868, 10, 23)),
            ("2000-02-29", D(2000, 2, 29)),
            ("H12.2.29", D(2000, 2, 29)),
            ("R6.2.29", D(2024, 2, 29)),
            ("1868-10-22", D(1868, 10, 22)),  # 西暦 has no era restriction
            ("0001-01-01", D(1, 1, 1)),
            ("9999-12-31", D(9999, 12, 31)),
        ],
    )
    def test_values(self, text: str, expected: dt.date) -> None:
        assert parse_date(text) == expected


# --- parsing: rejected forms ------------------------------------------------------------------


class TestParseRejected:
    @pytest.mark.parametrize("text", ["", "   ", "\u3000", "\t\n"])
    def test_empty(self, text: str) -> None:
        with pytest.raises(WarekiError, match="日付が入力されていません"):
            parse_date(text)

    @pytest.mark.parametrize(
        "text",
        [
            "xxx",
            "1960",
            "1960-05",
            "60-05-10",
            "1960/05-10",  # mixed separators
            "1960-05-10T00:00",
            "1960 05 10",
            "196005100",
            "1960年5月10",
            "X35.5.10",
            "S35.5",
            "S3505100",
            "S35510",
            "昭和三十五年五月十日",
            "令和",
            "R.5.1",
            "S35..5.10",
            "٣٥.٥.١٠",  # Arabic-Indic digits are not accepted
            "S35.5.10 S35.5.10",
        ],
    )
    def test_unknown_format(self, text: str) -> None:
        with pytest.raises(WarekiError) as excinfo:
            parse_date(text)
        assert str(excinfo.value) == (
            f"日付の形式が正しくありません: '{text.strip()}'"
            "（例: 1960-05-10, S35.5.10, 昭和35年5月10日）"
        )

    def test_long_input_is_shortened_in_message(self) -> None:
        with pytest.raises(WarekiError) as excinfo:
            parse_date("あ" * 500)
        assert len(str(excinfo.value)) < 100
        assert "…" in str(excinfo.value)

    @pytest.mark.parametrize(
        ("text", "label"),
        [
            ("1960-02-30", "1960年2月30日"),
            ("1900-02-29", "1900年2月29日"),
            ("2023年2月29日", "2023年2月29日"),
            ("19601301", "1960年13月1日"),
            ("1960-00-10", "1960年0月10日"),
            ("1960-05-00", "1960年5月0日"),
            ("0000-01-01", "0年1月1日"),
            ("S35.2.30", "昭和35年2月30日"),
            ("昭和35年4月31日", "昭和35年4月31日"),
            ("R5.2.29", "令和5年2月29日"),
            ("H1.13.1", "平成元年13月1日"),
        ],
    )
    def test_impossible_calendar_date(self, text: str, label: str) -> None:
        with pytest.raises(WarekiError) as excinfo:
            parse_date(text)
        assert str(excinfo.value) == f"存在しない日付です: {label}"

    @pytest.mark.parametrize("text", ["S0.5.10", "昭和0年5月10日", "R00.5.1", "R000501"])
    def test_era_year_zero(self, text: str) -> None:
        with pytest.raises(WarekiError) as excinfo:
            parse_date(text)
        message = str(excinfo.value)
        assert "元年" in message
        assert text in message

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            (
                "昭和64年1月8日",
                "昭和64年1月8日は昭和の期間外です（昭和は1926年12月25日から1989年1月7日まで）",
            ),
            ("S64.1.8", "昭和64年1月8日は昭和の期間外です"),
            (
                "H1.1.7",
                "平成元年1月7日は平成の期間外です（平成は1989年1月8日から2019年4月30日まで）",
            ),
            ("令和1年4月30日", "令和元年4月30日は令和の期間外です（令和は2019年5月1日から）"),
            ("R1.1.1", "令和元年1月1日は令和の期間外です"),
            ("平成31年5月1日", "平成31年5月1日は平成の期間外です"),
            ("H32.1.1", "平成32年1月1日は平成の期間外です"),
            ("S100.1.1", "昭和100年1月1日は昭和の期間外です"),
            ("T1.7.29", "大正元年7月29日は大正の期間外です"),
            ("大正16年1月1日", "大正16年1月1日は大正の期間外です"),
            ("明治元年1月1日", "明治元年1月1日は明治の期間外です（明治は1868年10月23日から"),
            ("M46.1.1", "明治46年1月1日は明治の期間外です"),
        ],
    )
    def test_outside_era(self, text: str, fragment: str) -> None:
        with pytest.raises(WarekiError) as excinfo:
            parse_date(text)
        assert str(excinfo.value).startswith(fragment)

    def test_wareki_error_is_value_error(self) -> None:
        assert issubclass(WarekiError, ValueError)


# --- properties -------------------------------------------------------------------------------


class TestProperties:
    @given(wareki_dates)
    def test_format_wareki_round_trips(self, d: dt.date) -> None:
        assert parse_date(format_wareki(d)) == d

    @given(wareki_dates)
    def test_format_wareki_short_round_trips(self, d: dt.date) -> None:
        assert parse_date(format_wareki_short(d)) == d

    @given(st.dates())
    def test_iso_round_trips(self, d: dt.date) -> None:
        assert parse_date(d.isoformat()) == d

    @given(wareki_dates)
    def test_format_both_contains_both(self, d: dt.date) -> None:
        assert format_both(d) == f"{format_wareki(d)}（{d.isoformat()}）"

    @given(st.text(max_size=40))
    def test_arbitrary_text_gives_date_or_wareki_error(self, text: str) -> None:
        try:
            result = parse_date(text)
        except WarekiError as exc:
            assert str(exc)
        else:
            assert isinstance(result, dt.date)

    # Arbitrary text rarely looks like a date, so also fuzz with the characters the grammar uses.
    @given(
        st.text(alphabet="0123456789０１-/.年月日元 　SsHhRrTtMm昭和平成令明治大正㍼", max_size=16)
    )
    def test_date_like_text_gives_date_or_wareki_error(self, text: str) -> None:
        try:
            result = parse_date(text)
        except WarekiError as exc:
            assert str(exc)
        else:
            assert isinstance(result, dt.date)

    @given(
        st.sampled_from(ERAS),
        st.integers(min_value=-5, max_value=1200),
        st.integers(min_value=-1, max_value=40),
        st.integers(min_value=-1, max_value=40),
    )
    def test_wareki_numbers_give_date_in_era_or_error(
        self, era: Era, year: int, month: int, day: int
    ) -> None:
        try:
            result = parse_date(f"{era.letter}{year}.{month}.{day}")
        except WarekiError:
            return
        assert era.contains(result)
        assert to_wareki_year(result) == (era, year)
