"""Hypothesis profiles for the fuzzing tests (tests/test_fuzz_*.py).

`default`, the profile of every run, is short enough for CI; `long` is the
fuzzing campaign:

  python -m pytest tests/test_fuzz_anc.py tests/test_fuzz_ntpt.py \
      --hypothesis-profile=long --hypothesis-show-statistics

The statistics list, per test, how many cases were accepted and how many
ended in a located error (hypothesis's `event`s).
"""

from hypothesis import HealthCheck, settings

# Generated programs compile and run machines: slower than hypothesis's
# 200 ms deadline on a loaded CI machine. The time bound a case must meet
# is each test's own (a case over it fails as a hang).
settings.register_profile(
    "default", max_examples=60, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow])
# Registered after "default", which it would otherwise inherit: a campaign
# draws new cases each run (`--hypothesis-seed=N` repeats one).
settings.register_profile(
    "long", max_examples=5000, deadline=None, derandomize=False,
    suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")
