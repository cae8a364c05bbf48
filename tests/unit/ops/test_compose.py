"""Deployment files: docker-compose.yml is valid and complete, .env.example documents it all.

No Docker engine runs here, so the compose file is checked three ways: Debian's
`docker-compose config -q`, the Compose specification schema that package ships, and the
structural promises of the README (health checks, named volumes, queues, scaling).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from mailer.cli.main import app
from mailer.core.settings import Settings
from mailer.tasks.app import QUEUES
from tests.fixtures.shared import shared_file

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
# Debian's docker-compose package (installed by `scripts/setup --test`) ships the spec's schema.
COMPOSE_SCHEMA = Path("/usr/lib/python3/dist-packages/compose/config/compose_spec.json")

APP_SERVICES = {"migrate", "web", "worker", "worker-urgent", "scheduler"}
LONG_RUNNING = {"postgres", "redis", "proxy", "web", "worker", "worker-urgent", "scheduler"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def services() -> dict[str, dict[str, Any]]:
    return dict(compose()["services"])


def env_example_names() -> set[str]:
    """Every variable the example names, whether set or left commented at its default."""
    pattern = re.compile(r"^#?\s?([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    return set(pattern.findall(ENV_EXAMPLE.read_text()))


def interface_variables(text: str) -> set[str]:
    """Variable names in the first column of interface.md's configuration table."""
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_column = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_column))
    return names


