"""The JSON API under /api/v1 for programs (a CMS, scripts), with bearer tokens.

A sub-application of its own (`app.create_api`), so it has its own OpenAPI document at
/api/v1/openapi.json and JSON errors only. Each route calls one service function of the
capabilities (mailer.workspace, subscribers), the same the CLI and the pages call.
"""
