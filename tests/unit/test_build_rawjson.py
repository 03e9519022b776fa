"""The rawjson stream reader, on streams recorded from the real engine (tests/record_rawjson.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layerwise.build.rawjson import RawJsonReader, parse_timestamp, read_rawjson
from layerwise.build.result import context_bytes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rawjson"
REPO = FIXTURES.parents[2]


def load(name: str) -> str:
    return (FIXTURES / f"{name}.rawjson").read_text()


def test_timestamps_keep_nanosecond_strings_and_utc() -> None:
    a = parse_timestamp("2026-11-23T13:04:51.433102293Z")
    b = parse_timestamp("2026-11-23T13:04:51.445015010Z")
    assert a is not None and b is not None
    assert b - a == pytest.approx(0.011913, abs=2e-6)
    assert parse_timestamp("2026-11-23T13:04:51Z") == pytest.approx(a - 0.433102, abs=1e-5)
    assert parse_timestamp("2026-11-23T13:04:51.5+01:00") == pytest.approx(a - 3600 + 0.0669, 1e-3)
    assert parse_timestamp(None) is None
    assert parse_timestamp("yesterday") is None


@pytest.mark.parametrize(
    "name", ["multistage-cold", "multistage-warm", "failing", "flask-pip-cold", "syntax-error"]
)
def test_every_recorded_object_is_read(name: str) -> None:
    text = load(name)
    progress = read_rawjson(text)
    # Each top-level object starts with `{` at column 0; none may be lost to the text lines.
    objects = sum(1 for line in text.splitlines() if line == "{")
    assert objects > 0
    assert not any(line.startswith(("{", '  "', "}")) for line in progress.text)
    assert progress.vertexes
    for vertex in progress.vertexes.values():
        assert vertex.name
        assert vertex.seconds >= 0


def test_cold_build_steps_all_complete_and_have_durations() -> None:
    progress = read_rawjson(load("multistage-cold"))
    steps = [v for v in progress.ordered() if v.name.startswith("[")]
    run_steps = [v for v in steps if "] RUN " in v.name]
    assert len(run_steps) == 10
    assert all(v.done and not v.cached and v.error is None for v in run_steps)
    assert all(v.seconds > 0 for v in run_steps)
    assert progress.text == []


def test_warm_build_reports_every_step_cached() -> None:
    progress = read_rawjson(load("multistage-warm"))
    steps = [v for v in progress.ordered() if v.name.startswith("[") and "internal" not in v.name]
    assert len(steps) >= 17
    assert all(v.cached for v in steps if " FROM " not in v.name)


def test_logs_are_decoded_per_vertex() -> None:
    progress = read_rawjson(load("failing"))
    failed = [v for v in progress.vertexes.values() if v.error]
    assert len(failed) == 1
    assert "exit code: 3" in (failed[0].error or "")
    log = failed[0].log_text()
    # stdout and stderr of the step arrive as separate log records, interleaved as they came.
    assert [line for line in log.splitlines() if line.startswith("step")] == [
        "step 1",
        "step 2",
        "step 3",
    ]
    assert "about to fail" in log.splitlines()
    # After the JSON, buildx prints the Dockerfile excerpt and the error as plain text.
    assert progress.text[0] == "Dockerfile:4"
    assert progress.text[-1].startswith("ERROR: failed to solve:")


def test_never_started_vertex_after_failure() -> None:
    progress = read_rawjson(load("failing"))
    (never,) = [v for v in progress.vertexes.values() if v.name.endswith("RUN echo never")]
    assert never.started is None and not never.done and never.seconds == 0


def test_context_bytes_count_the_context_not_the_ignore_file() -> None:
    progress = read_rawjson(load("flask-pip-cold"))
    counters = {
        progress.vertexes[vertex].name: counter.current
        for (vertex, ident), counter in progress.statuses.items()
        if ident == "transferring context:"
    }
    # `load .dockerignore` reads 2 bytes through the same session; only the context counts.
    # (BuildKit sends only what changed since it last saw this context, so this recording of a
    # copy that BuildKit had seen before sent 1187 bytes, not the whole 100 kB tree.)
    assert counters == {"[internal] load .dockerignore": 2, "[internal] load build context": 1187}
    assert context_bytes(progress) == 1187
    assert context_bytes(read_rawjson(load("syntax-error"))) is None


def test_compact_objects_text_and_truncation() -> None:
    seen: list[str] = []
    reader = RawJsonReader(lambda v: seen.append(v.name))
    vertex = {
        "digest": "sha256:1",
        "name": "[1/2] FROM x",
        "started": "2026-01-01T00:00:00Z",
        "completed": "2026-01-01T00:00:01.5Z",
    }
    reader.feed_line(json.dumps({"vertexes": [vertex]}) + "\n")
    reader.feed_line("#0 some notice\n")
    reader.feed_line("{\n")
    reader.feed_line('  "vertexes": [\n')
    progress = reader.close()
    assert seen == ["[1/2] FROM x"]
    assert progress.vertexes["sha256:1"].seconds == pytest.approx(1.5)
    # An object cut off by the end of the stream is kept as text, not dropped.
    assert progress.text == ["#0 some notice", "{", '  "vertexes": [']


def test_restarted_vertex_adds_up_its_intervals() -> None:
    reader = RawJsonReader()

    def send(**fields: str) -> None:
        reader.feed_lines(
            json.dumps(
                {"vertexes": [{"digest": "d", "name": "n", **fields}]}, indent=2
            ).splitlines()
        )

    send(started="2026-01-01T00:00:00Z", completed="2026-01-01T00:00:01Z")
    send(started="2026-01-01T00:00:02Z")
    send(started="2026-01-01T00:00:02Z", completed="2026-01-01T00:00:04Z")
    vertex = reader.close().vertexes["d"]
    assert vertex.seconds == pytest.approx(3.0)
    assert vertex.done


def test_invalid_json_object_is_kept_as_text() -> None:
    progress = read_rawjson("{\n  not json\n}\n")
    assert progress.vertexes == {}
    assert progress.text == ["{", "  not json", "}"]


def test_warnings_are_decoded() -> None:
    message = {
        "warnings": [
            {
                "vertex": "sha256:x",
                "level": 1,
                "short": "TGVnYWN5S2V5VmFsdWVGb3JtYXQ=",
                "detail": ["ZGV0YWls"],
                "url": "https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/",
                "range": [{"start": {"line": 7}, "end": {"line": 7}}],
            }
        ]
    }
    progress = read_rawjson(json.dumps(message, indent=2))
    (warning,) = progress.warnings
    assert warning.message == "LegacyKeyValueFormat"
    assert warning.detail == ("detail",)
    assert warning.line == 7
