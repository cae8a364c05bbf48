"""Reading a page form: bounded in size, and refused whole when a value holds a NUL byte.

PostgreSQL cannot store NUL in text, and no person types one: a form carrying it is a probe,
answered with a 400 page instead of a database error deep inside a handler.
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import FormData

from mailer.web.deps import PageError


async def read_form(request: Request, max_fields: int) -> FormData:
    form = await request.form(max_files=0, max_fields=max_fields)
    for key, value in form.multi_items():
        if "\x00" in key or (isinstance(value, str) and "\x00" in value):
            raise PageError(
                400,
                "Please try again",
                f"The field “{key[:40].replace(chr(0), '')}” holds a character we cannot accept.",
            )
    return form


def has_nul(*values: str) -> bool:
    return any("\x00" in value for value in values)
