"""counter-tui: the Textual terminal a service-hall clerk uses to file for a walk-in resident.

It reaches the jiuzhutong service only over HTTP (see ``client``), also when it starts its
own local server (see ``embedded``), and imports nothing of jiuzhutong beyond ``contract``
and ``domain``.
"""

__version__ = "0.1.0"
