"""The ops files: Prometheus config and alerts, Grafana dashboard, Dockerfile, docker-compose."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
ALERTS = PROMETHEUS_DIR / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "pakn.json"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
#: Where service packages live (DESIGN.md §2); the intake folders may not exist yet.
SOURCE_DIRS = ("services", "router", "intake-email", "intake-hotline", "intake-chatbot")
#: What compose must be given; dummy values, never real ones.
COMPOSE_SECRETS = {
    "PAKN_SESSION_SECRET": "test-session-secret",
    "PAKN_RABBITMQ_PASSWORD": "test-rabbitmq-password",
    "PAKN_RABBITMQ_ERLANG_COOKIE": "test-erlang-cookie",
    "GRAFANA_ADMIN_PASSWORD": "test-grafana-password",
    "PAKN_HOTLINE_API_KEY": "test-hotline-api-key",
}
#: Environment keys whose value is a secret: it must be a compose variable, never a literal.
SECRET_KEY = re.compile(r"SECRET|PASSWORD|PASS$|TOKEN|API_KEY")
#: `${NAME}` or `${NAME:?message}`: a variable with no default to leak a literal through.
REQUIRED_VARIABLE = re.compile(r"\$\{[A-Z][A-Z0-9_]*(?::?\?[^}]*)?\}")
#: user:password@ in a URL, either part possibly a variable (which has colons of its own).
URL_PASSWORD = re.compile(r"://(?:\$\{[^}]*\}|[^:/@\s])+:(?P<password>\$\{[^}]*\}|[^@\s]+)@")

METRIC_CONSTRUCTOR = re.compile(
    r"\b(?P<kind>Counter|Gauge|Histogram|Summary|Info|Enum)\(\s*\"(?P<name>[a-zA-Z_:][\w:]*)\""
)
PAKN_METRIC = re.compile(r"\bpakn_\w+")


# --- Pure helpers -----------------------------------------------------------------------------


def exported_names(kind: str, name: str) -> set[str]:
    """The series names prometheus_client exposes for one metric object."""
    if kind == "Counter":
        base = name.removesuffix("_total")
        return {f"{base}_total", f"{base}_created"}
    if kind == "Histogram":
        return {f"{name}_bucket", f"{name}_sum", f"{name}_count", f"{name}_created"}
    if kind == "Summary":
        return {name, f"{name}_sum", f"{name}_count", f"{name}_created"}
    if kind == "Info":
        return {f"{name}_info"}
    return {name}


def defined_metrics(sources: Iterator[str]) -> set[str]:
    """Every series name the metric constructors in ``sources`` export."""
    names: set[str] = set()
    for text in sources:
        for match in METRIC_CONSTRUCTOR.finditer(text):
            names |= exported_names(match["kind"], match["name"])
    return names


def python_sources() -> Iterator[str]:
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.read_text(encoding="utf-8")


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def leaked_secrets(services: dict[str, Any]) -> list[str]:
    """Secret-looking environment values of the *unresolved* compose file that are literals."""
    leaks = []
    for name, service in services.items():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            text = str(value)
            if SECRET_KEY.search(key) and not REQUIRED_VARIABLE.fullmatch(text):
                leaks.append(f"{name}: {key}={text}")
            url = URL_PASSWORD.search(text)
            if url and not REQUIRED_VARIABLE.fullmatch(url["password"]):
                leaks.append(f"{name}: {key} has a literal password in its URL")
    return leaks


# --- Tools ------------------------------------------------------------------------------------


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: run `make test` (scripts/ensure-test-servers.sh installs "
            f"it) or `sudo apt-get install {'prometheus' if name == 'promtool' else name}`"
        )
    return path


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def succeeded(result: subprocess.CompletedProcess[str]) -> bool:
    if result.returncode != 0:
        print(f"$ {' '.join(result.args)}\n{result.stdout}\n{result.stderr}")
    return result.returncode == 0


@pytest.fixture
def compose_env(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """docker-compose's command and a clean environment: no stray ./.env, no host secrets."""
    empty = tmp_path / "empty.env"
    empty.write_text("")
    command = [tool("docker-compose"), "--env-file", str(empty), "-f", str(COMPOSE)]
    return command, {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}


@pytest.fixture
def compose_config(compose_env: tuple[list[str], dict[str, str]]) -> dict[str, Any]:
    """The resolved compose file, as docker-compose itself reads it."""
    command, env = compose_env
    result = run([*command, "config"], env={**env, **COMPOSE_SECRETS})
    assert succeeded(result)
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def pakn_services(config: dict[str, Any]) -> dict[str, Any]:
    return {
        name: service
        for name, service in config["services"].items()
        if service.get("build", {}).get("dockerfile") == "deploy/Dockerfile"
    }


