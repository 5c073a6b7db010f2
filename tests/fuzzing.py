"""What the two schemathesis suites share: the offline URL checker and the bounded fuzz loop.

Kept apart from ``tests/helpers.py`` so that only the fuzz tests load schemathesis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode


class OfflineChecker:
    """No network in tests: every URL is allowed and unreachable."""

    def check_allowed(self, _uri: str) -> None:
        """Allow everything."""

    def is_reachable(self, _uri: str) -> bool:
        """Nothing answers."""
        return False


def fuzz_operation(operation: Any, examples: Mapping[GenerationMode, int],
                   check: Callable[[schemathesis.Case], None]) -> None:
    """Run ``check`` on ``examples[mode]`` generated cases of ``operation`` for each mode.

    derandomize: the same examples on every run, so CI is repeatable and bounded.
    """
    for mode, count in examples.items():

        @settings(max_examples=count, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: schemathesis.Case) -> None:
            check(case)

        try:
            run()
        except Unsatisfiable:
            # Nothing to make invalid: the operation takes no body and no parameters.
            assert mode is GenerationMode.NEGATIVE
