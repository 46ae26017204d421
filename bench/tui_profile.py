"""counter-tui under cProfile, switched on and off by signals (for ``tui.py --profile``).

    BENCH_TUI_PROFILE=out.prof python bench/tui_profile.py --backend URL

SIGUSR1 starts profiling the main thread (the event loop), SIGUSR2 stops it and writes the
stats to $BENCH_TUI_PROFILE, so one action (a screen switch) can be profiled on its own.
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys

_profile = cProfile.Profile()


def _start(*_: object) -> None:
    _profile.enable()


def _stop(*_: object) -> None:
    _profile.disable()
    _profile.dump_stats(os.environ["BENCH_TUI_PROFILE"])


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    from counter_tui.__main__ import main

    sys.argv[0] = "counter-tui"
    sys.exit(main())
