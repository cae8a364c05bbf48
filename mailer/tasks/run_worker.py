"""The worker process itself: `python -m mailer.tasks.run_worker`, which `newsletter worker` execs.

Celery's own command line (`celery -A worker worker`, `app.worker_main`) imports every `celery`
sub-command on the way, among them the REPL of `celery amqp` with prompt_toolkit and pygments
(~7 MB resident), and `newsletter` imports typer, rich and every command module (~5 MB): none
of it does anything in a process that only runs tasks. This entry point parses the few worker
options with argparse and starts `celery_app.Worker` as Celery's `worker` command would.
"""

from __future__ import annotations

import argparse
import sys

from celery.utils.nodenames import default_nodename, host_format

from mailer.ops.logging import configure_logging
from mailer.tasks.app import celery_app, worker_settings

DEFAULT_QUEUES = "sends,messages,events"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="newsletter worker", description=__doc__)
    parser.add_argument("-Q", "--queues", default=DEFAULT_QUEUES)
    parser.add_argument("-c", "--concurrency", type=int, default=2)
    parser.add_argument("-P", "--pool", default="prefork", help="prefork, threads or solo")
    parser.add_argument("-n", "--hostname", default=None, help="node name, e.g. w1@%%h")
    parser.add_argument("-l", "--loglevel", default="INFO")
    # Worker-to-worker chatter; the tests' and benches' short-lived workers turn it off.
    for feature in ("gossip", "mingle", "heartbeat"):
        parser.add_argument(f"--without-{feature}", action="store_true")
    return parser.parse_args(argv)


def worker_options(args: argparse.Namespace) -> dict[str, object]:
    """What Celery's `worker` command would hand to `app.Worker` for these options."""
    return {
        "hostname": host_format(default_nodename(args.hostname)),
        "queues": [name.strip() for name in args.queues.split(",") if name.strip()],
        "concurrency": args.concurrency,
        "pool_cls": args.pool,
        "loglevel": args.loglevel,
        "without_gossip": args.without_gossip,
        "without_mingle": args.without_mingle,
        "without_heartbeat": args.without_heartbeat,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    configure_logging(worker_settings())
    worker = celery_app.Worker(**worker_options(args))
    worker.start()
    return int(worker.exitcode or 0)


if __name__ == "__main__":
    sys.exit(main())
