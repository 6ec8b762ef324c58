"""Operating the stack: the Prometheus configuration and alerting rules, the Grafana dashboard."""