# --- Prometheus -------------------------------------------------------------------------------


def test_prometheus_config_is_valid() -> None:
    assert succeeded(
        run([tool("promtool"), "check", "config", str(PROMETHEUS_DIR / "prometheus.yml")])
    )


def test_alert_rules_are_valid() -> None:
    assert succeeded(run([tool("promtool"), "check", "rules", str(ALERTS)]))


def test_alert_unit_tests_pass() -> None:
    assert succeeded(
        run([tool("promtool"), "test", "rules", str(PROMETHEUS_DIR / "alerts_test.yml")])
    )


def test_every_alert_has_a_unit_test_that_fires_and_one_that_does_not() -> None:
    tests = yaml.safe_load((PROMETHEUS_DIR / "alerts_test.yml").read_text(encoding="utf-8"))
    checks = [check for group in tests["tests"] for check in group["alert_rule_test"]]
    for rule in alert_rules():
        mine = [check for check in checks if check["alertname"] == rule["alert"]]
        assert any(check["exp_alerts"] for check in mine), f"{rule['alert']} never fires"
        assert any(not check["exp_alerts"] for check in mine), f"{rule['alert']} never silent"


def test_alerts_speak_vietnamese_and_english() -> None:
    for rule in alert_rules():
        assert set(rule["annotations"]) == {
            "summary",
            "description",
            "summary_en",
            "description_en",
        }
        assert rule["labels"]["severity"] in {"critical", "warning"}
        # A Vietnamese sentence without diacritics is a typo here, not a style.
        assert re.search(r"[à-ỹđ]", rule["annotations"]["description"]), rule["alert"]


