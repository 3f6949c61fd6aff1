"""Test-wide settings: a deterministic Hypothesis profile (no random seeds, no deadlines)."""
from hypothesis import HealthCheck, settings

settings.register_profile(
    "jim",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("jim")
