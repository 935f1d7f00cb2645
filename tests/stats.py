"""Percentiles, one definition for the benchmark's every figure: the smallest value with at least
the given share of the samples (or of their weight) at or below it, the nearest rank."""


def weighted_percentile(samples: list[tuple[float, float]], share: float) -> float:
    """Of (value, weight) pairs: p99 is `weighted_percentile(samples, 0.99)`."""
    ordered = sorted(samples)
    total = sum(weight for _, weight in ordered)
    seen = 0.0
    for value, weight in ordered:
        seen += weight
        if seen >= share * total:
            return value
    return ordered[-1][0]


def percentile(values: list[float], share: float) -> float:
    """p99 is `percentile(values, 0.99)`."""
    return weighted_percentile([(value, 1) for value in values], share)