def test_every_service_in_compose_is_scraped(compose_config: dict[str, Any]) -> None:
    scrape = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text(encoding="utf-8"))
    targets = {
        target
        for job in scrape["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    services = pakn_services(compose_config)
    assert services
    for name, service in services.items():
        port = service["environment"][f"PAKN_{name.upper()}_PORT"]
        assert f"{name}:{port}" in targets


# --- Metric names -----------------------------------------------------------------------------


def test_metric_parser_reads_the_constructors() -> None:
    source = (
        'A = Counter("pakn_a", "help")\n'
        'B = Counter(\n    "pakn_b_total", "help", ["x"]\n)\n'
        'C = Histogram("pakn_c_seconds", "help")\n'
        'D = Info("pakn_d", "help")\n'
        'E = Gauge("pakn_e", "help")\n'
        "kinds: Counter[str] = Counter(x.kind for x in xs)\n"
    )
    assert defined_metrics(iter([source])) == {
        "pakn_a_total",
        "pakn_a_created",
        "pakn_b_total",
        "pakn_b_created",
        "pakn_c_seconds_bucket",
        "pakn_c_seconds_sum",
        "pakn_c_seconds_count",
        "pakn_c_seconds_created",
        "pakn_d_info",
        "pakn_e",
    }


def test_alerts_and_dashboard_use_only_metrics_the_code_defines() -> None:
    defined = defined_metrics(python_sources())
    # The names the alerts are about: if the parser found none of these, the check is vacuous.
    assert {
        "pakn_bus_connected",
        "pakn_router_dead_letters_total",
        "pakn_intake_submissions_total",
    } <= defined
    used = {
        f"alerts.yml: {name}"
        for rule in alert_rules()
        for name in PAKN_METRIC.findall(rule["expr"])
    } | {f"pakn.json: {name}" for expr in dashboard_exprs() for name in PAKN_METRIC.findall(expr)}
    assert len(used) > 10
    unknown = sorted(entry for entry in used if entry.split(": ")[1] not in defined)
    assert unknown == []


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    # promtool parses PromQL only inside rules: each query becomes a recording rule.
    rules = [
        {"record": f"dashboard:query{i}", "expr": expr.replace("$__rate_interval", "5m")}
        for i, expr in enumerate(dashboard_exprs())
    ]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    assert succeeded(run([tool("promtool"), "check", "rules", str(path)]))


def test_dashboard_uses_the_provisioned_datasource() -> None:
    provisioning = ROOT / "deploy" / "grafana" / "provisioning"
    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    uids = {source["uid"] for source in datasources["datasources"]}
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] in uids
        assert all(target["datasource"]["uid"] in uids for target in panel["targets"])


# --- Dockerfile and compose -------------------------------------------------------------------


def test_dockerfile_runs_pakn_as_a_non_root_user_with_a_healthcheck() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    assert re.search(r"^USER (?!root\b|0\b)\S+", text, re.MULTILINE)
    assert 'ENTRYPOINT ["pakn"]' in text
    healthcheck = text.split("\nHEALTHCHECK ", 1)[1].split("\n\n", 1)[0]
    assert "urllib.request" in healthcheck and "curl" not in healthcheck
    assert "PAKN_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz" in text


def test_compose_file_is_valid(compose_env: tuple[list[str], dict[str, str]]) -> None:
    command, env = compose_env
    assert succeeded(run([*command, "config", "-q"], env={**env, **COMPOSE_SECRETS}))


def test_compose_refuses_to_start_without_its_secrets(
    compose_env: tuple[list[str], dict[str, str]],
) -> None:
    command, env = compose_env
    for missing in COMPOSE_SECRETS:
        given = {key: value for key, value in COMPOSE_SECRETS.items() if key != missing}
        result = run([*command, "config", "-q"], env={**env, **given})
        assert result.returncode != 0
        assert missing in result.stderr


def test_compose_has_no_literal_secret() -> None:
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    assert leaked_secrets(services) == []
    text = COMPOSE.read_text(encoding="utf-8")
    for value in COMPOSE_SECRETS.values():
        assert value not in text


def test_secret_check_catches_literals() -> None:
    services = {
        "router": {
            "environment": {
                "PAKN_SESSION_SECRET": "hunter2",
                "PAKN_HOTLINE_API_KEY": "${PAKN_HOTLINE_API_KEY:-abc}",
                "PAKN_AMQP_URL": "amqp://pakn:hunter2@rabbitmq:5672/",
                "PAKN_IMAP_PASSWORD": "${PAKN_IMAP_PASSWORD:?needed}",
            }
        },
        "web": {
            "environment": {
                "PAKN_AMQP_URL": "amqp://${USER:-pakn}:hunter2@rabbitmq:5672/",
                "PAKN_MONGODB_URL": "mongodb://${USER:-pakn}:${PASSWORD:?needed}@mongodb/",
            }
        },
    }
    assert leaked_secrets(services) == [
        "router: PAKN_SESSION_SECRET=hunter2",
        "router: PAKN_HOTLINE_API_KEY=${PAKN_HOTLINE_API_KEY:-abc}",
        "router: PAKN_AMQP_URL has a literal password in its URL",
        "web: PAKN_AMQP_URL has a literal password in its URL",
    ]


def test_compose_runs_the_services_in_production(compose_config: dict[str, Any]) -> None:
    services = pakn_services(compose_config)
    assert set(services) >= {"web", "router"}
    for name, service in services.items():
        env = service["environment"]
        assert service["command"] == [name]
        assert env["PAKN_ENV"] == "production"
        assert env["PAKN_HOST"] == "0.0.0.0"
        assert "replicaSet=" in env["PAKN_MONGODB_URL"]
        assert env["PAKN_AMQP_URL"].startswith("amqp://")
        assert "healthz" in " ".join(service["healthcheck"]["test"])
        assert service["depends_on"]["rabbitmq1"]["condition"] == "service_healthy"
        assert service["depends_on"]["mongodb1"]["condition"] == "service_healthy"
        # Every broker node and store member, so a service fails over when one stops.
        assert env["PAKN_AMQP_URL"].endswith("@rabbitmq1:5672,rabbitmq2:5672,rabbitmq3:5672/")
        assert "mongodb1:27017,mongodb2:27017,mongodb3:27017/" in env["PAKN_MONGODB_URL"]
    assert services["router"]["environment"]["PAKN_SESSION_SECRET"] == "test-session-secret"
    members = [f"mongodb{n}" for n in (1, 2, 3)]
    for member in members:
        assert "--replSet" in compose_config["services"][member]["command"]
    initiate = " ".join(compose_config["services"]["mongodb-init"]["command"])
    assert "rs.initiate" in initiate and all(f"'{m}:27017'" in initiate for m in members)
    nodes = [compose_config["services"][f"rabbitmq{n}"] for n in (1, 2, 3)]
    assert [node["hostname"] for node in nodes] == ["rabbitmq1", "rabbitmq2", "rabbitmq3"]
    assert all(
        node["environment"]["RABBITMQ_ERLANG_COOKIE"] == "test-erlang-cookie" for node in nodes
    )
