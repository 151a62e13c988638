"""Outbound campaigns (issue 15): campaign configuration, contact lists, pacing of the dialer.

What exists here is the part that does not need the call engine or the agent desktop: the YAML model and
its checks (``outbound.config``), contact import (``outbound.contacts``), dialling rules
(``outbound.dialrules``), the pure pacing code (``outbound.pacing``) and the SQL tables
(``outbound.schema``). See docs/outbound.md.
"""
