"""Snowflake data-loading error values and their message shapes.

Emulates the errors Snowflake raises while converting staged CSV values during COPY INTO <table>:
the error code (errno), SQLSTATE and message, and the multi-line ABORT_STATEMENT message with the
File/line/character and Row/column trailer.

Differs from Snowflake: errno 100184 for invalid UTF-8 is not verified against a live account;
other codes and texts follow messages Snowflake is known to return.
"""

from __future__ import annotations

from dataclasses import dataclass

import snowflake.connector.errors

ON_ERROR_HINT = (
    "If you would like to continue loading when an error is encountered, use other values such as "
    "'SKIP_FILE' or 'CONTINUE' for the ON_ERROR option. For more information on loading options, "
    "please run 'info loading_data' in a SQL client."
)


class LoadError(Exception):
    """A value or record that Snowflake rejects while loading, before its location is known."""

    def __init__(self, errno: int, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.errno = errno
        self.sqlstate = sqlstate
        self.message = message


def not_recognized(kind: str, raw: object) -> LoadError:
    codes = {
        "Numeric value": (100038, "22018"),
        "Date": (100040, "22007"),
        "Time": (100108, "22007"),
        "Timestamp": (100035, "22007"),
        "Boolean value": (100037, "22018"),
    }
    errno, sqlstate = codes[kind]
    return LoadError(errno, sqlstate, f"{kind} '{raw}' is not recognized")


def out_of_range(raw: object) -> LoadError:
    return LoadError(100039, "22003", f"Numeric value '{raw}' is out of range")


def too_long(limit: int, raw: str) -> LoadError:
    return LoadError(100074, "54000", f"User character length limit ({limit}) exceeded by string '{raw}'")


def invalid_utf8(rendered: str) -> LoadError:
    return LoadError(100184, "22P02", f"Invalid UTF8 detected in string '{rendered}'")


def column_count_mismatch(in_file: int, in_table: int) -> LoadError:
    return LoadError(
        100080,
        "22000",
        f"Number of columns in file ({in_file}) does not match that of the corresponding table ({in_table}), "
        "use file format option error_on_column_count_mismatch=false to ignore this error",
    )


@dataclass(frozen=True)
class RowError:
    """A rejected record: the error and where Snowflake reports it."""

    error: LoadError
    file: str  # path relative to the stage, as in METADATA$FILENAME
    line: int  # physical line of the failing field, 1-based, header lines included
    character: int  # 1-based position of the failing field's start in that line
    row: int  # data row number within the file, 1-based
    row_start_line: int
    column_name: str  # eg: "SALES_RAW"["UNIT_PRICE":7]
    rejected_record: str

    def abort(self) -> snowflake.connector.errors.ProgrammingError:
        """The error ON_ERROR = ABORT_STATEMENT raises for this record."""
        msg = (
            f"{self.error.message}\n"
            f"  File '{self.file}', line {self.line}, character {self.character}\n"
            f"  Row {self.row}, column {self.column_name}\n"
            f"  {ON_ERROR_HINT}"
        )
        return snowflake.connector.errors.ProgrammingError(
            msg=msg, errno=self.error.errno, sqlstate=self.error.sqlstate
        )
