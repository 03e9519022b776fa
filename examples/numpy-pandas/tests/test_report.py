from report import load, summary


def test_summary() -> None:
    result = summary(load())
    assert result["rows"] == 200
    assert set(result["by_region"]) == {"east", "north", "south", "west"}
