from app import app


def test_health() -> None:
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_add_note() -> None:
    client = app.test_client()
    assert client.post("/notes", json={"text": "hello"}).status_code == 201
    assert client.post("/notes", json={}).status_code == 400
