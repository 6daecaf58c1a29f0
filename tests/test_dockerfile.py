"""What can be checked of the Dockerfile without a Docker engine."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")


def _instructions(name: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]


def test_every_copied_path_exists() -> None:
    copies = _instructions("COPY")
    assert copies
    for copy in copies:
        sources = copy.split()[:-1]
        for source in sources:
            assert (REPO / source).exists(), source


def test_runs_the_installed_entry_point_as_non_root() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    cmd = json.loads(_instructions("CMD")[-1])
    assert cmd == ["ntm-bot", "run"] and "ntm-bot" in scripts
    users = _instructions("USER")
    assert users and users[-1] not in ("root", "0")
    assert "/data" in " ".join(_instructions("VOLUME"))
    assert "NTM_DB_PATH=/data/" in DOCKERFILE
    assert _instructions("FROM")[0].startswith("python:3.11-slim")


def test_healthcheck_uses_a_real_command() -> None:
    health = _instructions("HEALTHCHECK")
    assert health and '"ntm-bot", "health"' in health[0]


def test_dockerignore_keeps_secrets_and_data_out() -> None:
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".env", "data", ".git", ".venv"} <= set(ignored)


def test_the_compose_file_runs_two_instances_on_postgresql_behind_caddy() -> None:
    import yaml

    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    bots = {name: s for name, s in services.items() if name.startswith("bot")}
    assert len(bots) == 2
    instance_ids = {s["environment"]["NTM_INSTANCE_ID"] for s in bots.values()}
    assert len(instance_ids) == 2  # each instance named: one holds a lease at a time
    for service in bots.values():
        env = service["environment"]
        assert env["NTM_DATABASE_URL"].startswith("postgresql://")
        assert env["TELEGRAM_WEBHOOK_URL"].startswith("https://")  # webhooks, not polling
        assert env["ZALO_BOT_MODE"] == "webhook"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["postgres"]["image"].startswith("postgres:15")
    caddyfile = (REPO / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    for name in bots:
        assert f"{name}:8080" in caddyfile
    assert "health_uri /healthz" in caddyfile
    password = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD")  # from .env, never written here


def test_every_data_file_of_the_packages_is_installed() -> None:
    """A plain ``pip install .`` (the image) carries every template, style sheet, migration
    (both engines), data file and catalog: each matches a package-data pattern."""
    import re
    import subprocess
    import tomllib

    def matches(path: str, glob: str) -> bool:  # as setuptools globs: * stays in one folder
        regex = re.escape(glob).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        return re.fullmatch(regex, path) is not None

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]
    tracked = subprocess.run(
        ["git", "ls-files", "bot", "handlers", "knowledge", "storage", "locales"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    missing = []
    for path in tracked:
        if path.endswith((".py", ".pyi")):
            continue
        package, _, inner = path.partition("/")
        globs = patterns.get(package, [])
        if not any(matches(inner, g) for g in globs):
            missing.append(path)
    assert missing == []
