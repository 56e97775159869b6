"""The web form's flat field names, read into the API's nested shape the core checks."""

from __future__ import annotations

from pakn_web.body import flatten_form


def test_the_html_form_maps_onto_the_api_shape() -> None:
    nested = flatten_form(
        {
            "content": "x",
            "address": "y",
            "name": "z",
            "phone": "p",
            "consent": "1",
            "confidential": "",
        }
    )
    assert nested == {
        "content": "x",
        "location": {"address": "y"},
        "submitter": {"name": "z", "phone": "p"},
        "consent": True,
        "confidential": False,
    }
