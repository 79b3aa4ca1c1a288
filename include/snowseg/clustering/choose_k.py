"""Choose k with a documented rule: stability filters, silhouette decides, the knee breaks near-ties.

`choose_k` works on an already-scaled numeric matrix (the caller scales, e.g. with
:class:`~snowseg.clustering.transform.FeatureTransformer`); it never scales.

What is measured, for every k
-----------------------------
* **inertia**: k-means++ with ``n_init`` restarts on all rows. k=1 is always fitted too, for the
  inertia curve, but is never chosen.
* **silhouette** (k >= 2): on a fixed random sample of at most ``silhouette_sample`` rows.
* **stability** (k >= 2): ``stability_pairs`` times, draw two subsamples of ``subsample`` of the
  rows (without replacement), fit one k-means++ start on each, label *all* rows with both fits and
  take the adjusted Rand index (ARI) of the two labelings; the mean over the pairs (Ben-Hur et al.
  2002; Lange et al. 2004). Time O(N * pairs * k), never N x N.
* **knee**: ``kneed.KneeLocator(ks, inertias, S=1.0, curve="convex", direction="decreasing")``.
* **gap** (Tibshirani et al. 2001), at k=1 and at the chosen k only, so it stays cheap:
  Gap(j) = mean log W_j of ``GAP_REFS`` uniform reference sets drawn in the data's bounding box
  minus log W_j of the data (W_j: inertia with j clusters).

The rule
--------
1. **Stability is a filter, not the objective.** Keep the k whose subsample fits agree: mean
   ARI >= ``stability_min`` (0.75). Stability alone cannot reject a too-small k (k=2 is often the
   most stable of all), so it only removes k that the data cannot reproduce.
2. Among those, **pick the highest silhouette**. Near-ties (within ``TIE`` = 0.02 of the best) go
   to the inertia knee if it is among them, otherwise to the smallest of them.
3. If no k passes the filter, **no k is chosen** (``stable=False``, ``k=None``): the partition the
   job would publish is not one the data reproduce. The most stable k (ties to the smaller k) is
   still the ``candidate`` (tested below, shown in the report), never published as the choice.
4. **Structure test** on the candidate. The data show no cluster structure (``structured=False``,
   ``k=None``: segments would be invented) when either

   * the chosen k's silhouette is below ``silhouette_min`` (0.25; Kaufman & Rousseeuw: below
     0.25 "no substantial structure has been found"), or
   * Gap(k) - Gap(1) < ``GAP_MIN`` (0.1): going from 1 to k clusters shrinks the inertia by
     hardly more (less than a factor e^0.1 ~ 1.1 more) than it does on structureless uniform data
     in the same box. This catches low-dimensional noise, which k-means cuts into tidy, stable
     tiles with a "reasonable" silhouette (uniform noise in 2-D: four quadrants, silhouette 0.41,
     ARI 0.97, but Gap(4) - Gap(1) ~ 0.01; well separated blobs score 0.4 to 4).

What the job does with it
-------------------------
:func:`decide_k` owns the job's k decision: a fixed k is used as given (the scores' reason goes with
it); with k to be chosen it returns ``choice.k``, or raises :class:`NoStructure` or :class:`NoStableK`
(both :class:`KNotChosen`, carrying the scores and the reason) so that nothing is published -- never
the edge of the k range or the inertia knee as a fallback.

KMeans runs with one OpenMP thread per fit (results do not depend on the machine's cores or on
``n_jobs``; on a busy 2-core worker nested OpenMP made small fits 20 times slower); ``n_jobs``
scores several k at once in threads.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(c, 0.5, size=(60, 2)) for c in ([0, 0], [10, 0], [0, 10])])
>>> choice = choose_k(X, k_values=range(2, 6), n_init=3, stability_pairs=3)
>>> choice.k, choice.structured
(3, True)
>>> choice.reason.startswith("k=3: highest silhouette")
True
>>> decide_k(0, choice)[0], decide_k(5, choice)[0]
(3, 5)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from threadpoolctl import threadpool_limits

from snowseg.clustering.selection import make_model
from snowseg.errors import InputError

__all__ = ["GAP_MIN", "GAP_REFS", "TIE", "KChoice", "KNotChosen", "KScore", "NoStableK", "NoStructure", "choose_k",
           "decide_k", "gap_statistic"]

TIE = 0.02  # silhouettes within this of the best are a near-tie
GAP_MIN = 0.1  # Gap(k) - Gap(1) below this: no more structure than uniform noise
GAP_REFS = 5  # uniform reference sets of the gap statistic
STABILITY_N_INIT = 1  # restarts of each subsample fit


@dataclass(frozen=True)
class KScore:
    """Scores of one k; None where not computed (silhouette/stability at k=1, gap except at 1 and the pick)."""

    k: int
    inertia: float
    silhouette: float | None  # on a sample (k >= 2)
    stability: float | None  # mean ARI between pairs of subsample fits (k >= 2)
    gap: float | None = None  # Tibshirani's gap, at k=1 and at the chosen k


@dataclass(frozen=True)
class KChoice:
    """The chosen k, the inertia knee, every k's scores and the reason.

    ``k`` is None when no k is chosen: no cluster structure (``structured=False``) or no k whose
    subsample fits agree (``stable=False``). ``candidate`` is the k the rule's steps 1-3 picked, which
    the structure test judged (also when ``k`` is None; the report shows its segments).
    """

    k: int | None
    knee: int | None
    scores: list[KScore]
    reason: str
    structured: bool
    stable: bool = True  # some k passed the stability filter
    candidate: int | None = None

    def to_dict(self) -> dict:
        """JSON-safe dict: plain ints, floats, str, bool and None (no NaN)."""

        def clean(v):
            return None if isinstance(v, float) and not math.isfinite(v) else v

        return {
            "k": self.k,
            "knee": self.knee,
            "structured": self.structured,
            "stable": self.stable,
            "candidate": self.candidate,
            "reason": self.reason,
            "scores": [{key: clean(val) for key, val in asdict(s).items()} for s in self.scores],
        }



class KNotChosen(InputError):
    """k was to be chosen (``k = 0``) and the scores support none, so nothing is published.

    Callers read the fields, never the message: ``reason`` (the scores' explanation,
    :attr:`KChoice.reason`), ``scores`` (every k's :class:`KScore`), ``candidate`` (the k the rule
    judged; a report may show its segments), ``knee``, and ``report_path`` (None until the caller has
    written the run's report; the message then points to it).
    """

    what = "the scores support no k"

    def __init__(self, reason: str, scores: list[KScore], *, candidate: int | None = None, knee: int | None = None,
                 report_path: str | None = None):
        super().__init__(reason)
        self.reason, self.scores, self.candidate, self.knee = reason, list(scores), candidate, knee
        self.report_path = report_path

    def __str__(self) -> str:
        see = f" See the report file://{self.report_path}." if self.report_path else ""
        return (f"k was to be chosen and {self.what}, so no segments were published: {self.reason}{see} "
                f"Set k to force segments.")

    def __reduce__(self):  # picklable with its fields (Airflow may pickle a task's exception)
        return (type(self), (self.reason, self.scores), {k: v for k, v in vars(self).items()})


class NoStructure(KNotChosen):
    """The data show no cluster structure (``KChoice.structured`` is False): segments would be invented."""

    what = "the data show no cluster structure"


class NoStableK(KNotChosen):
    """No candidate k's subsample fits agree (``KChoice.stable`` is False): the segments would change with the
    sample."""

    what = "no k gives segments that are stable under resampling"


def decide_k(fixed_k: int, choice: KChoice) -> tuple[int, str]:
    """The job's k and the reason it records (MODEL_RUNS.K_REASON), from the params' k and the scores.

    Parameters
    ----------
    fixed_k : int
        The params' k: >= 1 is used as given, 0 means "choose it by the rule".
    choice : KChoice
        What :func:`choose_k` made of the scores; its reason goes with either answer.

    Returns
    -------
    (k, reason) : tuple of int and str
        ``reason`` starts ``fixed by params (k = 5); by the scores: `` or ``chosen: ``.

    Raises
    ------
    NoStructure
        ``fixed_k == 0`` and the data show no cluster structure.
    NoStableK
        ``fixed_k == 0``, and no k's subsample fits agree (no stable k to choose).
    ValueError
        ``fixed_k`` is negative.

    Examples
    --------
    >>> scores = [KScore(1, 9.0, None, None), KScore(2, 5.0, 0.5, 0.4), KScore(3, 3.0, 0.6, 0.6)]
    >>> choice = KChoice(k=None, knee=3, scores=scores, reason="No stable k: ...", structured=True, stable=False,
    ...                  candidate=3)
    >>> decide_k(4, choice)
    (4, 'fixed by params (k = 4); by the scores: No stable k: ...')
    >>> try:
    ...     decide_k(0, choice)
    ... except NoStableK as e:
    ...     print(e.candidate, [s.stability for s in e.scores])
    3 [None, 0.4, 0.6]
    """
    if fixed_k < 0:
        raise ValueError(f"k must be >= 1, or 0 to choose it; got {fixed_k}")
    if fixed_k:
        return int(fixed_k), f"fixed by params (k = {fixed_k}); by the scores: {choice.reason}"
    if choice.k is not None:
        return choice.k, f"chosen: {choice.reason}"
    error = NoStructure if not choice.structured else NoStableK
    raise error(choice.reason, choice.scores, candidate=choice.candidate, knee=choice.knee)

def _seed(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1)[0] >> 1)  # < 2**31: any KMeans random_state accepts it


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _stability(X, k: int, m: int, pairs: int, seq: np.random.SeedSequence) -> float | None:
    """Mean ARI between the all-row labelings of `pairs` pairs of k-means fits on m-row subsamples."""
    n = X.shape[0]
    if not k <= m <= n:
        return None
    aris = []
    for pair_seq in seq.spawn(pairs):
        draw_seq, *fit_seqs = pair_seq.spawn(3)
        rng = np.random.default_rng(draw_seq)
        labelings = []
        for fit_seq in fit_seqs:
            rows = rng.choice(n, size=m, replace=False)
            km = KMeans(n_clusters=k, init="k-means++", n_init=STABILITY_N_INIT, random_state=_seed(fit_seq))
            with threadpool_limits(limits=1, user_api="openmp"), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ConvergenceWarning on duplicate rows: ARI shows it
                labelings.append(km.fit(X[rows]).predict(X))
        aris.append(adjusted_rand_score(*labelings))
    return float(np.mean(aris))


def _score_k(X, k: int, *, n_init, random_state, silhouette_sample, stability_pairs, m, seq) -> KScore:
    """Inertia, silhouette and stability of one k."""
    n = X.shape[0]
    km = make_model(k, n_init=n_init, random_state=random_state, scale=False).named_steps["kmeans"]
    with threadpool_limits(limits=1, user_api="openmp"):
        km.fit(X)
    sil = stab = None
    if k >= 2:
        if 2 <= len(np.unique(km.labels_)) <= n - 1:
            sample = min(silhouette_sample, n)
            sil = float(silhouette_score(X, km.labels_, sample_size=sample, random_state=random_state))
        stab = _stability(X, k, m, stability_pairs, seq)
    return KScore(k=k, inertia=float(km.inertia_), silhouette=sil, stability=stab)


def _knee(ks: list[int], inertias: list[float]) -> int | None:
    """kneed's knee of the decreasing convex inertia curve, or None."""
    if len(ks) < 3:
        return None
    from kneed import KneeLocator

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # kneed warns "No knee/elbow found"
        try:
            knee = KneeLocator(ks, inertias, S=1.0, curve="convex", direction="decreasing").knee
        except (ValueError, ZeroDivisionError, FloatingPointError):
            return None
    return None if knee is None else round(float(knee))


def gap_statistic(X, k: int, *, n_init: int = 3, refs: int = GAP_REFS, random_state=0) -> tuple[float, float]:
    """Tibshirani's gap at 1 and at k against uniform data in X's bounding box: (Gap(1), Gap(k)).

    Gap(j) = mean over `refs` reference sets of log W_j(reference) - log W_j(X), W_j the k-means
    inertia with j clusters (W_1 needs no fit). NaN when X has no spread.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.vstack([np.random.default_rng(0).normal(c, 0.1, size=(50, 2)) for c in (0, 5)])
    >>> g1, g2 = gap_statistic(X, 2)
    >>> g2 - g1 > 1
    True
    """
    X = np.asarray(X, dtype=float)
    data_seq, *ref_seqs = np.random.SeedSequence(random_state).spawn(refs + 1)

    def log_w(Z, j, seq):
        if j == 1:
            w = float(((Z - Z.mean(axis=0)) ** 2).sum())
        else:
            with threadpool_limits(limits=1, user_api="openmp"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                km = KMeans(n_clusters=j, init="k-means++", n_init=n_init, random_state=_seed(seq))
                w = float(km.fit(Z).inertia_)
        return math.log(w) if w > 0 else -math.inf

    lo, hi = X.min(axis=0), X.max(axis=0)
    ref1, refk = [], []
    for ref_seq in ref_seqs:
        draw_seq, fit_seq = ref_seq.spawn(2)
        Z = np.random.default_rng(draw_seq).uniform(lo, hi, size=X.shape)
        ref1.append(log_w(Z, 1, None))
        refk.append(log_w(Z, k, fit_seq))
    with np.errstate(invalid="ignore"):
        gap1 = float(np.mean(ref1) - log_w(X, 1, None))
        gapk = float(np.mean(refk) - log_w(X, k, data_seq))
    return gap1, gapk


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def choose_k(
    X, *, k_values=range(2, 11), n_init: int = 10, random_state: int = 0, silhouette_sample: int = 2000,
    stability_pairs: int = 10, subsample: float = 0.8, stability_min: float = 0.75, silhouette_min: float = 0.25,
    n_jobs=None,
) -> KChoice:
    """Score every k and choose one by the rule in the module docstring.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Already scaled numeric features (not scaled here).
    k_values : iterable of int
        Candidate k (>= 1); those above n_samples are dropped with a warning. k=1 is always fitted
        for the inertia curve and knee but never chosen.
    n_init : int
        KMeans restarts of the full fit of each k.
    random_state : int
        Seeds everything (full fits, silhouette sample, subsamples, gap references): the same
        value gives an identical KChoice.
    silhouette_sample : int
        Silhouette is computed on at most this many rows.
    stability_pairs, subsample : int, float
        Pairs of subsample fits per k and the share of rows in each subsample.
    stability_min : float
        The stability filter: mean ARI a k needs to be a candidate.
    silhouette_min : float
        Below this silhouette the data show no cluster structure.
    n_jobs : int or None
        Threads scoring several k at once (None: one). Results do not depend on it.

    Returns
    -------
    KChoice

    Raises
    ------
    ValueError
        Empty k_values, k < 1, no k >= 2 left after dropping those above the row count, or bad X.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D matrix, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values")
    if not 0 < subsample <= 1:
        raise ValueError(f"subsample must be in (0, 1], got {subsample!r}")
    if stability_pairs < 1 or n_init < 1 or silhouette_sample < 2:
        raise ValueError("stability_pairs and n_init must be >= 1 and silhouette_sample >= 2")
    n = X.shape[0]
    ks = sorted({int(k) for k in k_values})
    if not ks:
        raise ValueError("k_values is empty")
    if ks[0] < 1:
        raise ValueError(f"k values must be >= 1, got {ks[0]}")
    too_big = [k for k in ks if k > n]
    if too_big:
        warnings.warn(f"k values {too_big} exceed the {n} rows and are skipped", stacklevel=2)
    ks = [k for k in ks if k <= n]
    if not any(k >= 2 for k in ks):
        raise ValueError(f"no k >= 2 to choose from among k_values {list(k_values)!r} with {n} rows")
    curve_ks = sorted(set(ks) | {1})

    m = round(subsample * n)
    seqs = dict(zip(curve_ks, np.random.SeedSequence(random_state).spawn(len(curve_ks)), strict=True))
    tasks = (delayed(_score_k)(X, k, n_init=n_init, random_state=random_state, silhouette_sample=silhouette_sample,
                               stability_pairs=stability_pairs, m=m, seq=seqs[k]) for k in curve_ks)
    workers = min(effective_n_jobs(1 if n_jobs is None else n_jobs), len(curve_ks))
    with threadpool_limits(limits=1, user_api="blas"):  # process-wide: no BLAS threads inside the k threads
        scores = list(Parallel(n_jobs=workers, backend="threading")(tasks))

    knee = _knee([s.k for s in scores], [s.inertia for s in scores])
    if knee not in ks:  # the knee at k=1 (k_values without 1) is no candidate
        knee = None

    pick, reason, stable = _apply_rule(scores, knee, stability_min)
    chosen = next(s for s in scores if s.k == pick)
    gap1, gapk = gap_statistic(X, pick, n_init=min(n_init, 3), random_state=random_state)
    gaps = {1: _finite(gap1), pick: _finite(gapk)}
    scores = [KScore(s.k, s.inertia, s.silhouette, s.stability, gaps.get(s.k)) for s in scores]
    gain = gapk - gap1
    unstable = "" if stable else (
        f" Nor do any k's subsample fits agree (ARI \u2265 {stability_min:.2f}; the most stable is k={pick}, "
        f"ARI {_fmt(chosen.stability)})."
    )
    if chosen.silhouette is None or chosen.silhouette < silhouette_min:
        reason = (
            f"No cluster structure: the best candidate, k={pick}, has silhouette {_fmt(chosen.silhouette)} "
            f"< {silhouette_min:.2f} (Kaufman & Rousseeuw: no substantial structure), so segments would be invented."
            + unstable
        )
    elif not gain >= GAP_MIN:  # also NaN
        reason = (
            f"No cluster structure: k={pick} has silhouette {_fmt(chosen.silhouette)}, but {pick} clusters fit "
            f"no better than they fit uniform random data in the same box (gap gain "
            f"{_fmt(_finite(gain))} < {GAP_MIN}, Tibshirani), so segments would be invented." + unstable
        )
    else:
        return KChoice(k=pick if stable else None, knee=knee, scores=scores, reason=reason, structured=True,
                       stable=stable, candidate=pick)
    return KChoice(k=None, knee=knee, scores=scores, reason=reason, structured=False, stable=stable, candidate=pick)


def _apply_rule(scores: list[KScore], knee: int | None, stability_min: float) -> tuple[int, str, bool]:
    """Steps 1-3 of the rule: (candidate k, reason, whether any k passed the stability filter)."""
    scored = [s for s in scores if s.k >= 2 and s.silhouette is not None] or [s for s in scores if s.k >= 2]
    stable = [s for s in scored if s.stability is not None and s.stability >= stability_min]
    knee_note = f"the inertia knee is at {knee}" if knee is not None else "kneed found no inertia knee"
    agree = f"the k whose subsample fits agree (ARI \u2265 {stability_min:.2f})"
    if not stable:
        s = max(scored, key=lambda s: (-1.0 if s.stability is None else s.stability, -s.k))
        return s.k, (
            f"No stable k: no k's subsample fits agree (ARI \u2265 {stability_min:.2f}); the most stable is k={s.k} "
            f"(ARI {_fmt(s.stability)}, silhouette {_fmt(s.silhouette)}), so its segments would change with the "
            f"sample and none is chosen."
        ), False
    top = max(stable, key=lambda s: (-1.0 if s.silhouette is None else s.silhouette, -s.k))
    top_sil = -1.0 if top.silhouette is None else top.silhouette
    near = [s for s in stable if s.silhouette is not None and s.silhouette >= top_sil - TIE]
    if len(near) <= 1:
        also = "also " if knee == top.k else ""
        return top.k, (
            f"k={top.k}: highest silhouette ({_fmt(top.silhouette)}) among {agree}; "
            f"{knee_note.replace('is at', f'is {also}at')}."
        ), True
    near_ks = [s.k for s in near]
    if knee in near_ks:
        s = next(s for s in near if s.k == knee)
        how = f"the inertia knee is at {knee}"
    else:
        s = min(near, key=lambda s: s.k)
        how = f"the smaller k is preferred ({knee_note})"
    if s.k == top.k:
        return s.k, (
            f"k={s.k}: highest silhouette ({_fmt(s.silhouette)}) among {agree}; k={near_ks} are within "
            f"{TIE} of it and {how}."
        ), True
    return s.k, (
        f"k={s.k}: silhouette {_fmt(s.silhouette)} is within {TIE} of the best ({_fmt(top_sil)} at k={top.k}) "
        f"among {agree}, and {how}."
    ), True
