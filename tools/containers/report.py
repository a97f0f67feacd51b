"""Check lines for the container tests: one line per check, then ``N passed, N failed``."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


class CheckError(AssertionError):
    """A check's condition does not hold; the message says what was seen."""


def require(condition: bool, message: str) -> None:
    """Fail the current check with ``message`` unless ``condition``."""
    if not condition:
        raise CheckError(message)


@dataclass
class Report:
    """Collects check results and prints each as it finishes."""

    title: str
    quiet: bool = False
    """Print nothing (a probe inside another check)."""
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def _line(self, status: str, name: str, detail: str) -> None:
        if self.quiet:
            return
        print(f"{status:<4} {name}" + (f": {detail}" if detail else ""), flush=True)

    @contextmanager
    def check(self, name: str) -> Iterator[list[str]]:
        """``with report.check("name") as detail: ...``; append to ``detail`` what the line should say.

        A CheckError or any other exception fails the check (and is not raised further).
        """
        detail: list[str] = []
        try:
            yield detail
        except CheckError as failure:
            self.failed.append(name)
            self._line("FAIL", name, "; ".join([*detail, str(failure)]))
        except Exception as error:  # a broken check is a failed check, with its cause shown
            self.failed.append(name)
            self._line("FAIL", name, f"{type(error).__name__}: {error}")
            if not self.quiet:
                traceback.print_exc(file=sys.stderr)
        else:
            self.passed.append(name)
            self._line("PASS", name, "; ".join(detail))

    def run(self, name: str, body: Callable[[list[str]], None]) -> bool:
        """Run ``body(detail)`` as a check; True when it passed."""
        with self.check(name) as detail:
            body(detail)
        return name in self.passed

    def skip(self, name: str, reason: str) -> None:
        self.skipped.append(name)
        self._line("SKIP", name, reason)

    def note(self, message: str) -> None:
        print(f"     {message}", flush=True)

    def close(self) -> int:
        """Print the closing line; the exit status (1 when a check failed)."""
        seconds = time.monotonic() - self.started
        print(f"{self.title}: took {seconds:.0f} s", flush=True)
        tail = f", {len(self.skipped)} skipped" if self.skipped else ""
        print(f"{len(self.passed)} passed, {len(self.failed)} failed{tail}", flush=True)
        return 1 if self.failed else 0
