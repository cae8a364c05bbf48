"""A schema-driven fuzz of the API from its own OpenAPI document: no request may get a 5xx.

Schemathesis turns every operation of /api/v1/openapi.json into Hypothesis strategies, both
valid requests and deliberately invalid ones (wrong types, missing fields, odd strings), and
they go over HTTP to a real `newsletter serve`. Bounded (a few dozen cases per operation and
mode) so the whole run stays around a minute or two.
"""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.integration.api_support import Served

pytestmark = pytest.mark.integration
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
SEED = "---\nsubject: Seed\n---\nHello [there](https://example.org/).\n"


def seed(served: Served) -> None:
    """Something to find: a list, a subscriber, an issue and a scheduled send (id 1 each)."""
    api = served.client("editor")
    api.post("/lists", json={"name": "fuzz"})
    api.post("/subscribers", json={"email": "fuzz@example.org", "lists": ["fuzz"]})
    issue = api.post("/issues", json={"markdown": SEED}).json()
    api.post("/sends", json={"issue_id": issue["id"], "list": "fuzz", "at": "2031-01-06T08:00"})


def test_the_api_never_answers_5xx(served: Served) -> None:
    seed(served)
    schema = schemathesis.openapi.from_url(f"{served.base}/api/v1/openapi.json")
    base = f"{served.base}/api/v1"
    headers = {"Authorization": f"Bearer {served.tokens['editor']}"}
    session = requests.Session()
    failures: list[str] = []
    statuses: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: schemathesis.Case) -> None:
                response = case.call(base_url=base, session=session, headers=headers, timeout=60)
                statuses.append(response.status_code)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code}"
                    )

            try:
                call()
            except Unsatisfiable:
                # Nothing can be made invalid in, say, GET /lists (no parameters, no body).
                assert mode == GenerationMode.NEGATIVE, operation.label
    assert failures == [], failures[:20]
    assert len(statuses) > 15 * EXAMPLES and {200, 201, 400, 404, 422} <= set(statuses)
    assert "Traceback" not in served.process.output()
