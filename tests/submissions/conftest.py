"""The synthetic submissions are broken on purpose: nbval must not run them as tests.

tests/test_coursework.py grades them; make_submissions.py here writes them.
nbgrader_equivalence.py is a script (nbgrader is not a dependency), not a test module.
"""

collect_ignore_glob = ["*.ipynb", "*/*.ipynb"]
