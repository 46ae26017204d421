"""One router per resource; each is built around the Services it calls."""
