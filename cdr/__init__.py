"""CDR: the SQL schema (``cdr.schema``), migrations, the durable writer (``cdr.writer.CdrWriter``) with its
disk spool, the call summary fold (``cdr.summary``), and the tenders' reports (``cdr.reports``).
Documented for users in docs/cdr.md and docs/reports.md."""
