"""An assignment's catalogue of known mistakes: none without a misconceptions.py, and
each way a catalogue can be wrong a ConfigError naming the file and the entry."""

from __future__ import annotations

import pytest

from autograder.errors import ConfigError
from autograder.suite.catalogue import load_catalogue


def test_catalogue_files_are_checked(tmp_path):
    assert len(load_catalogue(tmp_path)) == 0  # no misconceptions.py: no known mistakes
    bad = {
        "CATALOGUE = None": "CATALOGUE",
        "CATALOGUE = [1]": "CATALOGUE[0]",
        "CATALOGUE = [M('no_function', F, 'A hint.')]": "CATALOGUE[0]",
        "CATALOGUE = [M('f.a', F, 'A hint.'), M('f.a', F, 'A hint.')]": "CATALOGUE[1]",
        "CATALOGUE = [M('f.a', F, 'no capital, no full stop')]": "CATALOGUE[0]",
        "raise ValueError('oops')": "CATALOGUE",
    }
    for number, (body, key) in enumerate(bad.items()):
        folder = tmp_path / f"suite{number}"
        folder.mkdir()
        (folder / "misconceptions.py").write_text(
            f"from autograder.authoring import Misconception as M\nF = abs\n{body}\n")
        with pytest.raises(ConfigError) as raised:
            load_catalogue(folder)
        assert raised.value.key == key and "misconceptions.py" in raised.value.path
