"""The bad-input corpus (issue 18): malformed files for every inbound format, their expected
outcomes (`expected.py`), the generator that makes them from a valid base file by a named
mutation (`generate.py`) and the runner that feeds them to the real entry points
(`test_bad_input_corpus.py`)."""