def command_words(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else list(command)


def option_value(words: list[str], option: str) -> str:
    return words[words.index(option) + 1]


# --- validity -------------------------------------------------------------------------------


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A deployment as the README describes it: the compose file and `.env` from the example."""
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")  # the proxy's build context
    return tmp_path


def test_docker_compose_accepts_the_file(project_dir: Path) -> None:
    binary = shutil.which("docker-compose")
    assert binary, "Debian's docker-compose is missing: run `bash scripts/setup --test`"
    result = subprocess.run(
        [binary, "-f", "docker-compose.yml", "config", "-q"],
        cwd=project_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_a_broken_file(project_dir: Path) -> None:
    """The check above can fail: a misspelt key is caught."""
    broken = COMPOSE_FILE.read_text().replace("healthcheck:", "healthcheque:", 1)
    (project_dir / "docker-compose.yml").write_text(broken)
    binary = shutil.which("docker-compose") or "docker-compose"
    result = subprocess.run(
        [binary, "-f", "docker-compose.yml", "config", "-q"],
        cwd=project_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "healthcheque" in result.stderr


def test_the_file_matches_the_compose_specification_schema() -> None:
    validator = jsonschema.Draft201909Validator(json.loads(COMPOSE_SCHEMA.read_text()))
    validator.validate(compose())
    broken = compose()
    broken["services"]["web"]["helthcheck"] = broken["services"]["web"].pop("healthcheck")
    assert not validator.is_valid(broken)


# --- topology -------------------------------------------------------------------------------


def test_every_process_of_the_deployment_is_a_service() -> None:
    assert set(services()) == {"postgres", "redis", "proxy"} | APP_SERVICES


def test_long_running_services_have_health_checks_and_restart_policies() -> None:
    for name in LONG_RUNNING:
        service = services()[name]
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert service.get("restart") in ("unless-stopped", "always"), name


def test_migrate_runs_once_and_everything_else_waits_for_it() -> None:
    migrate = services()["migrate"]
    assert command_words(migrate) == ["newsletter", "init"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in APP_SERVICES - {"migrate"}:
        depends = services()[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_data_lives_in_named_volumes() -> None:
    declared = set(compose()["volumes"])
    used = set()
    for name, service in services().items():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            assert not source.startswith((".", "/", "~")), f"{name} bind-mounts {source}"
            used.add(source)
    assert used == declared
    assert any(m.endswith("/var/lib/postgresql/data") for m in services()["postgres"]["volumes"])
    assert any(m.endswith(":/data") for m in services()["redis"]["volumes"])


def test_app_services_reach_postgres_and_redis_by_service_name() -> None:
    for name in APP_SERVICES:
        environment = services()[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@postgres:5432/" in environment["DATABASE_URL"]
        assert environment["REDIS_URL"] == "redis://redis:6379/0"


def test_web_runs_several_processes() -> None:
    words = command_words(services()["web"])
    assert words[:2] == ["newsletter", "serve"]
    workers = option_value(words, "--workers")
    default = re.fullmatch(r"\$\{\w+:-(\d+)\}", workers)
    assert int(default.group(1) if default else workers) > 1


def test_each_queue_has_workers_and_sends_never_share_with_urgent_work() -> None:
    queues_of = {
        name: set(option_value(command_words(services()[name]), "--queues").split(","))
        for name in ("worker", "worker-urgent")
    }
    assert queues_of["worker"] == {"sends"}
    assert queues_of["worker-urgent"] == {"messages", "events"}
    assert set().union(*queues_of.values()) == set(QUEUES)


def test_workers_can_be_scaled_and_shut_down_gracefully() -> None:
    for name in ("worker", "worker-urgent"):
        worker = services()[name]
        # A fixed container name or host port would make `--scale worker=N` fail.
        assert "container_name" not in worker and "ports" not in worker
        assert worker.get("stop_signal", "SIGTERM") == "SIGTERM"
        assert worker["stop_grace_period"]
        assert "inspect ping" in " ".join(worker["healthcheck"]["test"])


def test_the_scheduler_is_celery_beat_through_the_cli() -> None:
    assert command_words(services()["scheduler"]) == ["newsletter", "scheduler"]


def test_compose_commands_exist_in_the_cli() -> None:
    """Every `newsletter …` command and option the compose file runs is one the CLI has."""
    runner = CliRunner()
    for name in APP_SERVICES:
        words = command_words(services()[name])
        assert words[0] == "newsletter", name
        result = runner.invoke(app, [words[1], "--help"])
        assert result.exit_code == 0, f"{name}: newsletter {words[1]} --help failed"
        for option in (w for w in words[2:] if w.startswith("--")):
            assert option in result.output, f"{name}: `newsletter {words[1]}` has no {option}"


# --- configuration --------------------------------------------------------------------------


def test_env_example_lists_every_setting() -> None:
    settings_names = {name for name in Settings.model_fields if name.isupper()}
    assert settings_names - env_example_names() == set()


def test_env_example_lists_every_interface_variable() -> None:
    wanted = interface_variables(shared_file("interface.md").read_text())
    assert {"DATABASE_URL", "SECRET_KEY", "SEND_RATE_PER_SECOND"} <= wanted
    assert wanted - env_example_names() == set()


def test_env_example_documents_every_compose_variable() -> None:
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE_FILE.read_text()))
    assert used - env_example_names() == set()


def test_every_variable_in_env_example_has_a_comment_above_it() -> None:
    lines = ENV_EXAMPLE.read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^#?\s?[A-Z][A-Z0-9_]*=", line):
            block = lines[:index]
            while block and re.match(r"^#?\s?[A-Z][A-Z0-9_]*=", block[-1]):
                block.pop()
            assert block and block[-1].startswith("# ") and "=" not in block[-1][:20], line


def test_env_example_is_a_valid_configuration(workdir: Path) -> None:
    shutil.copy(ENV_EXAMPLE, workdir / ".env")
    cfg = Settings()
    assert cfg.PUBLIC_BASE_URL.startswith("https://")
    assert cfg.SENDGRID_API_KEY is None and cfg.SENDGRID_WEBHOOK_PUBLIC_KEY is None
    assert cfg.secret_key_generated and cfg.postal_address_is_placeholder


def test_dockerfile_installs_the_project_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = [line.split(None, 1) for line in dockerfile.splitlines() if line[:1].isupper()]
    assert instructions[0] == ["FROM", "python:3.11-slim"]
    users = [arg.strip() for word, arg in instructions if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert "pip install" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".git", "var"} <= set(ignored)
