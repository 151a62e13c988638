"""Administration engine (R24): typed edits of the YAML in ``config/``, written back round-trip, validated by
the loader before anything is written, versioned against concurrent admins, and kept in a history that can
be rolled back. The HTTP side is ``acd.web.admin``; docs/admin.md explains it for admins."""
