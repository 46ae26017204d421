"""jiuzhutong: the social-assistance service shared by the mini-program and the counters."""

__version__ = "0.1.0"
