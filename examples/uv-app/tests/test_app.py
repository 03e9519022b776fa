from starlette.testclient import TestClient

from uv_app.app import app


def test_health() -> None:
    assert TestClient(app).get("/health").json()["status"] == "ok"


def test_shorten_and_follow() -> None:
    client = TestClient(app)
    code = client.post("/links", json={"url": "https://example.com"}).json()["code"]
    assert client.get(f"/{code}", follow_redirects=False).status_code == 307
