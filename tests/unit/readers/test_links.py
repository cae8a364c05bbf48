"""Link tokens: what the mutation run (scripts/mutate) found no test saying."""

from __future__ import annotations

import pytest

from mailer.readers.links import BadToken, Purpose, Signer


@pytest.mark.parametrize("text", ["abcde", "é" * 39, "A" * 38 + "é"])
def test_text_that_is_not_base64_is_a_malformed_link(text: str) -> None:
    """Refused as malformed with words a reader's page can show, never a bare decode error."""
    with pytest.raises(BadToken, match=r"^malformed link$"):
        Signer("k").read(text, Purpose.UNSUBSCRIBE)
