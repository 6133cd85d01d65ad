"""Open edX Event Router: tracking events in, xAPI / Caliper out, durably and in real time."""

__version__ = "0.1.0"
