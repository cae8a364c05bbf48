"""The newsletter's engine, one sub-package per capability.

Follow an issue from file to inbox by opening the folders in order:
`issue` (parse and render once) -> `sending` (freeze the audience, batches, payloads) ->
`transport` (SendGrid, outbox, local test server) -> `events` (webhook, policy, report),
with `readers` (link tokens, forwards, sign-up) beside them. `core` holds what everything may
import (settings, models, errors, SQL helpers); `ops` keeps the service running (doctor, logging,
migrations). `cli`, `web` and `tasks` are the thin edges that call into the capabilities.
"""
