"""A segmentation run's parameters (the ``segment_customers`` DAG's params) and its result."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from snowseg.clustering.profiles import SegmentProfile
from snowseg.errors import ParamsError


@dataclass(frozen=True)
class SegmentationParams:
    """Parameters of one run (the DAG's params)."""

    k: int = 3  # 0: choose k by the rule of snowseg.clustering.choose_k
    k_min: int = 2
    k_max: int = 10
    n_init: int = 10
    random_state: int = 42
    encoding: str | None = None  # None: the contract's
    n_runs: int = 20
    subsample: float = 0.8
    scaling: str = "standard"
    max_fit_rows: int = 200_000
    k_sample_rows: int = 20_000
    correlation_max: float = 0.95
    as_of: str | None = None  # customer level: recency to this ISO date (the run's); None: to the newest sale

    def __post_init__(self) -> None:
        if not 1 <= self.k_min <= self.k_max:
            raise ParamsError(f"k range {self.k_min}..{self.k_max} is empty; need 1 <= k_min <= k_max", param="k_min")
        if self.k < 0:
            raise ParamsError(f"k must be >= 1, or 0 to choose it; got {self.k}", param="k")
        if self.n_runs < 1:
            raise ParamsError(f"n_runs must be >= 1, got {self.n_runs}", param="n_runs")
        if not 0 < self.subsample <= 1:
            raise ParamsError(f"subsample must be in (0, 1], got {self.subsample}", param="subsample")
        if self.scaling not in ("standard", "robust"):
            raise ParamsError(f"scaling {self.scaling!r}: use 'standard' or 'robust'", param="scaling")
        if self.max_fit_rows < 100 or self.k_sample_rows < 100:
            raise ParamsError("max_fit_rows and k_sample_rows must be at least 100", param="max_fit_rows")
        if self.as_of is not None:
            import datetime

            try:
                datetime.date.fromisoformat(self.as_of)
            except (TypeError, ValueError):
                raise ParamsError(f"as_of {self.as_of!r}: an ISO date (YYYY-MM-DD), or None",
                                  param="recency_to") from None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SegmentationResult:
    """What a run produced and where it went."""

    model_run_id: str
    published: bool
    k: int
    rows: int
    profiles: list[SegmentProfile]
    report_path: str
    elbow_png: str
    timings: dict[str, float]
    k_reason: str = ""
    structured: bool = True
    assigned_in: str = "python"
    warnings: list[str] = field(default_factory=list)
    run_kind: str = "refit"  # or "assign": the last refit's centroids (snowseg.clustering.drift)
    refit_reason: str | None = None
    migration: dict | None = None  # the migration matrix publishing counted (None: nothing published)

    def to_dict(self) -> dict:
        """A small JSON-safe summary (for XCom and logs)."""
        return {
            "run_kind": self.run_kind, "refit_reason": self.refit_reason,
            "moved_share": None if self.migration is None else self.migration["moved_share"],
            "model_run_id": self.model_run_id, "published": self.published, "k": self.k, "rows": self.rows,
            "report_path": self.report_path, "elbow_png": self.elbow_png, "timings": self.timings,
            "k_reason": self.k_reason, "structured": self.structured, "assigned_in": self.assigned_in,
            "warnings": self.warnings,
            "segments": [{"id": p.segment_id, "name": p.name, "size": p.size, "share": p.share,
                          "stability": p.stability, "band": p.stability_band,
                          "mean_confidence": p.mean_confidence} for p in self.profiles],
        }
