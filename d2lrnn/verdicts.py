"""Comparisons over seeds, in words: what holds in every seed, and whether the ranges overlap (no MXNet).

The notebooks print their conclusions with these functions, from the stored results, so that
the words cannot disagree with the numbers after a new run. A difference counts only if it has
the same sign in every seed; it is *clear* if, in addition, the ranges over the seeds (lowest
to highest) do not overlap at the precision shown (``digits``).
"""
from .plotting import mean_and_range


def _check(values, name):
    if not values or any(not isinstance(v, (int, float)) or isinstance(v, bool) for v in values):
        raise ValueError(f"{name} must be a non-empty list of numbers, one per seed, got {values!r}")


def _apart(a, b, digits):
    """True if the ranges of ``a`` and ``b`` do not overlap once rounded to ``digits``, as they are shown."""
    return round(max(a), digits) < round(min(b), digits) or round(max(b), digits) < round(min(a), digits)


def compare(measure, base, other, lower_is_better=True, digits=2):
    """One line: is ``other`` better or worse than ``base`` on ``measure``, in every seed, clearly?

    ``base`` and ``other`` hold one value per seed, in the same order of seeds.
    """
    _check(base, "base")
    _check(other, "other")
    if len(base) != len(other):
        raise ValueError(f"base and other need one value per seed each, got {len(base)} and {len(other)}")
    n = len(base)
    better = sum((o < b) if lower_is_better else (o > b) for b, o in zip(base, other))
    worse = sum((o > b) if lower_is_better else (o < b) for b, o in zip(base, other))
    summary = f"{mean_and_range(list(other), digits)} against {mean_and_range(list(base), digits)}"
    if better == n or worse == n:
        word = "better" if better == n else "worse"
        if _apart(base, other, digits):
            return f"{measure}: clearly {word}, in every seed and with ranges apart: {summary}"
        return f"{measure}: {word} in every seed, but the ranges overlap: {summary}"
    return f"{measure}: no clear difference ({better} of {n} seeds better, {worse} worse): {summary}"


def ranking(measure, values, lower_is_better=True, digits=2):
    """One line: the labels of ``values`` ({label: one value per seed}) ranked by their mean, and how firm that is."""
    if len(values) < 2:
        raise ValueError(f"ranking needs at least two labels, got {list(values)}")
    for label, v in values.items():
        _check(v, f"values[{label!r}]")
    counts = {len(v) for v in values.values()}
    if len(counts) != 1:
        raise ValueError(f"every label needs one value per seed, the same number each, got {values!r}")
    sign = 1 if lower_is_better else -1
    order = sorted(values, key=lambda label: sign * sum(values[label]) / len(values[label]))
    text = ", ".join(f"{label} {mean_and_range(list(values[label]), digits)}" for label in order)
    n = counts.pop()
    same = all(sorted(values, key=lambda label: sign * values[label][s]) == order for s in range(n))
    overlaps = [f"{a} and {b}" for a, b in zip(order, order[1:])
                if not _apart(values[a], values[b], digits)]
    best = "lowest" if lower_is_better else "highest"
    firm = ("the same order in every seed" if same else "the order differs between seeds") + \
        ("; no two neighbours' ranges overlap" if not overlaps else f"; the ranges of {'; of '.join(overlaps)} overlap")
    return f"{measure}, {best} first: {text} ({firm})"
