from falcon import testing

from poetry_app.api import create_app


def test_health() -> None:
    result = testing.TestClient(create_app()).simulate_get("/health")
    assert result.json["status"] == "ok"
