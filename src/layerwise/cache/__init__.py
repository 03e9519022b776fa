"""The cache model: which steps of a build BuildKit can reuse, predicted from the files alone.

    from layerwise.cache import predict_changes, replay_history
    predict_changes("examples/flask-pip", changed=["app.py"])      # what one change rebuilds
    replay_history("path/to/repo", commits=200)                     # the last 200 commits, replayed

See `layerwise.cache.keys` for what goes into a step's cache key, and how that was checked
against a real BuildKit.
"""

from __future__ import annotations

from layerwise.cache.files import SourceDigest, SourceSpec, WorkingTree
from layerwise.cache.keys import BaseImage, BuildKeys, CacheStore, Features, StepKeys, evaluate
from layerwise.cache.plan import BuildPlan, PlannedStep, plan_build
from layerwise.cache.predict import (
    Prediction,
    Simulator,
    StagePrediction,
    StepPrediction,
    explain_build,
    load_plan,
    predict_changes,
)

__all__ = [
    "BaseImage",
    "BuildKeys",
    "BuildPlan",
    "CacheStore",
    "Features",
    "PlannedStep",
    "Prediction",
    "Simulator",
    "SourceDigest",
    "SourceSpec",
    "StagePrediction",
    "StepKeys",
    "StepPrediction",
    "WorkingTree",
    "evaluate",
    "explain_build",
    "load_plan",
    "plan_build",
    "predict_changes",
]
