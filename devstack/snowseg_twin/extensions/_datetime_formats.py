"""Parse date, time and timestamp strings with Snowflake format elements.

Emulates the DATE_FORMAT / TIME_FORMAT / TIMESTAMP_FORMAT file format options used when loading:
format elements YYYY, YY, MM, MON, MMMM, DD, DY, HH24, HH12, HH, AM/PM, MI, SS, FF[0-9], TZH, TZM,
double-quoted literal text, and AUTO. On input MM, DD, HH24, MI and SS accept one or two digits,
as Snowflake does (eg: 1/5/2019 for MM/DD/YYYY). Matching is case-insensitive and must consume the
whole value.

Differs from Snowflake: AUTO recognises a fixed list of common layouts (ISO 8601, MM/DD/YYYY,
DD-MON-YYYY, and times with optional seconds, fractions and AM/PM) rather than Snowflake's full
detection; YY maps 70-99 to 19xx and 00-69 to 20xx.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from functools import lru_cache

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_MONTH_NAMES = [
    "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE",
    "JULY", "AUGUST", "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER",
]  # fmt: skip

# longest element first, so HH24 wins over HH and MMMM over MM
_ELEMENTS: list[tuple[str, str]] = [
    ("YYYY", r"(?P<Y>\d{4})"),
    ("MMMM", r"(?P<B>[A-Za-z]+)"),
    ("HH24", r"(?P<H>\d{1,2})"),
    ("HH12", r"(?P<I>\d{1,2})"),
    ("TZH:TZM", r"(?P<tz>[+-]\d{1,2}:\d{2}|Z)"),
    ("TZHTZM", r"(?P<tz>[+-]\d{2}\d{2}|Z)"),
    ("TZH", r"(?P<tz>[+-]\d{1,2}|Z)"),
    ("MON", r"(?P<b>[A-Za-z]{3})"),
    ("YY", r"(?P<y>\d{2})"),
    ("MM", r"(?P<m>\d{1,2})"),
    ("DD", r"(?P<d>\d{1,2})"),
    ("DY", r"(?:[A-Za-z]{3})"),
    ("HH", r"(?P<I>\d{1,2})"),
    ("AM", r"(?P<p>[AaPp][Mm])"),
    ("PM", r"(?P<p>[AaPp][Mm])"),
    ("MI", r"(?P<M>\d{1,2})"),
    ("SS", r"(?P<S>\d{1,2})"),
]

DATE_AUTO = ["YYYY-MM-DD", "MM/DD/YYYY", "DD-MON-YYYY"]
TIME_AUTO = ["HH24:MI:SS.FF", "HH24:MI:SS", "HH24:MI", "HH12:MI:SS.FF AM", "HH12:MI:SS AM", "HH12:MI AM"]
TIMESTAMP_AUTO = [
    f"{d}{sep}{t}{tz}"
    for d in ("YYYY-MM-DD", "MM/DD/YYYY", "DD-MON-YYYY")
    for sep in (" ", '"T"')
    for t in ("HH24:MI:SS.FF", "HH24:MI:SS", "HH24:MI")
    for tz in ("", "TZH:TZM", " TZH:TZM", "TZHTZM", " TZHTZM")
] + DATE_AUTO


@lru_cache(maxsize=256)
def _compile(fmt: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    upper = fmt.upper()
    while i < len(fmt):
        if fmt[i] == '"':
            end = fmt.find('"', i + 1)
            end = len(fmt) if end < 0 else end
            out.append(re.escape(fmt[i + 1 : end]))
            i = end + 1
            continue
        if upper.startswith("FF", i):
            digits = fmt[i + 2] if i + 2 < len(fmt) and fmt[i + 2].isdigit() else ""
            out.append(r"(?P<f>\d{1,9})")
            i += 2 + len(digits)
            continue
        for element, pattern in _ELEMENTS:
            if upper.startswith(element, i):
                out.append(pattern)
                i += len(element)
                break
        else:
            out.append(r"\s+" if fmt[i] == " " else re.escape(fmt[i]))
            i += 1
    return re.compile("".join(out), re.IGNORECASE)


# format elements DuckDB's strptime reads as the converter does, once the pattern has matched
_STRPTIME = {"YYYY": ("%Y", "year"), "MM": ("%m", "month"), "MON": ("%b", "month"), "DD": ("%d", "day"),
             "HH24": ("%H", "hour"), "MI": ("%M", "minute"), "SS": ("%S", "second")}  # fmt: skip


@lru_cache(maxsize=256)
def pattern_and_strptime(fmt: str) -> tuple[str, str, frozenset[str]] | None:
    """(regex, DuckDB strptime format, fields it sets) for a format made only of elements strptime reads alike.

    None when the format has other elements (AM/PM, fractions, zones, ...): only the converter reads those.
    """
    out: list[str] = []
    fields: set[str] = set()
    i = 0
    upper = fmt.upper()
    while i < len(fmt):
        if fmt[i] == '"':
            end = fmt.find('"', i + 1)
            end = len(fmt) if end < 0 else end
            out.append(fmt[i + 1 : end].replace("%", "%%"))
            i = end + 1
            continue
        if upper.startswith("FF", i):
            return None
        for element, _ in _ELEMENTS:
            if upper.startswith(element, i):
                if element not in _STRPTIME:
                    return None
                directive, field = _STRPTIME[element]
                out.append(directive)
                fields.add(field)
                i += len(element)
                break
        else:
            # a space: the pattern takes any run of whitespace; strptime, if it reads fewer, fails (never misreads)
            out.append("%%" if fmt[i] == "%" else fmt[i])
            i += 1
    return _compile(fmt).pattern, "".join(out), frozenset(fields)


def _fields(value: str, formats: list[str]) -> dict[str, str] | None:
    for fmt in formats:
        if m := _compile(fmt).fullmatch(value):
            return m.groupdict()
    return None


def _date(g: dict[str, str]) -> datetime.date:
    if g.get("Y"):
        year = int(g["Y"])
    elif g.get("y"):
        yy = int(g["y"])
        year = 1900 + yy if yy >= 70 else 2000 + yy
    else:
        year = 1970
    if g.get("m"):
        month = int(g["m"])
    elif g.get("b"):
        month = _MONTHS.index(g["b"].upper()) + 1 if g["b"].upper() in _MONTHS else 0
    elif g.get("B"):
        month = _MONTH_NAMES.index(g["B"].upper()) + 1 if g["B"].upper() in _MONTH_NAMES else 0
    else:
        month = 1
    return datetime.date(year, month, int(g.get("d") or 1))


def _time(g: dict[str, str]) -> datetime.time:
    if g.get("I"):
        hour = int(g["I"])
        if not 1 <= hour <= 12:
            raise ValueError("hour")
        pm = (g.get("p") or "AM").upper() == "PM"
        hour = hour % 12 + (12 if pm else 0)
    else:
        hour = int(g.get("H") or 0)
    micro = int((g.get("f") or "0")[:6].ljust(6, "0"))
    return datetime.time(hour, int(g.get("M") or 0), int(g.get("S") or 0), micro)


def _tzinfo(g: dict[str, str]) -> datetime.tzinfo | None:
    tz = g.get("tz")
    if not tz:
        return None
    if tz.upper() == "Z":
        return datetime.UTC
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
    return datetime.timezone(sign * datetime.timedelta(hours=hours, minutes=minutes))


def date_parser(fmt: str) -> Callable[[str], datetime.date | None]:
    """Return a function giving the date, or None when the value doesn't match the format."""
    formats = DATE_AUTO if fmt.upper() == "AUTO" else [fmt]

    def parse(value: str) -> datetime.date | None:
        g = _fields(value, formats)
        try:
            return _date(g) if g is not None else None
        except ValueError:
            return None

    return parse


def time_parser(fmt: str) -> Callable[[str], datetime.time | None]:
    formats = TIME_AUTO if fmt.upper() == "AUTO" else [fmt]

    def parse(value: str) -> datetime.time | None:
        g = _fields(value, formats)
        try:
            return _time(g) if g is not None else None
        except ValueError:
            return None

    return parse


def timestamp_parser(fmt: str) -> Callable[[str], datetime.datetime | None]:
    formats = TIMESTAMP_AUTO if fmt.upper() == "AUTO" else [fmt]

    def parse(value: str) -> datetime.datetime | None:
        g = _fields(value, formats)
        try:
            if g is None:
                return None
            return datetime.datetime.combine(_date(g), _time(g), tzinfo=_tzinfo(g))
        except ValueError:
            return None

    return parse
