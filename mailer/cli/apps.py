"""The Typer applications every command module attaches its commands to."""

import typer

app = typer.Typer(
    name="newsletter",
    help="Write, render, schedule and send an email newsletter through SendGrid.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
subscribers_app = typer.Typer(
    help="Import, export, add, show and unsubscribe subscribers.", no_args_is_help=True
)
segment_app = typer.Typer(
    help="Count the active subscribers a segment expression matches.", no_args_is_help=True
)
suppressions_app = typer.Typer(help="Bring SendGrid's suppression lists in.", no_args_is_help=True)
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(segment_app, name="segment")
app.add_typer(suppressions_app, name="suppressions")
