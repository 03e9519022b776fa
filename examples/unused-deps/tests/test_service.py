from service import app


def test_flag() -> None:
    client = app.test_client()
    assert client.get("/flags/new-checkout").get_json()["enabled"] is True
    assert client.get("/flags/missing").status_code == 404
