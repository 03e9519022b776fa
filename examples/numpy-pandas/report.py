"""Sales report service: pandas loads the data, numpy does the statistics."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd
from flask import Flask, jsonify

DATA = Path(__file__).resolve().parent / "data" / "sales.csv"

app = Flask(__name__)


def load() -> pd.DataFrame:
    return pd.read_csv(DATA, parse_dates=["date"])


def summary(frame: pd.DataFrame) -> dict[str, object]:
    by_region = frame.groupby("region")["amount"].sum().sort_index()
    amounts = frame["amount"].to_numpy(dtype=np.float64)
    return {
        "rows": int(len(frame)),
        "total": round(float(amounts.sum()), 2),
        "mean": round(float(np.mean(amounts)), 2),
        "p90": round(float(np.percentile(amounts, 90)), 2),
        "by_region": {str(k): round(float(v), 2) for k, v in by_region.items()},
    }


@app.get("/health")
def health():
    return jsonify(
        status="ok",
        app="numpy-pandas",
        python=platform.python_version(),
        numpy=np.__version__,
        pandas=pd.__version__,
    )


@app.get("/summary")
def get_summary():
    return jsonify(summary(load()))


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
