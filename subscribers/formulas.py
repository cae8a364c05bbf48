"""CSV injection (OWASP): cells a spreadsheet would run as a formula are written with a leading
apostrophe, and the importer takes that apostrophe off again, so files round-trip unchanged.
"""

from __future__ import annotations

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_SPACE = " \t\r\n"


def _needs_guard(cell: str) -> bool:
    # Spreadsheets trim leading blanks before they look for "=", so look past them too; a cell
    # that already starts with an apostrophe is guarded again so reading it back is exact.
    if cell.startswith(_TRIGGERS) or cell.lstrip(_SPACE).startswith(_TRIGGERS):
        return True
    return cell.startswith("'") and _needs_guard(cell[1:])


def neutralise(cell: str) -> str:
    """The cell as a spreadsheet shows it, never as a formula it runs."""
    return "'" + cell if _needs_guard(cell) else cell


def restore(cell: str) -> str:
    """What `neutralise` was given."""
    return cell[1:] if cell.startswith("'") and _needs_guard(cell[1:]) else cell
