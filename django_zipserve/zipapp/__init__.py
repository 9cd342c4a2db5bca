"""The artifact: building a project into one zipapp (``build``), starting it
(``boot``, a standard-library-only leaf that both the build and the run time
import), and what a running artifact knows about itself (``artifact``)."""
