"""_statements' table of which module recognises which statement stays true to the registered handlers."""

from __future__ import annotations

import re


def test_the_statement_table_names_every_handler_in_order():
    from snowseg_twin import extensions
    from snowseg_twin.extensions import _statements

    extensions.install()
    table = re.search(r"^=+  =+\nmodule .*?\n=+  =+\n(.*?)\n=+  =+", _statements.__doc__ or "", re.S | re.M)
    assert table is not None
    documented = [line.split()[0] for line in table[1].splitlines()]
    registered = [h.__module__.removeprefix("snowseg_twin.extensions.") for h in _statements.HANDLERS]
    assert documented == registered
