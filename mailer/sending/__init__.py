"""Sending: a rendered issue to a frozen audience, in batches of at most 1000, exactly once.

Owns: creating a send (`create`), the editor's controls and progress (`control`), the send state
machine and the audience freeze (`state`), pure batch planning and retry timing (`plan`), `--at`
parsing (`schedule`), a batch's life in the database (`batches`) and its repairs
(`batch_repair`: split on 413, reap stale claims), one SendGrid payload per batch (`payload`),
the fleet-wide rate limit (`ratelimit`) and the loop that ties them together (`pipeline`).
Entry points: `create.create_send`, `state.start_send`, `pipeline.run_send`,
`control.pause` / `resume` / `cancel`.
"""
