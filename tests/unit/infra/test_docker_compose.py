"""docker-compose.yml stays in step with `cadenza up`: every process it starts is a service with the
same command and the same variables, Prometheus in the compose file scrapes each of them, Grafana
gets the dashboard. There is no Docker engine here: the file is checked as YAML against the process
declaration, and by Debian's docker-compose client (`docker-compose config`, which validates the
file against the Compose schema without an engine) when it is installed."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from cadenza_cli.processes import stack_processes
from infra.observability.config import DASHBOARD, HERE, RULES
from infra.settings import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yml"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_every_process_cadenza_up_starts_is_a_service_with_its_command_and_variables():
    services = compose()["services"]
    specs = stack_processes()
    for spec in specs:
        assert spec.name in services, spec.name
        service = services[spec.name]
        assert service["command"] == list(spec.args), spec.name
        env = service["environment"]
        for name, value in spec.env.items():
            assert env.get(name) == value, (spec.name, name)
        assert {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"} <= set(env), spec.name
        assert "artifacts:/data/artifacts" in service["volumes"], spec.name
        assert service["depends_on"]["init"]["condition"] == "service_completed_successfully"
    assert services["api"]["environment"]["CADENZA_API_PORT"] == "8000"
    own = {spec.name for spec in specs}
    assert set(services) - own == {"kafka", "postgres", "init", "prometheus", "grafana"}
    assert services["init"]["command"] == ["infra", "start"]  # topics and migrations, against the services above


def test_prometheus_in_compose_scrapes_every_service_and_grafana_gets_the_dashboard():
    services = compose()["services"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in services["prometheus"]["volumes"]}
    config_path = PROJECT_ROOT / mounts["/etc/prometheus/prometheus.yml"]
    assert PROJECT_ROOT / mounts["/etc/prometheus/alerts.yml"] == RULES
    config = yaml.safe_load(config_path.read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    scraped = {c["labels"]["process"]: c["targets"][0] for c in config["scrape_configs"][0]["static_configs"]}
    assert scraped == {s.name: f"{s.name}:{s.metrics_port}" for s in stack_processes() if s.metrics_port}
    grafana = {m.split(":")[1]: PROJECT_ROOT / m.split(":")[0] for m in services["grafana"]["volumes"]}
    assert grafana["/var/lib/grafana/dashboards"] == DASHBOARD.parent
    provisioning = grafana["/etc/grafana/provisioning"]
    assert provisioning == HERE / "docker" / "grafana" / "provisioning"
    datasource = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090" and datasource["type"] == "prometheus"
    dashboards = yaml.safe_load((provisioning / "dashboards" / "cadenza.yml").read_text())["providers"][0]
    assert dashboards["options"]["path"] == "/var/lib/grafana/dashboards"


def test_docker_compose_validates_the_file():
    client = shutil.which("docker-compose")
    if client is None:
        pytest.fail("Debian's docker-compose client is not installed: apt-get install docker-compose (infra/apt-packages.txt)")
    result = subprocess.run([client, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                            cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
