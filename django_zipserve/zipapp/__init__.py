"""The artifact: building a project into one zipapp (``build``), starting it
(``boot``, with ``extractions``, the store of extracted artifacts, and
``guard``, which keeps them read-only: standard-library-only modules that
the build ships at the archive's root and the run time imports), and what
a running artifact knows about itself (``artifact``)."""
