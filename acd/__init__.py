"""acd: a call-routing engine beside Asterisk, driven over ARI."""

__version__ = "0.1.0"
