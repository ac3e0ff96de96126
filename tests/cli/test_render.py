"""The renderers: golden output with a fixed clock (the chaos dev provider), and the width maths."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from usagestat.cli.render import format as fmt
from usagestat.cli.render.term import ASCII, Span, clip, render_row, sanitize, width

from .conftest import ROOT, Cli

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_on_tty(cli: Cli, *args: str, columns: int = 100, env: dict[str, str] | None = None) -> str:
    """Run with stdout on a pseudo-terminal of ``columns`` columns; returns what it showed."""
    pty = pytest.importorskip("pty")
    main, secondary = pty.openpty()
    full_env = dict(cli.env, COLUMNS=str(columns), TERM="xterm-256color", **(env or {}))
    process = subprocess.Popen(
        cli.command(*args),
        cwd=ROOT,
        env=full_env,
        stdout=secondary,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=60)
    os.close(main)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


# -- golden output -----------------------------------------------------------------


def test_text_golden_non_tty_has_no_ansi(cli: Cli, golden) -> None:
    result = cli.run("usage", "chaos", "mock")
    assert result.code == 0, result
    assert "\x1b" not in result.stdout
    golden("usage-chaos-mock.txt", result.stdout)


def test_text_golden_on_a_colour_terminal(cli: Cli, golden) -> None:
    shown = run_on_tty(cli, "usage", "chaos", "mock", columns=100)
    assert "\x1b[" in shown  # colours and bars on a terminal
    assert "█" in shown
    for line in shown.splitlines():
        assert width(ANSI.sub("", line)) <= 100
    golden("usage-chaos-mock.tty100.txt", shown)


def test_text_golden_on_a_narrow_terminal(cli: Cli, golden) -> None:
    shown = run_on_tty(cli, "usage", "chaos", columns=50)
    for line in shown.splitlines():
        assert width(ANSI.sub("", line)) <= 50, line
    assert "█" not in shown  # bars do not fit: the block drops them rather than the resets
    golden("usage-chaos.tty50.txt", shown)


def test_no_color_flag_and_env_on_a_terminal(cli: Cli) -> None:
    for shown in (
        run_on_tty(cli, "usage", "chaos", "--no-color"),
        run_on_tty(cli, "usage", "chaos", env={"NO_COLOR": "1"}),
        run_on_tty(cli, "usage", "chaos", env={"NO_COLOR": "1", "FORCE_COLOR": "1"}),
    ):
        assert "\x1b" not in shown
        assert "Chaos · Chaos Monkey Enterprise" in shown


def test_force_color_into_a_pipe(cli: Cli) -> None:
    result = cli.call("usage", "chaos", env={"FORCE_COLOR": "1"})
    assert "\x1b[1mChaos\x1b[0m" in result.stdout
    assert "█" not in result.stdout  # bars only on a real terminal


def test_plain_golden(cli: Cli, golden) -> None:
    result = cli.call("--plain", "usage", "chaos", "mock")
    assert result.code == 0, result
    golden("usage-chaos-mock.plain.txt", result.stdout)
    for block in result.stdout.strip().split("\n\n"):
        for line in block.splitlines():
            assert ": " in line, line


def test_json_golden(cli: Cli, golden) -> None:
    result = cli.call("--json", "usage", "chaos")
    golden("usage-chaos.json", result.stdout)


def test_waybar(cli: Cli) -> None:
    result = cli.call("usage", "chaos", "mock", "--format", "waybar")
    assert result.code == 0, result
    data = result.json()
    assert set(data) == {"text", "tooltip", "class", "percentage"}
    assert data["text"] == "Chaos 130%  Mock 72%"
    assert data["percentage"] == 130
    assert data["class"] == "critical"
    assert "Chaos Spend: $4.50 / $10.00" in data["tooltip"]
    assert "Tiny fraction" not in data["tooltip"]  # detail lines are hidden in compact views
    assert "\n" not in result.stdout.strip()  # one line per poll


def test_waybar_error_class(cli: Cli) -> None:
    cli.plugin("broken", "throw {code: 'missing-auth', message: 'Not signed in'};")
    data = cli.call(
        "usage", "mock", "broken", "--format", "waybar", "--plugin-dir", str(cli.plugin_dir)
    ).json()
    assert data["class"] == "error"
    assert "Broken: error: Not signed in" in data["tooltip"]


def test_prometheus(cli: Cli) -> None:
    result = cli.call("usage", "mock", "--format", "prometheus")
    assert result.code == 0, result
    text = result.stdout
    assert "# TYPE usagestat_metric_used gauge" in text
    assert (
        'usagestat_metric_ratio{instance="mock",provider="mock",label="Session",format="percent"} 0.72'
        in text
    )
    assert 'usagestat_up{instance="mock",provider="mock"} 1' in text


def test_prometheus_has_probe_durations_and_the_daemon_number_format(cli: Cli) -> None:
    cli.plugin(
        "thirds",
        "return {metrics: [ctx.line.progress({label: 'Quota', used: 7, limit: 9, "
        "format: {kind: 'percent'}})]};",
    )
    result = cli.call(
        "usage", "thirds", "--format", "prometheus", "--plugin-dir", str(cli.plugin_dir)
    )
    assert result.code == 0, result
    lines = result.stdout.splitlines()
    labels = 'instance="thirds",provider="thirds",label="Quota",format="percent"'
    # the same text as the daemon's /metrics for this value (tests/daemon/test_units.py)
    assert f"usagestat_metric_ratio{{{labels}}} 0.7777777777777778" in lines
    assert "# TYPE usagestat_probe_duration_seconds gauge" in lines
    (duration,) = [line for line in lines if line.startswith("usagestat_probe_duration_seconds{")]
    assert duration.startswith(
        'usagestat_probe_duration_seconds{instance="thirds",provider="thirds"} '
    )
    assert 0 < float(duration.rsplit(" ", 1)[1]) < 60
    # answered from the cache: no probe ran, so no duration
    cached = cli.call(
        "usage", "thirds", "--cached", "--format", "prometheus", "--plugin-dir", str(cli.plugin_dir)
    )
    assert "usagestat_probe_duration_seconds" not in cached.stdout
    assert f"usagestat_metric_ratio{{{labels}}} 0.7777777777777778" in cached.stdout


def test_error_snapshot_is_red_with_its_reason(cli: Cli) -> None:
    cli.plugin("broken", "throw {code: 'missing-auth', message: 'Not signed in. Run `x login`.'};")
    pdir = str(cli.plugin_dir)
    plain = cli.call("usage", "broken", "--plugin-dir", pdir)
    assert plain.code == 0  # in-band
    assert plain.stdout.splitlines() == [
        "Broken",
        "  ✗ Not signed in. Run `x login`.  (missing-auth)",
    ]
    coloured = cli.call("usage", "broken", "--plugin-dir", pdir, env={"FORCE_COLOR": "1"})
    assert "\x1b[31mNot signed in. Run `x login`.\x1b[0m" in coloured.stdout


def test_plugin_text_cannot_inject_escape_codes(cli: Cli) -> None:
    cli.plugin(
        "evil",
        "return {plan: 'x\\u001b[2Jy', metrics: [ctx.line.text({label: 'a\\nb', value: '\\u001b]0;pwned\\u0007ok'})]};",
    )
    result = cli.call("usage", "evil", "--plugin-dir", str(cli.plugin_dir))
    assert result.code == 0, result
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    plain = cli.call("--plain", "usage", "evil", "--plugin-dir", str(cli.plugin_dir))
    assert "a b: " in plain.stdout


# -- width maths and number formats ------------------------------------------------------


def test_visible_width_counts_wide_characters_and_ignores_escape_codes() -> None:
    assert width("abc") == 3
    assert width("日本語") == 6
    assert width("🚀") == 2
    assert width("cafe\u0301") == 4  # combining accent takes no cell
    assert width("\x1b[31mred\x1b[0m") == 3


def test_clip_by_cells_never_splits_a_wide_character() -> None:
    assert clip("hello world", 8) == "hello w…"
    assert clip("日本語テキスト", 7) == "日本語…"
    assert width(clip("日本語テキスト", 7)) <= 7
    assert clip("short", 10) == "short"
    assert clip("abcdef", 4, "...") == "a..."


def test_render_row_clips_values_not_colour_codes() -> None:
    spans = [Span("  Label  "), Span("a long value that will not fit", "red", shrink=1)]
    row = render_row(spans, 20, color=True)
    assert row.startswith("  Label  \x1b[31m") and row.endswith("\x1b[0m")
    assert width(row) == 20
    assert render_row(spans, 20, color=False) == "  Label  a long val…"


def test_render_row_drops_optional_spans_first() -> None:
    spans = [Span("label "), Span("value", shrink=1), Span("  resets in 3h", optional=True)]
    assert render_row(spans, 11, color=False) == "label value"
    assert render_row(spans, None, color=False) == "label value  resets in 3h"


def test_sanitize_removes_control_characters() -> None:
    assert sanitize("a\nb\tc\x1b[2Jd\x9be") == "a b c [2Jd e"


def test_number_formats() -> None:
    assert fmt.number(42) == "42"
    assert fmt.number(4.5) == "4.5"
    assert fmt.number(1000) == "1000"
    assert fmt.number(45000) == "45,000"
    assert fmt.number(12_345_678) == "12.3M"
    assert fmt.number(123_456_789_012) == "123.5B"
    assert fmt.number(0.0001) == "0.0001"
    assert fmt.exact(123_456_789_012) == "123456789012"
    assert fmt.money(4.5, None) == "$4.50"
    assert fmt.money(12.34, "EUR") == "€12.34"
    assert fmt.money(3, "CHF") == "3.00 CHF"
    assert fmt.duration(3 * 3600 + 12 * 60) == "3h 12m"
    assert fmt.duration(2 * 86400 + 4 * 3600) == "2d 4h"
    assert fmt.duration(20) == "<1m"


def test_ascii_glyphs_when_the_output_cannot_carry_unicode(cli: Cli) -> None:
    result = subprocess.run(
        cli.command("usage", "chaos"),
        cwd=ROOT,
        env=dict(cli.env, PYTHONUTF8="0", PYTHONIOENCODING="ascii", LANG="C", LC_ALL="C"),
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode("ascii")  # would raise on any non-ASCII byte
    assert text.startswith(f"Chaos {ASCII.dot} Chaos Monkey Enterprise")


def test_terminal_columns_follows_the_columns_variable_then_the_terminal(monkeypatch):
    from usagestat.cli.render.term import terminal_columns

    monkeypatch.setenv("COLUMNS", "132")
    assert terminal_columns() == 132
    for junk in ("wide", "-5", "0", ""):
        monkeypatch.setenv("COLUMNS", junk)
        # stdout is not a terminal under pytest's capture: the fallback applies
        assert terminal_columns(fallback=77) == 77


def test_the_command_word_skips_option_values():
    from usagestat.cli.argv import command_word

    assert command_word(["--since", "daemon", "export"]) == (2, "export")
    assert command_word(["--format=json", "daemon"]) == (1, "daemon")
    assert command_word(["--json", "--", "daemon"]) is None
    assert command_word(["-", "x"]) == (0, "-")
