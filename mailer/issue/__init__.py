"""The issue: an editor's Markdown file turned into one email body, rendered once.

Owns: parsing and validating the front matter and sections (`parse`), the Markdown dialect
(`markup`), Jinja2 -> MJML -> inlined HTML (`render`), the text part (`plaintext`), warnings
for the editor (`lint`), branding (`branding`) and the substitution tags where per-recipient
values go (`placeholders`). Pure: no database, network or Celery.
Entry points: `parse.parse_issue`, `render.render_issue`.
"""
