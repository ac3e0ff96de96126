"""Renderers: turn snapshots into text, plain lines, JSON, CSV, waybar or Prometheus."""
