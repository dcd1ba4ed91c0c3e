"""The one check for positive numeric arguments, shared by data, models, scratch and training."""
import math
import numbers


def check_positive(name, value, integer=True):
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a positive integer (or finite number)."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0 \
            or not math.isfinite(value):
        what = "a positive integer" if integer else "a positive finite number"
        raise ValueError(f"{name} must be {what}, got {value!r}")
